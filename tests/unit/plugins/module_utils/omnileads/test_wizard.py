# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The OML wizard trunk against the seed's three templates (PBX LAN, PBX WAN, Docker)."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.asterisk.conf import parse
from ansible_collections.isp.ops.plugins.module_utils.omnileads import wizard
from ansible_collections.isp.ops.plugins.module_utils.telephony.link import derive

# The seed's OML blocks (002_db9aa3c20f96d9d0.txt), XXX.XXX.XXX.PBX standing for the PBX address.
SEED_COMMON = """\
type=wizard
transport={transport}
accepts_registrations=no
sends_auth=yes
sends_registrations=no
accepts_auth=yes
endpoint/rtp_symmetric={rtp_symmetric}
endpoint/force_rport={force_rport}
endpoint/rewrite_contact={rewrite_contact}
endpoint/timers=yes
aor/qualify_frequency=60
endpoint/allow=alaw,ulaw
endpoint/dtmf_mode=rfc4733
endpoint/context=from-pbx
remote_hosts=XXX.XXX.XXX.PBX:5060
inbound_auth/username=issabel
inbound_auth/password=issabelOML
outbound_auth/username=omnileads
outbound_auth/password=issabelOML
endpoint/from_user=omnileads
"""
SEED = {
    "lan": SEED_COMMON.format(transport="trunk-transport", rtp_symmetric="no", force_rport="no", rewrite_contact="no"),
    "cloud": SEED_COMMON.format(transport="trunk-nat-transport", rtp_symmetric="yes", force_rport="yes",
                                rewrite_contact="no"),
    "docker": SEED_COMMON.format(transport="trunk-nat-docker-transport", rtp_symmetric="yes", force_rport="yes",
                                 rewrite_contact="yes"),
}
PBX = "192.0.2.10"


def link(scenario, **extra):
    definition = dict(scenario=scenario, pbx={"address": PBX}, oml={"address": "192.0.2.20"},
                      credentials={"username": "issabel", "secret": "issabelOML"})
    definition.update(extra)
    return derive(definition)["oml"]


def seed_items(scenario):
    return parse("[issabel]\n" + SEED[scenario].replace("XXX.XXX.XXX.PBX", PBX)).section("issabel").items


@pytest.mark.parametrize("scenario", ["lan", "cloud", "docker"])
def test_rendered_wizard_is_the_seed_template_plus_disallow(scenario):
    section = parse(wizard.render(wizard.settings(link(scenario)))).section("issabel")
    expected = seed_items(scenario)
    at = [key for key, value in expected].index("endpoint/allow")
    assert section.items == expected[:at] + [("endpoint/disallow", "all")] + expected[at:]


def test_one_secret_both_ways_and_usernames_from_the_link():
    section = parse(wizard.render(wizard.settings(link("lan")))).section("issabel")
    assert section.get("inbound_auth/password") == section.get("outbound_auth/password") == "issabelOML"
    assert (section.get("inbound_auth/username"), section.get("outbound_auth/username")) == ("issabel", "omnileads")


def test_explicit_scenario_overrides_the_links_template():
    trunk = wizard.settings(link("lan"), scenario="docker")
    assert (trunk["transport"], trunk["rewrite_contact"]) == ("trunk-nat-docker-transport", True)


def test_explicit_options_without_a_link():
    trunk = wizard.settings(None, "cloud", dict(
        trunk_name="pbx1", remote_hosts="198.51.100.7:5060", codecs="ulaw, g722",
        inbound_auth={"username": "pbx", "password": "p"}, outbound_auth={"username": "oml", "password": "p"}))
    section = parse(wizard.render(trunk)).section("pbx1")
    assert section.get("transport") == "trunk-nat-transport"
    assert section.get("endpoint/allow") == "ulaw,g722" and section.get("remote_hosts") == "198.51.100.7:5060"
    assert section.get("endpoint/from_user") == "oml"


@pytest.mark.parametrize("overrides, message", [
    ({}, "the trunk needs trunk_name, transport, remote_hosts, inbound_auth, outbound_auth, codecs"),
    (dict(trunk_name="t", transport="trunk-transport", remote_hosts=["h:1"], codecs=["alaw"],
          inbound_auth={"username": "a", "password": "x"}, outbound_auth={"username": "b", "password": "y"}),
     "must share one password"),
    (dict(trunk_name="t", transport="trunk-transport", remote_hosts=["h:1"], codecs=["alaw"],
          inbound_auth={"username": "a"}, outbound_auth={"username": "b", "password": "y"}),
     "inbound_auth needs username and password"),
])
def test_incomplete_settings_are_refused(overrides, message):
    with pytest.raises(wizard.WizardError, match=message):
        wizard.settings(None, None, overrides)


def test_transports_of_pjsip_show_transports():
    output = """
Transport:  <TransportId........>  <Type>  <cos>  <tos>  <BindAddress....................>
==========================================================================================

Transport:  agent-transport           udp      0      0  0.0.0.0:5160
Transport:  trunk-transport           udp      0      0  0.0.0.0:5161

Objects found: 2
"""
    assert wizard.transports_running(output) == ["agent-transport", "trunk-transport"]


def test_transports_in_files_follow_templates_and_ignore_other_sections(tmp_path):
    (tmp_path / "oml_pjsip_transports.conf").write_text(
        "[udp](!)\ntype=transport\nprotocol=udp\n\n[trunk-transport](udp)\nbind=0.0.0.0:5161\n"
        "; [commented-transport]\n[issabel]\ntype=wizard\ntransport=trunk-transport\n")
    (tmp_path / "broken.conf").write_text("this is not [asterisk config\n transport\n")
    assert wizard.transports_in_files(str(tmp_path)) == ["trunk-transport"]


def test_masked_hides_every_secret():
    text = wizard.render(wizard.settings(link("lan")))
    assert "issabelOML" not in wizard.masked(text, ["issabelOML"])
    assert wizard.masked(text, ["issabelOML"]).count("********") == 2
