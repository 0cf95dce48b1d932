# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Powercode: the Preseem API on port 444, form POSTs with apiKey and an action; rates in kbps.

A circuit is an Active customer; its devices are its equipment of the customer-side types. The
circuit's rate is the sum of the distinct services its devices are on. Powercode knows no sites:
network.json is the operator's (WRITES_NETWORK_JSON), its nodes are the tree (strategy `full`),
and circuits are unparented unless exception_cpes places them under one.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ..topology.model import Circuit, Device, Snapshot
from .common import mapped, number, text

SOURCE = "Powercode"
DEFAULT_STRATEGY = "full"
WRITES_NETWORK_JSON = False
PORT = 444
PATH = "/api/preseem/index.php"
ACTIONS = {"customers": "list_customers", "services": "list_services"}
NEVER_EMPTY = ("customers", "services")
EQUIPMENT_TYPES = frozenset(("Customer Owned Equipment", "Router", "Managed Routers", "CPE"))
IGNORED_CUSTOMERS = frozenset(("", "0", "1"))  # no id, and the operator's own account


def base_url(url):
    """Port 444 is added unless the URL names a port."""
    parts = urlsplit(url.rstrip("/"))
    if parts.port is None and parts.hostname:
        parts = parts._replace(netloc="%s:%d" % (parts.netloc, PORT))
    return urlunsplit(parts)


def session_options(params):
    return {"form": {"apiKey": params["api_key"]}}


def fetch(session, strategy, params=None):
    return dict((key, session.request_json("POST", PATH, data={"action": action}, endpoint=endpoint_path(key)))
                for key, action in ACTIONS.items())


def endpoint_path(key):
    return "%s action=%s" % (PATH, ACTIONS[key])


def to_snapshot(payloads, settings):
    snapshot = Snapshot(SOURCE)
    services = dict(mapped(SOURCE, endpoint_path("services"), payloads["services"],
                           lambda r: (text(r["id"]), (number(r.get("rate_down")) / 1000.0,
                                                      number(r.get("rate_up")) / 1000.0))))

    def customer(row):
        customer_id = text(row["id"])
        if customer_id in IGNORED_CUSTOMERS or text(row.get("status")) != "Active":
            return None
        name = text(row.get("name")) or text(row.get("company_name")) or customer_id
        devices, rates = [], {}
        for equipment in row.get("equipment") or ():
            if text(equipment.get("type")) not in EQUIPMENT_TYPES:
                continue
            service_id = text(equipment.get("service_id"))
            if service_id in services:
                rates[service_id] = services[service_id]
            else:
                snapshot.warnings.append(("equipment on an unknown service, no rate from it",
                                          "customer %s equipment %s service %r"
                                          % (customer_id, equipment["id"], service_id)))
            address = text(equipment.get("ip_address"))
            devices.append(Device("c_%s_s_%s_d_%s" % (customer_id, service_id, text(equipment["id"])),
                                  text(equipment.get("name")), text(equipment.get("mac_address")),
                                  [address] if address and ":" not in address else [],
                                  [address] if ":" in address else []))
        down = sum(rate[0] for rate in rates.values())
        up = sum(rate[1] for rate in rates.values())
        return Circuit(customer_id, name, None, devices, down, up)

    snapshot.circuits = mapped(SOURCE, endpoint_path("customers"), payloads["customers"], customer)
    return snapshot
