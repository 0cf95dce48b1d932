# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm_topology run in-process against the UISP and Splynx emulators on loopback."""

from __future__ import annotations

import csv
import json
import os

import pytest

from ansible_collections.isp.ops.plugins.modules import crm_topology
from tests.emulators.labnet import generate
from tests.emulators.splynx import SplynxEmulator
from tests.emulators.uisp import UispEmulator
from tests.module_runner import warnings_of

TOKEN = "uisp-test-token-0123456789"
KEY, SECRET = "splynx-key", "splynx-secret-0123456789"
FAULTS = ("401", "403", "500", "timeout", "reset", "truncated", "wrong_shape", "html")


@pytest.fixture(scope="module")
def network():
    return generate(120, seed=3)


@pytest.fixture
def uisp(network):
    with UispEmulator(network, TOKEN, timeout_delay=1.5) as server:
        yield server


@pytest.fixture
def splynx(network):
    with SplynxEmulator(network, KEY, SECRET) as server:
        yield server


def uisp_args(server, out_dir, **extra):
    args = dict(source="uisp", url=server.url, token=TOKEN, root_site="Core", output_dir=str(out_dir),
                timeout=1, retries=0, retry_backoff=0)
    args.update(extra)
    return args


def snapshot(directory):
    """Every file's bytes, to prove a failed run changed nothing."""
    return dict((name, (directory / name).read_bytes()) for name in sorted(os.listdir(directory)))


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_first_run_writes_then_second_run_is_unchanged(run_module, uisp, tmp_path, network):
    first = run_module(crm_topology.main, uisp_args(uisp, tmp_path))
    assert first["changed"] is True
    assert set(first["written"]) == {str(tmp_path / n) for n in ("ShapedDevices.csv", "network.json", "graph.dot")}
    active = len(network.expected_active())
    assert first["stats"]["circuits"] == active  # the bad rows lose an address, not the circuit
    rows = read_csv(tmp_path / "ShapedDevices.csv")
    assert list(rows[0]) == ["Circuit ID", "Circuit Name", "Device ID", "Device Name", "Parent Node", "MAC",
                             "IPv4", "IPv6", "Download Min Mbps", "Upload Min Mbps", "Download Max Mbps",
                             "Upload Max Mbps", "Comment"]
    nodes = json.loads((tmp_path / "network.json").read_text())
    assert "Core" not in nodes  # the root site is the shaper's own perspective
    second = run_module(crm_topology.main, uisp_args(uisp, tmp_path))
    assert second["changed"] is False
    assert second["written"] == []
    assert second["changes"]["circuits"] == {"added": 0, "removed": 0, "changed": 0, "added_ids": [],
                                             "removed_ids": [], "changed_ids": []}


def test_check_mode_writes_nothing_and_predicts_the_change(run_module, uisp, tmp_path):
    result = run_module(crm_topology.main, uisp_args(uisp, tmp_path), check_mode=True)
    assert result["changed"] is True
    assert result["written"] == []
    assert os.listdir(tmp_path) == []
    assert result["changes"]["circuits"]["added"] == result["stats"]["circuits"]


def test_diff_mode_lists_only_the_changed_circuit(run_module, uisp, tmp_path):
    run_module(crm_topology.main, uisp_args(uisp, tmp_path))
    before = snapshot(tmp_path)
    # The operator raises the commit multiplier: every circuit's min changes, nothing else.
    result = run_module(crm_topology.main, uisp_args(uisp, tmp_path, suspended_strategy="ignore"),
                        check_mode=True, diff=True)
    assert snapshot(tmp_path) == before
    removed = result["changes"]["circuits"]["removed"]
    assert removed > 0 and result["changes"]["circuits"]["added"] == 0
    assert result["diff"]["after"] == ""
    assert result["diff"]["before"].count("\ncircuit ") + result["diff"]["before"].startswith("circuit ") == removed
    assert "Circuit ID" not in result["diff"]["before"]


@pytest.mark.parametrize("fault", FAULTS)
def test_crm_failure_names_endpoint_and_leaves_files_identical(run_module, uisp, tmp_path, fault):
    run_module(crm_topology.main, uisp_args(uisp, tmp_path))
    before = snapshot(tmp_path)
    uisp.set_fault("/nms/api/v2.1/devices", fault)
    result = run_module(crm_topology.main, uisp_args(uisp, tmp_path))
    assert result["failed"] is True
    assert result["crm_error"]["source"] == "UISP"
    assert result["crm_error"]["endpoint"] == "/nms/api/v2.1/devices"
    assert "/nms/api/v2.1/devices" in result["msg"]
    assert snapshot(tmp_path) == before
    assert TOKEN not in json.dumps(result)


def test_retry_recovers_from_one_server_error(run_module, uisp, tmp_path):
    uisp.set_fault("/nms/api/v2.1/sites", "503", count=1)
    result = run_module(crm_topology.main, uisp_args(uisp, tmp_path, retries=2))
    assert result["changed"] is True
    statuses = [r["status"] for r in uisp.requests if r["path"] == "/nms/api/v2.1/sites"]
    assert statuses == [503, 200]


