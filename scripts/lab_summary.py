# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print what the lab built: circuits, nodes, tree depth and where the files and picture are."""

from __future__ import annotations

import csv
import json
import os
import sys


def depth(tree):
    return max((1 + depth(node.get("children") or {}) for node in tree.values()), default=0)


def count(tree):
    return sum(1 + count(node.get("children") or {}) for node in tree.values())


def warnings_of(log_path):
    """The warning lines of the last playbook run ('[WARNING]: kind (count): examples')."""
    if not log_path or not os.path.exists(log_path):
        return []
    with open(log_path, encoding="utf-8") as handle:
        return [line.split("]:", 1)[1].strip() for line in handle if line.startswith("[WARNING]:")]


def measured(state_dir):
    """The demo's iperf3 measurement of subscriber 1 and the circuit it took over."""
    try:
        with open(os.path.join(state_dir, "subscribers.json"), encoding="utf-8") as handle:
            circuit = json.load(handle)[0]
        with open(os.path.join(state_dir, "measure.json"), encoding="utf-8") as handle:
            rate = json.load(handle)
    except (OSError, ValueError, IndexError):
        return None
    return circuit, rate


def cron_entries(directory):
    """The billing host's managed cron lines (the lab writes them to a file no cron daemon reads)."""
    path = os.path.join(directory, "ubilling", "isp-ops-ubilling")
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    except OSError:
        return None, path
    return [line for line in lines if "=" not in line.split()[0]], path


def main(directory, log_path=None, state_dir=None):
    with open(os.path.join(directory, "ShapedDevices.csv"), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with open(os.path.join(directory, "network.json"), encoding="utf-8") as handle:
        network = json.load(handle)
    circuits = set(row["Circuit ID"] for row in rows)
    unparented = set(row["Circuit ID"] for row in rows if not row["Parent Node"])
    print("")
    print("isp.ops lab summary")
    print("  circuits shaped     %d (%d devices, %d without a parent node)" % (len(circuits), len(rows), len(unparented)))
    print("  nodes               %d (%d at the top level)" % (count(network), len(network)))
    print("  tree depth          %d node levels + the circuit level" % depth(network))
    found = measured(state_dir) if state_dir else None
    if found is not None:
        circuit, rate = found[0], found[1]
        print("  measured            %.1f Mbit/s download for circuit %s %r (%s, max %s Mbit/s) through the bridge"
              % (rate["download_mbps"], circuit["circuit"], circuit["name"], circuit["address"],
                 circuit["download_max_mbps"]))
    entries, cron_path = cron_entries(directory)
    if entries is not None:
        print("  cron entries        %d ubapi jobs in %s" % (len(entries), cron_path))
    warnings = warnings_of(log_path)
    print("  warnings            %d kinds" % len(warnings))
    for line in warnings:
        print("    - %s" % (line if len(line) < 110 else line[:107] + "..."))
    for name in ("ShapedDevices.csv", "network.json", "graph.dot", "graph.svg"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            print("  %-19s %s" % (name, path))
    svg = os.path.join(directory, "graph.svg")
    if os.path.exists(svg):
        print("  the topology picture is %s (open it in a browser)" % svg)
    return 0


if __name__ == "__main__":
    sys.exit(main(*(sys.argv[1:] or ["lab-output"])))
