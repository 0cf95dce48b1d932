# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""isp.ops.ubilling_remoteapi through ansible-playbook against the Ubilling emulator in its own process.

(Not test_ubilling_remoteapi.py: the module's unit test has that basename, and pytest needs them unique.)
"""

from __future__ import annotations

import json
import socket

import pytest

pytestmark = pytest.mark.playbook

SERIAL = "UB5e0c1d2a9b8f47e6a1c3d5f7e9b2a4c6"  # distinctive, so a leak is easy to spot
PLAYBOOK = "../tests/integration/playbooks/ubilling_remoteapi.yml"
INVENTORY = "localhost,"


@pytest.fixture
def ubilling(emulator, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    server = emulator("--source", "ubilling", "--subscribers", "30", "--serial", SERIAL,
                      "--exports-dir", str(exports), "--timeout-delay", "4")
    server.exports = exports
    return server


@pytest.fixture
def calls(playbook, tmp_path):
    """Run the test playbook for a list of calls; (CompletedProcess, results by action label)."""

    def run(server, items, *args, url=None):
        varsfile = tmp_path / "calls.json"
        results = tmp_path / "results.json"
        if results.exists():
            results.unlink()
        varsfile.write_text(json.dumps({"ubilling_calls": items, "ubilling_url": url or server.url + "/billing/",
                                        "results_file": str(results)}))
        done = playbook(PLAYBOOK, "-e", "@%s" % varsfile, "-e", "ubilling_serial=%s" % SERIAL, *args,
                        inventory=INVENTORY)
        assert SERIAL not in done.stdout + done.stderr
        assert results.exists(), done.stdout[-3000:] + done.stderr[-3000:]
        return done, json.loads(results.read_text())

    return run


def actions_called(server):
    return [entry["action"] for entry in server.control("GET", "/_emulator/log")]


EVERY_FORM = [
    {"action": "multigen"},
    {"action": "fullhostscan", "param": "traffdiff"},
    {"action": "fullhostscan&param=traffdiff&nn=1"},
    {"action": "autocredit"},
    {"action": "rebuildglscache"},
    {"action": "cachedog"},
    {"action": "userside", "params": {"request": "get_tariff_list"}, "expect": "json"},
    {"action": "userside", "params": {"request": "get_user_list", "customer_id": "nobody"}, "expect": "json"},
    {"action": "identify", "serial": "", "expect": "text"},
    {"action": "identify", "param": "save", "serial": ""},
    {"action": "nosuchaction"},
    {"action": "nasmon"},
    {"action": "swping", "serial": "UB00000000000000000000000000000000"},
]


def test_every_reply_form_with_vvv(ubilling, calls):
    ubilling.control("POST", "/_emulator/state", {"today": "2026-11-27", "alter": {
        "GLOBALSEARCH_ENABLED": 0, "NASMON_ENABLED": 0}})
    done, results = calls(ubilling, EVERY_FORM, "-vvv")
    assert done.returncode == 0, done.stdout[-3000:]
    assert '"serial": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in done.stdout  # -vvv shows the module args
    (multigen, scan, scan_nn, autocredit, glscache, cachedog, tariffs, nobody, identify, save, unknown, nasmon,
     wrong) = results
    assert (multigen["status"], multigen["tag"], multigen["changed"]) == ("OK", "MULTIGEN", True)
    assert multigen["invocation"]["module_args"]["retry_delay"] == 0  # module_defaults group/isp.ops.ubilling
    assert scan["output_lines"] and scan["tag"] == "FULLHOSTSCAN" and scan_nn["output_lines"] == ["OK:USERBUILDCACHE"]
    assert (autocredit["status"], autocredit["changed"]) == ("SKIP", False)
    assert (glscache["status"], glscache["changed"]) == ("SKIPPED", False)
    assert (cachedog["kind"], cachedog["tag"], cachedog["detail"]) == ("text", "CACHEDOG", "CACHE_CLEANED")
    assert tariffs["kind"] == "json" and tariffs["json"]["Basic 10"]["speed"]["down"] == "10000"
    assert not tariffs["changed"] and (nobody["kind"], nobody["json"]) == ("undefined", None)
    assert identify["detail"] == SERIAL[-4:] and not identify["changed"]
    assert save["changed"] and (ubilling.exports / "ubserial").read_text() == SERIAL
    assert unknown["failed"] and "answered with an HTML page" in unknown["msg"]
    assert nasmon["failed"] and "switched off in alter.ini (NASMON_DISABLED)" in nasmon["msg"]
    assert wrong["failed"] and "the serial is wrong" in wrong["msg"] and wrong["tag"] == "GET_WRONG_KEY"
    for result in results:
        assert "key=***" in result["url"] or "action=identify" in result["url"]
    assert actions_called(ubilling) == [item["action"].split("&", maxsplit=1)[0] for item in EVERY_FORM]


def test_check_mode_calls_only_read_only_actions(ubilling, calls):
    items = [{"action": "multigen"}, {"action": "vserviceschargefee", "params": {"period": 30}},
             {"action": "userside", "params": {"request": "get_user_list"}, "expect": "json"},
             {"action": "identify", "serial": ""}, {"action": "identify", "param": "save", "serial": ""}]
    done, results = calls(ubilling, items, "--check", "-vvv")
    assert done.returncode == 0, done.stdout[-3000:]
    assert [r["called"] for r in results] == [False, False, True, True, False]
    assert [r["changed"] for r in results] == [True, True, False, False, True]
    assert results[1]["url"].endswith("?module=remoteapi&key=***&action=vserviceschargefee&period=30")
    assert len(results[2]["json"]) == 30
    assert actions_called(ubilling) == ["userside", "identify"]
    assert not (ubilling.exports / "ubserial").exists()


@pytest.mark.parametrize("state, meaning", [
    ({"enabled": False}, "REMOTEAPI_ENABLED=0 in alter.ini"),
    ({"serial": None}, "has no serial yet"),
    ({"maintenance": True}, "Ubilling is in maintenance"),
])
def test_server_states_fail_with_their_meaning(ubilling, calls, state, meaning):
    ubilling.control("POST", "/_emulator/state", state)
    done, [result] = calls(ubilling, [{"action": "swping"}])
    assert result["failed"] and meaning in result["msg"]


def test_connection_refused_and_timeout(ubilling, calls):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = "http://127.0.0.1:%d/billing/" % probe.getsockname()[1]
    ubilling.control("POST", "/_emulator/faults", {"kind": "timeout"})
    items = [{"action": "swping", "url": closed, "retries": 1},
             {"action": "swping", "timeout": 1, "retries": 1}]
    done, (refused, timeout) = calls(ubilling, items, "-vvv")
    assert refused["failed"] and "connection failed" in refused["msg"] and "after 2 attempts" in refused["msg"]
    assert timeout["failed"] and "no answer within 1 s (timeout), after 2 attempts" in timeout["msg"]
    assert [entry["fault"] for entry in ubilling.control("GET", "/_emulator/log")] == ["timeout", "timeout"]
