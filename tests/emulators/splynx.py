# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Splynx API 2.0 emulator: the admin endpoints a LibreQoS-style importer reads.

Mapping from the lab network: a subscriber is a customer with ONE internet
service (service id = id of its first device); all its device addresses are
folded into that service (first address in ``ipv4``, the rest in
``ipv4_route``). Suspended subscribers are customers with status "blocked";
inactive ones are "disabled" customers whose service status is "stopped".
Dynamic services carry no static address and appear in customers-online.
Speeds are kbps; Splynx returns whole arrays, never pages.
"""

from __future__ import annotations

import base64
import binascii

from tests.emulators.httpbase import LabApiEmulator
from tests.emulators.labnet import PLANS, LabNetwork, Subscriber

API = "/api/2.0/admin/"
TARIFFS = API + "tariffs/internet"
CUSTOMERS = API + "customers/customer"
CUSTOMERS_ONLINE = API + "customers/customers-online"
ROUTERS = API + "networking/routers"
ROUTER_SECTORS = API + "networking/routers-sectors"
SERVICES = API + "customers/customer/0/internet-services"
MONITORING = API + "networking/monitoring"
NETWORK_SITES = API + "networking/network-sites"
ACTIVE_SERVICES_QUERY = "main_attributes%5Bstatus%5D=active"
STATUS_FILTER = "main_attributes[status]"
INACTIVE_SERVICE_STATUS = "stopped"
PRICES = {"Basic 10": "15.00", "Home 25": "25.00", "Home 50": "35.00", "Plus 100": "49.00", "Max 300": "79.00"}


def service_id(subscriber: Subscriber) -> int:
    """Splynx internet-service id used for a subscriber."""
    return subscriber.devices[0].id


def tariff_id(subscriber: Subscriber) -> int:
    """Plans get ids 1..5; their "Turbo" (burst) variants 6..10."""
    turbo = len(PLANS) if subscriber.burst_down_kbytes else 0
    return PLANS.index(subscriber.plan) + 1 + turbo


def _gps(latitude: float, longitude: float) -> str:
    return f"{latitude},{longitude}"


def _nas_ip(index: int) -> str:
    return f"100.126.{index // 254}.{index % 254 + 1}"


class SplynxEmulator(LabApiEmulator):
    """Splynx with HTTP Basic auth (api key:secret) on loopback."""

    name = "splynx"
    json_content_type = "application/json; charset=UTF-8"
    ensure_ascii = True  # PHP json_encode escapes non-ASCII

    def __init__(self, network: LabNetwork, api_key: str, api_secret: str, **server_options) -> None:
        super().__init__(network, f"{api_key}:{api_secret}", **server_options)
        ap_sites = sorted({ap.site_id for ap in network.aps})
        self.router_ids = {site_id: index for index, site_id in enumerate(ap_sites, 1)}
        self.sector_ids = {ap.id: index for index, ap in enumerate(network.aps, 1)}
        self.network_site_ids = {site.id: index for index, site in enumerate(network.sites, 1)}

    def routes(self) -> dict:
        return {
            TARIFFS: self.tariffs, CUSTOMERS: self.customers, CUSTOMERS_ONLINE: self.customers_online,
            ROUTERS: self.routers, ROUTER_SECTORS: self.router_sectors, SERVICES: self.services,
            MONITORING: self.monitoring, NETWORK_SITES: self.network_sites,
        }

    def canonical_targets(self) -> list[str]:
        return [path if path != SERVICES else f"{SERVICES}?{ACTIVE_SERVICES_QUERY}" for path in self.routes()]

    def is_authorized(self, headers) -> bool:
        scheme, dummy, token = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            supplied = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return self.is_secret(supplied)

    def auth_challenge(self) -> tuple:
        return (("WWW-Authenticate", 'Basic realm="Splynx API"'),)

    def error_payload(self, status: int, message: str) -> object:
        return {"error": {"message": message, "code": status, "internal_code": f"HTTP_{status}"}}

    # --- payloads --------------------------------------------------------------------
    def tariffs(self, query: dict):
        for turbo in (False, True):
            for index, plan in enumerate(PLANS, 1):
                extra_down, extra_up = (100_000, 20_000) if turbo else (0, 0)  # 12500 / 2500 kB/s
                title = f"{plan.name} Turbo" if turbo else plan.name
                yield {
                    "id": index + (len(PLANS) if turbo else 0), "title": title, "service_name": title,
                    "price": PRICES[plan.name], "with_vat": False, "vat_percent": 0,
                    "speed_download": plan.download_mbps * 1000, "speed_upload": plan.upload_mbps * 1000,
                    "speed_limit_at": 10, "aggregation": 8, "priority": "normal",
                    "burst_limit": 0, "burst_threshold": 0, "burst_time": 0,
                    "burst_limit_fixed_down": plan.download_mbps * 1000 + extra_down if turbo else 0,
                    "burst_limit_fixed_up": plan.upload_mbps * 1000 + extra_up if turbo else 0,
                    "partners_ids": [1], "available_for_services": True,
                }

    def customers(self, query: dict):
        for s in self.network.subscribers:
            status = "blocked" if s.suspended else ("active" if s.active else "disabled")
            yield {
                "id": s.id, "login": f"{s.id:06d}", "category": "person", "name": s.name,
                "email": f"customer{s.id}@example.net", "phone": "", "billing_type": "recurring",
                "partner_id": 1, "location_id": 1, "street_1": s.street, "street_2": "",
                "city": s.city, "zip_code": s.zip_code, "status": status,
                "gps": _gps(s.latitude, s.longitude), "date_add": "2024-03-01", "added_by": "api",
            }

    def _service(self, s: Subscriber) -> dict:
        cpe = s.devices[0]
        addresses = [ip for device in s.devices for ip in device.ipv4 if not device.dynamic]
        prefixes = [p for device in s.devices for p in device.ipv6 if not device.dynamic]
        v64 = [p for p in prefixes if p.endswith("/64")]
        v56 = [p for p in prefixes if p.endswith("/56")]
        if cpe.dynamic:
            primary, routes = "", addresses
        else:
            primary, routes = addresses[0], addresses[1:]
        ap = self.network.equipment_by_id(s.ap_id)
        return {
            "id": service_id(s), "customer_id": s.id, "tariff_id": tariff_id(s),
            "status": "active" if s.active else INACTIVE_SERVICE_STATUS,
            "description": s.plan.name, "quantity": 1, "unit": "", "unit_price": PRICES[s.plan.name],
            "start_date": "2024-03-01", "end_date": "0000-00-00", "discount": 0,
            "router_id": self.router_ids[ap.site_id],
            "sector_id": self.sector_ids[ap.id] if s.ap_recorded else 0,
            "login": f"{s.id:06d}", "taking_ipv4": 2 if cpe.dynamic else 1,
            "ipv4": primary, "ipv4_route": ", ".join(routes), "ipv4_pool_id": 1 if cpe.dynamic else 0,
            "taking_ipv6": 1 if v64 or v56 else 0, "ipv6": v64[0] if v64 else "",
            "ipv6_delegated": v56[0] if v56 else "", "mac": cpe.mac, "port_id": 0,
            "access_device": ap.id if s.ap_recorded else 0,
            "geo": {"address": s.address, "marker": _gps(s.latitude, s.longitude)},
        }

    def services(self, query: dict):
        wanted = query.get(STATUS_FILTER)
        for s in self.network.subscribers:
            status = "active" if s.active else INACTIVE_SERVICE_STATUS
            if wanted is None or status in wanted:
                yield self._service(s)

    def customers_online(self, query: dict):
        """Sessions of active, unsuspended services: every dynamic one, half the static ones."""
        session = 0
        for s in self.network.subscribers:
            cpe = s.devices[0]
            if not s.active or s.suspended or not (cpe.dynamic or cpe.id % 2 == 0):
                continue
            session += 1
            ap = self.network.equipment_by_id(s.ap_id)
            router = self.router_ids[ap.site_id]
            v64 = [p for p in cpe.ipv6 if p.endswith("/64")]
            yield {
                "id": str(session), "customer_id": str(s.id), "service_id": str(service_id(s)),
                "login": f"{s.id:06d}", "ipv4": cpe.ipv4[0], "ipv6": v64[0] if v64 else "",
                "mac": cpe.mac, "nas_id": str(router), "call_to": ap.name,
                "port": f"vlan{100 + self.sector_ids[ap.id]}",
                "start_session": "2026-01-01 00:00:00", "time_on": "3600", "in_bytes": "0", "out_bytes": "0",
            }

    def routers(self, query: dict):
        for site_id, router in self.router_ids.items():
            site = self.network.site(site_id)
            yield {
                "id": router, "title": f"{site.name} NAS", "model": "CCR2004-1G-12S+2XS", "vendor": "mikrotik",
                "ip": _nas_ip(router), "nas_type": 1, "location_id": 1, "address": site.address,
                "authorization_method": "ppp_secrets", "accounting_method": "radius", "partners_ids": [1],
            }

    def router_sectors(self, query: dict):
        for ap in self.network.aps:
            sector = self.sector_ids[ap.id]
            yield {
                "id": sector, "router_id": self.router_ids[ap.site_id], "title": ap.name,
                "speed_down": ap.download_mbps * 1000, "speed_up": ap.upload_mbps * 1000,
                "limit_at": 0, "interface": f"vlan{100 + sector}",
            }

    def monitoring(self, query: dict):
        feeders = {e.feeds_site_id: e.ipv4 for e in self.network.equipment if e.feeds_site_id}
        for site in self.network.sites:
            yield {
                "id": site.id, "parent_id": site.parent_id or 0, "title": site.name,
                "ip": feeders.get(site.id, self.network.equipment[0].ipv4), "type": 1, "access_device": 0,
                "network_site_id": self.network_site_ids[site.id], "gps": _gps(site.latitude, site.longitude),
                "producer": 1, "model": "", "active": 1, "is_ping": 1, "location_id": 1, "partners_ids": [1],
            }
        for ap in self.network.aps:
            site = self.network.site(ap.site_id)
            yield {
                "id": ap.id, "parent_id": site.id, "title": ap.name, "ip": ap.ipv4, "type": 5,
                "access_device": 1, "network_site_id": self.network_site_ids[site.id],
                "gps": _gps(site.latitude, site.longitude), "producer": 2, "model": ap.model,
                "active": 1, "is_ping": 1, "location_id": 1, "partners_ids": [1],
            }

    def network_sites(self, query: dict):
        for site in self.network.sites:
            yield {
                "id": self.network_site_ids[site.id], "title": site.name, "description": f"{site.kind} site",
                "address": site.address, "gps": _gps(site.latitude, site.longitude), "partners_ids": [1],
            }
