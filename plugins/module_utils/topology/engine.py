# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The topology engine: one CRM snapshot in, the node tree and the device rows out."""

from __future__ import annotations

from .circuits import shape_circuits
from .report import Report
from .tree import build_tree


class Topology(object):
    def __init__(self, tree, rows, report, idle_aps=0):
        self.tree = tree
        self.rows = rows
        self.report = report
        self.idle_aps = idle_aps

    def stats(self):
        circuits = set(row.circuit_id for row in self.rows)
        return {
            "circuits": len(circuits),
            "devices": len(self.rows),
            "nodes": len(self.tree.by_id),
            "top_level_nodes": len(self.tree.top),
            "depth": self.tree.depth(),
            "unparented_circuits": len(set(r.circuit_id for r in self.rows if not r.parent_node)),
            "idle_aps_left_out": self.idle_aps,
        }


def build(snapshot, settings):
    report = Report()
    for kind, example in snapshot.warnings:
        report.add(kind, example)
    tree = build_tree(snapshot, settings, report)
    rows = shape_circuits(snapshot, tree, settings, report)
    idle = tree.prune_idle_aps(set(row.parent_node for row in rows))
    return Topology(tree, rows, report, idle)
