# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""network.json + ShapedDevices.csv read and checked as one unit before anything is shaped.

Plain Python, no Ansible and no kernel imports. Every problem found is collected (the first
MAX_LISTED are listed) and raised as one ShapingInputError naming file, row and field.

    inputs = load_inputs("/opt/libreqos/src/network.json", "/opt/libreqos/src/ShapedDevices.csv")
    inputs.nodes     # {name: Node(name, parent, down, up)} parents before children (JSON order)
    inputs.circuits  # {circuit id: Circuit(...)} in file order
    inputs.warnings  # [str]

Addresses are written as normalize() writes them: a single host (/32, /128) bare, a real
prefix with its length ("100.64.8.0/29", "2001:db8::/56"); IPv6 in RFC 5952 form.
"""

from __future__ import annotations

import csv
import io
import json
import math
import socket
from collections import namedtuple

from ..topology.addresses import normalize, split_list
from ..topology.network_json import NetworkJsonError, flatten
from ..topology.shaped_devices import _ALIASES, EXTENDED_HEADER, LEGACY_HEADER_FIELDS, DeviceRow

MAX_LISTED = 20
MIN_RATE = 0.01  # Mbps; LibreQoS's Rust reader rejects anything lower
SQM_TOKENS = ("", "cake", "fq_codel", "none")

Node = namedtuple("Node", "name parent down up")  # down/up in Mbps; 0 = inherit the parent's
Circuit = namedtuple("Circuit", ("id", "name", "parent", "down_min", "up_min", "down_max", "up_max",
                                 "sqm", "networks", "row"))  # sqm = (down token, up token), "" = default
Inputs = namedtuple("Inputs", "nodes circuits warnings")


class ShapingInputError(ValueError):
    """Inputs that cannot be shaped; the message lists every problem found (file, row, field)."""

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        shown = self.problems[:MAX_LISTED]
        more = len(self.problems) - len(shown)
        text = "; ".join(shown) + ("; ... and %d more" % more if more > 0 else "")
        if len(self.problems) > 1:
            text = "%d problems: %s" % (len(self.problems), text)
        super(ShapingInputError, self).__init__(text)


def load_inputs(network_json_path, shaped_devices_path):
    """Read both files and return Inputs, or raise ShapingInputError listing every problem."""
    texts = []
    for path in (network_json_path, shaped_devices_path):
        try:
            with open(path, encoding="utf-8-sig") as handle:
                texts.append(handle.read())
        except (OSError, UnicodeDecodeError) as exc:
            raise ShapingInputError("%s: cannot read: %s" % (path, exc))
    return parse_inputs(texts[0], texts[1], network_json_path, shaped_devices_path)


def parse_inputs(network_text, devices_text, network_path="network.json", devices_path="ShapedDevices.csv"):
    """As load_inputs, from the files' text (check mode and tests need no files)."""
    errors, warnings = [], []
    nodes, virtual = _read_network(network_text, network_path, errors, warnings)
    circuits = _read_circuits(devices_text, devices_path, nodes, virtual, errors, warnings)
    if errors:
        raise ShapingInputError(errors)
    return Inputs(nodes, circuits, warnings)


# ---------------------------------------------------------------- network.json

