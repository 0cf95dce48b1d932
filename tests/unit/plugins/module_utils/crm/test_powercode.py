# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Powercode client against the Powercode emulator: active customers, equipment types, kbps."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.crm import powercode as client
from ansible_collections.isp.ops.plugins.module_utils.crm import sources
from ansible_collections.isp.ops.plugins.module_utils.crm.http import CrmError
from ansible_collections.isp.ops.plugins.module_utils.topology.publish import SafetyValveError
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings
from tests.emulators.powercode import (
    BURST_EXTRA_KBPS, PATH, PowercodeEmulator, customer_id, has_other_equipment, service_id)
from tests.unit.plugins.module_utils.crm.conftest import emulator_fixtures

API_KEY = "powercode-apikey-7Yd3Qs"
CUSTOMERS = "%s action=list_customers" % PATH
SERVICES = "%s action=list_services" % PATH


server, powercode = emulator_fixtures(PowercodeEmulator, API_KEY)


@pytest.fixture
def run(powercode, run_source):
    def go(api_key=API_KEY, **options):
        return run_source("powercode", powercode, {"api_key": api_key}, **options)
    return go


def shaped(network):
    return [s for s in network.subscribers if s.active and not s.suspended]


@pytest.mark.parametrize("url, expected", [
    ("https://pc.example.net", "https://pc.example.net:444"),
    ("https://pc.example.net/", "https://pc.example.net:444"),
    ("https://pc.example.net:8444", "https://pc.example.net:8444"),
    ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
    ("https://[2001:db8::1]", "https://[2001:db8::1]:444"),
])
def test_port_444_unless_the_url_names_a_port(url, expected):
    assert client.base_url(url) == expected


def test_two_form_posts_with_the_key_and_an_action(powercode, run):
    run()
    assert [(r["method"], r["path"], r["status"]) for r in powercode.requests] == [("POST", PATH, 200)] * 2
    assert [r["query"]["action"] for r in powercode.requests] == [["list_customers"], ["list_services"]]
    assert all(r["query"]["apiKey"] == ["<redacted>"] for r in powercode.requests)


def test_only_active_customers_are_circuits(run, network):
    payloads, snapshot, topology = run()
    assert network.suspended_ids and network.inactive_ids
    assert [c.id for c in snapshot.circuits] == [customer_id(s) for s in shaped(network)]
    assert "1" not in [c.id for c in snapshot.circuits] and "" not in [c.id for c in snapshot.circuits]
    for subscriber, circuit in zip(shaped(network), snapshot.circuits):
        assert circuit.name == subscriber.name and circuit.parent_id is None


def test_only_customer_equipment_types_are_devices(run, network):
    payloads, snapshot, topology = run()
    circuits = dict((c.id, c) for c in snapshot.circuits)
    assert any(has_other_equipment(s) for s in shaped(network))
    for subscriber in shaped(network):
        circuit = circuits[customer_id(subscriber)]
        assert [d.id for d in circuit.devices] == [
            "c_%s_s_%d_d_%d" % (customer_id(subscriber), service_id(subscriber), d.id) for d in subscriber.devices]
        assert [d.mac for d in circuit.devices] == [d.mac for d in subscriber.devices]
    ap_addresses = set(e.ipv4 for e in network.equipment)
    assert not ap_addresses & set(ip for row in topology.rows for ip in row.ipv4.split(", "))


def test_rates_are_kbps_of_the_service(run, network):
    payloads, snapshot, topology = run()
    circuits = dict((c.id, c) for c in snapshot.circuits)
    bursts = 0
    for subscriber in shaped(network):
        circuit = circuits[customer_id(subscriber)]
        extra = BURST_EXTRA_KBPS if subscriber.burst_down_kbytes else (0, 0)
        bursts += bool(subscriber.burst_down_kbytes)
        assert circuit.plan_download == (subscriber.plan.download_mbps * 1000 + extra[0]) / 1000.0
        assert circuit.plan_upload == (subscriber.plan.upload_mbps * 1000 + extra[1]) / 1000.0
    assert bursts
    row = next(r for r in topology.rows if r.circuit_id == customer_id(shaped(network)[0]))
    plan = circuits[row.circuit_id]
    assert (row.download_max, row.upload_max) == (round(plan.plan_download * 1.15, 2), round(plan.plan_upload * 1.15, 2))


