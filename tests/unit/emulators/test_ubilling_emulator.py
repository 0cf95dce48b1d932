# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Ubilling emulator answers like modules/general/remoteapi and its controllers."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from tests.emulators import labnet
from tests.emulators.ubilling import (
    MAINTENANCE_TEXT, NO_TARIFF, STATE_NEW, SUSPENDED_STATES, UbillingEmulator, login_of, make_serial)

SERIAL = make_serial("emulator test")


@pytest.fixture(scope="module")
def network():
    return labnet.generate(30, seed=5)


@pytest.fixture
def server(network, tmp_path):
    with UbillingEmulator(network, SERIAL, exports_dir=str(tmp_path), log_file=str(tmp_path / "log.jsonl"),
                          timeout_delay=1.0) as emulator:
        yield emulator


def get(server, path="/billing/", **query):
    response = requests.get(server.url + path, params=query, timeout=10)
    return response.status_code, response.headers["Content-Type"], response.text


def call(server, action, **query):
    return get(server, module="remoteapi", key=SERIAL, action=action, **query)[2]


def state(server, **changes):
    return requests.post(server.url + "/_emulator/state", json=changes, timeout=10).json()


def test_checks_run_in_index_php_order(server):
    assert get(server, module="remoteapi")[2] == "ERROR:GET_NO_KEY"
    assert get(server, module="remoteapi", key="")[2] == "ERROR:GET_WRONG_KEY"  # isset(): empty counts as given
    assert get(server, module="remoteapi", key="UB0", action="swping")[2] == "ERROR:GET_WRONG_KEY"
    assert get(server, module="remoteapi", key=SERIAL)[2] == "ERROR:GET_NO_ACTION"
    state(server, serial=None)
    assert get(server, module="remoteapi", key=SERIAL, action="swping")[2] == "ERROR:NO_UBSERIAL_EXISTS"
    state(server, enabled=False)
    assert get(server, module="remoteapi", key=SERIAL, action="swping")[2] == "ERROR:API_DISABLED"
    state(server, maintenance=True)
    assert get(server, module="remoteapi", key=SERIAL, action="swping")[2] == MAINTENANCE_TEXT


def test_every_reply_is_200_text_html(server):
    for query in ({}, {"module": "remoteapi"}, {"module": "remoteapi", "key": SERIAL, "action": "nosuch"},
                  {"module": "remoteapi", "key": SERIAL, "action": "multigen"}):
        status, content_type, dummy = get(server, **query)
        assert (status, content_type.split(";")[0]) == (200, "text/html")


def test_no_key_with_an_action_is_the_html_page(server):
    body = get(server, module="remoteapi", action="multigen")[2]
    assert body.startswith("<!DOCTYPE html") and "<title>Ubilling</title>" in body


def test_identify_without_key_and_save(server, tmp_path):
    assert get(server, module="remoteapi", action="identify")[2] == SERIAL[-4:]
    assert not (tmp_path / "ubserial").exists()
    assert get(server, module="remoteapi", action="identify", param="save")[2] == SERIAL[-4:]
    assert (tmp_path / "ubserial").read_text() == SERIAL


def test_identify_creates_a_serial_when_none_exists(server, tmp_path):
    state(server, serial=None)
    tail = get(server, module="remoteapi", action="identify", param="save")[2]
    created = (tmp_path / "ubserial").read_text()
    assert len(created) == 34 and created.startswith("UB") and created.endswith(tail)
    assert get(server, module="remoteapi", key=created, action="swping")[2] == "OK:SWPING"


def test_reply_forms_of_the_crontab_set(server):
    assert call(server, "multigen") == "OK: MULTIGEN"
    assert call(server, "nasmon") == "OK: NASMON"
    assert call(server, "vserviceschargefee", period="30") == "OK:SERVICE_CHARGE_FEE"
    assert call(server, "mtsigmonpoll") == "OK:MTPOLL"
    assert call(server, "cachedog") == "CACHEDOG:CACHE_CLEANED"
    assert call(server, "cachedog") == "CACHEDOG:CACHE_OK"
    # SWYMAP_ENABLED: print('OK:USERBUILDCACHE') then die('OK:FULLHOSTSCAN'), glued on one line
    assert call(server, "fullhostscan", param="traffdiff", nn="1") == "OK:USERBUILDCACHEOK:FULLHOSTSCAN"
    scan = call(server, "fullhostscan", param="traffdiff").splitlines()
    assert scan[-1] == "OK:USERBUILDCACHEOK:FULLHOSTSCAN" and len(scan) > 1 and scan[0].endswith(":SCANNED")
    state(server, alter={"SWYMAP_ENABLED": 0})
    assert call(server, "fullhostscan", param="traffdiff", nn="1") == "OK:FULLHOSTSCAN"
    assert call(server, "buildsmap") == "ERROR: SWYMAP DISABLED"
    poll = call(server, "swpoll").splitlines()
    assert poll[-1] == "OK:SWPOLL" and any("[FAIL] SWITCH DEAD" in line for line in poll)
    assert call(server, "backupdb").startswith("OK:BACKUPDB content/backups/sql/")
    assert call(server, "reset") == "ERROR:GET_NO_PARAM"


