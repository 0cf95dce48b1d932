# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""changes.summarize: per-circuit and per-node differences and the diff text."""

from __future__ import annotations

from ansible_collections.isp.ops.plugins.module_utils.topology import changes
from ansible_collections.isp.ops.plugins.module_utils.topology.shaped_devices import DeviceRow


def row(circuit_id, device_id="d", parent="AP 1", ipv4="100.64.0.1", down=(98.0, 115.0), name=None):
    return DeviceRow(circuit_id, name or "Customer %s" % circuit_id, device_id, "cpe", parent, "", "", "",
                     ipv4, "", down[0], 19.6, down[1], 23.0, "", "")


OLD_ROWS = [row("1", ipv4="100.64.0.1"), row("2", ipv4="100.64.0.2"), row("2", "d2", ipv4="100.64.0.3"),
            row("3", ipv4="100.64.0.4"), row("4", ipv4="100.64.0.5")]
OLD_NODES = {"Site": (None, 1000.0, 1000.0, "site", "s"), "AP 1": ("Site", 300.0, 100.0, "ap", "a1"),
             "AP 2": ("Site", 200.0, 50.0, "ap", "a2")}


def test_nothing_changed():
    summary, diff = changes.summarize(OLD_ROWS, list(OLD_ROWS), OLD_NODES, dict(OLD_NODES))
    assert summary == {
        "circuits": {"added": 0, "removed": 0, "changed": 0, "added_ids": [], "removed_ids": [], "changed_ids": []},
        "nodes": {"added": 0, "removed": 0, "changed": 0, "added_names": [], "removed_names": [],
                  "changed_names": []},
    }
    assert diff == {"before": "", "after": ""}


def test_added_removed_and_changed_circuits_and_nodes():
    new_rows = [row("1", ipv4="100.64.0.1"),                        # unchanged
                row("2", ipv4="100.64.0.2"),                        # lost its second device
                row("3", ipv4="100.64.0.4", down=(196.0, 230.0)),   # new plan
                row("5", parent="AP 3", ipv4="100.64.0.9")]         # new; 4 is gone
    new_nodes = {"Site": (None, 1000.0, 1000.0, "site", "s"), "AP 1": ("Site", 350.0, 100.0, "ap", "a1"),
                 "AP 3": ("Site", 100.0, 100.0, "ap", "a3")}
    summary, diff = changes.summarize(OLD_ROWS, new_rows, OLD_NODES, new_nodes)
    assert summary["circuits"] == {"added": 1, "removed": 1, "changed": 2, "added_ids": ["5"],
                                   "removed_ids": ["4"], "changed_ids": ["2", "3"]}
    assert summary["nodes"] == {"added": 1, "removed": 1, "changed": 1, "added_names": ["AP 3"],
                                "removed_names": ["AP 2"], "changed_names": ["AP 1"]}
    assert sorted(diff["before"].splitlines()) == [
        "circuit 2 'Customer 2' parent='AP 1' down=98/115 up=19.6/23 devices=2 ips=100.64.0.2; 100.64.0.3",
        "circuit 3 'Customer 3' parent='AP 1' down=98/115 up=19.6/23 devices=1 ips=100.64.0.4",
        "circuit 4 'Customer 4' parent='AP 1' down=98/115 up=19.6/23 devices=1 ips=100.64.0.5",
        "node 'AP 1' parent='Site' down=300 up=100",
        "node 'AP 2' parent='Site' down=200 up=50",
    ]
    assert sorted(diff["after"].splitlines()) == [
        "circuit 2 'Customer 2' parent='AP 1' down=98/115 up=19.6/23 devices=1 ips=100.64.0.2",
        "circuit 3 'Customer 3' parent='AP 1' down=196/230 up=19.6/23 devices=1 ips=100.64.0.4",
        "circuit 5 'Customer 5' parent='AP 3' down=98/115 up=19.6/23 devices=1 ips=100.64.0.9",
        "node 'AP 1' parent='Site' down=350 up=100",
        "node 'AP 3' parent='Site' down=100 up=100",
    ]
    # Only affected items: the unchanged circuit 1 and node Site appear nowhere.
    text = diff["before"] + diff["after"]
    assert "circuit 1 " not in text and "node 'Site'" not in text


def test_node_moved_to_another_parent_is_changed():
    moved = dict(OLD_NODES, **{"AP 2": ("AP 1", 200.0, 50.0, "ap", "a2")})
    summary, diff = changes.summarize([], [], OLD_NODES, moved)
    assert summary["nodes"]["changed_names"] == ["AP 2"]
    assert diff["after"] == "node 'AP 2' parent='AP 1' down=200 up=50\n"


def test_circuit_renamed_or_reparented_is_changed():
    summary = changes.summarize([row("1")], [row("1", parent="AP 2")], {}, {})[0]
    assert summary["circuits"]["changed_ids"] == ["1"]
    summary = changes.summarize([row("1")], [row("1", name="Renamed")], {}, {})[0]
    assert summary["circuits"]["changed_ids"] == ["1"]


def test_first_run_everything_added_and_none_nodes():
    summary, diff = changes.summarize([], OLD_ROWS, None, OLD_NODES)
    assert summary["circuits"]["added_ids"] == ["1", "2", "3", "4"]
    assert summary["nodes"]["added"] == 3
    assert diff["before"] == ""
    assert len(diff["after"].splitlines()) == 7


def test_lists_are_clipped_but_counts_complete():
    new_rows = [row(str(i), ipv4="100.64.%d.%d" % (i // 200, i % 200 + 1)) for i in range(260)]
    summary, diff = changes.summarize([], new_rows, {}, {})
    assert summary["circuits"]["added"] == 260
    assert len(summary["circuits"]["added_ids"]) == changes.LISTED == 50
    lines = diff["after"].splitlines()
    assert len(lines) == changes.DIFF_LINES + 1
    assert lines[-1] == "... and 60 more"


def test_group_circuits_keeps_device_order():
    grouped = changes.group_circuits(OLD_ROWS)
    assert list(grouped) == ["1", "2", "3", "4"]
    assert [d.device_id for d in grouped["2"]] == ["d", "d2"]
