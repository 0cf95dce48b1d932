# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""WISPGate client against the WISPGate emulator; the min/max fallback per direction."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.crm import sources
from ansible_collections.isp.ops.plugins.module_utils.crm import wispgate as client
from ansible_collections.isp.ops.plugins.module_utils.crm.http import CrmError
from ansible_collections.isp.ops.plugins.module_utils.topology import engine
from ansible_collections.isp.ops.plugins.module_utils.topology.publish import SafetyValveError
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings
from tests.emulators.wispgate import PATH, WispGateEmulator, download_max_missing, upload_max_missing
from tests.unit.plugins.module_utils.crm.conftest import emulator_fixtures

TOKEN = "wispgate-api-token-c4Fj20"


server, wispgate = emulator_fixtures(WispGateEmulator, TOKEN)


@pytest.fixture
def run(wispgate, run_source):
    def go(token=TOKEN, **options):
        return run_source("wispgate", wispgate, {"token": token}, **options)
    return go


def test_one_post_with_the_token_as_a_form_field(wispgate, run):
    run()
    [request] = wispgate.requests
    assert (request["method"], request["path"], request["status"]) == ("POST", PATH, 200)
    assert request["query"]["api_token"] == ["<redacted>"]
    assert TOKEN not in repr(request["headers"])


def test_rows_sharing_a_circuit_id_are_one_circuit(run, network):
    payloads, snapshot, topology = run()
    active = network.expected_active()
    assert [c.id for c in snapshot.circuits] == [str(s.id) for s in active]
    for subscriber, circuit in zip(active, snapshot.circuits):
        assert circuit.name == subscriber.name and circuit.parent_id is None
        assert [d.id for d in circuit.devices] == [str(d.id) for d in subscriber.devices]
        assert [d.mac for d in circuit.devices] == [d.mac for d in subscriber.devices]


def test_rates_max_is_the_plan_min_is_explicit_per_direction(run, network):
    payloads, snapshot, topology = run()
    circuits = dict((c.id, c) for c in snapshot.circuits)
    seen = set()
    for subscriber in network.expected_active():
        circuit = circuits[str(subscriber.id)]
        down, up = subscriber.plan.download_mbps, subscriber.plan.upload_mbps
        # A missing max falls back to the min of the SAME direction.
        expected_down = down / 2 if download_max_missing(subscriber) else down
        expected_up = up / 2 if upload_max_missing(subscriber) else up
        assert (circuit.plan_download, circuit.plan_upload) == (expected_down, expected_up)
        assert (circuit.min_download, circuit.min_upload) == (down / 2, up / 2)
        seen.add((download_max_missing(subscriber), upload_max_missing(subscriber)))
    assert seen == {(False, False), (True, False), (False, True)}  # the lab covers both directions
    rows = dict((row.circuit_id, row) for row in topology.rows)
    for subscriber in network.expected_active():
        row = rows.get(str(subscriber.id))
        if row is None:
            continue
        circuit = circuits[str(subscriber.id)]
        assert (row.download_min, row.upload_min) == (circuit.min_download, circuit.min_upload)
        assert (row.download_max, row.upload_max) == (round(circuit.plan_download * 1.15, 2),
                                                      round(circuit.plan_upload * 1.15, 2))


@pytest.mark.parametrize("row, plan, minimum", [
    ({"Download Min Mbps": 10, "Upload Min Mbps": 2, "Download Max Mbps": 50, "Upload Max Mbps": 8}, (50, 8), (10, 2)),
    ({"Download Min Mbps": 10, "Upload Min Mbps": 2, "Download Max Mbps": None, "Upload Max Mbps": 8}, (10, 8), (10, 2)),
    # LibreQoS writes the upload min into the download max here; the download max must stay 50.
    ({"Download Min Mbps": 10, "Upload Min Mbps": 2, "Download Max Mbps": 50, "Upload Max Mbps": None}, (50, 2), (10, 2)),
    ({"Download Min Mbps": "10", "Upload Min Mbps": "2.5", "Download Max Mbps": "", "Upload Max Mbps": ""},
     (10, 2.5), (10, 2.5)),
    ({"Download Max Mbps": 40, "Upload Max Mbps": 8}, (40, 8), (None, None)),
])
def test_missing_max_falls_back_to_min_of_the_same_direction(row, plan, minimum):
    row = dict(row, **{"Circuit ID": "7", "IPv4": "100.64.0.7"})
    [circuit] = client.to_snapshot({"devices": [row]}, Settings(strategy="flat")).circuits
    assert (circuit.plan_download, circuit.plan_upload) == plan
    assert (circuit.min_download, circuit.min_upload) == minimum


