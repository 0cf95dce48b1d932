# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netzur emulator: one GET endpoint with a Bearer token, answering {"zones": [...], "customers": [...]}.

Mapping from the lab network: every site is a zone (towers by ``id``, the others by
``zone_id``, both spellings exist); every active subscriber is a customer in the zone of its
AP's site, speeds in Mbps. All addresses of a subscriber's devices are in ``ip`` (comma
separated) and ``ipv6`` (a list for even ids, a comma string for odd ones). Inactive
subscribers are not listed; Netzur has no suspension flag.
"""

from __future__ import annotations

from tests.emulators.httpbase import LabApiEmulator
from tests.emulators.labnet import LabNetwork, Subscriber

PATH = "/api/libreqos"


def circuit_id(subscriber: Subscriber) -> str:
    return f"netzur_{subscriber.id}"


class NetzurEmulator(LabApiEmulator):
    name = "netzur"
    empty_body = b'{"zones":[],"customers":[]}'

    def __init__(self, network: LabNetwork, api_key: str, **server_options) -> None:
        super().__init__(network, f"Bearer {api_key}", **server_options)

    def routes(self) -> dict:
        return {PATH: self.answer}

    def is_authorized(self, headers) -> bool:
        return self.is_secret(headers.get("Authorization"))

    def auth_challenge(self) -> tuple:
        return (("WWW-Authenticate", 'Bearer realm="netzur"'),)

    def error_payload(self, status: int, message: str) -> object:
        return {"detail": message}

    def zone_name(self, subscriber: Subscriber) -> str:
        return self.network.site(self.network.equipment_by_id(subscriber.ap_id).site_id).name

    def answer(self, query: dict) -> dict:
        zones = []
        for site in self.network.sites:
            key = "id" if site.kind == "tower" else "zone_id"
            zones.append({key: site.id, "name": site.name, "capacity_download_mbps": site.download_mbps,
                          "capacity_upload_mbps": site.upload_mbps})
        customers = []
        for s in self.network.subscribers:
            if not s.active:
                continue
            v6 = [prefix for device in s.devices for prefix in device.ipv6]
            customers.append({
                "subscriber_id": s.id, "zone": self.zone_name(s), "customerName": s.name, "address": s.address,
                "download": s.plan.download_mbps, "upload": s.plan.upload_mbps,
                "ip": ", ".join(ip for device in s.devices for ip in device.ipv4),
                "ipv6": v6 if s.id % 2 == 0 else ",".join(v6), "mac": s.devices[0].mac,
            })
        return {"zones": zones, "customers": customers}