def test_safety_valve_refuses_a_collapsing_crm(run_module, uisp, tmp_path, network):
    run_module(crm_topology.main, uisp_args(uisp, tmp_path))
    before = snapshot(tmp_path)
    # Exclude most towers: far more than 20% of the circuits would vanish.
    big_sites = [s.name for s in network.sites if s.parent_id == network.core.id]
    result = run_module(crm_topology.main, uisp_args(uisp, tmp_path, keep_top_level=big_sites[:1]))
    assert result["failed"] is True
    assert "max_circuit_drop_percent" in result["msg"]
    assert snapshot(tmp_path) == before
    forced = run_module(crm_topology.main, uisp_args(uisp, tmp_path, keep_top_level=big_sites[:1], force=True))
    assert forced["changed"] is True
    assert (tmp_path / "ShapedDevices.lastGood.csv").read_bytes() == before["ShapedDevices.csv"]


@pytest.mark.parametrize("path", ["/nms/api/v2.1/sites", "/nms/api/v2.1/devices"])
def test_empty_crm_answer_is_suspicious(run_module, uisp, tmp_path, path):
    run_module(crm_topology.main, uisp_args(uisp, tmp_path))
    before = snapshot(tmp_path)
    uisp.set_fault(path, "empty")
    result = run_module(crm_topology.main, uisp_args(uisp, tmp_path))
    assert result["failed"] is True
    assert "UISP %s answered with an empty list" % path in result["msg"]
    assert snapshot(tmp_path) == before


def test_zero_circuits_trip_the_safety_valve(run_module, uisp, tmp_path):
    result = run_module(crm_topology.main, uisp_args(uisp, tmp_path, suspended_strategy="ignore",
                                                     keep_top_level=["No Such Tower"]))
    assert result["failed"] is True
    assert "no shapeable circuits" in result["msg"]
    assert os.listdir(tmp_path) == []


def test_existing_network_json_is_kept_unless_overwrite(run_module, uisp, tmp_path):
    (tmp_path / "network.json").write_text('{"Tower North": {"downloadBandwidthMbps": 100, '
                                           '"uploadBandwidthMbps": 100, "children": {}}}\n')
    kept = run_module(crm_topology.main, uisp_args(uisp, tmp_path))
    assert kept["network_json_kept"] is True
    assert json.loads((tmp_path / "network.json").read_text())["Tower North"]["downloadBandwidthMbps"] == 100
    assert any("parent nodes used by circuits are not in it" in w for w in warnings_of(kept))
    replaced = run_module(crm_topology.main, uisp_args(uisp, tmp_path, always_overwrite_network_json=True))
    assert replaced["network_json_kept"] is False
    assert (tmp_path / "network.lastGood.json").exists()


def test_bad_rows_are_reported_not_fatal(run_module, uisp, tmp_path, network):
    result = run_module(crm_topology.main, uisp_args(uisp, tmp_path))
    assert result["report"]["invalid IP address dropped"] == 1
    assert result["report"]["IP address in two circuits, kept in the first"] == 1
    assert any(network.invalid_ip in w for w in warnings_of(result))
    fatal = run_module(crm_topology.main, uisp_args(uisp, tmp_path, fail_on_duplicate_ip=True))
    assert fatal["failed"] is True and network.duplicate_ip in fatal["msg"]


def test_splynx_extended_layout(run_module, splynx, tmp_path):
    args = dict(source="splynx", url=splynx.url, api_key=KEY, api_secret=SECRET, output_dir=str(tmp_path),
                csv_layout="extended", retries=0)
    result = run_module(crm_topology.main, args)
    assert result["changed"] is True
    rows = read_csv(tmp_path / "ShapedDevices.csv")
    assert "Parent Node ID" in rows[0] and "Anchor Node ID" in rows[0]
    parented = [r for r in rows if r["Parent Node"]]
    assert parented and all(r["Parent Node ID"].startswith("splynx:") for r in parented)
    assert SECRET not in json.dumps(result)


@pytest.mark.parametrize("args, message", [
    (dict(source="uisp", url="http://127.0.0.1:9"), "source=uisp needs the options: token"),
    (dict(source="splynx", url="http://127.0.0.1:9", api_key="k"), "needs the options: api_secret"),
])
def test_missing_connection_options(run_module, tmp_path, args, message):
    result = run_module(crm_topology.main, dict(args, output_dir=str(tmp_path)))
    assert result["failed"] is True and message in result["msg"]


def test_missing_output_dir(run_module, uisp, tmp_path):
    result = run_module(crm_topology.main, uisp_args(uisp, tmp_path / "nope"))
    assert result["failed"] is True and "does not exist" in result["msg"]


def test_unknown_root_site_is_a_clear_error(run_module, uisp, tmp_path):
    result = run_module(crm_topology.main, uisp_args(uisp, tmp_path, root_site="Atlantis"))
    assert result["failed"] is True and "root_site 'Atlantis'" in result["msg"]
