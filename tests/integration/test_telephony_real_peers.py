# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PBX ⇄ OMniLeads link configured by the collection's own modules on two real Asterisk 22
peers in network namespaces, both sides derived from ONE pbx_link:

  PBX (Issabel layout, transport-udp :5066):  issabel_trunk (pjsip, custom_conf) +
                                              issabel_custom_extension (DID 098098 at 7001, agent 10061,
                                              outbound route 1XXX.)
  OML (1.x transports, trunk-transport :5161): omnileads_trunk (PBX LAN wizard template)

Proves: the trunk qualifies on both sides; a call originated on the PBX to the DID's custom
extension arrives in OML's from-pbx context; an agent number (1006 + 1 = 10061) reaches OML's
agent pattern; a wrong secret on one side makes the call fail and asterisk_info says wrong secret.
OML's from-pbx context in the lab logs a line per arrival (OML-ARRIVAL ...) that the tests read.
"""

from __future__ import annotations

import re

import pytest

from ansible_collections.isp.ops.plugins.module_utils.asterisk.ami import AmiClient
from ansible_collections.isp.ops.plugins.module_utils.telephony.link import derive
from ansible_collections.isp.ops.plugins.modules import (
    asterisk_info,
    issabel_custom_extension,
    issabel_trunk,
    omnileads_trunk,
)
from tests.integration.asterisk_lab import asterisk_marks, lab_fixture, wait_for
from tests.telephony_args import issabel_trunk_args

pytestmark = asterisk_marks()
lab = lab_fixture()

SECRET = "Link-Secret-7"


def apply(lab, run_module, oml_secret=None):
    """Configure both sides from the lab's pbx_link with the project's modules; return their results."""
    sides = derive(lab.pbx_link(SECRET))
    pbx, oml = sides["pbx"], sides["oml"]
    results = [
        run_module(issabel_trunk.main, issabel_trunk_args(
            pbx, mode="custom_conf", config_dir=lab.pbx.etc, asterisk_cli=lab.pbx.cli)),
        run_module(issabel_custom_extension.main, dict(
            trunk=pbx["trunk_name"], technology=pbx["technology"], mode="custom_conf",
            extensions=pbx["custom_extensions"], outbound_route=pbx["outbound_route"],
            config_dir=lab.pbx.etc, asterisk_cli=lab.pbx.cli)),
        run_module(omnileads_trunk.main, dict(
            link=oml, config_dir=lab.oml.etc, **dict(lab.oml.ami, **({"secret": oml_secret} if oml_secret else {})))),
    ]
    for result in results:
        assert "failed" not in result, result.get("msg")
    return results


def trunk_status(run_module, name, status, **connection):
    def probe():
        result = run_module(asterisk_info.main, dict(name=name, **connection))
        assert "failed" not in result, result.get("msg")
        return result if result["trunk"]["status"] == status else None
    return wait_for(probe, timeout=30, what="%s %s" % (name, status))


def arrivals(lab, pattern):
    return len(re.findall(pattern, lab.oml.read_log()))


@pytest.fixture
def linked(lab, run_module):
    apply(lab, run_module)
    trunk_status(run_module, "omnileads", "Avail", asterisk_cli=lab.pbx.cli)
    trunk_status(run_module, "issabel", "Avail", **lab.oml.ami)
    return lab


def test_trunk_qualifies_on_both_sides(linked, run_module):
    pbx = run_module(asterisk_info.main, dict(name="omnileads", probe=True, asterisk_cli=linked.pbx.cli))
    oml = run_module(asterisk_info.main, dict(name="issabel", probe=True, **linked.oml.ami))
    for result, host, port in ((pbx, "10.66.0.2", 5161), (oml, "10.66.0.1", 5066)):
        assert result["trunk"]["up"], result["diagnosis"]
        assert (result["trunk"]["host"], result["trunk"]["port"]) == (host, port)
        assert result["trunk"]["rejected_by_peer"] is False and result["trunk"]["rtt_ms"] > 0
    assert oml["endpoints"][0]["transport"]["name"] == "trunk-transport"


def test_second_run_changes_nothing(linked, run_module):
    assert [result["changed"] for result in apply(linked, run_module)] == [False, False, False]


def test_did_call_from_the_pbx_arrives_in_oml_from_pbx(linked):
    before = arrivals(linked, r"Executing \[098098@from-pbx:1\]")
    linked.pbx.rx("channel originate Local/7001@from-internal application Wait 2")
    wait_for(lambda: arrivals(linked, r"Executing \[098098@from-pbx:1\]") > before, timeout=20,
             what="DID 098098 in from-pbx")
    assert "OML-ARRIVAL did 098098" in linked.oml.read_log()


def test_agent_number_reaches_oml_agent_pattern_via_ami_originate(linked):
    before = arrivals(linked, r"OML-ARRIVAL agent 1 via 10061")
    with AmiClient(linked.pbx.ami_host, 5038, linked.pbx.ami_username, linked.pbx.ami_secret, timeout=10) as ami:
        reply = ami.action("Originate", Channel="Local/10061@from-internal", Application="Wait", Data="2",
                           Async="true")
        assert reply.get("Response") == "Success", reply
    wait_for(lambda: arrivals(linked, r"OML-ARRIVAL agent 1 via 10061") > before, timeout=20,
             what="agent 10061 in from-pbx")
    assert re.search(r"Executing \[10061@from-pbx:1\] NoOp\(\"PJSIP/issabel-", linked.oml.read_log())


def test_wrong_secret_on_one_side_fails_the_call_and_is_diagnosed(linked, run_module):
    try:
        apply(linked, run_module, oml_secret="Not-The-Link-Secret")
        before = arrivals(linked, r"Executing \[098098@from-pbx:1\]")
        result = run_module(asterisk_info.main, dict(name="omnileads", probe=True, asterisk_cli=linked.pbx.cli))
        assert result["trunk"]["status"] == "Avail"      # Asterisk counts the 401 as an answer
        assert not result["trunk"]["up"]
        assert result["diagnosis"]["cause"] == "wrong_secret", result["diagnosis"]

        linked.pbx.rx("channel originate Local/7001@from-internal application Wait 2")
        wait_for(lambda: re.search(r"Request 'INVITE' from .* - Failed to authenticate", linked.oml.read_log()),
                 timeout=20, what="INVITE refused by OML")
        assert arrivals(linked, r"Executing \[098098@from-pbx:1\]") == before
    finally:
        apply(linked, run_module)
    after = run_module(asterisk_info.main, dict(name="omnileads", probe=True, asterisk_cli=linked.pbx.cli))
    assert after["trunk"]["up"], after["diagnosis"]
