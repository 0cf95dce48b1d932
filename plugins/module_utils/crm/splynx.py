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


def session_options(params):
    return {"auth": (params["api_key"], params["api_secret"])}


def fetch(session, strategy):
    wanted = FLAT_ENDPOINTS if strategy == "flat" else tuple(ENDPOINTS)
    return dict((key, session.request_json("GET", API + ENDPOINTS[key])) for key in wanted)


def _endpoint(key):
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

    for node in mapped(SOURCE, _endpoint("network_sites"), payloads.get("network_sites", ()), network_site):
        snapshot.add_node(node)
    access_ids = set(mapped(SOURCE, _endpoint("services"), payloads["services"],
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

    for node in mapped(SOURCE, _endpoint("monitoring"), payloads.get("monitoring", ()), monitoring):
        snapshot.add_node(node)


def _router_parents(snapshot, payloads):
    """router id -> node id: the monitoring device with the router's IP, else its first sector."""
    by_ip = {}
    for ip, node_id in mapped(SOURCE, _endpoint("monitoring"), payloads.get("monitoring", ()),
                              lambda r: (text(r.get("ip")), "splynx:monitoring:%s" % text(r["id"]))):
        if ip:
            by_ip.setdefault(ip, node_id)
    routers = dict(mapped(SOURCE, _endpoint("routers"), payloads.get("routers", ()),
                          lambda r: (text(r["id"]), r)))
    first_sector = {}
    for rid, sid, row in mapped(SOURCE, _endpoint("sectors"), payloads.get("sectors", ()),
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


def to_snapshot(payloads, settings):
    snapshot = Snapshot(SOURCE)
    if settings.strategy != "flat":
        _add_nodes(snapshot, payloads)
        router_parent = _router_parents(snapshot, payloads)
    else:
        router_parent = {}

    tariffs = dict(mapped(SOURCE, _endpoint("tariffs"), payloads["tariffs"], lambda r: (text(r["id"]), r)))
    customers = dict(mapped(SOURCE, _endpoint("customers"), payloads["customers"], lambda r: (text(r["id"]), r)))
    online = dict(mapped(SOURCE, _endpoint("online"), payloads["online"],
                         lambda r: (text(r["service_id"]), r)))
    nodes = snapshot.nodes

    def service(row):
        if text(row.get("status")) not in ("", "active"):
            return None
        sid = text(row["id"])
        customer = customers.get(text(row["customer_id"]), {})
        tariff = tariffs.get(text(row["tariff_id"]))
        if tariff is None:
            snapshot.warnings.append(("service has an unknown tariff, not shaped", "service %s tariff %s"
                                      % (sid, row["tariff_id"])))
            return None
        down = number(tariff.get("speed_download")) / 1000.0
        up = number(tariff.get("speed_upload")) / 1000.0
        burst_down = max(0.0, number(tariff.get("burst_limit_fixed_down")) / 1000.0 - down)
        burst_up = max(0.0, number(tariff.get("burst_limit_fixed_up")) / 1000.0 - up)
        ipv4 = [text(row.get("ipv4"))] + text(row.get("ipv4_route")).split(",")
        ipv6 = [text(row.get("ipv6")), text(row.get("ipv6_delegated"))]
        ipv4 = [ip.strip() for ip in ipv4 if ip and ip.strip()]
        ipv6 = [ip.strip() for ip in ipv6 if ip and ip.strip()]
        seen_online = online.get(sid)
        if seen_online is not None:
            if not ipv4 and text(seen_online.get("ipv4")):
                ipv4 = [text(seen_online.get("ipv4"))]
            if not ipv6 and text(seen_online.get("ipv6")):
                ipv6 = [text(seen_online.get("ipv6"))]
        access = "splynx:monitoring:%s" % text(row.get("access_device"))
        if access in nodes:
            parent = access
        else:
            parent = router_parent.get(text(row.get("router_id")))
        name = text(customer.get("name")) or "service %s" % sid
        device = Device("splynx_service_%s" % sid, name, text(row.get("mac")), ipv4, ipv6)
        return Circuit(sid, name, parent, [device], down, up, burst_down, burst_up,
                       suspended=text(customer.get("status")) == "blocked")

    snapshot.circuits = mapped(SOURCE, _endpoint("services"), payloads["services"], service)
    return snapshot
