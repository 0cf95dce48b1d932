# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sonar client: fetch (GraphQL, paging, errors) + to_snapshot against the Sonar emulator."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.crm import sonar as client
from ansible_collections.isp.ops.plugins.module_utils.crm import sources
from ansible_collections.isp.ops.plugins.module_utils.crm.http import CrmError
from ansible_collections.isp.ops.plugins.module_utils.topology import engine, publish
from ansible_collections.isp.ops.plugins.module_utils.topology.model import AP, SITE
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings, TopologyError
from tests.emulators.graphql import GraphQLError, execute
from tests.emulators.labnet import generate
from tests.emulators.sonar import (
    ACTIVE, AIRMAX_AP_MODEL_IDS, API, COMMERCIAL, LTU_AP_MODEL_IDS, MODEL_IDS, SonarEmulator)
from tests.unit.plugins.module_utils.crm.conftest import emulator_fixtures

TOKEN = "sonar-token-Hq73KdPz"
SUBSCRIBERS, SEED = 230, 5  # three pages of 100 accounts
FAULTS = ("401", "500", "503", "timeout", "reset", "truncated", "wrong_shape", "html")


@pytest.fixture(scope="module")
def network():
    return generate(SUBSCRIBERS, SEED)


server, sonar = emulator_fixtures(SonarEmulator, TOKEN)


def params(server, **overrides):
    result = dict(url=server.url, token=TOKEN, timeout=0.5, retries=0, retry_backoff=0, validate_certs=True,
                  output_dir="/nonexistent", sonar_airmax_ap_model_ids=list(AIRMAX_AP_MODEL_IDS),
                  sonar_ltu_ap_model_ids=list(LTU_AP_MODEL_IDS), sonar_active_status_ids=[])
    result.update(overrides)
    return result


def fetch(server, strategy="full", **overrides):
    return sources.fetch("sonar", params(server, **overrides), Settings(strategy=strategy))


@pytest.fixture(scope="module")
def payloads(server):
    server.clear_faults()
    return fetch(server)


def shaped(network):
    """Subscribers Sonar counts as active: active status, not suspended."""
    return [s for s in network.subscribers if s.active and not s.suspended]


# --- requests -----------------------------------------------------------------------------------
def test_queries_are_graphql_posts_with_the_bearer_token_paged_by_100(sonar, network):
    payloads = fetch(sonar)
    assert sorted(payloads) == ["accounts", "sites"]
    assert [(e["method"], e["path"], e["headers"].get("Authorization")) for e in sonar.requests] == \
        [("POST", API, "Bearer <redacted>")] * 5
    assert [(o["operation"], o["pages"]["page"], o["pages"]["records_per_page"]) for o in sonar.operations] == [
        ("getActiveStatuses", 1, 100), ("getAccounts", 1, 100), ("getAccounts", 2, 100), ("getAccounts", 3, 100),
        ("getSitesAndAps", 1, 100)]
    assert len(payloads["accounts"]) == len(shaped(network)) > 200


def test_configured_status_ids_skip_the_status_query_and_flat_skips_sites(sonar, network):
    payloads = fetch(sonar, strategy="flat", sonar_active_status_ids=[ACTIVE])
    assert list(payloads) == ["accounts"]
    assert set(o["operation"] for o in sonar.operations) == {"getAccounts"}
    assert set(a["account_status_id"] for a in payloads["accounts"]) == {ACTIVE}
    assert len(payloads["accounts"]) < len(shaped(network))  # the commercial accounts are left out


@pytest.mark.parametrize("suffix", ["", "/", API, API + "/"])
def test_url_with_or_without_the_api_path(sonar, suffix):
    fetch(sonar, strategy="flat", url=sonar.url + suffix)
    assert set(e["path"] for e in sonar.requests) == {API}


