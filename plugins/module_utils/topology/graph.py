# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""graph.dot: the node tree with every candidate link and its route cost, for people."""

from __future__ import annotations

from .model import AP


def _quote(text):
    """A DOT string; a newline becomes DOT's line break."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"%s"' % escaped


def render(tree, counts=None):
    """Chosen parent edges are solid; links not taken are dashed grey; labels are costs.

    `counts` maps a node name to the number of circuits directly under it.
    """
    counts = counts or {}
    lines = ["digraph topology {", "  rankdir=LR;", '  node [fontname="sans-serif", fontsize=10];',
             '  edge [fontname="sans-serif", fontsize=9];']
    root = tree.snapshot.nodes.get(tree.root_id) if tree.root_id is not None else None
    root_label = root.name if root is not None else "Shaper root"
    lines.append("  root [label=%s, shape=doubleoctagon, color=darkgreen];" % _quote(root_label))
    for item in tree.items():
        shape, color = ("ellipse", "blue") if item.node.kind == AP else ("box", "red")
        label = "%s\n%s/%s Mbps" % (item.name, _num(item.download_mbps), _num(item.upload_mbps))
        if counts.get(item.name):
            label += "\n%d circuits" % counts[item.name]
        lines.append("  %s [label=%s, shape=%s, color=%s];" % (_quote(item.node.id), _quote(label), shape, color))
    pairs = {}  # one line per physical link: both directions share it
    for edge in tree.edges:
        if edge.child_id in tree.by_id and (edge.parent_id in tree.by_id or edge.parent_id == tree.root_id):
            pairs.setdefault(frozenset((edge.parent_id, edge.child_id)), []).append(edge)
    drawn = set()
    for edges in pairs.values():
        chosen = [e for e in edges if e.chosen]
        edge = chosen[0] if chosen else min(edges, key=lambda e: e.cost)
        costs = sorted(set(e.cost for e in edges))
        label = "/".join(str(c) for c in costs)
        style, color = ("bold", "black") if chosen else ("dashed", "grey60")
        lines.append("  %s -> %s [label=\"%s\", style=%s, color=%s];"
                     % (_ref(tree, edge.parent_id), _quote(edge.child_id), label, style, color))
        drawn.add((edge.parent_id, edge.child_id))
    for item in tree.items():
        parent_id = item.parent.node.id if item.parent else tree.root_id
        if (parent_id, item.node.id) not in drawn:
            lines.append("  %s -> %s [style=bold];" % (_ref(tree, parent_id), _quote(item.node.id)))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _ref(tree, node_id):
    return "root" if node_id is None or node_id == tree.root_id else _quote(node_id)


def _num(value):
    return ("%.2f" % value).rstrip("0").rstrip(".")
