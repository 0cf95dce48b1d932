# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plan_outputs / write_outputs on a real directory: idempotence, last good copies, the kept
network.json, the safety valve, and atomic writes that leave the old file intact on failure."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.isp.ops.plugins.module_utils.topology import fileio, publish, shaped_devices
from ansible_collections.isp.ops.plugins.module_utils.topology.publish import SafetyValveError


def publish_once(topology, directory, **kw):
    plan = publish.plan_outputs(topology, str(directory), **kw)
    return plan, publish.write_outputs(plan)


def files(directory):
    return sorted(os.listdir(str(directory)))


def read(directory, name):
    return (directory / name).read_bytes()


def test_first_write_creates_the_three_files(make, tmp_path):
    topo = make.build(make.network(), strategy="full")
    plan, written = publish_once(topo, tmp_path)
    assert written == [str(tmp_path / "ShapedDevices.csv"), str(tmp_path / "network.json"),
                       str(tmp_path / "graph.dot")]
    assert files(tmp_path) == ["ShapedDevices.csv", "graph.dot", "network.json"]
    assert plan.changed and not plan.network_json_kept and plan.warnings == []
    assert read(tmp_path, "ShapedDevices.csv").decode() == shaped_devices.render(topo.rows)
    assert json.loads(read(tmp_path, "network.json"))["Tower A"]["children"]["AP A1"]["downloadBandwidthMbps"] == 300
    assert plan.summary["circuits"]["added"] == 5 and plan.summary["nodes"]["added"] == 6
    assert oct(os.stat(str(tmp_path / "network.json")).st_mode & 0o777) == "0o644"


def test_plan_alone_writes_nothing(make, tmp_path):
    plan = publish.plan_outputs(make.build(make.network()), str(tmp_path))
    assert plan.changed
    assert plan.changed_paths() == [str(tmp_path / n) for n in ("ShapedDevices.csv", "network.json", "graph.dot")]
    assert files(tmp_path) == []


def test_write_graph_false_skips_graph_dot(make, tmp_path):
    publish_once(make.build(make.network()), tmp_path, write_graph=False)
    assert files(tmp_path) == ["ShapedDevices.csv", "network.json"]


@pytest.mark.parametrize("layout", ["legacy", "extended"])
def test_second_identical_run_changes_nothing(make, tmp_path, layout):
    publish_once(make.build(make.network(), strategy="full"), tmp_path, layout=layout,
                 overwrite_network_json=True)
    before = dict((name, read(tmp_path, name)) for name in files(tmp_path))
    plan, written = publish_once(make.build(make.network(), strategy="full"), tmp_path, layout=layout,
                                 overwrite_network_json=True)
    assert written == []
    assert not plan.changed and plan.changed_paths() == []
    assert dict((name, read(tmp_path, name)) for name in files(tmp_path)) == before
    assert "ShapedDevices.lastGood.csv" not in files(tmp_path)
    for part in ("circuits", "nodes"):
        assert (plan.summary[part]["added"], plan.summary[part]["removed"], plan.summary[part]["changed"]) == (0, 0, 0)
    assert plan.diff == {"before": "", "after": ""}


def test_fractional_explicit_min_is_not_a_change_on_every_run(make, tmp_path):
    def topology():
        snap = make.network()
        snap.circuits[0].min_download = 33.333
        return make.build(snap, strategy="full")

    publish_once(topology(), tmp_path)
    plan, written = publish_once(topology(), tmp_path)
    assert written == [] and plan.summary["circuits"]["changed"] == 0


def test_a_change_keeps_last_good_copies(make, tmp_path):
    publish_once(make.build(make.network(), strategy="full"), tmp_path)
    old_csv, old_net = read(tmp_path, "ShapedDevices.csv"), read(tmp_path, "network.json")
    snap = make.network()
    snap.circuits[0].plan_download = 200
    snap.nodes["AP A1"].download_mbps = 400
    plan, written = publish_once(make.build(snap, strategy="full"), tmp_path, overwrite_network_json=True)
    assert written == [str(tmp_path / n) for n in ("ShapedDevices.csv", "network.json", "graph.dot")]
    assert read(tmp_path, "ShapedDevices.lastGood.csv") == old_csv
    assert read(tmp_path, "network.lastGood.json") == old_net
    assert "graph.lastGood.dot" not in files(tmp_path)
    assert plan.summary["circuits"]["changed_ids"] == ["c1"]
    assert plan.summary["nodes"]["changed_names"] == ["AP A1"]
    # A third run with the same data: nothing written, the last good copies stay as they were.
    plan, written = publish_once(make.build(snap, strategy="full"), tmp_path, overwrite_network_json=True)
    assert written == [] and read(tmp_path, "ShapedDevices.lastGood.csv") == old_csv


