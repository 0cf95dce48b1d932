# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ShapedDevices.csv: LibreQoS's subscriber file, written and read back.

Two layouts are written: the 13-column one every LibreQoS version reads (default) and the
15-column one with Parent Node ID and Anchor Node ID. Reading is header-aware, as LibreQoS
is, so either layout (and snake_case headers) can be read.
"""

from __future__ import annotations

import csv
import io
from collections import namedtuple

DeviceRow = namedtuple("DeviceRow", (
    "circuit_id", "circuit_name", "device_id", "device_name", "parent_node", "parent_node_id",
    "anchor_node_id", "mac", "ipv4", "ipv6", "download_min", "upload_min", "download_max",
    "upload_max", "comment", "sqm"))

LEGACY_HEADER = ("Circuit ID", "Circuit Name", "Device ID", "Device Name", "Parent Node", "MAC",
                 "IPv4", "IPv6", "Download Min Mbps", "Upload Min Mbps", "Download Max Mbps",
                 "Upload Max Mbps", "Comment")
EXTENDED_HEADER = LEGACY_HEADER[:5] + ("Parent Node ID", "Anchor Node ID") + LEGACY_HEADER[5:]
LAYOUTS = {"legacy": LEGACY_HEADER, "extended": EXTENDED_HEADER}
RATE_FIELDS = ("download_min", "upload_min", "download_max", "upload_max")

# Normalised header (lowercase alphanumerics) -> DeviceRow field.
_ALIASES = {
    "circuitid": "circuit_id", "circuitname": "circuit_name", "deviceid": "device_id",
    "devicename": "device_name", "parentnode": "parent_node", "parentnodeid": "parent_node_id",
    "anchornodeid": "anchor_node_id", "mac": "mac", "radiususername": "mac", "ipv4": "ipv4",
    "ipv6": "ipv6", "downloadminmbps": "download_min", "downloadmin": "download_min",
    "uploadminmbps": "upload_min", "uploadmin": "upload_min", "downloadmaxmbps": "download_max",
    "downloadmax": "download_max", "uploadmaxmbps": "upload_max", "uploadmax": "upload_max",
    "comment": "comment", "sqm": "sqm",
}


class CsvError(ValueError):
    """A ShapedDevices.csv that cannot be read; the message names file, row and field."""


def format_rate(value):
    """Mbps as LibreQoS writes them: integers bare, fractions with up to two decimals."""
    text = _FORMATTED.get(value)
    if text is None:
        rounded = round(float(value), 2)
        text = str(int(rounded)) if rounded == int(rounded) else ("%.2f" % rounded).rstrip("0")
        if len(_FORMATTED) < 100000:  # plans repeat: a few hundred distinct rates in practice
            _FORMATTED[value] = text
    return text


_FORMATTED = {}


def render(rows, layout="legacy"):
    """The CSV text; the optional 16th column `sqm` is added only when a row sets it."""
    header = LAYOUTS[layout]
    with_sqm = any(r.sqm for r in rows)
    fmt = format_rate
    if layout == "extended":
        lines = ((r.circuit_id, r.circuit_name, r.device_id, r.device_name, r.parent_node, r.parent_node_id,
                  r.anchor_node_id, r.mac, r.ipv4, r.ipv6, fmt(r.download_min), fmt(r.upload_min),
                  fmt(r.download_max), fmt(r.upload_max), r.comment) for r in rows)
    else:
        lines = ((r.circuit_id, r.circuit_name, r.device_id, r.device_name, r.parent_node, r.mac, r.ipv4, r.ipv6,
                  fmt(r.download_min), fmt(r.upload_min), fmt(r.download_max), fmt(r.upload_max), r.comment)
                 for r in rows)
    if with_sqm:
        header += ("sqm",)
        lines = (line + (r.sqm,) for line, r in zip(lines, rows))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    return out.getvalue()


def as_written(rows, layout="legacy"):
    """The rows as parse() reads them back from render(rows, layout), without the round trip.

    The engine makes rows canonical (text stripped, rates rounded to 2 decimals); what a
    layout leaves out is the only difference: the legacy layout has no node id columns.
    """
    if layout == "extended":
        return rows
    return [r._replace(parent_node_id="", anchor_node_id="") if r.parent_node_id or r.anchor_node_id else r
            for r in rows]


def _normalise(header):
    return "".join(ch for ch in header.lower() if ch.isalnum())


def _positions(fields):
    """For each DeviceRow field, the column it is read from (None when the file lacks it)."""
    return [fields.index(name) if name in fields else None for name in DeviceRow._fields]


_RATE_POSITIONS = [DeviceRow._fields.index(name) for name in RATE_FIELDS]


def parse(text, path="ShapedDevices.csv"):
    """Read rows back; raises CsvError naming the file, row and field of the first problem."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = []
    positions = None
    make = DeviceRow._make
    for number, values in enumerate(reader, 1):
        if not values or values[0].lstrip().startswith("#") or not "".join(values).strip():
            continue
        if positions is None:
            mapped = [_ALIASES.get(_normalise(v)) for v in values]
            if "circuit_id" in mapped:
                positions = _positions(mapped)
                continue
            positions = _positions(list(LEGACY_HEADER_FIELDS))
        width = len(values)
        record = [values[i].strip() if i is not None and i < width else "" for i in positions]
        if not record[0]:
            raise CsvError("%s row %d: Circuit ID is empty" % (path, number))
        for i in _RATE_POSITIONS:
            try:
                record[i] = float(record[i])
            except ValueError:
                raise CsvError("%s row %d: %s is not a number: %r"
                               % (path, number, _header_of(DeviceRow._fields[i]), record[i]))
        rows.append(make(record))
    return rows


def _header_of(field):
    for header in EXTENDED_HEADER:
        if _ALIASES.get(_normalise(header)) == field:
            return header
    return field


LEGACY_HEADER_FIELDS = tuple(_ALIASES[_normalise(h)] for h in LEGACY_HEADER) + ("sqm",)