def _read_network(text, path, errors, warnings):
    """({name: Node} in tree order, {virtual name: nearest real ancestor or None}); None on failure."""
    try:
        data = json.loads(text)
        flat = flatten(data, path)
    except NetworkJsonError as exc:
        errors.append(str(exc))
        return None, {}
    except ValueError as exc:
        errors.append("%s: not valid JSON: %s" % (path, exc))
        return None, {}
    virtual = _virtual_names(data)
    children = {}
    for name, entry in flat.items():
        children.setdefault(entry[0], []).append(name)
    nodes, real_parent, inherit = {}, {}, []
    stack = list(reversed(children.get(None, [])))
    while stack:  # pre-order, siblings in JSON order
        name = stack.pop()
        parent, down, up = flat[name][:3]
        parent = real_parent.get(parent) if parent in virtual else parent
        real_parent[name] = parent if name in virtual else name
        if name not in virtual:
            for field, value in (("downloadBandwidthMbps", down), ("uploadBandwidthMbps", up)):
                if not math.isfinite(value) or value < 0 or 0 < value < MIN_RATE:
                    errors.append("%s node %r, field %s: %r is not a rate of at least %s Mbps"
                                  % (path, name, field, value, MIN_RATE))
                elif value == 0:
                    inherit.append(name)
            nodes[name] = Node(name, parent, down, up)
        stack.extend(reversed(children.get(name, [])))
    if inherit:
        warnings.append("%s: %d node(s) without a bandwidth inherit their parent's: %s"
                        % (path, len(set(inherit)), _names(sorted(set(inherit)))))
    return nodes, dict((name, real_parent[name]) for name in virtual if name in real_parent)


def _virtual_names(data):
    """Logical-only nodes ("virtual": true, or legacy type "virtual"): not HTB classes."""
    names, stack = set(), [data]
    while stack:
        for name, entry in stack.pop().items():
            if entry.get("virtual") is True or str(entry.get("type", "")).lower() == "virtual":
                names.add(name)
            stack.append(entry.get("children") or {})
    return names


# ---------------------------------------------------------------- ShapedDevices.csv

_FIELD_HEADER = dict((_ALIASES["".join(c for c in h.lower() if c.isalnum())], h) for h in EXTENDED_HEADER)
_FIELD_HEADER["sqm"] = "sqm"


def _where(path, number, field):
    return "%s row %d, %s" % (path, number, _FIELD_HEADER.get(field, field))


def _records(text, path, errors):
    """(row number, DeviceRow of stripped strings); header-aware like shaped_devices.parse()."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    positions = None
    try:
        for number, values in enumerate(reader, 1):
            if not values or values[0].lstrip().startswith("#") or not "".join(values).strip():
                continue
            if positions is None:
                mapped = [_ALIASES.get("".join(c for c in v.lower() if c.isalnum())) for v in values]
                fields = mapped if "circuit_id" in mapped else list(LEGACY_HEADER_FIELDS)
                positions = [fields.index(f) if f in fields else None for f in DeviceRow._fields]
                if fields is mapped:
                    continue
            width = len(values)
            yield number, DeviceRow._make(values[i].strip() if i is not None and i < width else ""
                                          for i in positions)
    except csv.Error as exc:
        errors.append("%s line %d: unreadable CSV: %s" % (path, reader.line_num, exc))


def _rates(row, number, path, errors):
    """The four rates as floats, or None after recording what is wrong with them."""
    values, ok = {}, True
    for field in ("download_min", "upload_min", "download_max", "upload_max"):
        text = getattr(row, field)
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not math.isfinite(value) or value < MIN_RATE:
            errors.append("%s: %r is not a number of at least %s Mbps" % (_where(path, number, field), text, MIN_RATE))
            ok = False
        values[field] = value
    for low, high in (("download_min", "download_max"), ("upload_min", "upload_max")):
        if ok and values[low] > values[high]:
            errors.append("%s: %s is above %s (%s)" % (_where(path, number, low), getattr(row, low),
                                                       _FIELD_HEADER[high], getattr(row, high)))
            ok = False
    return values if ok else None


def _sqm(row, number, path, errors):
    text = row.sqm.lower().replace(" ", "")
    down, slash, up = text.partition("/")
    if not slash:
        up = down
    if down not in SQM_TOKENS or up not in SQM_TOKENS:
        errors.append("%s: %r is not cake, fq_codel, none or down/up of those" % (_where(path, number, "sqm"), row.sqm))
        return None
    return (down, up)


def _networks(row, number, path, errors):
    """[(canonical text, version, first address, last address)] of the row's IPv4 and IPv6 cells."""
    found = []
    for field, want in (("ipv4", 4), ("ipv6", 6)):
        for item in split_list(getattr(row, field)):
            try:
                version, canonical = normalize(item)
            except ValueError as exc:
                errors.append("%s: %s" % (_where(path, number, field), exc))
                continue
            address, slash, length = item.partition("/")
            bits = 32 if version == 4 else 128
            if version != want:
                errors.append("%s: %r is an IPv%d address" % (_where(path, number, field), item, version))
            elif slash and int(length) < bits and "/" not in canonical:
                errors.append("%s: %r has host bits set (not a network address)" % (_where(path, number, field), item))
            else:
                plen = int(length) if slash else bits
                family = socket.AF_INET if version == 4 else socket.AF_INET6
                first = int.from_bytes(socket.inet_pton(family, address.strip()), "big")
                found.append((canonical, version, first, first | ((1 << (bits - plen)) - 1)))
    return found