def test_stock_profile_switches_actions_off(server):
    state(server, profile="stock")
    assert call(server, "multigen") == "ERROR: MULTIGEN DISABLED"
    assert call(server, "watchdog") == "ERROR:NO_WATCHDOG_ENABLED"
    assert call(server, "oltpoll") == "ERROR:PON_DISABLED"
    assert call(server, "rebuildglscache") == "SKIPPED:REBUILDGLSCACHE"
    assert call(server, "sphidxr") == "SKIPPED:SPHINX_SEARCH_DISABLED"
    assert call(server, "userbyip", ip="100.64.0.1") == "ERROR: USERBYIP DISABLED"


def test_autocredit_skips_except_on_the_last_day(server):
    state(server, today="2026-11-27")
    assert call(server, "autocredit") == "SKIP:AUTOCREDIT"
    state(server, today="2026-11-30")
    assert call(server, "autocredit") == "OK:AUTOCREDIT 0"


def test_a_running_multigen_makes_the_next_one_skip(server):
    state(server, delays={"multigen": 1.0})
    replies = []
    first = threading.Thread(target=lambda: replies.append(call(server, "multigen")))
    first.start()
    for dummy in range(200):  # until the first call is inside the controller
        if "multigen" in server._running:
            break
        threading.Event().wait(0.01)
    second = call(server, "multigen")
    first.join()
    assert second == "SKIP: MULTIGEN ALREADY RUNNING"
    assert replies == ["OK: MULTIGEN"]


def test_userside_lists_are_php_json(server, network):
    raw = call(server, "userside", request="get_user_list")
    assert "\\/" in raw and "\\u00" in raw  # json_encode escapes '/' and non-ASCII
    users = json.loads(raw)
    assert set(users) == {login_of(s) for s in network.subscribers}
    tariffs = json.loads(call(server, "userside", request="get_tariff_list"))
    for s in network.subscribers:
        row = users[login_of(s)]
        if not s.active:
            assert row["state_id"] == STATE_NEW and row["tariff"]["current"][0]["id"] == NO_TARIFF
            continue
        assert (row["state_id"] in SUSPENDED_STATES) == s.suspended
        assert tariffs[row["tariff"]["current"][0]["id"]]["speed"]["down"] == str(s.plan.download_mbps * 1000)
        assert isinstance(row["ip_mac"][0]["ip"], float)
    assert call(server, "userside", request="get_user_list", customer_id="nobody") == "undefined"
    assert get(server, module="remoteapi", key=SERIAL, action="userside")[0] == 400


def test_unknown_action_is_html_and_requests_are_logged(server, tmp_path):
    requests.delete(server.url + "/_emulator/log", timeout=10)
    assert call(server, "nosuchaction").startswith("<!DOCTYPE html")
    call(server, "swping")
    log = requests.get(server.url + "/_emulator/log", timeout=10).json()
    assert [(entry["action"], entry["query"]["key"]) for entry in log] == [
        ("nosuchaction", ["<redacted>"]), ("swping", ["<redacted>"])]
    assert log[-1]["reply"] == "OK:SWPING"
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["action"] == "swping"
    assert SERIAL not in (tmp_path / "log.jsonl").read_text()


def test_state_control_reports_no_serial(server):
    shown = requests.get(server.url + "/_emulator/state", timeout=10).json()
    assert shown["serial_tail"] == SERIAL[-4:] and SERIAL not in json.dumps(shown)
    assert requests.post(server.url + "/_emulator/state", json={"bogus": 1}, timeout=10).status_code == 400
    requests.delete(server.url + "/_emulator/state", timeout=10)
    assert requests.get(server.url + "/_emulator/state", timeout=10).json()["enabled"] is True


@pytest.mark.parametrize("kind", ["500", "html", "empty", "truncated", "wrong_shape"])
def test_faults_look_like_php_behind_nginx(server, kind):
    requests.post(server.url + "/_emulator/faults", json={"kind": kind, "count": 1}, timeout=10)
    status, content_type, body = get(server, module="remoteapi", key=SERIAL, action="userside",
                                     request="get_tariff_list")
    assert content_type.startswith("text/html")
    good = call(server, "userside", request="get_tariff_list")
    expected = {"500": (500, lambda b: "500 Error" in b), "html": (200, lambda b: b.startswith("<!DOCTYPE")),
                "empty": (200, lambda b: b == ""), "truncated": (200, lambda b: good.startswith(b) and b != good),
                "wrong_shape": (200, lambda b: b == "[" + good + "]")}[kind]
    assert status == expected[0] and expected[1](body)
