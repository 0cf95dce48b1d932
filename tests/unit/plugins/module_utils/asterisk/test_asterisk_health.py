# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Trunk health and diagnosis, on SIP histories and listings captured from the real Asterisk 22 lab:
a good trunk, a wrong secret, a wrong port and a host that does not exist."""

from __future__ import annotations

import os

import pytest

from ansible_collections.isp.ops.plugins.module_utils.asterisk import health
from ansible_collections.isp.ops.plugins.module_utils.asterisk.control import AsteriskControl, AsteriskError
from ansible_collections.isp.ops.plugins.module_utils.asterisk.status import parse_pjsip_history

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
HEADER_ONLY = ("No.   Timestamp  (Dir) Address                  SIP Message                        \n"
               "===== ========== ============================== ===================================\n")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def history(name):
    return parse_pjsip_history(fixture(name))


@pytest.mark.parametrize("name, host, expected", [
    ("pjsip_history_ok.txt", "10.66.0.2", (False, False)),
    ("pjsip_history_call_ok.txt", "10.66.0.2", (False, False)),
    ("pjsip_history_wrong_secret_pbx.txt", "10.66.0.2", (True, False)),   # OML refuses the PBX's password
    ("pjsip_history_wrong_secret_oml.txt", "10.66.0.1", (False, True)),   # the same, seen from OML
    ("pjsip_history_call_wrong_secret.txt", "10.66.0.2", (True, False)),
    ("pjsip_history_no_host.txt", "10.66.0.9", (None, None)),
])
def test_auth_rejections(name, host, expected):
    assert health.auth_rejections(history(name), host) == expected


def test_seen_ports():
    assert health.seen_ports(history("pjsip_history_wrong_port.txt"), "10.66.0.2") == {5161}
    assert health.seen_ports(history("pjsip_history_no_host.txt"), "10.66.0.9") == set()


BASE = dict(name="omnileads", technology="pjsip", found=True, host="10.66.0.2", port=5161)


@pytest.mark.parametrize("facts, cause", [
    (dict(BASE, status="Avail", rejected_by_peer=False), None),
    (dict(BASE, status="OK", technology="sip"), None),
    (dict(BASE, found=False), "not_configured"),
    (dict(BASE, status="Avail", rejected_by_peer=True), "wrong_secret"),
    (dict(BASE, status="Avail", rejected_here=True), "wrong_secret"),
    (dict(BASE, status="Unavail", port=5199, seen_ports=[5161]), "wrong_port"),
    (dict(BASE, status="Unavail", seen_ports=[]), "unreachable_host"),
    (dict(BASE, status="Unavail", seen_ports=[5161]), "unreachable"),
    (dict(BASE, status="UNREACHABLE", technology="sip"), "unreachable"),
    (dict(BASE, status="UNREACHABLE", technology="sip", port_open=False), "wrong_port"),
    (dict(BASE, status="LAGGED", technology="sip"), "lagged"),
    (dict(BASE, status="Unmonitored", technology="sip"), "not_qualified"),
    (dict(BASE, status=None), "not_qualified"),
])
def test_diagnose(facts, cause):
    diagnosis = health.diagnose(facts)
    assert (diagnosis or {}).get("cause") == cause
    if diagnosis:
        assert "omnileads" in diagnosis["message"]


def test_wrong_port_message_names_both_ports():
    message = health.diagnose(dict(BASE, status="Unavail", port=5199, seen_ports=[5161]))["message"]
    assert "10.66.0.2:5199" in message and "port 5161" in message


class ScriptedAsterisk(object):
    """Stands in for `asterisk -rx`: fixed outputs per command; `pjsip qualify` switches the history."""

    def __init__(self, outputs, after_qualify=None):
        self.outputs = dict(outputs)
        self.after_qualify = after_qualify
        self.commands = []

    def __call__(self, argv):
        command = argv[argv.index("-rx") + 1]
        self.commands.append(command)
        if command.startswith("pjsip qualify") and self.after_qualify:
            self.outputs["pjsip show history"] = self.after_qualify
        if command.startswith("pjsip set history") or command.startswith("pjsip qualify"):
            return 0, "", ""
        if command not in self.outputs:
            return 0, "No such command '%s' (type 'core show help' for other possible commands)\n" % command, ""
        return 0, self.outputs[command], ""


def collect(outputs, after_qualify=None, **kwargs):
    asterisk = ScriptedAsterisk(outputs, after_qualify)
    checker = health.TrunkHealth(AsteriskControl(runner=asterisk), sleep=lambda s: None)
    return checker.collect(**kwargs), asterisk.commands


PBX_OK = {"pjsip show endpoints": fixture("pjsip_endpoints_pbx_avail.txt"),
          "pjsip show contacts": fixture("pjsip_contacts_avail.txt"),
          "pjsip show history": HEADER_ONLY}


def test_everything_without_a_name():
    result, commands = collect(PBX_OK)
    assert result["technologies"] == ["pjsip"] and result["peers"] == []
    assert [e["name"] for e in result["endpoints"]] == ["omnileads"]
    assert "trunk" not in result and "pjsip show history" not in commands


def test_named_trunk_up_without_history():
    result, commands = collect(PBX_OK, name="omnileads")
    assert result["trunk"]["up"] and result["diagnosis"] is None
    assert (result["trunk"]["status"], result["trunk"]["rtt_ms"]) == ("Avail", 1.534)
    assert result["trunk"]["rejected_by_peer"] is None and result["trunk"]["history"] is False


def test_probe_reveals_a_wrong_secret_behind_avail_and_restores_the_history():
    result, commands = collect(PBX_OK, after_qualify=fixture("pjsip_history_wrong_secret_pbx.txt"),
                               name="omnileads", probe=True)
    assert result["trunk"]["status"] == "Avail" and not result["trunk"]["up"]
    assert result["diagnosis"]["cause"] == "wrong_secret"
    assert commands.index("pjsip set history on") < commands.index("pjsip qualify omnileads") \
        < commands.index("pjsip set history off")


def test_probe_keeps_a_history_that_was_already_on():
    outputs = dict(PBX_OK, **{"pjsip show history": fixture("pjsip_history_ok.txt")})
    result, commands = collect(outputs, after_qualify=fixture("pjsip_history_call_ok.txt"), name="omnileads",
                               probe=True)
    assert result["trunk"]["up"]
    assert "pjsip set history on" not in commands and "pjsip set history off" not in commands


def test_wrong_port_from_a_real_unreachable_contact():
    outputs = {"pjsip show endpoints": fixture("pjsip_endpoints_pbx_unavail.txt"),
               "pjsip show contacts": "", "pjsip show history": fixture("pjsip_history_wrong_port.txt")}
    result, _commands = collect(outputs, name="omnileads")
    assert (result["trunk"]["status"], result["trunk"]["port"], result["trunk"]["seen_ports"]) == ("Unavail", 5199, [5161])
    assert result["diagnosis"]["cause"] == "wrong_port"


def test_missing_trunk_and_chan_sip_peers():
    outputs = dict(PBX_OK, **{"sip show peers": fixture("sip_show_peers.txt")})
    result, _commands = collect(outputs, name="oml-cloud")
    assert result["technologies"] == ["sip", "pjsip"]
    assert result["trunk"]["technology"] == "sip" and result["diagnosis"]["cause"] == "unreachable"
    result, _commands = collect(PBX_OK, name="nothere")
    assert result["diagnosis"]["cause"] == "not_configured" and result["endpoints"] == []


def test_technology_that_is_not_loaded():
    with pytest.raises(AsteriskError, match="chan_sip is not loaded"):
        collect(PBX_OK, technology="sip")
    with pytest.raises(AsteriskError, match="neither chan_sip nor res_pjsip"):
        collect({})
