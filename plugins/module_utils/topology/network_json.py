# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""network.json: LibreQoS's node tree, written from a Tree and read back as flat node records."""

from __future__ import annotations

import json

from .model import AP, SITE, Node
from .shaped_devices import format_rate

OPERATOR_ID = "network.json:%s"  # ids of nodes read from an operator's file


def _number(value):
    text = format_rate(value)
    return float(text) if "." in text else int(text)


def to_dict(tree):
    def render(item):
        node = item.node
        entry = {
            "downloadBandwidthMbps": _number(item.download_mbps),
            "uploadBandwidthMbps": _number(item.upload_mbps),
            "type": node.kind,
            "id": str(node.id),
        }
        if node.latitude is not None and node.longitude is not None:
            entry["latitude"] = node.latitude
            entry["longitude"] = node.longitude
        entry["children"] = dict((child.name, render(child)) for child in item.children)
        return entry

    return dict((item.name, render(item)) for item in tree.top)


def render(tree):
    return json.dumps(to_dict(tree), indent=2, ensure_ascii=False) + "\n"


class NetworkJsonError(ValueError):
    """A network.json that cannot be read; the message names the file and node."""


def flatten(data, path="network.json"):
    """{name: (parent name or None, download, upload, type, id)} for every node, any depth.

    Raises NetworkJsonError on a wrong shape or a duplicate node name.
    """
    if not isinstance(data, dict):
        raise NetworkJsonError("%s: the top level must be a JSON object, got %s" % (path, type(data).__name__))
    nodes = {}
    stack = [(None, data)]
    while stack:
        parent, children = stack.pop()
        for name, entry in children.items():
            if not isinstance(entry, dict):
                raise NetworkJsonError("%s: node %r must be an object" % (path, name))
            if name in nodes:
                raise NetworkJsonError("%s: node name %r appears more than once" % (path, name))
            try:
                down = float(entry.get("downloadBandwidthMbps") or 0)
                up = float(entry.get("uploadBandwidthMbps") or 0)
            except (TypeError, ValueError):
                raise NetworkJsonError("%s: node %r has a bandwidth that is not a number" % (path, name))
            nodes[name] = (parent, down, up, entry.get("type", ""), entry.get("id", ""))
            sub = entry.get("children") or {}
            if not isinstance(sub, dict):
                raise NetworkJsonError("%s: children of node %r must be an object" % (path, name))
            stack.append((name, sub))
    return nodes


def parse(text, path="network.json"):
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NetworkJsonError("%s: not valid JSON: %s" % (path, exc))
    return flatten(data, path)


def to_nodes(flat):
    """flatten()'s records -> common-model Nodes, parents by name; kind from "type" (ap/AP, else site)."""
    return [Node(OPERATOR_ID % name, name, AP if str(kind).lower() == "ap" else SITE,
                 OPERATOR_ID % parent if parent is not None else None, down or None, up or None)
            for name, (parent, down, up, kind, node_id) in flat.items()]