def test_distinct_services_of_a_customer_add_up_and_unknown_ones_warn():
    payloads = {
        "services": [{"id": "1", "rate_down": 10000, "rate_up": 2000}, {"id": "2", "rate_down": 25000, "rate_up": 5000}],
        "customers": [{"id": "77", "status": "Active", "name": "", "company_name": "Bar El Cruce", "equipment": [
            {"id": "a", "type": "CPE", "service_id": "1", "ip_address": "100.64.0.1"},
            {"id": "b", "type": "Router", "service_id": "1", "ip_address": "100.64.0.2"},
            {"id": "c", "type": "Managed Routers", "service_id": "2", "ip_address": "2001:db8::2"},
            {"id": "d", "type": "Customer Owned Equipment", "service_id": "9", "ip_address": "100.64.0.4"},
            {"id": "e", "type": "ONU", "service_id": "2", "ip_address": "100.64.0.5"},
        ]}],
    }
    snapshot = client.to_snapshot(payloads, Settings(strategy="flat"))
    [circuit] = snapshot.circuits
    assert (circuit.name, circuit.plan_download, circuit.plan_upload) == ("Bar El Cruce", 35.0, 7.0)
    assert [(d.id, d.ipv4, d.ipv6) for d in circuit.devices] == [
        ("c_77_s_1_d_a", ["100.64.0.1"], []), ("c_77_s_1_d_b", ["100.64.0.2"], []),
        ("c_77_s_2_d_c", [], ["2001:db8::2"]), ("c_77_s_9_d_d", ["100.64.0.4"], [])]
    assert snapshot.warnings == [("equipment on an unknown service, no rate from it", "customer 77 equipment d service '9'")]


@pytest.mark.parametrize("status", ["Inactive", "Suspended", "active", "", None])
def test_any_status_but_active_is_left_out(status):
    customers = [{"id": "5", "status": status, "equipment": [{"id": "1", "type": "CPE", "service_id": "1",
                                                              "ip_address": "100.64.0.1"}]}]
    assert client.to_snapshot({"services": [], "customers": customers}, Settings()).circuits == []


def test_wrong_key_is_a_401_naming_the_action(run):
    with pytest.raises(CrmError) as caught:
        run(api_key="wrong")
    assert str(caught.value).startswith("Powercode %s: HTTP 401" % CUSTOMERS)


@pytest.mark.parametrize("kind", ["500", "timeout", "reset", "truncated", "wrong_shape", "html"])
def test_faults_are_one_crm_error_naming_the_action(powercode, run, kind):
    powercode.set_fault(PATH, kind, count=1)
    with pytest.raises(CrmError) as caught:
        run()
    assert (caught.value.source, caught.value.endpoint) == ("Powercode", CUSTOMERS)


def test_a_fault_on_the_services_action_names_it(powercode):
    powercode.set_fault(PATH, "500")
    client_session = sources.open_session("powercode", dict(url=powercode.url, api_key=API_KEY, timeout=5,
                                                            retries=0, validate_certs=True))
    with pytest.raises(CrmError, match="^Powercode %s: HTTP 500" % SERVICES):
        client_session.request_json("POST", PATH, data={"action": "list_services"}, endpoint=SERVICES)


def test_empty_list_trips_the_guard_naming_the_action(powercode, fetch_source):
    powercode.set_fault(PATH, "empty", count=1)
    payloads = fetch_source("powercode", powercode, {"api_key": API_KEY}, strategy="flat")
    with pytest.raises(SafetyValveError, match="^Powercode %s answered with an empty list" % CUSTOMERS):
        sources.check_not_empty("powercode", payloads)


@pytest.mark.parametrize("key, rows, words", [
    ("services", [{"id": "1", "rate_down": 1000}, {"rate_down": 1000}], "KeyError: 'id'"),
    ("services", [{"id": "1"}, {"id": "2", "rate_down": "fast"}], "ValueError"),
    ("customers", [{"id": "5", "status": "Active"}, {"id": "6", "status": "Active", "equipment": [{"type": "CPE"}]}],
     "KeyError: 'id'"),
    ("customers", [{"id": "5", "status": "Active"}, {"id": "6", "status": "Active", "equipment": "CPE"}],
     "AttributeError"),
])
def test_a_bad_row_names_source_action_and_item(key, rows, words):
    payloads = dict({"services": [], "customers": []}, **{key: rows})
    with pytest.raises(CrmError) as caught:
        client.to_snapshot(payloads, Settings())
    endpoint = CUSTOMERS if key == "customers" else SERVICES
    assert str(caught.value).startswith("Powercode %s: item 1 has an unexpected shape" % endpoint)
    assert words in str(caught.value)
