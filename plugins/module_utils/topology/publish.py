# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Decide what to write from a Topology, guard against a collapsing CRM, then write it.

`plan_outputs` reads the current files and changes nothing; `write_outputs` writes only the
files whose content changed, atomically, after keeping the previous ones as last good copies.
"""

from __future__ import annotations

import os

from . import changes, graph, network_json, shaped_devices
from .fileio import keep_copy, read_text, write_atomic

SHAPED_DEVICES = "ShapedDevices.csv"
NETWORK_JSON = "network.json"
GRAPH_DOT = "graph.dot"
LAST_GOOD = {SHAPED_DEVICES: "ShapedDevices.lastGood.csv", NETWORK_JSON: "network.lastGood.json"}


class SafetyValveError(Exception):
    """The new data would drop too many circuits; nothing was written."""


class OutputPlan(object):
    def __init__(self):
        self.files = []  # (path, new text, old text or None)
        self.summary = {}
        self.diff = {"before": "", "after": ""}
        self.warnings = []
        self.network_json_kept = False

    @property
    def changed(self):
        return any(new != old for path, new, old in self.files)

    def changed_paths(self):
        return [path for path, new, old in self.files if new != old]


def _circuit_count(rows):
    return len(set(row.circuit_id for row in rows))


def plan_outputs(topology, output_dir, layout="legacy", overwrite_network_json=False, write_graph=True,
                 max_circuit_drop_percent=20.0, force=False, write_network_json=True):
    """`write_network_json=False` is for sources whose network.json the operator maintains: the
    file is never created nor replaced, and the circuits' parents are checked against it."""
    plan = OutputPlan()
    csv_path = os.path.join(output_dir, SHAPED_DEVICES)
    net_path = os.path.join(output_dir, NETWORK_JSON)

    old_csv = read_text(csv_path)
    old_rows = []
    if old_csv is not None:
        try:
            old_rows = shaped_devices.parse(old_csv, csv_path)
        except shaped_devices.CsvError as exc:
            plan.warnings.append("the current file cannot be read, so the safety valve cannot compare: %s" % exc)
    new_csv = shaped_devices.render(topology.rows, layout)
    _check_safety_valve(_circuit_count(old_rows), _circuit_count(topology.rows),
                        max_circuit_drop_percent, force)

    old_net = read_text(net_path)
    new_nodes = network_json.flatten(network_json.to_dict(topology.tree))
    if not write_network_json:
        new_net, kept_because = old_net, "the source leaves it to the operator"
        if overwrite_network_json:
            plan.warnings.append("always_overwrite_network_json is ignored: this source never writes %s" % net_path)
        if old_net is None:
            plan.warnings.append("%s does not exist and this source does not write it; create it ({} for a "
                                 "flat network) so the shaper can start" % net_path)
    elif overwrite_network_json or old_net is None:
        new_net, kept_because = network_json.render(topology.tree), None
    else:
        new_net, kept_because = old_net, "always_overwrite_network_json=false"
    plan.network_json_kept = kept_because is not None and old_net is not None
    old_nodes = {}
    if old_net is not None:
        try:
            old_nodes = network_json.parse(old_net, net_path)
        except network_json.NetworkJsonError as exc:
            plan.warnings.append(str(exc))
    if kept_because is not None:
        _warn_missing_parents(plan, topology.rows, old_nodes, net_path, kept_because)
        new_nodes = old_nodes

    # Compare what the file will hold with what it holds: the layout may leave columns out.
    written_rows = shaped_devices.as_written(topology.rows, layout)
    plan.summary, plan.diff = changes.summarize(old_rows, written_rows, old_nodes, new_nodes)
    plan.files.append((csv_path, new_csv, old_csv))
    if new_net is not None:
        plan.files.append((net_path, new_net, old_net))
    if write_graph:
        dot_path = os.path.join(output_dir, GRAPH_DOT)
        counts = {}
        for row in topology.rows:
            counts[row.parent_node] = counts.get(row.parent_node, 0) + 1
        plan.files.append((dot_path, graph.render(topology.tree, counts), read_text(dot_path)))
    return plan


def _check_safety_valve(old_count, new_count, max_drop_percent, force):
    if force:
        return
    if new_count == 0:
        raise SafetyValveError("the CRM returned no shapeable circuits (the file has %d); refusing to "
                               "write an empty ShapedDevices.csv; set force=true if this is intended" % old_count)
    if old_count and new_count < old_count:
        drop = 100.0 * (old_count - new_count) / old_count
        if drop > max_drop_percent:
            raise SafetyValveError(
                "circuits would drop from %d to %d (%.1f%%, more than max_circuit_drop_percent=%s); "
                "nothing written; check the CRM, or set force=true if this is intended"
                % (old_count, new_count, drop, max_drop_percent))


def add_operator_nodes(snapshot, output_dir):
    """For a source that leaves network.json to the operator: the file's nodes join the snapshot,
    so circuits can still hang under them (exception_cpes) and graph.dot shows them. The file
    itself is never rewritten; one that cannot be read is reported by plan_outputs."""
    text = read_text(os.path.join(output_dir, NETWORK_JSON))
    if text is None:
        return
    try:
        nodes = network_json.parse(text)
    except network_json.NetworkJsonError:
        return
    for node in network_json.to_nodes(nodes):
        if node.id not in snapshot.nodes:
            snapshot.add_node(node)


def _warn_missing_parents(plan, rows, nodes, net_path, kept_because):
    missing = sorted(set(r.parent_node for r in rows if r.parent_node and r.parent_node not in nodes))
    if missing:
        plan.warnings.append(
            "%s was kept (%s) but %d parent nodes used by circuits are not in it: %s; %s"
            % (net_path, kept_because, len(missing), ", ".join(repr(m) for m in missing[:10]),
               "add them to the file" if kept_because.startswith("the source")
               else "set always_overwrite_network_json=true or edit the file"))


def write_outputs(plan):
    """Write the changed files; keep the replaced CSV and network.json as last good copies."""
    written = []
    for path, new, old in plan.files:
        if new == old:
            continue
        last_good = LAST_GOOD.get(os.path.basename(path))
        if last_good and old is not None:
            keep_copy(path, os.path.join(os.path.dirname(path), last_good))
        write_atomic(path, new)
        written.append(path)
    return written