def _read_circuits(text, path, nodes, virtual, errors, warnings):
    circuits, given, spans, differing = {}, {}, [], []
    for number, row in _records(text, path, errors):
        if not row.circuit_id:
            errors.append("%s: is empty" % _where(path, number, "circuit_id"))
            continue
        rates = _rates(row, number, path, errors)
        sqm = _sqm(row, number, path, errors)
        networks = _networks(row, number, path, errors)
        parent = row.parent_node or None
        first = circuits.get(row.circuit_id)
        if first is None:
            if parent is not None and nodes is not None and parent not in nodes and parent not in virtual:
                errors.append("%s: %r is not a node of network.json" % (_where(path, number, "parent_node"), parent))
            if rates is None or sqm is None:
                continue
            given[row.circuit_id] = parent
            first = circuits[row.circuit_id] = Circuit(
                row.circuit_id, row.circuit_name, virtual.get(parent, parent), rates["download_min"],
                rates["upload_min"], rates["download_max"], rates["upload_max"], sqm, [], number)
        elif parent != given[row.circuit_id]:
            errors.append("%s: %r differs from %r given for circuit %r on row %d" % (
                _where(path, number, "parent_node"), row.parent_node, given[row.circuit_id] or "",
                row.circuit_id, first.row))
        elif rates is not None and (sqm != first.sqm or rates != _rates_of(first)):
            differing.append(row.circuit_id)
        for canonical, version, low, high in networks:
            if canonical not in first.networks:
                first.networks.append(canonical)
                spans.append((version, low, high, row.circuit_id, number, canonical))
    _overlaps(spans, path, errors)
    if differing:
        names = sorted(set(differing))
        warnings.append("%s: %d circuit(s) have rows with different rates or sqm, the first row wins: %s"
                        % (path, len(names), _names(names)))
    return dict((cid, c._replace(networks=tuple(c.networks))) for cid, c in circuits.items())


def _rates_of(circuit):
    return {"download_min": circuit.down_min, "upload_min": circuit.up_min,
            "download_max": circuit.down_max, "upload_max": circuit.up_max}


def _overlaps(spans, path, errors):
    """Prefixes are nested or disjoint, so a sort by (family, start, widest first) and a stack of
    the prefixes that contain the current one finds every address claimed by two circuits."""
    spans.sort(key=lambda s: (s[0], s[1], -s[2], s[4]))
    stack = []
    for span in spans:
        while stack and (stack[-1][0] != span[0] or stack[-1][2] < span[1]):
            stack.pop()
        for holder in reversed(stack):
            if holder[3] != span[3]:
                field = "ipv4" if span[0] == 4 else "ipv6"
                errors.append("%s: %s overlaps %s of circuit %r (row %d)" % (
                    _where(path, span[4], field), span[5], holder[5], holder[3], holder[4]))
                break
        stack.append(span)


def _names(names, limit=10):
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (" and %d more" % (len(names) - limit) if len(names) > limit else "")
