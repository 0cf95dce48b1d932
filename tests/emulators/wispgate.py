# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""WISPGate emulator: POST /api/libreqos/shaped-devices with the form field api_token.

Mapping from the lab network: one row per device of every active subscriber, keyed like
ShapedDevices.csv (Circuit ID = subscriber id). Min is half the plan, max the plan, in Mbps.
Single addresses only (the first IPv4 and IPv6 of a device; null when it has none, as for
dynamic CPEs). Some rows leave a max out: ``download_max_missing`` and ``upload_max_missing``
say which, never both in one row, so a client must fall back per direction.
"""

from __future__ import annotations

from tests.emulators.httpbase import LabApiEmulator, last_field
from tests.emulators.labnet import Subscriber

PATH = "/api/libreqos/shaped-devices"


def download_max_missing(subscriber: Subscriber) -> bool:
    return subscriber.id % 7 == 0


def upload_max_missing(subscriber: Subscriber) -> bool:
    return subscriber.id % 7 == 3


class WispGateEmulator(LabApiEmulator):
    name = "wispgate"
    methods = ("POST",)
    json_content_type = "application/json"

    def routes(self) -> dict:
        return {PATH: self.shaped_devices}

    def is_authorized_query(self, query: dict) -> bool:
        return self.is_secret(last_field(query, "api_token"))

    def error_payload(self, status: int, message: str) -> object:
        return {"success": False, "message": message}

    def shaped_devices(self, query: dict):
        for s in self.network.subscribers:
            if not s.active:
                continue
            ap = self.network.equipment_by_id(s.ap_id)
            down, up = s.plan.download_mbps, s.plan.upload_mbps
            for device in s.devices:
                yield {
                    "Circuit ID": str(s.id), "Circuit Name": s.name, "Device ID": str(device.id),
                    "Device Name": f"{s.name} {device.kind}", "Parent Node": ap.name, "MAC": device.mac,
                    "IPv4": device.ipv4[0] if device.ipv4 and not device.dynamic else None,
                    "IPv6": device.ipv6[0] if device.ipv6 else None,
                    "Download Min Mbps": down / 2, "Upload Min Mbps": up / 2,
                    "Download Max Mbps": None if download_max_missing(s) else down,
                    "Upload Max Mbps": None if upload_max_missing(s) else up,
                    "Comment": "",
                }
