# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netzur client against the Netzur emulator, checked against the LabNetwork."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.crm import netzur as client
from ansible_collections.isp.ops.plugins.module_utils.crm import options, sources
from ansible_collections.isp.ops.plugins.module_utils.crm.http import CrmError
from ansible_collections.isp.ops.plugins.module_utils.topology.model import SITE
from ansible_collections.isp.ops.plugins.module_utils.topology.publish import SafetyValveError
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings
from tests.emulators.netzur import PATH, NetzurEmulator, circuit_id
from tests.unit.plugins.module_utils.crm.conftest import emulator_fixtures

API_KEY = "netzur-bearer-Hq81Zt"


server, netzur = emulator_fixtures(NetzurEmulator, API_KEY)


@pytest.fixture
def run(netzur, run_source):
    def go(api_key=API_KEY, **options):
        return run_source("netzur", netzur, {"api_key": api_key, "url": netzur.url + PATH}, **options)
    return go


def test_one_get_with_the_bearer_token(netzur, run):
    run()
    [request] = netzur.requests
    assert (request["method"], request["path"], request["status"]) == ("GET", PATH, 200)
    assert request["headers"]["Authorization"] == "Bearer <redacted>"


def test_zones_are_sites_with_their_capacities(run, network):
    payloads, snapshot, topology = run()
    assert [n.id for n in snapshot.nodes.values()] == ["netzur:zone:%d" % s.id for s in network.sites]
    for site in network.sites:
        node = snapshot.nodes["netzur:zone:%d" % site.id]  # towers say "id", other zones "zone_id"
        assert (node.name, node.kind, node.parent_id) == (site.name, SITE, None)
        assert (node.download_mbps, node.upload_mbps) == (site.download_mbps, site.upload_mbps)


def test_customers_are_circuits_under_their_zone_speeds_in_mbps(run, network):
    payloads, snapshot, topology = run()
    active = network.expected_active()
    assert [c.id for c in snapshot.circuits] == [circuit_id(s) for s in active]
    for subscriber, circuit in zip(active, snapshot.circuits):
        site = network.site(network.equipment_by_id(subscriber.ap_id).site_id)
        assert circuit.parent_id == "netzur:zone:%d" % site.id
        assert (circuit.name, circuit.comment) == (subscriber.name, subscriber.address)
        assert (circuit.plan_download, circuit.plan_upload) == (subscriber.plan.download_mbps,
                                                                subscriber.plan.upload_mbps)
        [device] = circuit.devices
        assert (device.id, device.mac) == ("%s_device" % circuit.id, subscriber.devices[0].mac)
        assert device.ipv4 == [ip for d in subscriber.devices for ip in d.ipv4]
        assert device.ipv6 == [p for d in subscriber.devices for p in d.ipv6]  # list and comma string alike


def test_rows_rates_and_parents(run, network):
    payloads, snapshot, topology = run()
    rows = dict((row.circuit_id, row) for row in topology.rows)
    for subscriber in network.expected_active():
        row = rows[circuit_id(subscriber)]
        down, up = subscriber.plan.download_mbps, subscriber.plan.upload_mbps
        assert (row.download_min, row.upload_min) == (round(down * 0.98, 2), round(up * 0.98, 2))
        assert (row.download_max, row.upload_max) == (round(down * 1.15, 2), round(up * 1.15, 2))
        assert row.parent_node == network.site(network.equipment_by_id(subscriber.ap_id).site_id).name
    # Every zone is a top-level site of network.json (Netzur zones have no hierarchy).
    assert sorted(item.name for item in topology.tree.top) == sorted(site.name for site in network.sites)
    assert all(item.children == [] for item in topology.tree.top)
    assert topology.tree.by_id["netzur:zone:%d" % network.core.id].download_mbps == network.core.download_mbps


def test_flat_strategy_has_no_nodes(run):
    payloads, snapshot, topology = run(strategy="flat")
    assert topology.tree.by_id == {} and all(row.parent_node == "" for row in topology.rows)


def test_invalid_and_duplicate_ip_are_reported(run, network):
    payloads, snapshot, topology = run()
    counts = topology.report.counts()
    assert counts["invalid IP address dropped"] == 1
    assert counts["IP address in two circuits, kept in the first"] == 1
    assert network.invalid_ip not in " ".join(row.ipv4 for row in topology.rows)


def test_wrong_token_is_a_401_naming_netzur_and_the_url_path(run):
    with pytest.raises(CrmError) as caught:
        run(api_key="not-the-token")
    assert str(caught.value).startswith("Netzur %s: HTTP 401" % PATH)


@pytest.mark.parametrize("kind", ["500", "timeout", "reset", "truncated", "wrong_shape", "html"])
def test_faults_are_one_crm_error_naming_the_endpoint(netzur, run, kind):
    netzur.set_fault(PATH, kind)
    with pytest.raises(CrmError) as caught:
        run()
    assert (caught.value.source, caught.value.endpoint) == ("Netzur", PATH)


def test_empty_answer_trips_the_guard_naming_the_url(netzur, fetch_source):
    netzur.set_fault(PATH, "empty")
    payloads = fetch_source("netzur", netzur, {"url": netzur.url + PATH, "api_key": API_KEY}, strategy="full")
    with pytest.raises(SafetyValveError, match="^Netzur %s customers answered with an empty list" % PATH):
        sources.check_not_empty("netzur", payloads)


def test_answer_without_customers_is_a_crm_error():
    class Session(object):
        base_url = "https://netzur.example.net/api/libreqos"

        @staticmethod
        def request_json(method, path, expect=list):
            return {"zones": [], "clients": []}

    with pytest.raises(CrmError, match=r"^Netzur /api/libreqos: the answer has no 'customers' list \(keys: clients"):
        client.fetch(Session(), "full")


@pytest.mark.parametrize("row, words", [
    ({"zone": "Core", "download": 10, "upload": 2}, "KeyError: 'subscriber_id'"),
    ({"subscriber_id": "", "download": 10}, "subscriber_id is empty"),
    ({"subscriber_id": 9, "download": "fast"}, "ValueError"),
])
def test_a_bad_customer_row_names_source_endpoint_and_item(row, words):
    good = {"subscriber_id": 1, "zone": "Core", "download": 10, "upload": 2, "ip": "100.64.0.1"}
    payloads = {"zones": client.Rows("/x zones", [{"id": 1, "name": "Core"}]),
                "customers": client.Rows("/x customers", [good, row])}
    with pytest.raises(CrmError) as caught:
        client.to_snapshot(payloads, Settings())
    assert str(caught.value).startswith("Netzur /x customers: item 1 has an unexpected shape")
    assert words in str(caught.value)


def test_customer_in_an_unknown_zone_is_unparented_with_a_warning():
    payloads = {"zones": [{"id": 7, "name": "North"}],
                "customers": [{"subscriber_id": 1, "zone": "Nowhere", "download": 10, "upload": 2, "ip": "100.64.0.1"}]}
    snapshot = client.to_snapshot(payloads, Settings())
    assert snapshot.circuits[0].parent_id is None
    assert snapshot.warnings == [("customer zone is not among the zones, circuit unparented", "netzur_1 zone 'Nowhere'")]


def test_netzur_options_timeout_secs_and_use_mikrotik_ipv6():
    params = options.with_defaults({"source": "netzur", "output_dir": "/tmp", "timeout_secs": 120,
                                    "use_mikrotik_ipv6": "yes"})
    assert (params["timeout"], params["use_mikrotik_ipv6"]) == (120, True)
    assert options.argument_spec()["timeout"]["default"] == 60
