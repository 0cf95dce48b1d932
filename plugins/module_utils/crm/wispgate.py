# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""WISPGate: POST /api/libreqos/shaped-devices with the form field api_token; flat topology.

Each row is keyed like a ShapedDevices.csv row; rows sharing a Circuit ID are the devices of
one circuit. The CRM gives min and max per direction in Mbps: the max is the plan, the min is
kept as the explicit min. A missing max falls back to the min of the same direction (LibreQoS
puts a missing upload max into the download max; this does not).
"""

from __future__ import annotations

from ..topology.model import Circuit, Device, Snapshot
from .common import mapped, number, split_list, text

SOURCE = "WISPGate"
DEFAULT_STRATEGY = "flat"
PATH = "/api/libreqos/shaped-devices"
NEVER_EMPTY = ("devices",)
DEFAULT_MBPS = 2.0  # LibreQoS's rate for a row with neither min nor max


def session_options(params):
    return {"form": {"api_token": params["token"]}}


def fetch(session, strategy, params=None):
    return {"devices": session.request_json("POST", PATH)}


def endpoint_path(key):
    return PATH


def _direction(row, direction):
    """(max as the plan, min or None) of one direction, in Mbps; None when the row has neither."""
    low = number(row.get("%s Min Mbps" % direction), None)
    high = number(row.get("%s Max Mbps" % direction), None)
    if high is None:
        high = low
    return high, low


def to_snapshot(payloads, settings):
    snapshot = Snapshot(SOURCE)
    circuits = {}

    def device_row(row):
        circuit_id = text(row["Circuit ID"])
        if not circuit_id:
            raise ValueError("'Circuit ID' is empty")
        circuit = circuits.get(circuit_id)
        new = circuit is None
        if new:
            down, down_min = _direction(row, "Download")
            up, up_min = _direction(row, "Upload")
            if down is None or up is None:
                snapshot.warnings.append(("row without download or upload rate, shaped at %s Mbps" % DEFAULT_MBPS,
                                          circuit_id))
                down, up = down or DEFAULT_MBPS, up or DEFAULT_MBPS
            name = text(row.get("Circuit Name")) or circuit_id
            circuit = circuits[circuit_id] = Circuit(circuit_id, name, None, [], down, up, min_download=down_min,
                                                     min_upload=up_min, comment=text(row.get("Comment")))
        device_id = text(row.get("Device ID")) or "%s_%d" % (circuit_id, len(circuit.devices) + 1)
        circuit.devices.append(Device(device_id, text(row.get("Device Name")) or device_id, text(row.get("MAC")),
                                      split_list(row.get("IPv4")), split_list(row.get("IPv6"))))
        return circuit if new else None

    snapshot.circuits = mapped(SOURCE, PATH, payloads["devices"], device_row)
    return snapshot
