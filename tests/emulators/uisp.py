# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""UISP (NMS API v2.1) emulator: sites, devices and data-links.

Mapping from the lab network: infrastructure sites are type "site", every
subscriber is a type "endpoint" site whose parent is its AP's site. Its first
device is a station (attributes.apDevice -> AP, unless the AP is not recorded:
then only a device-to-device data-link names it); further devices are
routers. Site-to-site links are data-links between backhaul radios; the
Internet uplink is the one data-link with canDelete false. Inactive
subscribers are endpoints with status "disconnected". Speeds are bps, bursts
kB/s. Subnets (/29, /64, /56) appear as network-address cidrs on interfaces.
"""

from __future__ import annotations

from tests.emulators.httpbase import LabApiEmulator
from tests.emulators.labnet import PLANS, Device, Equipment, Site, Subscriber

API = "/nms/api/v2.1/"
SITES = API + "sites"
DEVICES = API + "devices"
DATA_LINKS = API + "data-links"
MBPS = 1_000_000

# lab model -> (UISP model code, modelName, identification.type)
MODELS = {
    "LAP-120": ("LAP-120", "LiteAP AC 120", "airMax"),
    "Rocket 5AC Prism": ("R5AC-PRISM", "Rocket 5AC Prism", "airMax"),
    "LTU Rocket": ("LTU-Rocket", "LTU Rocket", "ltu"),
    "LTU Long-Range": ("LTU-LR", "LTU Long-Range", "ltu"),
    "AF60": ("AF60", "airFiber 60", "airFiber"),
    "LiteBeam 5AC Gen2": ("LBE-5AC-Gen2", "LiteBeam 5AC Gen2", "airMax"),
    "EdgeRouter 8 XG": ("ER-8-XG", "EdgeRouter 8 XG", "erouter"),
}
CPE_BY_AP_TYPE = {"ltu": "LTU Long-Range", "airMax": "LiteBeam 5AC Gen2", "airFiber": "LiteBeam 5AC Gen2"}
CUSTOMER_ROUTER = ("ER-X", "EdgeRouter X", "erouter")
SERVICE_STATUS = {"active": 1, "ended": 2, "suspended": 3}


def uisp_id(kind: int, number: int) -> str:
    """Deterministic UUID-shaped id; ``kind`` separates sites, devices and links."""
    return f"{kind:08x}-0000-4000-8000-{number:012x}"


def site_uuid(site: Site) -> str:
    return uisp_id(0x517E, site.id)


def endpoint_uuid(subscriber: Subscriber) -> str:
    return uisp_id(0xE4D0, subscriber.id)


def device_uuid(number: int) -> str:
    """Device id for lab equipment ids and subscriber device ids alike."""
    return uisp_id(0xDE71, number)


def _status(subscriber: Subscriber) -> int:
    if not subscriber.active:
        return SERVICE_STATUS["ended"]
    return SERVICE_STATUS["suspended"] if subscriber.suspended else SERVICE_STATUS["active"]


class UispEmulator(LabApiEmulator):
    """UISP NMS with X-Auth-Token auth on loopback."""

    name = "uisp"
    json_content_type = "application/json; charset=utf-8"
    ensure_ascii = False

    def routes(self) -> dict:
        return {SITES: self.sites, DEVICES: self.devices, DATA_LINKS: self.data_links}

    def canonical_targets(self) -> list[str]:
        return [SITES, DEVICES + "?withInterfaces=true", DATA_LINKS]

    def is_authorized(self, headers) -> bool:
        return self.is_secret(headers.get("X-Auth-Token"))

    def error_payload(self, status: int, message: str) -> object:
        reasons = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
                   429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
        return {"statusCode": status, "error": reasons.get(status, "Error"), "message": message}

    # --- references ---------------------------------------------------------------------
    def _site_ref(self, site: Site | None) -> dict | None:
        if site is None:
            return None
        return {"id": site_uuid(site), "name": site.name, "type": "site", "status": "active"}

    def _parent_of(self, site: Site) -> Site | None:
        return self.network.site(site.parent_id) if site.parent_id else None

    def _link_end(self, device_id: str | None, device_name: str | None, site_id: str | None,
                  site_name: str | None, site_type: str = "site") -> dict:
        device = {"identification": {"id": device_id, "name": device_name}} if device_id else None
        site = {"identification": {"id": site_id, "name": site_name, "type": site_type}} if site_id else None
        return {"device": device, "site": site}

    # --- sites ----------------------------------------------------------------------------
    def sites(self, query: dict):
        children: dict[int, list] = {}
        for s in self.network.subscribers:
            ap_site = self.network.equipment_by_id(s.ap_id).site_id
            children.setdefault(ap_site, []).append(s)
        for site in self.network.sites:
            yield self._infra_site(site, children.get(site.id, ()))
        for s in self.network.subscribers:
            yield self._endpoint_site(s)

    def _infra_site(self, site: Site, endpoints) -> dict:
        uuid = site_uuid(site)
        listed = [{"id": endpoint_uuid(s), "name": s.name, "parentId": uuid} for s in endpoints]
        return {
            "id": uuid,
            "identification": {"id": uuid, "status": "active", "type": "site", "name": site.name,
                               "parent": self._site_ref(self._parent_of(site)), "suspended": False},
            "description": {"address": site.address, "height": 30, "note": None,
                            "location": {"latitude": site.latitude, "longitude": site.longitude},
                            "endpoints": listed},
            "qos": {"enabled": False, "downloadSpeed": None, "uploadSpeed": None,
                    "downloadBurstSize": None, "uploadBurstSize": None},
            "ucrm": None,
        }

    def _endpoint_site(self, s: Subscriber) -> dict:
        uuid = endpoint_uuid(s)
        parent = self.network.site(self.network.equipment_by_id(s.ap_id).site_id)
        return {
            "id": uuid,
            "identification": {"id": uuid, "status": "active" if s.active else "disconnected",
                               "type": "endpoint", "name": s.name, "parent": self._site_ref(parent),
                               "suspended": s.suspended},
            "description": {"address": s.address, "height": None, "note": None, "endpoints": [],
                            "location": {"latitude": s.latitude, "longitude": s.longitude}},
            "qos": {"enabled": True, "aggregation": 1,
                    "downloadSpeed": s.plan.download_mbps * MBPS, "uploadSpeed": s.plan.upload_mbps * MBPS,
                    "downloadBurstSize": s.burst_down_kbytes, "uploadBurstSize": s.burst_up_kbytes},
            "ucrm": {"client": {"id": str(s.id), "name": s.name},
                     "service": {"id": str(s.id), "name": s.plan.name, "status": _status(s),
                                 "tariffId": str(PLANS.index(s.plan) + 1),
                                 "trafficShapingOverrideEnabled": False}},
        }

    # --- devices --------------------------------------------------------------------------
    def devices(self, query: dict):
        with_interfaces = "true" in query.get("withInterfaces", [])
        for item in self.network.equipment:
            yield self._infra_device(item, with_interfaces)
        for s in self.network.subscribers:
            for index, device in enumerate(s.devices):
                yield self._subscriber_device(s, index, device, with_interfaces)

    @staticmethod
    def _interfaces(mac: str, cidrs: list[str], lan: list[str], wireless: dict | None) -> list[dict]:
        status = {"status": "active", "speed": "1000-full", "currentSpeed": "1000-full"}
        result = [{"identification": {"type": "eth", "name": "eth0", "mac": mac, "position": 0},
                   "addresses": [{"cidr": cidr} for cidr in cidrs], "status": status}]
        if lan:
            result.append({"identification": {"type": "br", "name": "br0", "mac": mac, "position": 1},
                           "addresses": [{"cidr": cidr} for cidr in lan], "status": status})
        if wireless is not None:
            result.append({"identification": {"type": "wlan", "name": "wlan0", "mac": mac, "position": 2},
                           "addresses": [], "status": {"status": "active", "speed": None, "currentSpeed": None},
                           "wireless": wireless, "stations": []})
        return result

    def _overview(self, down: int | None, up: int | None, mode: str | None) -> dict:
        capacity = {} if down is None else {
            "downlinkCapacity": down * MBPS, "uplinkCapacity": up * MBPS, "totalCapacity": (down + up) * MBPS,
            "theoreticalTotalCapacity": (down + up) * MBPS}
        return {"status": "active", "frequency": 5800 if mode else None, "wirelessMode": mode,
                "wirelessActiveInterfaceIds": ["wlan0"] if mode else [],
                "linkScore": {"linkScore": 0.9, "score": 90, "linkScoreHint": "none"}, **capacity}

    def _identification(self, uuid: str, hostname: str, mac: str, model: tuple, role: str,
                        site: dict) -> dict:
        code, model_name, kind = model
        return {"id": uuid, "hostname": hostname, "name": hostname, "mac": mac, "model": code,
                "modelName": model_name, "type": kind, "role": role, "site": site, "authorized": True,
                "firmwareVersion": "8.7.11", "vendor": "ubiquiti", "vendorName": "Ubiquiti"}

    def _infra_device(self, item: Equipment, with_interfaces: bool) -> dict:
        site = self.network.site(item.site_id)
        site_ref = dict(self._site_ref(site), parent=self._site_ref(self._parent_of(site)))
        model = MODELS[item.model]
        radio = item.wireless_mode is not None
        ap_device = None
        if item.role == "station" and item.wireless_mode == "sta-ptmp":
            upstream = next(link.from_equipment_id for link in self.network.links if link.to_equipment_id == item.id)
            ap_device = {"id": device_uuid(upstream), "name": self.network.equipment_by_id(upstream).name}
        result = {
            "identification": self._identification(device_uuid(item.id), item.name, item.mac, model, item.role,
                                                   site_ref),
            "ipAddress": f"{item.ipv4}/24", "mode": item.wireless_mode or "router",
            "attributes": {"ssid": f"{site.name} {item.name}" if radio else None, "apDevice": ap_device},
            "overview": self._overview(item.download_mbps if radio else None, item.upload_mbps, item.wireless_mode),
        }
        if with_interfaces:
            wireless = {"noiseFloor": -92, "dlRatio": 67 if model[2] == "airMax" and item.role == "ap" else None}
            result["interfaces"] = self._interfaces(item.mac, [f"{item.ipv4}/24"], [], wireless if radio else None)
        return result

    def _subscriber_device(self, s: Subscriber, index: int, device: Device, with_interfaces: bool) -> dict:
        ap = self.network.equipment_by_id(s.ap_id)
        ap_site = self.network.site(ap.site_id)
        site_ref = {"id": endpoint_uuid(s), "name": s.name, "type": "endpoint",
                    "status": "active" if s.active else "disconnected", "parent": self._site_ref(ap_site)}
        hosts = [ip for ip in device.ipv4 if "/" not in ip]
        subnets = [ip for ip in device.ipv4 if "/" in ip] + [p for p in device.ipv6 if p.endswith("/56")]
        eth = [f"{ip}/24" for ip in hosts] + [p for p in device.ipv6 if p.endswith("/64")]
        if index == 0:
            cpe_model = CPE_BY_AP_TYPE[MODELS[ap.model][2]]
            down, up = self._cpe_capacity(cpe_model)
            identification = self._identification(device_uuid(device.id), f"cpe-{s.id}", device.mac,
                                                  MODELS[cpe_model], "station", site_ref)
            ap_ref = {"id": device_uuid(ap.id), "name": ap.name} if s.ap_recorded else None
            overview, mode, ssid = self._overview(down, up, "sta-ptmp"), "sta-ptmp", f"{ap_site.name} {ap.name}"
            wireless = {"noiseFloor": -90, "dlRatio": None}
        else:
            identification = self._identification(
                device_uuid(device.id), f"router-{s.id}-{index}", device.mac, CUSTOMER_ROUTER, "router", site_ref)
            ap_ref, overview, mode, ssid, wireless = None, self._overview(None, None, None), "router", None, None
        result = {"identification": identification, "ipAddress": eth[0] if eth else None, "mode": mode,
                  "attributes": {"ssid": ssid, "apDevice": ap_ref}, "overview": overview}
        if with_interfaces:
            result["interfaces"] = self._interfaces(device.mac, eth, subnets, wireless)
        return result

    @staticmethod
    def _cpe_capacity(model: str) -> tuple[int, int]:
        return (400, 200) if "LTU" in model else (250, 120)

    # --- data-links -------------------------------------------------------------------------
    def data_links(self, query: dict):
        network = self.network
        router = network.equipment[0]
        yield {"id": uisp_id(0x11A4, 0), "canDelete": False, "type": "ethernet", "state": "active",
               "from": self._link_end(device_uuid(router.id), router.name, site_uuid(network.core), network.core.name),
               "to": self._link_end(None, None, None, None)}
        for link in network.links:
            upstream = network.equipment_by_id(link.from_equipment_id)
            downstream = network.equipment_by_id(link.to_equipment_id)
            parent, child = network.site(link.from_site_id), network.site(link.to_site_id)
            yield {"id": uisp_id(0x11A4, link.id), "canDelete": True, "type": "wireless", "state": "active",
                   "from": self._link_end(device_uuid(upstream.id), upstream.name, site_uuid(parent), parent.name),
                   "to": self._link_end(device_uuid(downstream.id), downstream.name, site_uuid(child), child.name)}
        for s in network.subscribers:
            if s.ap_recorded:
                continue
            ap = network.equipment_by_id(s.ap_id)
            ap_site = network.site(ap.site_id)
            yield {"id": uisp_id(0x11A5, s.id), "canDelete": True, "type": "wireless", "state": "active",
                   "from": self._link_end(device_uuid(ap.id), ap.name, site_uuid(ap_site), ap_site.name),
                   "to": self._link_end(device_uuid(s.devices[0].id), f"cpe-{s.id}", endpoint_uuid(s), s.name,
                                        "endpoint")}
