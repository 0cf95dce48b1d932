# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ubilling_remoteapi's main() in-process against the Ubilling emulator on loopback."""

from __future__ import annotations

import json

import pytest

from ansible_collections.isp.ops.plugins.modules import ubilling_remoteapi
from tests.emulators import labnet
from tests.emulators.ubilling import UbillingEmulator, make_serial
from tests.module_runner import warnings_of

SERIAL = make_serial("module test")


@pytest.fixture(scope="module")
def server():
    with UbillingEmulator(labnet.generate(15, seed=4), SERIAL, timeout_delay=4.0) as emulator:
        yield emulator


@pytest.fixture
def ub(server):
    server.reset_state()
    server.clear_faults()
    server.clear_log()
    yield server
    server.reset_state()
    server.clear_faults()


def run(run_module, server, action, check_mode=False, **args):
    args = dict(dict(url=server.url + "/billing/", serial=SERIAL, action=action, retries=0), **args)
    args = dict((name, value) for name, value in args.items() if value is not None)  # None: not given
    return run_module(ubilling_remoteapi.main, args, check_mode=check_mode)


def called(server):
    return [entry["action"] for entry in server.requests]


def test_side_effect_action_ok_is_changed(run_module, ub):
    result = run(run_module, ub, "multigen")
    assert (result["changed"], result["status"], result["tag"], result["called"]) == (True, "OK", "MULTIGEN", True)
    assert result["url"].endswith("?module=remoteapi&key=***&action=multigen")


def test_skip_is_not_changed(run_module, ub):
    ub.update_state({"today": "2026-11-27"})
    result = run(run_module, ub, "autocredit")
    assert (result["changed"], result["status"], result.get("failed", False)) == (False, "SKIP", False)
    ub.update_state({"profile": "stock"})
    result = run(run_module, ub, "rebuildglscache")
    assert (result["changed"], result["status"]) == (False, "SKIPPED")


def test_progress_lines_and_extra_params(run_module, ub):
    result = run(run_module, ub, "fullhostscan", param="traffdiff")
    assert result["tag"] == "FULLHOSTSCAN" and result["output_lines"][0].endswith(":SCANNED")
    result = run(run_module, ub, "fullhostscan", param="traffdiff", params={"nn": 1})
    assert result["output_lines"] == ["OK:USERBUILDCACHE"]  # glued before the last status by print()
    assert ub.requests[-1]["query"]["nn"] == ["1"] and ub.requests[-1]["query"]["param"] == ["traffdiff"]


def test_json_read_only_action_is_never_changed(run_module, ub):
    result = run(run_module, ub, "userside", params={"request": "get_tariff_list"}, expect="json")
    assert (result["changed"], result["read_only"], result["kind"]) == (False, True, "json")
    assert result["json"]["Home 25"]["speed"] == {"up": "5000", "down": "25000"}
    result = run(run_module, ub, "userside", params={"request": "get_user_list", "customer_id": "nobody"})
    assert (result["kind"], result["json"]) == ("undefined", None)


def test_check_mode_calls_read_only_actions(run_module, ub):
    result = run(run_module, ub, "userbyip", check_mode=True, params={"ip": ub.address_of(ub.network.subscribers[0])})
    assert result["called"] and not result["changed"] and result["json"]["result"] == 1
    assert called(ub) == ["userbyip"]


def test_check_mode_does_not_call_side_effect_actions(run_module, ub):
    result = run(run_module, ub, "vserviceschargefee", check_mode=True, params={"period": 30})
    assert result["changed"] and not result["called"]
    assert result["url"].endswith("action=vserviceschargefee&period=30") and "key=***" in result["url"]
    assert "would call" in result["msg"]
    result = run(run_module, ub, "identify", check_mode=True, param="save", serial=None)
    assert not result["called"]
    assert called(ub) == []


def test_identify_needs_no_serial(run_module, ub):
    result = run(run_module, ub, "identify", serial=None, expect="text")
    assert (result["detail"], result["changed"]) == (SERIAL[-4:], False)
    assert "key" not in ub.requests[-1]["query"]


@pytest.mark.parametrize("state, meaning", [
    ({"enabled": False}, "REMOTEAPI_ENABLED=0 in alter.ini"),
    ({"serial": None}, "has no serial yet"),
    ({"maintenance": True}, "maintenance"),
    ({"profile": "stock"}, "switched off in alter.ini (MULTIGEN_DISABLED)"),
])
def test_failures_carry_the_ubilling_meaning(run_module, ub, state, meaning):
    ub.update_state(state)
    result = run(run_module, ub, "multigen")
    assert result["failed"] and meaning in result["msg"] and SERIAL not in json.dumps(result)


def test_wrong_serial_and_unknown_action(run_module, ub):
    result = run(run_module, ub, "multigen", serial="UB" + "0" * 32)
    assert result["failed"] and "the serial is wrong" in result["msg"] and result["tag"] == "GET_WRONG_KEY"
    result = run(run_module, ub, "nosuchaction")
    assert result["failed"] and result["failure"] == "html" and "unknown to this Ubilling" in result["msg"]


def test_missing_serial_fails_before_any_call(run_module, ub, monkeypatch):
    monkeypatch.delenv("ISP_OPS_UBILLING_SERIAL", raising=False)
    result = run(run_module, ub, "multigen", serial=None)
    assert result["failed"] and "serial is required" in result["msg"] and called(ub) == []


def test_serial_from_the_environment(run_module, ub, monkeypatch):
    monkeypatch.setenv("ISP_OPS_UBILLING_SERIAL", SERIAL)
    result = run(run_module, ub, "swping", serial=None)
    assert result["tag"] == "SWPING"


def test_warning_reply_warns(run_module, ub):
    ub.update_state({"delays": {"feesharvester": 0.0}})
    with ub._lock:
        ub._running.add("feesharvester")  # one harvester already running
    try:
        result = run(run_module, ub, "feesharvester")
    finally:
        ub._running.discard("feesharvester")
    assert (result["status"], result["changed"]) == ("WARNING", False)
    assert any("FEES_HARVESTER_ALREADY_RUNING" in message for message in warnings_of(result))


def test_bad_params_are_refused(run_module, ub):
    result = run(run_module, ub, "swping", params={"key": "x"})
    assert result["failed"] and "set by the module" in result["msg"] and called(ub) == []
    result = run(run_module, ub, "swping;rm", serial=SERIAL)
    assert result["failed"] and "not an action name" in result["msg"]


def test_timeout_is_a_clear_failure(run_module, ub):
    ub.set_fault(None, "timeout")
    result = run(run_module, ub, "swping", timeout=1, retries=1, retry_delay=0)
    assert result["failed"] and result["failure"] == "connection" and "timeout" in result["msg"]
    assert not result["called"] and len(ub.requests) == 2
