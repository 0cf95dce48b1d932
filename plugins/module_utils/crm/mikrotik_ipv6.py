# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""IPv6 prefixes delegated by MikroTik DHCPv6 servers, added to the circuits of any source.

Like LibreQoS's mikrotikFindIPv6.py: each router of a mikrotikDHCPRouterList.csv is read through
the RouterOS API. A DHCPv6 binding names its client by DUID (a DUID-LL/LLT carries the MAC) or by
its link-local client address (the IPv6 neighbour table gives the MAC). The ARP table and the
DHCPv4 leases give that MAC's IPv4. A binding's prefix goes to the device with that MAC, else to
the device with that IPv4 (LibreQoS matches by IPv4 only; CRMs that record the MAC match either way).

A router that cannot be reached, refuses the login or drops the connection is skipped with a
warning naming it; the run goes on. Passwords never appear in a message.
"""

from __future__ import annotations

import csv
import os
import re
import traceback

from ..topology.settings import TopologyError

try:
    import librouteros
    from librouteros.exceptions import LibRouterosError
    HAS_LIBROUTEROS = True
    LIBROUTEROS_IMPORT_ERROR = None
except ImportError:
    HAS_LIBROUTEROS = False
    LIBROUTEROS_IMPORT_ERROR = traceback.format_exc()
    LibRouterosError = Exception

DEFAULT_ROUTER_LIST = "mikrotikDHCPRouterList.csv"
COLUMNS = ("name", "host", "username", "password", "port")
PAYLOAD_KEY = "mikrotik_ipv6"  # where sources.fetch keeps the bindings next to the CRM's answers
UNREAD = "MikroTik router not read, its DHCPv6 prefixes are missing"
UNMATCHED = "MikroTik DHCPv6 binding matches no circuit, prefix not used"
HEX = re.compile(r"^[0-9a-f]+$")


class RouterListError(TopologyError):
    """A router list that cannot be used; names the file, row and field."""


class Router(object):
    __slots__ = ("name", "host", "username", "password", "port")

    def __init__(self, name, host, username, password, port):
        self.name, self.host, self.username, self.password, self.port = name, host, username, password, port

    def __repr__(self):
        return "Router(%r, %r, port %d)" % (self.name, self.host, self.port)  # never the password

    @property
    def label(self):
        return "%s (%s:%d)" % (self.name, self.host, self.port)


def router_list_path(params):
    return params.get("mikrotik_router_list") or os.path.join(params["output_dir"], DEFAULT_ROUTER_LIST)


def routers(params):
    """The routers to read for `use_mikrotik_ipv6`; fails before any request if that cannot work."""
    if not HAS_LIBROUTEROS:
        raise TopologyError("use_mikrotik_ipv6 needs the Python library librouteros on the host that runs the import")
    return read_router_list(router_list_path(params))


def read_router_list(path):
    """[Router] from a CSV with a header row and rows name,host,username,password,port."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [(number, row) for number, row in enumerate(csv.reader(handle), 1)
                    if row and any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RouterListError("mikrotik_router_list %s: cannot be read (%s)" % (path, exc))
    if not rows:
        raise RouterListError("mikrotik_router_list %s: no header and no routers" % path)
    number, header = rows[0]
    if len(header) == len(COLUMNS) and header[-1].strip().isdigit():
        raise RouterListError("mikrotik_router_list %s row %d: looks like a router, but the first row must be the "
                              "header (Router Name / ID,IP,API Username,API Password,API Port)" % (path, number))
    routers, names = [], set()
    for number, row in rows[1:]:
        routers.append(_router(path, number, row))
        if routers[-1].name in names:
            raise RouterListError("mikrotik_router_list %s row %d field name: %r is listed twice"
                                  % (path, number, routers[-1].name))
        names.add(routers[-1].name)
    if not routers:
        raise RouterListError("mikrotik_router_list %s: has a header but no routers" % path)
    return routers


def _router(path, number, row):
    where = "mikrotik_router_list %s row %d" % (path, number)
    if len(row) != len(COLUMNS):
        raise RouterListError("%s: %d fields, expected %d (%s)" % (where, len(row), len(COLUMNS), ", ".join(COLUMNS)))
    name, host, username, password, port = [cell.strip() for cell in row[:4]] + [row[4].strip()]
    for field, value in (("name", name), ("host", host), ("username", username)):
        if not value:
            raise RouterListError("%s field %s: empty" % (where, field))
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise RouterListError("%s field port: %r is not a TCP port number" % (where, port))
    return Router(name, host, username, row[3], int(port))


