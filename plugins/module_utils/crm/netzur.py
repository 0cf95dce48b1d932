# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netzur: one GET of the configured URL with a Bearer token; speeds in Mbps.

The answer is one object: `zones` become sites with their capacities, `customers` become
circuits of one device each, under the zone they name.
"""

from __future__ import annotations

from ..topology.model import SITE, Circuit, Device, Node, Snapshot
from .common import Rows, mapped, number, split_list, text
from .http import CrmError, _path_of

SOURCE = "Netzur"
DEFAULT_STRATEGY = "full"
NEVER_EMPTY = ("customers",)
KEYS = ("zones", "customers")


def base_url(url):
    """The option is the full API URL: it is fetched as it is."""
    return url.rstrip("/")


def session_options(params):
    return {"headers": {"Authorization": "Bearer %s" % params["api_key"]}}


def fetch(session, strategy, params=None):
    answer = session.request_json("GET", "", expect=dict)
    endpoint = _path_of(session.base_url)
    payloads = {}
    for key in KEYS:
        rows = answer.get(key, [] if key == "zones" else None)
        if not isinstance(rows, list):
            raise CrmError(SOURCE, endpoint, "the answer has no %r list (keys: %s)"
                           % (key, ", ".join(sorted(answer)) or "none"))
        payloads[key] = Rows("%s %s" % (endpoint, key), rows)
    return payloads


def endpoint_path(key):
    """Netzur has one URL; the payloads name it (Rows.endpoint), this is only the part."""
    return key


def _endpoint(payloads, key):
    return getattr(payloads[key], "endpoint", key)


def to_snapshot(payloads, settings):
    snapshot = Snapshot(SOURCE)

    def zone(row):
        zid = text(row.get("id") if row.get("id") is not None else row.get("zone_id")) or text(row["name"])
        return Node("netzur:zone:%s" % zid, text(row["name"]), SITE,
                    download_mbps=number(row.get("capacity_download_mbps"), None),
                    upload_mbps=number(row.get("capacity_upload_mbps"), None))

    zone_ids = {}
    for node in mapped(SOURCE, _endpoint(payloads, "zones"), payloads["zones"], zone):
        snapshot.add_node(node)
        zone_ids.setdefault(node.name, node.id)

    def customer(row):
        circuit_id = "netzur_%s" % text(row["subscriber_id"])
        if circuit_id == "netzur_":
            raise ValueError("subscriber_id is empty")
        zone_name = text(row.get("zone"))
        parent = zone_ids.get(zone_name)
        if zone_name and parent is None:
            snapshot.warnings.append(("customer zone is not among the zones, circuit unparented",
                                      "%s zone %r" % (circuit_id, zone_name)))
        name = text(row.get("customerName")) or text(row.get("address")) or circuit_id
        device = Device("%s_device" % circuit_id, name, text(row.get("mac")), split_list(row.get("ip")),
                        split_list(row.get("ipv6")))
        return Circuit(circuit_id, name, parent, [device], number(row.get("download")),
                       number(row.get("upload")), comment=text(row.get("address")))

    snapshot.circuits = mapped(SOURCE, _endpoint(payloads, "customers"), payloads["customers"], customer)
    return snapshot
