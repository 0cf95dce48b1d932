# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Splynx: HTTP Basic (API key and secret) against /api/2.0/admin/...; speeds in kbps.

A circuit is an active internet service. Its parent is the service's access device, else the
monitoring device that is its router, else that router's first sector, else none.
"""

from __future__ import annotations

from ..topology.model import AP, SITE, Circuit, Device, Node, Snapshot
from .common import mapped, number, text

SOURCE = "Splynx"
DEFAULT_STRATEGY = "ap_only"
API = "/api/2.0/admin/"
ENDPOINTS = {
    "tariffs": "tariffs/internet",
    "customers": "customers/customer",
    "online": "customers/customers-online",
    "services": "customers/customer/0/internet-services?main_attributes%5Bstatus%5D=active",
    "routers": "networking/routers",
    "sectors": "networking/routers-sectors",
    "monitoring": "networking/monitoring",
    "network_sites": "networking/network-sites",
}
FLAT_ENDPOINTS = ("tariffs", "customers", "online", "services")
NEVER_EMPTY = ("tariffs", "customers", "services")


def session_options(params):
    return {"auth": (params["api_key"], params["api_secret"])}


def fetch(session, strategy, params=None):
    wanted = FLAT_ENDPOINTS if strategy == "flat" else tuple(ENDPOINTS)
    return dict((key, session.request_json("GET", API + ENDPOINTS[key])) for key in wanted)


def endpoint_path(key):
    return API + ENDPOINTS[key].split("?", 1)[0]


def _name(row):
    for key in ("title", "name", "address", "ip", "description"):
        if text(row.get(key)):
            return text(row.get(key))
    return "splynx %s" % row["id"]


def _gps(row):
    try:
        lat, lon = text(row.get("gps")).split(",", 1)
        return float(lat), float(lon)
    except ValueError:
        return None, None


def _add_nodes(snapshot, payloads):
    def network_site(row):
        lat, lon = _gps(row)
        return Node("splynx:network_site:%s" % row["id"], _name(row), SITE, latitude=lat, longitude=lon)

    for node in mapped(SOURCE, endpoint_path("network_sites"), payloads.get("network_sites", ()), network_site):
        snapshot.add_node(node)
    access_ids = set(mapped(SOURCE, endpoint_path("services"), payloads["services"],
                            lambda s: text(s.get("access_device"))))
    access_ids.discard("")
    access_ids.discard("0")

    def monitoring(row):
        mid = text(row["id"])
        is_ap = bool(row.get("access_device")) and text(row.get("access_device")) != "0"
        is_ap = is_ap or text(row.get("type")) == "5" or mid in access_ids
        parent = text(row.get("parent_id"))
        site = text(row.get("network_site_id"))
        if parent and parent != "0":
            parent_id = "splynx:monitoring:%s" % parent
        elif site and site != "0":
            parent_id = "splynx:network_site:%s" % site
        else:
            parent_id = None
        lat, lon = _gps(row)
        return Node("splynx:monitoring:%s" % mid, _name(row), AP if is_ap else SITE, parent_id,
                    latitude=lat, longitude=lon)

    for node in mapped(SOURCE, endpoint_path("monitoring"), payloads.get("monitoring", ()), monitoring):
        snapshot.add_node(node)


def _router_parents(snapshot, payloads):
    """router id -> node id: the monitoring device with the router's IP, else its first sector."""
    by_ip = {}
    for ip, node_id in mapped(SOURCE, endpoint_path("monitoring"), payloads.get("monitoring", ()),
                              lambda r: (text(r.get("ip")), "splynx:monitoring:%s" % text(r["id"]))):
        if ip:
            by_ip.setdefault(ip, node_id)
    routers = dict(mapped(SOURCE, endpoint_path("routers"), payloads.get("routers", ()),
                          lambda r: (text(r["id"]), r)))
    first_sector = {}
    for rid, sid, row in mapped(SOURCE, endpoint_path("sectors"), payloads.get("sectors", ()),
                                lambda r: (text(r["router_id"]), int(r["id"]), r)):
        if rid not in first_sector or sid < int(first_sector[rid]["id"]):
            first_sector[rid] = row
    parents = {}
    for rid, router in routers.items():
        node_id = by_ip.get(text(router.get("ip")))
        if node_id is None and rid in first_sector:
            sector = first_sector[rid]
            node_id = "splynx:sector:%s" % sector["id"]
            title = text(sector.get("title")) or "%s sector %s" % (_name(router), sector["id"])
            snapshot.add_node(Node(node_id, title, AP))
        if node_id is not None:
            parents[rid] = node_id
    return parents