def test_row_without_any_rate_gets_the_default_and_a_warning():
    snapshot = client.to_snapshot({"devices": [{"Circuit ID": "7", "IPv4": "100.64.0.7"}]}, Settings(strategy="flat"))
    [circuit] = snapshot.circuits
    assert (circuit.plan_download, circuit.plan_upload) == (client.DEFAULT_MBPS, client.DEFAULT_MBPS)
    assert snapshot.warnings == [("row without download or upload rate, shaped at 2.0 Mbps", "7")]


def test_flat_even_when_rows_name_a_parent_node(run):
    payloads, snapshot, topology = run()
    assert snapshot.nodes == {} and topology.tree.by_id == {}
    assert set(row.parent_node for row in topology.rows) == {""}


def test_dynamic_cpe_without_ipv4_keeps_its_ipv6_or_is_left_out(run, network):
    payloads, snapshot, topology = run()
    devices = dict((row.device_id, row) for row in topology.rows)
    for subscriber in network.expected_active():
        cpe = subscriber.devices[0]
        if not cpe.dynamic:
            continue
        row = devices.get(str(cpe.id))
        if cpe.ipv6:
            assert row.ipv4 == "" and row.ipv6 == cpe.ipv6[0]
        else:
            assert row is None


def test_wrong_token_is_a_401_naming_wispgate(run):
    with pytest.raises(CrmError) as caught:
        run(token="wrong")
    assert str(caught.value).startswith("WISPGate %s: HTTP 401" % PATH)


@pytest.mark.parametrize("kind", ["500", "timeout", "reset", "truncated", "wrong_shape", "html"])
def test_faults_are_one_crm_error_naming_the_endpoint(wispgate, run, kind):
    wispgate.set_fault(PATH, kind)
    with pytest.raises(CrmError) as caught:
        payloads, snapshot, topology = run()
    assert (caught.value.source, caught.value.endpoint) == ("WISPGate", PATH)


def test_empty_list_trips_the_guard(wispgate, fetch_source):
    wispgate.set_fault(PATH, "empty")
    payloads = fetch_source("wispgate", wispgate, {"token": TOKEN}, strategy="flat")
    with pytest.raises(SafetyValveError, match="^WISPGate %s answered with an empty list" % PATH):
        sources.check_not_empty("wispgate", payloads)


@pytest.mark.parametrize("bad, words", [
    ({"IPv4": "100.64.0.9"}, "KeyError: 'Circuit ID'"),
    ({"Circuit ID": " ", "IPv4": "100.64.0.9"}, "'Circuit ID' is empty"),
    ({"Circuit ID": "9", "Download Max Mbps": "ten"}, "ValueError"),
    ("9,100.64.0.9", "TypeError"),
])
def test_a_bad_row_names_source_endpoint_and_item(bad, words):
    good = {"Circuit ID": "1", "IPv4": "100.64.0.1", "Download Max Mbps": 10, "Upload Max Mbps": 2}
    with pytest.raises(CrmError) as caught:
        client.to_snapshot({"devices": [good, good, bad]}, Settings(strategy="flat"))
    assert str(caught.value).startswith("WISPGate %s: item 2 has an unexpected shape" % PATH)
    assert words in str(caught.value)


def test_rows_through_the_engine_are_shaped_rows():
    rows = [{"Circuit ID": "1", "Device Name": "cpe", "IPv4": "100.64.0.1", "IPv6": None,
             "Download Min Mbps": 5, "Upload Min Mbps": 1, "Download Max Mbps": 20, "Upload Max Mbps": None},
            {"Circuit ID": "1", "Device Name": "router", "IPv4": "100.64.0.2, 100.64.0.3", "IPv6": "2001:db8::/64"}]
    settings = Settings(strategy="flat")
    topology = engine.build(client.to_snapshot({"devices": rows}, settings), settings)
    assert [(r.circuit_id, r.device_id, r.device_name, r.ipv4, r.ipv6) for r in topology.rows] == [
        ("1", "1_1", "cpe", "100.64.0.1", ""), ("1", "1_2", "router", "100.64.0.2, 100.64.0.3", "2001:db8::/64")]
    assert [(r.download_min, r.upload_min, r.download_max, r.upload_max) for r in topology.rows] == [(5, 1, 23, 1.15)] * 2