def test_kept_network_json_is_not_overwritten_and_missing_parents_warned(make, tmp_path):
    publish_once(make.build(make.network(), strategy="full"), tmp_path)
    edited = {"Tower A": {"downloadBandwidthMbps": 900, "uploadBandwidthMbps": 450,
                          "children": {"AP A1": {"downloadBandwidthMbps": 250, "uploadBandwidthMbps": 90}}}}
    edited_text = json.dumps(edited)
    (tmp_path / "network.json").write_text(edited_text)
    snap = make.network()
    snap.nodes["AP A1"].download_mbps = 350  # would change network.json if it were written
    plan, written = publish_once(make.build(snap, strategy="full"), tmp_path, overwrite_network_json=False)
    assert plan.network_json_kept
    assert str(tmp_path / "network.json") not in written
    assert (tmp_path / "network.json").read_text() == edited_text
    assert "network.lastGood.json" not in files(tmp_path)
    (warning,) = plan.warnings
    assert "network.json was kept (always_overwrite_network_json=false)" in warning
    assert "3 parent nodes used by circuits are not in it: 'AP A2', 'AP B1', 'Tower B'" in warning
    # The change summary compares against the kept file, so the nodes did not change.
    assert plan.summary["nodes"] == {"added": 0, "removed": 0, "changed": 0, "added_names": [],
                                     "removed_names": [], "changed_names": []}


def test_kept_network_json_without_missing_parents_has_no_warning(make, tmp_path):
    publish_once(make.build(make.network(), strategy="full"), tmp_path)
    plan, written = publish_once(make.build(make.network(), strategy="full"), tmp_path)
    assert plan.network_json_kept and plan.warnings == [] and written == []


def test_overwrite_network_json_replaces_the_edited_file(make, tmp_path):
    publish_once(make.build(make.network(), strategy="full"), tmp_path)
    generated = read(tmp_path, "network.json")
    (tmp_path / "network.json").write_text("{}")
    plan, written = publish_once(make.build(make.network(), strategy="full"), tmp_path, overwrite_network_json=True)
    assert written == [str(tmp_path / "network.json")]
    assert read(tmp_path, "network.json") == generated
    assert read(tmp_path, "network.lastGood.json") == b"{}"
    assert plan.summary["nodes"]["added"] == 6


def test_unreadable_old_files_are_warned_about_not_fatal(make, tmp_path):
    (tmp_path / "ShapedDevices.csv").write_text("Circuit ID,Download Min Mbps\n1,abc\n")
    (tmp_path / "network.json").write_text("[1, 2")
    plan = publish.plan_outputs(make.build(make.network(), strategy="full"), str(tmp_path),
                                overwrite_network_json=True)
    assert len(plan.warnings) == 2
    assert "the safety valve cannot compare" in plan.warnings[0] and "row 2" in plan.warnings[0]
    assert "not valid JSON" in plan.warnings[1]
    assert plan.summary["circuits"]["added"] == 5


# --- safety valve -------------------------------------------------------------------------------


def test_safety_valve_refuses_a_big_drop_and_writes_nothing(make, tmp_path):
    publish_once(make.build(make.network_with(10)), tmp_path)
    before = dict((name, read(tmp_path, name)) for name in files(tmp_path))
    with pytest.raises(SafetyValveError) as err:
        publish_once(make.build(make.network_with(7)), tmp_path)
    assert "circuits would drop from 10 to 7 (30.0%, more than max_circuit_drop_percent=20.0)" in str(err.value)
    assert dict((name, read(tmp_path, name)) for name in files(tmp_path)) == before


