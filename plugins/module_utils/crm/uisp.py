# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""UISP (NMS API v2.1): X-Auth-Token; sites, devices with interfaces, and data-links.

Infrastructure sites become sites, their AP radios become APs, site-to-site data-links are
the candidate paths of the `full` strategy. Each endpoint site is one circuit whose parent is
the AP its station associates with.
"""

from __future__ import annotations

from ..topology.model import AP, SITE, Circuit, Device, Link, Node, Snapshot
from .common import mapped, number, text

SOURCE = "UISP"
DEFAULT_STRATEGY = "full"
API = "/nms/api/v2.1"
ENDPOINTS = {"sites": "/sites", "devices": "/devices?withInterfaces=true", "links": "/data-links"}
NEVER_EMPTY = ("sites", "devices")
AP_MODES = ("ap-ptmp", "ap")
# UCRM service statuses: 2 ended, 5 obsolete, 8 inactive are not shaped; 3 is suspended.
ENDED_SERVICE = (2, 5, 8)
SUSPENDED_SERVICE = 3


def base_url(url):
    url = url.rstrip("/")
    return url if url.endswith(API) else url + API


def session_options(params):
    return {"headers": {"X-Auth-Token": params["token"]}}


def fetch(session, strategy, params=None):
    return dict((key, session.request_json("GET", path)) for key, path in ENDPOINTS.items())


def endpoint_path(key):
    return API + ENDPOINTS[key].split("?", 1)[0]


def _capacity(device, settings):
    overview = device.get("overview") or {}
    ident = device["identification"]
    model = "%s %s" % (text(ident.get("model")), text(ident.get("modelName")))
    factor = settings.airmax_capacity if "5AC" in model else settings.ltu_capacity if "LTU" in model else 1.0
    down = number(overview.get("downlinkCapacity")) / 1e6 * factor
    up = number(overview.get("uplinkCapacity")) / 1e6 * factor
    return (round(down, 2) or None), (round(up, 2) or None)


def _addresses(device):
    found = []
    for value in [device.get("ipAddress")] + [
            address.get("cidr") for interface in (device.get("interfaces") or ())
            for address in (interface.get("addresses") or ())]:
        value = text(value)
        if value and value not in found:
            found.append(value)
    v4 = [a for a in found if ":" not in a]
    v6 = [a for a in found if ":" in a]
    return v4, v6


def to_snapshot(payloads, settings):
    """Three passes, one per endpoint, each item mapped as soon as it is decoded."""
    snapshot = Snapshot(SOURCE)
    circuits = {}  # endpoint site id -> Circuit (parent resolved at the end)
    site_parent = {}  # endpoint site id -> its UISP parent site id

    def site(row):
        ident = row["identification"]
        sid = text(row["id"])
        parent = (ident.get("parent") or {}).get("id")
        if text(ident.get("type")) == "endpoint":
            service = (row.get("ucrm") or {}).get("service") or {}
            if service.get("status") in ENDED_SERVICE:
                snapshot.warnings.append(("endpoint with an ended UCRM service, not shaped",
                                          text(ident.get("name")) or sid))
            else:
                circuits[sid] = _circuit(sid, row, service)
                site_parent[sid] = text(parent)
            return None
        location = (row.get("description") or {}).get("location") or {}
        return Node("uisp:site:%s" % sid, text(ident.get("name")) or sid, SITE,
                    "uisp:site:%s" % parent if parent else None,
                    latitude=location.get("latitude"), longitude=location.get("longitude"))

    for node in mapped(SOURCE, endpoint_path("sites"), payloads["sites"], site):
        snapshot.add_node(node)

    capacities = {}  # device id -> (down, up)
    station_ap = {}  # endpoint site id -> AP device id named by its station

    def device(row):
        ident = row["identification"]
        did = text(ident["id"])
        site_id = text((ident.get("site") or {}).get("id"))
        capacities[did] = _capacity(row, settings)
        circuit = circuits.get(site_id)
        if circuit is not None:
            v4, v6 = _addresses(row)
            circuit.devices.append(Device(did, text(ident.get("hostname")) or text(ident.get("name")),
                                          text(ident.get("mac")), v4, v6))
            ap = ((row.get("attributes") or {}).get("apDevice") or {}).get("id")
            if ap:
                station_ap.setdefault(site_id, text(ap))
            return None
        mode = text((row.get("overview") or {}).get("wirelessMode"))
        if text(ident.get("role")) != "ap" and mode not in AP_MODES:
            return None
        down, up = capacities[did]
        return Node("uisp:device:%s" % did, text(ident.get("hostname")) or text(ident.get("name")) or did, AP,
                    "uisp:site:%s" % site_id if site_id else None, down, up, ptmp=mode == "ap-ptmp")

    for node in mapped(SOURCE, endpoint_path("devices"), payloads["devices"], device):
        snapshot.add_node(node)

    client_ap = {}  # endpoint site id -> AP node id, from data-links

    def link(row):
        if row.get("canDelete") is False:
            return None  # the Internet uplink
        ends = []
        for side in ("from", "to"):
            end = row.get(side) or {}
            site_id = text((((end.get("site") or {}).get("identification")) or {}).get("id"))
            device_id = text((((end.get("device") or {}).get("identification")) or {}).get("id"))
            ends.append((site_id, device_id))
        (site_a, dev_a), (site_b, dev_b) = ends
        if not site_a or not site_b or site_a == site_b:
            return None
        for client, ap_device in ((site_b, dev_a), (site_a, dev_b)):
            if client in circuits and "uisp:device:%s" % ap_device in snapshot.nodes:
                client_ap.setdefault(client, "uisp:device:%s" % ap_device)
        if site_a in circuits or site_b in circuits:
            return None
        feeder_b = snapshot.nodes.get("uisp:device:%s" % dev_b)
        if feeder_b is not None and feeder_b.ptmp:
            (site_a, dev_a), (site_b, dev_b) = (site_b, dev_b), (site_a, dev_a)
        caps = [c for c in (capacities.get(dev_a, (None,))[0], capacities.get(dev_b, (None,))[0]) if c]
        feeder = snapshot.nodes.get("uisp:device:%s" % dev_a)
        return Link("uisp:site:%s" % site_a, "uisp:site:%s" % site_b, min(caps) if caps else None,
                    feeder.id if feeder is not None and feeder.ptmp else None)

    snapshot.links = mapped(SOURCE, endpoint_path("links"), payloads["links"], link)

    for sid, circuit in circuits.items():
        circuit.parent_id = _parent(sid, station_ap, client_ap, site_parent, snapshot.nodes)
    snapshot.circuits = list(circuits.values())
    return snapshot


def _parent(sid, station_ap, client_ap, site_parent, nodes):
    """The station's AP, else the AP a data-link names, else the endpoint's parent site."""
    ap = "uisp:device:%s" % station_ap.get(sid)
    if ap in nodes:
        return ap
    if sid in client_ap:
        return client_ap[sid]
    site = "uisp:site:%s" % site_parent.get(sid)
    return site if site in nodes else None


def _circuit(sid, row, service):
    ident = row["identification"]
    qos = row.get("qos") or {}
    name = text(ident.get("name")) or text(((row.get("ucrm") or {}).get("client") or {}).get("name")) or sid
    return Circuit(
        sid, name, None, [],
        plan_download=number(qos.get("downloadSpeed")) / 1e6,
        plan_upload=number(qos.get("uploadSpeed")) / 1e6,
        burst_download=number(qos.get("downloadBurstSize")) * 8 / 1000.0,
        burst_upload=number(qos.get("uploadBurstSize")) * 8 / 1000.0,
        suspended=bool(ident.get("suspended")) or service.get("status") == SUSPENDED_SERVICE)
