# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The operator's override CSVs, in the formats LibreQoS users already keep.

Bandwidth: a header row, then `ParentNode,Download Mbps,Upload Mbps`.
Routes: no header, `From Site, To Site, Cost`; `#` starts a comment.
"""

from __future__ import annotations

import csv
import io
import math

from .fileio import read_text
from .settings import TopologyError


def _rows(path):
    text = read_text(path)
    if text is None:
        raise TopologyError("%s: file not found" % path)
    for number, values in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), 1):
        values = [v.strip() for v in values]
        if not values or not "".join(values) or values[0].startswith("#"):
            continue
        yield number, values


def _number(path, number, field, value, integer=False):
    try:
        result = int(value) if integer else float(value)
        if not math.isfinite(result):
            raise ValueError(value)
    except ValueError:
        raise TopologyError("%s row %d: %s must be a %s, got %r"
                            % (path, number, field, "whole number" if integer else "number", value))
    if result <= 0 and not integer:
        raise TopologyError("%s row %d: %s must be above 0, got %r" % (path, number, field, value))
    return result


def read_bandwidth_overrides(path):
    result = {}
    for number, values in _rows(path):
        if values[0].lower().replace(" ", "") == "parentnode":
            continue
        if len(values) != 3:
            raise TopologyError("%s row %d: expected 3 fields (ParentNode,Download Mbps,Upload Mbps), got %d"
                                % (path, number, len(values)))
        if values[0] in result:
            raise TopologyError("%s row %d: node %r is listed twice" % (path, number, values[0]))
        result[values[0]] = (_number(path, number, "Download Mbps", values[1]),
                             _number(path, number, "Upload Mbps", values[2]))
    return result


def read_route_overrides(path):
    result = {}
    for number, values in _rows(path):
        if len(values) != 3:
            raise TopologyError("%s row %d: expected 3 fields (From Site, To Site, Cost), got %d"
                                % (path, number, len(values)))
        cost = _number(path, number, "Cost", values[2], integer=True)
        if cost < 0:
            raise TopologyError("%s row %d: Cost must not be negative, got %d" % (path, number, cost))
        result[(values[0], values[1])] = cost
    return result
