# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ubilling client (UserSide API through the remote API) against the Ubilling emulator."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.crm import sources
from ansible_collections.isp.ops.plugins.module_utils.crm import ubilling as client
from ansible_collections.isp.ops.plugins.module_utils.crm.http import CrmError
from ansible_collections.isp.ops.plugins.module_utils.topology.publish import SafetyValveError
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings, TopologyError
from tests.emulators.ubilling import (
    STATE_DISABLE, STATE_NOMONEY, STATE_PAUSE, UbillingEmulator, login_of, make_serial)
from tests.unit.plugins.module_utils.crm.conftest import emulator_fixtures

SERIAL = make_serial("crm client test")


server, clean_server = emulator_fixtures(UbillingEmulator, SERIAL)


@pytest.fixture
def ubilling(clean_server):
    clean_server.reset_state()  # alter.ini switches, maintenance, serial as the emulator started
    yield clean_server
    clean_server.reset_state()


@pytest.fixture
def run(ubilling, run_source):
    def go(serial=SERIAL, timeout=5, retries=0, **options):
        credentials = {"url": ubilling.url + "/billing/", "serial": serial, "timeout": timeout, "retries": retries}
        return run_source("ubilling", ubilling, credentials, **options)
    return go


def test_two_userside_requests_with_the_serial(ubilling, run):
    run()
    assert [(r["path"], r["query"]["action"], r["query"]["request"], r["query"]["key"]) for r in ubilling.requests] == [
        ("/billing/", ["userside"], ["get_tariff_list"], ["<redacted>"]),
        ("/billing/", ["userside"], ["get_user_list"], ["<redacted>"])]


def test_circuits_are_the_logins_with_a_tariff(run, network):
    payloads, snapshot, topology = run()
    active = network.expected_active()
    assert [c.id for c in snapshot.circuits] == [login_of(s) for s in active]
    for subscriber, circuit in zip(active, snapshot.circuits):
        assert circuit.name == subscriber.name and circuit.parent_id is None
        [device] = circuit.devices
        assert device.mac == subscriber.devices[0].mac
        assert device.ipv4 == [subscriber.devices[0].ipv4[0]]  # from the integer ip_mac[0].ip


def test_tariff_speeds_are_kbits(run, network):
    payloads, snapshot, topology = run()
    plans = dict((login_of(s), s.plan) for s in network.subscribers)
    for circuit in snapshot.circuits:
        plan = plans[circuit.id]
        assert (circuit.plan_download, circuit.plan_upload) == (plan.download_mbps, plan.upload_mbps)


def test_nomoney_pause_and_disable_are_suspended(run, network):
    payloads, snapshot, topology = run()
    suspended = set(c.id for c in snapshot.circuits if c.suspended)
    assert suspended == set(login_of(s) for s in network.expected_active() if s.suspended) != set()
    states = set(payloads["users"][login]["state_id"] for login in suspended)
    assert states <= {STATE_NOMONEY, STATE_PAUSE, STATE_DISABLE}


def test_suspended_strategy_is_the_shared_one(run, network):
    suspended = set(login_of(s) for s in network.expected_active() if s.suspended)
    dummy, dummy, ignored = run(suspended_strategy="ignore")
    assert not suspended & set(row.circuit_id for row in ignored.rows)
    dummy, dummy, slowed = run(suspended_strategy="slow")
    rows = dict((row.circuit_id, row) for row in slowed.rows)
    assert all(rows[login].download_max < 1 for login in suspended if login in rows)


@pytest.mark.parametrize("state, suspended", [(5, False), (1, True), (2, True), (3, True), ("3", True)])
def test_each_state_id(state, suspended):
    payloads = {"tariffs": {"T": {"id": "T", "name": "T", "speed": {"up": "2048", "down": "10240"}}},
                "users": {"u1": {"tariff": {"current": [{"id": "T"}]}, "state_id": state,
                                 "ip_mac": [{"ip": 2886729739.0, "mac": "aa:bb:cc:dd:ee:ff",
                                             "ip_net": "172.16.0.0/24"}]}}}
    [circuit] = client.to_snapshot(payloads, Settings(strategy="flat")).circuits
    assert circuit.suspended is suspended
    assert (circuit.plan_download, circuit.plan_upload) == (10.24, 2.048)
    assert circuit.devices[0].ipv4 == ["172.16.0.11"] and circuit.name == "u1"


