# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ubilling: the UserSide API through the remote API (serial as `key`); speeds in Kbit/s.

``action=userside&request=get_tariff_list`` gives the tariffs (``speed.down``/``speed.up``,
Kbit/s), ``request=get_user_list`` the users keyed by login. A circuit is a login with a tariff;
its devices are the ``ip_mac`` entries (the IPv4 may come as an integer or a float such as
2886729739.0). ``state_id`` 1 (nomoney), 2 (pause) and 3 (disable) mark it suspended, for the
shared suspended_strategy; 4 (new, tariff ``*_NO_TARIFF_*``) is not shaped. Ubilling knows no
sites or APs here, so the topology is flat and the other strategies are refused. Per-user speed
overrides (table ``userspeeds``) are not in this API. Replies are parsed by
module_utils/ubilling.py, so ``ERROR:``, HTML, maintenance and ``undefined`` answers fail with
Ubilling's own meaning.
"""

from __future__ import annotations

import ipaddress
import re

from .. import ubilling as remoteapi
from ..topology.model import Circuit, Device, Snapshot
from .common import mapped, number, text
from .http import CrmError

SOURCE = "Ubilling"
DEFAULT_STRATEGY = "flat"
STRATEGIES = ("flat",)  # the UserSide lists name no sites or APs; other strategies are refused
REQUESTS = {"tariffs": "get_tariff_list", "users": "get_user_list"}
NEVER_EMPTY = ("tariffs", "users")
SUSPENDED_STATES = frozenset((1, 2, 3))  # nomoney, pause, disable
NEW_STATE = 4
NO_TARIFF = "*_NO_TARIFF_*"
INTEGER_IP = re.compile(r"^\d+(\.0+)?$")  # 2886729739 or 2886729739.0


def base_url(url):
    return remoteapi.base_url(url)


def session_options(params):
    return {}


def endpoint_path(key):
    """How errors name a request: never with the serial."""
    return "?action=userside&request=%s" % REQUESTS[key]


def fetch(session, strategy, params):
    """Both UserSide lists as dicts (``undefined`` -> {})."""
    return dict((key, _get(session, params, key)) for key in REQUESTS)


def _get(session, params, key):
    serial = params.get("serial")
    endpoint = endpoint_path(key)
    try:
        url, shown = remoteapi.build_url(params["url"], serial, "userside", extra={"request": REQUESTS[key]})
        response = session.request("GET", url, endpoint=endpoint)
        reply = remoteapi.parse_reply(response.status_code, response.content, "json", "userside")
    except remoteapi.UbillingError as exc:
        raise CrmError(SOURCE, endpoint, exc.masked(serial).reason) from None
    except CrmError as exc:  # transport failures: the chained requests errors quote the URL, key and all
        raise CrmError(SOURCE, endpoint, remoteapi.mask(exc.reason, serial)) from None
    if reply.kind == "undefined":
        return {}
    if not isinstance(reply.json, dict):
        raise CrmError(SOURCE, endpoint, "answered with a JSON %s where an object keyed by %s was expected"
                       % (type(reply.json).__name__.replace("dict", "object"),
                          "tariff name" if key == "tariffs" else "login"))
    return reply.json


def ipv4_of(value):
    """An ip_mac address: a dotted quad, or the integer Ubilling stores (maybe as a float)."""
    raw = text(value)
    if INTEGER_IP.match(raw):
        value = int(raw.split(".", 1)[0])
        return str(ipaddress.IPv4Address(value)) if 0 < value < 1 << 32 else None
    return raw or None  # anything else goes on as text; the engine reports a bad one by circuit


def _tariff(row):
    speed = row.get("speed") or {}
    return text(row.get("name") or row.get("id")), number(speed.get("down")) / 1000.0, number(speed.get("up")) / 1000.0


def to_snapshot(payloads, settings):
    snapshot = Snapshot(SOURCE)
    tariffs = dict((name, (down, up)) for name, down, up in mapped(
        SOURCE, endpoint_path("tariffs"), list(payloads["tariffs"].values()), _tariff))

    def user(item):
        login, row = item
        current = (row.get("tariff") or {}).get("current") or [{}]
        tariff_name = text(current[0].get("id"))
        state = int(number(row.get("state_id"), 5))
        if state == NEW_STATE or not tariff_name or tariff_name == NO_TARIFF:
            return None  # no tariff yet: nothing to shape
        rates = tariffs.get(tariff_name)
        if rates is None:
            snapshot.warnings.append(("user has a tariff the tariff list lacks, not shaped",
                                      "login %s tariff %s" % (login, tariff_name)))
            return None
        name = text(row.get("full_name")) or text(login)
        devices = []
        for index, entry in enumerate(row.get("ip_mac") or []):
            address = ipv4_of(entry.get("ip"))
            mac = text(entry.get("mac"))
            if address or mac:
                suffix = "" if index == 0 else "_%d" % index
                devices.append(Device("ubilling_%s%s" % (login, suffix), name, mac, [address] if address else []))
        return Circuit(text(login), name, None, devices, rates[0], rates[1], suspended=state in SUSPENDED_STATES)

    snapshot.circuits = mapped(SOURCE, endpoint_path("users"), list(payloads["users"].items()), user)
    return snapshot
