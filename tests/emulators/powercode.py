# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Powercode Preseem API emulator: POST /api/preseem/index.php with form fields apiKey and action.

Mapping from the lab network: each subscriber is customer ``CUSTOMER_BASE + id`` with status
Active, Suspended or Inactive; customer 1 is the operator's own account (with equipment) and
one row has an empty id, both of which importers skip. Each device is one piece of equipment
on the subscriber's service (one service per plan and burst variant, rates in kbps); CPEs are
"CPE", routers alternate between the three router types. Every fifth subscriber also has an
"Access Point" and a "Battery Backup" with addresses, which are not customer equipment.
"""

from __future__ import annotations

from tests.emulators.httpbase import LabApiEmulator, last_field
from tests.emulators.labnet import PLANS, Subscriber

PATH = "/api/preseem/index.php"
CUSTOMER_BASE = 1000
ROUTER_TYPES = ("Router", "Managed Routers", "Customer Owned Equipment")
OTHER_TYPES = ("Access Point", "Battery Backup")
BURST_EXTRA_KBPS = (100_000, 20_000)


def customer_id(subscriber: Subscriber) -> str:
    return str(CUSTOMER_BASE + subscriber.id)


def service_id(subscriber: Subscriber) -> int:
    """Plans are services 1..5; their burst variants 6..10."""
    return PLANS.index(subscriber.plan) + 1 + (len(PLANS) if subscriber.burst_down_kbytes else 0)


def status(subscriber: Subscriber) -> str:
    if not subscriber.active:
        return "Inactive"
    return "Suspended" if subscriber.suspended else "Active"


def has_other_equipment(subscriber: Subscriber) -> bool:
    return subscriber.id % 5 == 0


class PowercodeEmulator(LabApiEmulator):
    name = "powercode"
    methods = ("POST",)

    def routes(self) -> dict:
        return {PATH: self.preseem}

    def canonical_targets(self) -> list[str]:
        return [PATH]

    def is_authorized_query(self, query: dict) -> bool:
        return self.is_secret(last_field(query, "apiKey"))

    def error_payload(self, status: int, message: str) -> object:
        return {"status": "error", "message": message}

    def preseem(self, query: dict):
        action = (query.get("action") or [""])[-1]
        if action == "list_customers":
            return self.customers()
        if action == "list_services":
            return self.services()
        return {"status": "error", "message": f"Unknown action {action!r}"}

    def services(self) -> list:
        rows = []
        for burst in (False, True):
            extra_down, extra_up = BURST_EXTRA_KBPS if burst else (0, 0)
            for index, plan in enumerate(PLANS, 1):
                rows.append({"id": str(index + (len(PLANS) if burst else 0)),
                             "name": f"{plan.name} Burst" if burst else plan.name,
                             "rate_down": plan.download_mbps * 1000 + extra_down,
                             "rate_up": plan.upload_mbps * 1000 + extra_up})
        return rows

    def equipment(self, s: Subscriber) -> list:
        rows = []
        for number, device in enumerate(s.devices):
            kind = "CPE" if device.kind == "cpe" else ROUTER_TYPES[(s.id + number) % len(ROUTER_TYPES)]
            rows.append({"id": str(device.id), "type": kind, "service_id": str(service_id(s)),
                         "name": f"{kind} {device.id}", "ip_address": "" if device.dynamic else device.ipv4[0],
                         "mac_address": device.mac})
        if has_other_equipment(s):
            ap = self.network.equipment_by_id(s.ap_id)
            for offset, kind in enumerate(OTHER_TYPES, 1):
                rows.append({"id": f"9{s.id:06d}{offset}", "type": kind, "service_id": str(service_id(s)),
                             "name": f"{kind} at {ap.name}", "ip_address": ap.ipv4 if offset == 1 else
                             f"100.127.250.{s.id % 250 + 1}", "mac_address": ap.mac})
        return rows

    def customers(self) -> list:
        core = self.network.equipment[0]
        rows = [
            {"id": "1", "status": "Active", "name": "Lab WISP S.L.", "company_name": "Lab WISP S.L.",
             "equipment": [{"id": "1", "type": "Router", "service_id": "1", "name": "Core router",
                            "ip_address": core.ipv4, "mac_address": core.mac}]},
            {"id": "", "status": "Active", "name": "", "company_name": "", "equipment": []},
        ]
        for s in self.network.subscribers:
            rows.append({"id": customer_id(s), "status": status(s), "name": s.name, "company_name": "",
                         "address": s.address, "equipment": self.equipment(s)})
        return rows
