# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pbx_link derivation: per-scenario defaults, overrides, both sides agreeing, error paths."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.isp.ops.plugins.module_utils.telephony.link import LinkError, derive, wizard_lines

LINK = {
    "scenario": "lan",
    "pbx": {"address": "192.0.2.10"},
    "oml": {"address": "192.0.2.20"},
    "credentials": {"username": "issabel", "secret": "issabelOML"},
    "dids": ["098098", {"did": "5551234", "extension": "7002", "name": "Sales"}],
    "agents": [{"id": 1, "sip_extension": 1006, "name": "Adrian Belew"},
               {"id": 2, "sip_extension": "1007", "extension": "7102"}],
}


def link(**changes):
    value = copy.deepcopy(LINK)
    value.update(changes)
    return value


@pytest.mark.parametrize("scenario, port, transport, nat", [
    ("lan", 5161, "trunk-transport", (False, False, False)),
    ("cloud", 5162, "trunk-nat-transport", (True, True, False)),
    ("docker", 5163, "trunk-nat-docker-transport", (True, True, True)),
])
def test_scenario_defaults_follow_the_seed(scenario, port, transport, nat):
    sides = derive(link(scenario=scenario))
    pbx, oml = sides["pbx"], sides["oml"]
    assert pbx["port"] == oml["port"] == port
    assert oml["transport"] == transport
    assert (oml["rtp_symmetric"], oml["force_rport"], oml["rewrite_contact"]) == nat
    assert oml["remote_hosts"] == ["192.0.2.10:5060"]
    assert pbx["host"] == "192.0.2.20"


def test_docker_defaults_oml_address_to_the_pbx_host():
    value = link(scenario="docker")
    del value["oml"]
    sides = derive(value)
    assert sides["pbx"]["host"] == "192.0.2.10"
    assert sides["pbx"]["port"] == 5163


def test_ports_are_overridable_for_oml_2x_which_binds_5060():
    sides = derive(link(pbx={"address": "192.0.2.10", "port": 5070, "technology": "pjsip"},
                        oml={"address": "192.0.2.20", "port": 5060}))
    assert sides["pbx"]["port"] == sides["oml"]["port"] == 5060
    assert sides["oml"]["remote_hosts"] == ["192.0.2.10:5070"]


def test_pjsip_pbx_defaults_to_issabels_pjsip_port():
    sides = derive(link(pbx={"address": "192.0.2.10", "technology": "pjsip"}))
    assert sides["pbx"]["technology"] == "pjsip"
    assert sides["oml"]["remote_hosts"] == ["192.0.2.10:5066"]


def test_both_sides_share_one_credential_set():
    pbx, oml = derive(LINK)["pbx"], derive(LINK)["oml"]
    # PBX -> OML: PBX sends credentials.username; OML checks it as inbound_auth.
    assert oml["inbound_auth"] == {"username": pbx["username"], "password": pbx["secret"]}
    # OML -> PBX: OML sends the PBX trunk (peer) name, which chan_sip checks.
    assert oml["outbound_auth"] == {"username": pbx["trunk_name"], "password": pbx["secret"]}
    assert oml["from_user"] == pbx["peer_username"] == "omnileads"


def test_dids_and_agents_become_custom_extensions():
    pbx = derive(LINK)["pbx"]
    assert pbx["custom_extensions"] == [
        {"extension": "098098", "name": "OML DID 098098", "number": "098098", "kind": "did"},
        {"extension": "7002", "name": "Sales", "number": "5551234", "kind": "did"},
        {"extension": "10061", "name": "Adrian Belew", "number": "10061", "kind": "agent"},
        {"extension": "7102", "name": "OML agent 2", "number": "10072", "kind": "agent"},
    ]
    assert pbx["outbound_route"] == {"name": "omnileads-agents", "patterns": ["1XXX."], "trunk": "omnileads"}


def test_all_agents_leaves_them_to_the_outbound_route():
    sides = derive(link(agents="all"))
    assert [e["kind"] for e in sides["pbx"]["custom_extensions"]] == ["did", "did"]
    assert sides["oml"]["agents"] == "all"


def test_wizard_lines_match_the_seed_lan_template():
    lines = dict(wizard_lines(derive(LINK)["oml"]))
    assert lines["transport"] == "trunk-transport"
    assert lines["endpoint/allow"] == "alaw,ulaw"
    assert lines["remote_hosts"] == "192.0.2.10:5060"
    assert lines["inbound_auth/password"] == lines["outbound_auth/password"] == "issabelOML"


def test_ipv6_remote_host_is_bracketed():
    sides = derive(link(pbx={"address": "2001:db8::10"}))
    assert sides["oml"]["remote_hosts"] == ["[2001:db8::10]:5060"]


@pytest.mark.parametrize("changes, path", [
    ({"scenario": "wan"}, "pbx_link.scenario"),
    ({"oml": {"address": "192.0.2.20", "port": 70000}}, "pbx_link.oml.port"),
    ({"oml": {"address": "192.0.2.20", "port": "x"}}, "pbx_link.oml.port"),
    ({"oml": {}}, "pbx_link.oml.address"),
    ({"oml": {"address": "bad host!"}}, "pbx_link.oml.address"),
    ({"pbx": {"address": "192.0.2.10", "technology": "iax2"}}, "pbx_link.pbx.technology"),
    ({"pbx": {"port": 5060}}, "pbx_link.pbx.address"),
    ({"credentials": {"username": "issabel"}}, "pbx_link.credentials.secret"),
    ({"credentials": {"username": "issabel", "secret": "a;b"}}, "pbx_link.credentials.secret"),
    ({"credentials": {"username": "issabel", "secret": "x\ny"}}, "pbx_link.credentials.secret"),
    ({"codecs": []}, "pbx_link.codecs"),
    ({"codecs": ["alaw", "ALAW!"]}, "pbx_link.codecs[1]"),
    ({"dtmf_mode": "rfc2833"}, "pbx_link.dtmf_mode"),
    ({"dids": ["09a"]}, "pbx_link.dids[0]"),
    ({"dids": [{"extension": "7001"}]}, "pbx_link.dids[0].did"),
    ({"agents": [{"id": 1}]}, "pbx_link.agents[0].sip_extension"),
    ({"agents": "some"}, "pbx_link.agents"),
    ({"secret": "x"}, "pbx_link.secret"),
    ({"qualify_frequency": True}, "pbx_link.qualify_frequency"),
    ({"dids": ["10061"]}, "pbx_link"),  # the same extension as agent 1
])
def test_bad_input_names_the_field(changes, path):
    with pytest.raises(LinkError) as caught:
        derive(link(**changes))
    assert caught.value.path == path
    assert str(caught.value).startswith(path + ":")


def test_missing_required_top_level_keys():
    for key in ("scenario", "pbx", "credentials"):
        value = link()
        del value[key]
        with pytest.raises(LinkError, match="pbx_link.%s: is required" % key):
            derive(value)
    with pytest.raises(LinkError, match="pbx_link: must be a mapping"):
        derive("lan")