def test_new_users_and_unknown_tariffs_are_not_shaped():
    payloads = {"tariffs": {"T": {"name": "T", "speed": {"up": "1000", "down": "1000"}}},
                "users": {"new": {"tariff": {"current": [{"id": "*_NO_TARIFF_*"}]}, "state_id": 4, "ip_mac": []},
                          "odd": {"tariff": {"current": [{"id": "Gone"}]}, "state_id": 5, "ip_mac": []}}}
    snapshot = client.to_snapshot(payloads, Settings(strategy="flat"))
    assert snapshot.circuits == []
    assert snapshot.warnings == [("user has a tariff the tariff list lacks, not shaped", "login odd tariff Gone")]


@pytest.mark.parametrize("value, address", [
    (2886729739.0, "172.16.0.11"), ("2886729739.0", "172.16.0.11"), (2886729739, "172.16.0.11"),
    ("10.0.0.7", "10.0.0.7"), ("", None), (None, None), (0, None), ("0.0", None), ("not-an-ip", "not-an-ip"),
    (1 << 33, None),
])
def test_ipv4_of(value, address):
    assert client.ipv4_of(value) == address


def test_a_wrong_shaped_user_names_the_endpoint():
    payloads = {"tariffs": {}, "users": {"u1": {"tariff": "flat string", "state_id": 5}}}
    with pytest.raises(CrmError, match=r"Ubilling \?action=userside&request=get_user_list: item 0"):
        client.to_snapshot(payloads, Settings(strategy="flat"))


@pytest.mark.parametrize("state, words", [
    ({"enabled": False}, "REMOTEAPI_ENABLED=0 in alter.ini"),
    ({"maintenance": True}, "Ubilling is in maintenance"),
    ({"alter": {"USERSIDE_API": 0}}, "switched off in alter.ini (USERSIDE_API_DISABLED)"),
])
def test_ubilling_errors_keep_their_meaning(ubilling, run, crm, state, words):
    ubilling.update_state(state)
    with pytest.raises(CrmError) as caught:
        run()
    assert caught.value.source == "Ubilling" and caught.value.endpoint == "?action=userside&request=get_tariff_list"
    assert words in caught.value.reason
    crm.assert_no_secret(caught.value, [SERIAL])


def test_wrong_serial(run, crm):
    with pytest.raises(CrmError, match="the serial is wrong") as caught:
        run(serial="UB" + "f" * 32)
    crm.assert_no_secret(caught.value, [SERIAL])


@pytest.mark.parametrize("kind, words", [
    ("500", "HTTP 500"), ("reset", "connection"), ("timeout", "timeout"), ("truncated", "invalid JSON"),
    ("wrong_shape", "JSON list where an object keyed by tariff name was expected"),
    ("html", "answered with an HTML page"), ("empty", "empty reply"),
])
def test_faults_fail_naming_source_and_request(ubilling, run, crm, kind, words):
    ubilling.set_fault(None, kind, count=1)
    with pytest.raises(CrmError) as caught:
        run(timeout=0.5)
    assert words in caught.value.reason, caught.value.reason
    assert str(caught.value).startswith("Ubilling ?action=userside&request=get_tariff_list: ")
    crm.assert_no_secret(caught.value, [SERIAL])


def test_a_reset_is_retried(ubilling, run):
    ubilling.set_fault(None, "reset", count=1)
    payloads, snapshot, dummy = run(retries=1)
    assert snapshot.circuits and [r["fault"] for r in ubilling.requests] == ["reset", None, None]


def test_undefined_user_list_trips_the_safety_valve(ubilling, fetch_source, monkeypatch):
    monkeypatch.setattr(UbillingEmulator, "user_list", lambda self, login: {})
    payloads = fetch_source("ubilling", ubilling, {"url": ubilling.url + "/billing/", "serial": SERIAL})
    assert payloads["users"] == {}
    with pytest.raises(SafetyValveError, match=r"Ubilling \?action=userside&request=get_user_list answered with an e"):
        sources.check_not_empty("ubilling", payloads)


def test_required_options_and_strategy(ubilling, run):
    assert sources.missing_options("ubilling", {"url": "http://h/billing/"}) == ["serial"]
    assert sources.default_strategy("ubilling") == "flat"
    with pytest.raises(TopologyError, match="source=ubilling supports strategy flat, not full"):
        run(strategy="full")
    assert ubilling.requests == []
