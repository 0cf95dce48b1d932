# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What changed between the files on disk and the new ones, per circuit and per node."""

from __future__ import annotations

from .shaped_devices import format_rate

LISTED = 50  # ids listed per category in the result; the counts are always complete
DIFF_LINES = 200  # lines per side in diff mode


def group_circuits(rows):
    """circuit id -> tuple of its device rows (order kept)."""
    circuits = {}
    for row in rows:
        circuits.setdefault(row.circuit_id, []).append(row)
    return dict((cid, tuple(devices)) for cid, devices in circuits.items())


def describe_circuit(devices):
    first = devices[0]
    ips = "; ".join(", ".join(x for x in (d.ipv4, d.ipv6) if x) for d in devices)
    return "circuit %s %r parent=%r down=%s/%s up=%s/%s devices=%d ips=%s" % (
        first.circuit_id, first.circuit_name, first.parent_node, format_rate(first.download_min),
        format_rate(first.download_max), format_rate(first.upload_min), format_rate(first.upload_max),
        len(devices), ips)


def describe_node(name, record):
    parent, down, up = record[0], record[1], record[2]
    return "node %r parent=%r down=%s up=%s" % (name, parent, format_rate(down), format_rate(up))


def _compare(old, new):
    added = [key for key in new if key not in old]
    removed = [key for key in old if key not in new]
    changed = [key for key in new if key in old and old[key] != new[key]]
    return added, removed, changed


def summarize(old_rows, new_rows, old_nodes, new_nodes):
    """Return (summary dict, diff dict with before/after text of only the affected items)."""
    old_c, new_c = group_circuits(old_rows), group_circuits(new_rows)
    c_added, c_removed, c_changed = _compare(old_c, new_c)
    n_added, n_removed, n_changed = _compare(old_nodes or {}, new_nodes or {})
    summary = {
        "circuits": {"added": len(c_added), "removed": len(c_removed), "changed": len(c_changed),
                     "added_ids": c_added[:LISTED], "removed_ids": c_removed[:LISTED],
                     "changed_ids": c_changed[:LISTED]},
        "nodes": {"added": len(n_added), "removed": len(n_removed), "changed": len(n_changed),
                  "added_names": n_added[:LISTED], "removed_names": n_removed[:LISTED],
                  "changed_names": n_changed[:LISTED]},
    }
    before = [describe_node(k, old_nodes[k]) for k in sorted(n_removed + n_changed)[:DIFF_LINES]]
    after = [describe_node(k, new_nodes[k]) for k in sorted(n_added + n_changed)[:DIFF_LINES]]
    before += [describe_circuit(old_c[k]) for k in sorted(c_removed + c_changed)[:DIFF_LINES]]
    after += [describe_circuit(new_c[k]) for k in sorted(c_added + c_changed)[:DIFF_LINES]]
    total_before = len(n_removed) + len(n_changed) + len(c_removed) + len(c_changed)
    total_after = len(n_added) + len(n_changed) + len(c_added) + len(c_changed)
    return summary, {"before": _clip(before, total_before), "after": _clip(after, total_after)}


def _clip(lines, total):
    """At most DIFF_LINES lines (nodes first, then circuits, each sorted), and how many more."""
    lines = lines[:DIFF_LINES]
    if total > len(lines):
        lines.append("... and %d more" % (total - len(lines)))
    return "\n".join(lines) + ("\n" if lines else "")