def test_safety_valve_allows_a_drop_up_to_the_limit(make, tmp_path):
    publish_once(make.build(make.network_with(10)), tmp_path)
    plan, written = publish_once(make.build(make.network_with(8)), tmp_path)
    assert str(tmp_path / "ShapedDevices.csv") in written
    assert plan.summary["circuits"]["removed_ids"] == ["n8", "n9"]
    with pytest.raises(SafetyValveError):
        publish_once(make.build(make.network_with(7)), tmp_path, max_circuit_drop_percent=10)
    publish_once(make.build(make.network_with(4)), tmp_path, max_circuit_drop_percent=50)


def test_safety_valve_counts_circuits_not_device_rows(make, tmp_path):
    snap = make.network_with(5)
    for circuit in snap.circuits:
        circuit.devices.append(make.device("extra-%s" % circuit.id, "x", ["100.67.0.%d" % (len(circuit.id) + int(circuit.id[1:]))]))
    publish_once(make.build(snap), tmp_path)
    plan, written = publish_once(make.build(make.network_with(5)), tmp_path)  # 10 rows -> 5 rows, same circuits
    assert str(tmp_path / "ShapedDevices.csv") in written
    assert plan.summary["circuits"]["changed"] == 5


def test_zero_circuits_refused_even_on_first_run(make, tmp_path):
    with pytest.raises(SafetyValveError, match="no shapeable circuits"):
        publish.plan_outputs(make.build(make.network_with(0)), str(tmp_path))
    publish_once(make.build(make.network_with(3)), tmp_path)
    with pytest.raises(SafetyValveError, match=r"\(the file has 3\)"):
        publish.plan_outputs(make.build(make.network_with(0)), str(tmp_path))


def test_force_bypasses_the_safety_valve(make, tmp_path):
    publish_once(make.build(make.network_with(10)), tmp_path)
    plan, written = publish_once(make.build(make.network_with(0)), tmp_path, force=True)
    assert (tmp_path / "ShapedDevices.csv").read_text() == shaped_devices.render([])
    assert plan.summary["circuits"]["removed"] == 10
    assert len((tmp_path / "ShapedDevices.lastGood.csv").read_text().splitlines()) == 11


# --- atomic writes ------------------------------------------------------------------------------


def test_atomic_write_leaves_no_temporary_files(make, tmp_path):
    publish_once(make.build(make.network()), tmp_path)
    snap = make.network()
    snap.circuits.pop()
    publish_once(make.build(snap), tmp_path, overwrite_network_json=True)
    assert [name for name in files(tmp_path) if name.startswith(".")] == []


def test_failing_replace_leaves_the_old_file_byte_identical(make, tmp_path, monkeypatch):
    publish_once(make.build(make.network(), strategy="full"), tmp_path)
    csv_path = str(tmp_path / "ShapedDevices.csv")
    old_csv = read(tmp_path, "ShapedDevices.csv")
    real_replace = os.replace

    def failing_replace(src, dst):
        if os.path.abspath(dst) == csv_path:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    snap = make.network()
    snap.circuits[0].plan_download = 500
    plan = publish.plan_outputs(make.build(snap, strategy="full"), str(tmp_path))
    with pytest.raises(OSError, match="No space left"):
        publish.write_outputs(plan)
    assert read(tmp_path, "ShapedDevices.csv") == old_csv
    assert [name for name in files(tmp_path) if name.startswith(".")] == []
    assert read(tmp_path, "ShapedDevices.lastGood.csv") == old_csv


def test_write_atomic_failure_while_writing_removes_the_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    target.write_bytes(b"old\n")

    def failing_fsync(fd):
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="I/O error"):
        fileio.write_atomic(str(target), "new\n")
    assert target.read_bytes() == b"old\n"
    assert files(tmp_path) == ["f.txt"]


def test_write_atomic_and_read_text(tmp_path):
    path = str(tmp_path / "x.txt")
    assert fileio.read_text(path) is None
    fileio.write_atomic(path, "héllo\n", mode=0o600)
    assert fileio.read_text(path) == "héllo\n"
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_keep_copy(tmp_path):
    src, dst = str(tmp_path / "a"), str(tmp_path / "b")
    assert fileio.keep_copy(src, dst) is False
    (tmp_path / "a").write_text("data")
    assert fileio.keep_copy(src, dst) is True
    assert (tmp_path / "b").read_text() == "data"
    assert files(tmp_path) == ["a", "b"]