def fetch_bindings(routers, timeout, connect=None):
    """(bindings, warnings): bindings are (prefix, MAC or "", IPv4 or "", router name)."""
    connect = connect or librouteros.connect
    bindings, warnings = [], []
    for router in routers:
        try:
            api = connect(host=router.host, username=router.username, password=router.password,
                          port=router.port, timeout=timeout)
            try:
                tables = dict((name, [dict(row) for row in api.path(*path)]) for name, path in (
                    ("arp", ("ip", "arp")), ("leases", ("ip", "dhcp-server", "lease")),
                    ("bindings", ("ipv6", "dhcp-server", "binding")), ("neighbors", ("ipv6", "neighbor"))))
            finally:
                api.close()
        except (OSError, LibRouterosError) as exc:
            warnings.append((UNREAD, "%s: %s" % (router.label, _reason(exc, router.password))))
            continue
        bindings.extend((prefix, mac, ipv4, router.name) for prefix, mac, ipv4 in resolve(tables))
    return bindings, warnings


def _reason(exc, password):
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    if "timed out" in text or type(exc).__name__ == "timeout":
        text = "no answer (timeout)"
    return text.replace(password, "********") if password and len(password) > 3 else text


def resolve(tables):
    """(prefix, MAC, IPv4) of each enabled binding of one router's tables."""
    mac_to_ipv4 = {}
    for row in list(tables.get("arp", ())) + list(tables.get("leases", ())):  # a lease wins over ARP
        mac, address = normalize_mac(row.get("mac-address")), str(row.get("address") or "")
        if mac and address and not _is_true(row.get("disabled")):
            mac_to_ipv4[mac] = address.split("/", 1)[0]
    link_local_mac = dict((str(row.get("address") or "").lower(), normalize_mac(row.get("mac-address")))
                          for row in tables.get("neighbors", ()))
    found = []
    for row in tables.get("bindings", ()):
        prefix = str(row.get("address") or "").strip()
        if not prefix or _is_true(row.get("disabled")):
            continue
        mac = duid_mac(row.get("duid")) or link_local_mac.get(str(row.get("client-address") or "").lower(), "")
        found.append((prefix, mac, mac_to_ipv4.get(mac, "")))
    return found


def _is_true(value):
    return value is True or str(value).lower() in ("true", "yes")


def duid_mac(duid):
    """The MAC inside a DHCPv6 DUID-LL or DUID-LLT (Ethernet), else ""."""
    text = str(duid or "").strip().lower().replace(":", "").replace("-", "")
    if text.startswith("0x"):
        text = text[2:]
    if not HEX.match(text or "-"):
        return ""
    if len(text) == 12:  # RouterOS 6 prints some DUIDs as the bare MAC (LibreQoS reads these)
        return normalize_mac(text)
    if (len(text) == 20 and text.startswith("00030001")) or (len(text) == 28 and text.startswith("00010001")):
        return normalize_mac(text[-12:])
    return ""


def normalize_mac(value):
    digits = re.sub(r"[^0-9a-fA-F]", "", str(value or ""))
    if len(digits) != 12:
        return ""
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2)).upper()


def apply(snapshot, payload):
    """Add each binding's prefix to the matching device; returns the number of prefixes added."""
    bindings, warnings = payload
    snapshot.warnings.extend(warnings)
    by_mac, by_ipv4 = {}, {}
    for circuit in snapshot.circuits:
        for device in circuit.devices:
            mac = normalize_mac(device.mac)
            if mac:
                by_mac.setdefault(mac, device)
            for address in device.ipv4:
                host, length = str(address).partition("/")[::2]
                if length in ("", "32"):
                    by_ipv4.setdefault(host.strip(), device)
    added = 0
    for prefix, mac, ipv4, router in bindings:
        device = by_mac.get(mac) if mac else None
        if device is None and ipv4:
            device = by_ipv4.get(ipv4)
        if device is None:
            snapshot.warnings.append((UNMATCHED, "%s from %s (MAC %s, IPv4 %s)"
                                      % (prefix, router, mac or "unknown", ipv4 or "unknown")))
        elif prefix not in device.ipv6:
            device.ipv6.append(prefix)
            added += 1
    return added