def test_more_pages_when_pages_are_smaller(sonar, network, monkeypatch):
    monkeypatch.setattr(client, "RECORDS_PER_PAGE", 7)
    payloads = fetch(sonar, strategy="flat")
    pages = [o["pages"]["page"] for o in sonar.operations if o["operation"] == "getAccounts"]
    assert pages == list(range(1, -(-len(shaped(network)) // 7) + 1))
    assert [a["id"] for a in payloads["accounts"]] == [s.id for s in shaped(network)]


# --- failures -----------------------------------------------------------------------------------
def test_wrong_token_is_a_401_naming_sonar_the_endpoint_and_the_query(sonar):
    with pytest.raises(CrmError) as caught:
        fetch(sonar, token="not-the-token")
    assert str(caught.value).startswith("Sonar /api/graphql query getActiveStatuses: HTTP 401")
    assert TOKEN not in repr(vars(caught.value))


@pytest.mark.parametrize("kind", FAULTS)
def test_every_fault_is_one_error_naming_sonar_and_the_query(sonar, kind):
    sonar.set_fault(API, kind)
    with pytest.raises(CrmError) as caught:
        fetch(sonar)
    exc = caught.value
    assert (exc.source, exc.endpoint) == ("Sonar", "/api/graphql query getActiveStatuses")
    assert TOKEN not in str(exc)


def test_a_fault_on_a_later_page_fails_too(sonar):
    sonar.set_fault(API, "500", count=1)  # the statuses answer fails...
    with pytest.raises(CrmError, match="HTTP 500"):
        fetch(sonar)
    fetch(sonar, strategy="flat", sonar_active_status_ids=[ACTIVE, COMMERCIAL])  # ...and then all is well


def test_graphql_errors_member_fails_with_its_messages(sonar):
    sonar.set_fault(API, "graphql_errors")
    with pytest.raises(CrmError) as caught:
        fetch(sonar, sonar_active_status_ids=[ACTIVE])
    assert str(caught.value) == ("Sonar /api/graphql query getAccounts: GraphQL errors: Internal server error; "
                                 "Injected fault: the accounts index is being rebuilt")


def test_a_query_the_server_rejects_is_an_errors_member(sonar, monkeypatch):
    name, field, query = client.QUERIES["accounts"]
    monkeypatch.setitem(client.QUERIES, "accounts", (name, field, query.replace("account_status_id\n", "status\n")))
    with pytest.raises(CrmError, match=r'getAccounts: GraphQL errors: Cannot query field "status" on type "accounts"'):
        fetch(sonar, strategy="flat")


def test_a_page_count_that_keeps_changing_is_an_error_not_a_loop(sonar):
    sonar.set_fault(API, "page_drift")
    with pytest.raises(CrmError, match=r"getActiveStatuses: total_pages changed from 2 to 4 at page 2"):
        fetch(sonar)
    assert len(sonar.operations) == 2


def test_an_absurd_page_count_is_refused(sonar, monkeypatch):
    monkeypatch.setattr(client, "MAX_PAGES", 2)
    with pytest.raises(CrmError, match=r"getAccounts: total_pages is 3, more than 2 pages of 100"):
        fetch(sonar, strategy="flat")


def test_empty_answer_trips_the_safety_valve_naming_the_query(sonar, tmp_path):
    sonar.set_fault(API, "empty")
    payloads = fetch(sonar, strategy="flat", sonar_active_status_ids=[ACTIVE])
    assert payloads["accounts"] == []
    with pytest.raises(publish.SafetyValveError, match=r"^Sonar /api/graphql query getAccounts answered with an empty"):
        sources.build_outputs("sonar", payloads, Settings(strategy="flat"), str(tmp_path))


def test_no_activating_status_is_an_error_not_every_account(sonar):
    sonar.set_fault(API, "empty", count=1)
    with pytest.raises(CrmError, match="no account status activates an account; set sonar_active_status_ids"):
        fetch(sonar)


@pytest.mark.parametrize("strategy", ["ap_only", "ap_site"])
def test_only_flat_and_full_are_supported(sonar, strategy):
    with pytest.raises(TopologyError, match="source=sonar supports strategy flat or full, not %s" % strategy):
        fetch(sonar, strategy=strategy)
    assert sonar.requests == []


def test_full_needs_ap_model_ids(sonar):
    with pytest.raises(TopologyError, match="strategy=full needs sonar_airmax_ap_model_ids"):
        fetch(sonar, sonar_airmax_ap_model_ids=[], sonar_ltu_ap_model_ids=[])
    assert sonar.requests == []


# --- mapping ------------------------------------------------------------------------------------
def test_accounts_with_an_activating_status_are_the_circuits_rates_in_kbps(payloads, network):
    snapshot = client.to_snapshot(payloads, Settings(strategy="flat"))
    assert [c.id for c in snapshot.circuits] == [str(s.id) for s in shaped(network)]
    for circuit, subscriber in zip(snapshot.circuits, shaped(network)):
        assert circuit.name == subscriber.name
        assert (circuit.plan_download, circuit.plan_upload) == (subscriber.plan.download_mbps,
                                                                subscriber.plan.upload_mbps)
        assert circuit.parent_id is None and not circuit.suspended


def test_devices_are_the_item_the_uninventoried_mac_and_the_account_ips(payloads, network):
    snapshot = client.to_snapshot(payloads, Settings(strategy="flat"))
    kinds = set()
    for circuit, subscriber in zip(snapshot.circuits, shaped(network)):
        expected = []
        for index, device in enumerate(subscriber.devices):
            subnets = [ip if "/" in ip else ip + "/32" for ip in device.ipv4]
            if index == 0:
                expected.append(("sonar:device:%d" % device.id, "" if subscriber.id % 4 == 0 else device.mac, subnets))
            elif index == 1:
                expected.append(("sonar:uninventoried-mac-address:%d" % device.id, device.mac, subnets))
            else:
                expected.append(("sonar:account-ip-assignments:%d" % subscriber.id, "", subnets))
            kinds.add(index)
        assert [(d.id, d.mac, d.ipv4) for d in circuit.devices] == expected
        assert all(d.ipv6 == [] for d in circuit.devices)  # Sonar holds no IPv6 in the lab
    assert kinds == {0, 1, 2}


def test_rows_min_and_max_from_kbps(payloads, network):
    topology = engine.build(client.to_snapshot(payloads, Settings(strategy="flat")), Settings(strategy="flat"))
    plans = dict((str(s.id), s.plan) for s in shaped(network))
    for row in topology.rows:
        plan = plans[row.circuit_id]
        assert (row.download_min, row.download_max) == (round(plan.download_mbps * 0.98, 2),
                                                        round(plan.download_mbps * 1.15, 2))
        assert (row.upload_min, row.upload_max) == (round(plan.upload_mbps * 0.98, 2),
                                                    round(plan.upload_mbps * 1.15, 2))
    assert len(set(row.circuit_id for row in topology.rows)) == len(shaped(network)) - 1  # one loses its only IP


def test_full_maps_network_sites_with_their_aps_only(payloads, network):
    snapshot = client.to_snapshot(payloads, Settings(strategy="full"))
    wanted = set(AIRMAX_AP_MODEL_IDS + LTU_AP_MODEL_IDS)
    aps = [e for e in network.equipment if MODEL_IDS[e.model] in wanted]
    assert aps and any(MODEL_IDS[e.model] not in wanted for e in network.equipment)
    assert sorted(n.id for n in snapshot.nodes.values() if n.kind == AP) == sorted("sonar:ap:%d" % e.id for e in aps)
    sites = set(e.site_id for e in aps)
    assert sorted(n.id for n in snapshot.nodes.values() if n.kind == SITE) == sorted("sonar:site:%d" % i for i in sites)
    for equipment in aps:
        node = snapshot.nodes["sonar:ap:%d" % equipment.id]
        site = network.site(equipment.site_id)
        assert node.parent_id == "sonar:site:%d" % site.id
        assert node.name == "%s %s %d" % (site.name, equipment.model, equipment.id)


def test_ltu_ids_alone_select_ltu_aps(sonar, network):
    payloads = fetch(sonar, sonar_airmax_ap_model_ids=[])
    snapshot = client.to_snapshot(payloads, Settings(strategy="full"))
    models = set(network.equipment_by_id(int(n.id.rsplit(":", 1)[1])).model
                 for n in snapshot.nodes.values() if n.kind == AP)
    assert models == {"LTU Rocket"}


def _account(**fields):
    account = {"id": 7, "name": "Marta Gil", "account_status_id": 1, "ip_assignments": {"entities": []},
               "account_services": {"entities": [{"service": {"data_service_detail": {
                   "download_speed_kilobits_per_second": 1500, "upload_speed_kilobits_per_second": 512}}}]},
               "addresses": {"entities": []}, "uninventoried_mac_addresses": {"entities": [
                   {"id": 3, "mac_address": "aa:bb:cc:00:11:22", "ip_assignments": {"entities": [
                       {"subnet": "100.64.9.9/32"}, {"subnet": "2001:db8:9::/48"}]}}]}}
    account.update(fields)
    return account


def test_fractional_kbps_and_ipv6_assignments_are_kept():
    snapshot = client.to_snapshot({"accounts": [_account()]}, Settings(strategy="flat"))
    circuit, = snapshot.circuits
    assert (circuit.plan_download, circuit.plan_upload) == (1.5, 0.512)
    device, = circuit.devices
    assert (device.ipv4, device.ipv6, device.mac) == (["100.64.9.9/32"], ["2001:db8:9::/48"], "aa:bb:cc:00:11:22")


def test_accounts_without_data_service_or_devices_are_skipped_with_a_warning():
    accounts = [_account(id=1, account_services={"entities": []}),
                _account(id=2, uninventoried_mac_addresses={"entities": []}), _account(id=3)]
    snapshot = client.to_snapshot({"accounts": accounts}, Settings(strategy="flat"))
    assert [c.id for c in snapshot.circuits] == ["3"]
    assert snapshot.warnings == [("account without a DATA service, not shaped", "Marta Gil (account 1)"),
                                 ("account without equipment or IP assignments, not shaped", "Marta Gil (account 2)")]


def test_a_wrong_shaped_account_names_the_query_and_item():
    with pytest.raises(CrmError, match=r"^Sonar /api/graphql query getAccounts: item 1 has an unexpected shape"):
        client.to_snapshot({"accounts": [_account(), {"name": "no id"}]}, Settings(strategy="flat"))


def test_mac_is_the_primary_field_named_like_mac():
    item = {"id": 5, "inventory_model": {"name": "CPE"}, "ip_assignments": {"entities": []},
            "inventory_model_field_data": {"entities": [
                {"value": "SN1", "inventory_model_field": {"name": "Serial", "primary": True}},
                {"value": "00:00:00:00:00:02", "inventory_model_field": {"name": "WAN MAC", "primary": False}},
                {"value": "00:00:00:00:00:01", "inventory_model_field": {"name": "MAC Address", "primary": True},
                 "ip_assignments": {"entities": [{"subnet": "100.64.1.1/32"}]}}]}}
    account = _account(addresses={"entities": [{"inventory_items": {"entities": [item]}}]},
                       uninventoried_mac_addresses={"entities": []})
    device, = client.to_snapshot({"accounts": [account]}, Settings(strategy="flat")).circuits[0].devices
    assert (device.id, device.name, device.mac, device.ipv4) == ("sonar:device:5", "CPE", "00:00:00:00:00:01",
                                                                 ["100.64.1.1/32"])


# --- the emulator's GraphQL -------------------------------------------------------------------------
def test_emulator_answers_only_selected_fields_with_aliases_and_filters():
    data = {"accounts": [{"id": 1, "name": "A", "kind": 1}, {"id": 2, "name": "B", "kind": 2}]}
    answer = execute('query q($s: Search) { a: accounts(search: [$s]) { entities { id } page_info { total_count } } }',
                     {"s": {"integer_fields": [{"attribute": "kind", "operator": "EQ", "search_value": 2}]}}, data)
    assert answer == {"a": {"entities": [{"id": 2}], "page_info": {"total_count": 1}}}


@pytest.mark.parametrize("query, message", [
    ("query { accounts { entities { id } }", "Syntax Error: Expected name, found <EOF>."),
    ("query q($p: Paginator) { accounts(paginator: $x) { entities { id } } }", 'Variable "$x" is not defined.'),
    ("{ accounts { entities { secret } } }", 'Cannot query field "secret" on type "accounts".'),
    ("mutation { accounts { entities { id } } }", "This API only answers queries."),
])
def test_emulator_rejects_bad_documents(query, message):
    with pytest.raises(GraphQLError) as caught:
        execute(query, {}, {"accounts": [{"id": 1}]})
    assert str(caught.value) == message