def _addresses(first, second=None):
    """Non-empty addresses from one or two fields, each holding one or several, comma separated."""
    joined = "%s,%s" % (first, second) if first and second else (first or second)
    if not joined:
        return []
    return [item.strip() for item in str(joined).split(",") if item and not item.isspace()]


def to_snapshot(payloads, settings):
    # Services are read twice (to find access devices, then as circuits); the rest once.
    payloads = dict(payloads, services=list(payloads["services"]))
    snapshot = Snapshot(SOURCE)
    if settings.strategy != "flat":
        _add_nodes(snapshot, payloads)
        router_parent = _router_parents(snapshot, payloads)
    else:
        router_parent = {}

    tariffs = {}
    for tid, down, up, burst_down, burst_up in mapped(
            SOURCE, endpoint_path("tariffs"), payloads["tariffs"],
            lambda r: (text(r["id"]), number(r.get("speed_download")) / 1000.0,
                       number(r.get("speed_upload")) / 1000.0, number(r.get("burst_limit_fixed_down")) / 1000.0,
                       number(r.get("burst_limit_fixed_up")) / 1000.0)):
        tariffs[tid] = (down, up, max(0.0, burst_down - down), max(0.0, burst_up - up))
    customers = dict(mapped(SOURCE, endpoint_path("customers"), payloads["customers"],
                            lambda r: (str(r["id"]), (r.get("name") or "", r.get("status") == "blocked"))))
    online = dict(mapped(SOURCE, endpoint_path("online"), payloads["online"],
                         lambda r: (str(r["service_id"]), (r.get("ipv4") or "", r.get("ipv6") or ""))))
    nodes = snapshot.nodes
    no_customer = ("", False)

    def service(row):
        if row.get("status") not in (None, "", "active"):
            return None
        sid = str(row["id"])
        name, blocked = customers.get(str(row["customer_id"]), no_customer)
        tariff = tariffs.get(str(row["tariff_id"]))
        if tariff is None:
            snapshot.warnings.append(("service has an unknown tariff, not shaped", "service %s tariff %s"
                                      % (sid, row["tariff_id"])))
            return None
        ipv4 = _addresses(row.get("ipv4"), row.get("ipv4_route"))
        ipv6 = _addresses(row.get("ipv6"), row.get("ipv6_delegated"))
        if sid in online and (not row.get("ipv4") or not row.get("ipv6")):
            # No static address of its own (routes alone do not count): the session has it.
            online_v4, online_v6 = online[sid]
            if not row.get("ipv4"):
                ipv4 = _addresses(online_v4) + ipv4
            if not row.get("ipv6"):
                ipv6 = _addresses(online_v6) + ipv6
        parent = "splynx:monitoring:%s" % row.get("access_device")
        if parent not in nodes:
            parent = router_parent.get(str(row.get("router_id")))
        name = name or "service %s" % sid
        device = Device("splynx_service_%s" % sid, name, row.get("mac") or "", ipv4, ipv6)
        return Circuit(sid, name, parent, [device], tariff[0], tariff[1], tariff[2], tariff[3],
                       suspended=blocked)

    snapshot.circuits = mapped(SOURCE, endpoint_path("services"), payloads["services"], service)
    return snapshot
