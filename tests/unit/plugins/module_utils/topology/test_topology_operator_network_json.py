# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plan_outputs(write_network_json=False): sources whose network.json the operator maintains."""

from __future__ import annotations

import os

from ansible_collections.isp.ops.plugins.module_utils.crm import sources
from ansible_collections.isp.ops.plugins.module_utils.topology import publish
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings

OPERATOR_JSON = (b'{\n  "Tower A": {"downloadBandwidthMbps": 900, "uploadBandwidthMbps": 450,\n'
                 b'    "children": {"AP A1": {"downloadBandwidthMbps": 250, "uploadBandwidthMbps": 90}}}\n}\n')


def publish_once(topology, directory, **kw):
    plan = publish.plan_outputs(topology, str(directory), write_network_json=False, **kw)
    return plan, publish.write_outputs(plan)


def test_operator_file_stays_byte_identical_even_with_always_overwrite(make, tmp_path):
    (tmp_path / "network.json").write_bytes(OPERATOR_JSON)
    topo = make.build(make.network(), strategy="full")
    for overwrite in (False, True):
        plan, written = publish_once(topo, tmp_path, overwrite_network_json=overwrite)
        assert (tmp_path / "network.json").read_bytes() == OPERATOR_JSON
        assert str(tmp_path / "network.json") not in written and plan.network_json_kept
    assert not (tmp_path / "network.lastGood.json").exists()
    assert (tmp_path / "ShapedDevices.csv").exists()
    assert any("always_overwrite_network_json is ignored" in w for w in plan.warnings)


def test_parents_missing_from_the_operator_file_are_warned(make, tmp_path):
    (tmp_path / "network.json").write_bytes(OPERATOR_JSON)
    plan, written = publish_once(make.build(make.network(), strategy="full"), tmp_path)
    (warning,) = plan.warnings
    assert "network.json was kept (the source leaves it to the operator)" in warning
    assert "3 parent nodes used by circuits are not in it: 'AP A2', 'AP B1', 'Tower B'; add them to the file" in warning
    # Nodes are compared against the operator's file: nothing added or removed there.
    assert (plan.summary["nodes"]["added"], plan.summary["nodes"]["removed"]) == (0, 0)


def test_circuits_under_operator_nodes_need_no_warning(make, tmp_path):
    (tmp_path / "network.json").write_bytes(OPERATOR_JSON)
    snap = make.snapshot([make.site("Tower A"), make.ap("AP A1", "Tower A")],
                         circuits=[make.circuit("c1", "AP A1"), make.circuit("c2")])
    plan, written = publish_once(make.build(snap, strategy="full"), tmp_path)
    assert plan.warnings == []
    rows = (tmp_path / "ShapedDevices.csv").read_text().splitlines()[1:]
    assert [row.split(",")[4] for row in rows] == ["AP A1", ""]


def test_missing_file_is_not_created_but_warned(make, tmp_path):
    plan, written = publish_once(make.build(make.network(), strategy="flat"), tmp_path)
    assert sorted(os.listdir(str(tmp_path))) == ["ShapedDevices.csv", "graph.dot"]
    assert not plan.network_json_kept
    (warning,) = plan.warnings
    assert "network.json does not exist and this source does not write it" in warning
    again, written = publish_once(make.build(make.network(), strategy="flat"), tmp_path)
    assert written == [] and not again.changed


def test_sources_ask_publish_not_to_write_for_powercode_only(make, tmp_path):
    (tmp_path / "network.json").write_bytes(b"{}")
    payloads = {"services": [{"id": "1", "rate_down": 20000, "rate_up": 4000}],
                "customers": [{"id": "9", "status": "Active", "name": "Ana", "equipment": [
                    {"id": "1", "type": "CPE", "service_id": "1", "ip_address": "100.64.0.9"}]}]}
    topology, plan = sources.build_outputs("powercode", payloads, Settings(strategy="flat"), str(tmp_path))
    assert plan.network_json_kept and plan.changed_paths() == [str(tmp_path / n) for n in ("ShapedDevices.csv", "graph.dot")]
    assert all(getattr(sources.SOURCES[name], "WRITES_NETWORK_JSON", True) for name in sources.SOURCES
               if name != "powercode")


def test_exception_cpes_hang_circuits_under_the_operator_nodes(tmp_path):
    (tmp_path / "network.json").write_bytes(OPERATOR_JSON)
    payloads = {"services": [{"id": "1", "rate_down": 20000, "rate_up": 4000}],
                "customers": [{"id": str(n), "status": "Active", "name": name, "equipment": [
                    {"id": str(n), "type": "CPE", "service_id": "1", "ip_address": "100.64.0.%d" % n}]}
                    for n, name in ((2, "Ana"), (3, "Luis"), (4, "Marta"))]}
    settings = Settings(strategy="full", exception_cpes={"Ana": "AP A1", "Luis": "Tower A", "Marta": "Nowhere"})
    topology, plan = sources.build_outputs("powercode", payloads, settings, str(tmp_path))
    publish.write_outputs(plan)
    assert (tmp_path / "network.json").read_bytes() == OPERATOR_JSON
    assert [(row.circuit_id, row.parent_node) for row in topology.rows] == [("2", "AP A1"), ("3", "Tower A"), ("4", "")]
    assert topology.report.counts()["exception_cpes parent is not a node"] == 1
    assert plan.warnings == []
    # The operator's tree, with its rates, is what graph.dot draws.
    assert [(item.name, item.download_mbps) for item in topology.tree.items()] == [("Tower A", 900), ("AP A1", 250)]
