# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers of the trunk status commands, on output captured from the real Asterisk 22 of the lab
(PJSIP) and on chan_sip's `sip show peers` layout (Asterisk 11-20 and the older one without Comedia)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.isp.ops.plugins.module_utils.asterisk import status

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read().decode("utf-8")


def test_sip_show_peers_every_status_with_rtt():
    peers = status.parse_sip_peers(fixture("sip_show_peers.txt"))
    by_name = {p["name"]: p for p in peers}
    assert list(by_name) == ["omnileads", "oml-cloud", "oml-docker", "1001", "itsp-main"]
    assert by_name["omnileads"] == dict(name="omnileads", username="issabel", host="192.0.2.20", port=5161,
                                        dynamic=False, status="OK", rtt_ms=2.0, description=None)
    assert (by_name["oml-cloud"]["status"], by_name["oml-cloud"]["rtt_ms"]) == ("UNREACHABLE", None)
    assert (by_name["oml-docker"]["status"], by_name["oml-docker"]["rtt_ms"]) == ("LAGGED", 2345.0)
    assert by_name["1001"]["host"] is None and by_name["1001"]["dynamic"] and by_name["1001"]["status"] == "UNKNOWN"
    assert by_name["itsp-main"]["username"] is None
    assert (by_name["itsp-main"]["status"], by_name["itsp-main"]["description"]) == ("Unmonitored", "ITSP main line")


def test_sip_show_peers_layout_without_comedia():
    peers = status.parse_sip_peers(fixture("sip_show_peers_old.txt"))
    assert [(p["name"], p["username"], p["host"], p["port"], p["status"], p["rtt_ms"], p["dynamic"]) for p in peers] == [
        ("KgZR1z3w4GBgWHa", "KgZR1z3w4", "172.16.214.1", 64358, "OK", 1.0, True),
        ("mdc_trunk_conf-1", "dev-test", "172.16.214.10", 5060, "OK", 3.0, False),
    ]


def test_sip_show_peers_empty_and_unrelated_text():
    assert status.parse_sip_peers("") == []
    assert status.parse_sip_peers("No such command 'sip show peers'\n") == []


def test_pjsip_endpoints_of_an_issabel_style_trunk():
    (endpoint,) = status.parse_pjsip_endpoints(fixture("pjsip_endpoints_pbx_avail.txt"))
    assert endpoint["name"] == "omnileads"
    assert (endpoint["state"], endpoint["channels"], endpoint["max_channels"]) == ("Not in use", 0, None)
    assert endpoint["out_auths"] == [dict(name="omnileads", username="issabel")]
    assert endpoint["in_auths"] == [dict(name="omnileads-in", username="omnileads")]
    assert endpoint["aors"] == ["omnileads"]
    assert endpoint["transport"] == dict(name="transport-udp", type="udp", bind="0.0.0.0:5066")
    assert endpoint["matches"] == ["10.66.0.2/32"]
    (contact,) = endpoint["contacts"]
    assert contact == dict(aor="omnileads", uri="sip:10.66.0.2:5161", hash="35eab27438", status="Avail",
                           rtt_ms=1.534, host="10.66.0.2", port=5161)


def test_pjsip_endpoints_of_a_wizard_trunk_and_an_unreachable_one():
    (wizard,) = status.parse_pjsip_endpoints(fixture("pjsip_endpoints_oml_wizard.txt"))
    assert wizard["identifies"] == ["issabel-identify"] and wizard["matches"] == ["10.66.0.1:5066/32"]
    assert wizard["transport"]["name"] == "trunk-transport"
    (down,) = status.parse_pjsip_endpoints(fixture("pjsip_endpoints_pbx_unavail.txt"))
    assert down["state"] == "Unavailable"
    assert [(c["status"], c["rtt_ms"], c["port"]) for c in down["contacts"]] == [("Unavail", None, 5199)]


def test_pjsip_show_endpoint_detail_ignores_the_parameter_table():
    (endpoint,) = status.parse_pjsip_endpoints(fixture("pjsip_endpoint_issabel_detail.txt"))
    assert endpoint["name"] == "issabel" and len(endpoint["contacts"]) == 1 and endpoint["aors"] == ["issabel"]


def test_pjsip_contacts_and_aors():
    assert [(c["aor"], c["status"], c["rtt_ms"]) for c in status.parse_pjsip_contacts(fixture("pjsip_contacts_avail.txt"))] \
        == [("omnileads", "Avail", 1.534)]
    (down,) = status.parse_pjsip_contacts(fixture("pjsip_contacts_unavail.txt"))
    assert (down["status"], down["rtt_ms"], down["host"], down["port"]) == ("Unavail", None, "10.66.0.9", 5161)
    (aor,) = status.parse_pjsip_aors(fixture("pjsip_aors.txt"))
    assert (aor["name"], aor["max_contacts"], aor["contacts"][0]["uri"]) == ("issabel", 0, "sip:10.66.0.1:5066")


def test_pjsip_transports():
    assert status.parse_pjsip_transports(fixture("pjsip_transports_oml.txt")) == [
        dict(name="agent-transport", type="udp", bind="0.0.0.0:5160"),
        dict(name="trunk-transport", type="udp", bind="0.0.0.0:5161"),
    ]


def test_pjsip_history_entries():
    entries = status.parse_pjsip_history(fixture("pjsip_history_call_ok.txt"))
    first, second = entries[0], entries[1]
    assert (first["direction"], first["host"], first["port"], first["method"], first["code"]) == \
        ("out", "10.66.0.2", 5161, "OPTIONS", None)
    assert (second["direction"], second["code"], second["method"]) == ("in", 401, None)
    assert [e["method"] for e in entries if e["method"]].count("INVITE") == 2
    assert status.parse_pjsip_history("No.   Timestamp  (Dir) Address                  SIP Message\n") == []


@pytest.mark.parametrize("uri, expected", [
    ("sip:10.66.0.2:5161", ("10.66.0.2", 5161)),
    ("sip:omnileads@192.0.2.20:5162;transport=udp", ("192.0.2.20", 5162)),
    ("sips:[2001:db8::1]:5061", ("2001:db8::1", 5061)),
    ("sip:pbx.example.net", ("pbx.example.net", None)),
    ("10.66.0.1:5066", ("10.66.0.1", 5066)),
])
def test_split_uri(uri, expected):
    assert status.split_uri(uri) == expected


def test_ami_command_reply_in_the_asterisk_14_and_later_format():
    raw = ("Response: Success\r\nActionID: c0\r\nMessage: Command output follows\r\n"
           "Output: \r\nOutput:   Contact:  omnileads/sip:10.66.0.2:5161  35eab27438 Avail  1.137\r\n"
           "Output: \r\nOutput: Objects found: 1\r\n\r\n")
    ok, text = status.command_reply_output(status.parse_ami_message(raw))
    assert ok
    assert text == "\n  Contact:  omnileads/sip:10.66.0.2:5161  35eab27438 Avail  1.137\n\nObjects found: 1\n"
    assert status.parse_pjsip_contacts(text)[0]["rtt_ms"] == 1.137


def test_ami_command_reply_in_the_asterisk_13_format_keeps_raw_text_with_colons_and_blank_lines():
    body = fixture("sip_show_peers.txt").replace("\n", "\n\n", 1)
    raw = "Response: Follows\r\nPrivilege: Command\r\nActionID: 7\r\n" + body + "--END COMMAND--\r\n\r\n"
    message = status.parse_ami_message(raw)
    assert message.get("ActionID") == "7"
    ok, text = status.command_reply_output(message)
    assert ok and text == body
    assert len(status.parse_sip_peers(text)) == 5


def test_ami_follows_variant_with_output_prefix_on_the_first_line():
    raw = ("Response: Follows\r\nMessage: Command output follows\r\n"
           "Output: Name/username             Host                                    Dyn Forcerport Comedia    ACL "
           "Port     Status      Description                      \r\n"
           "8888/8888                 (Unspecified)                            D  Auto (No)  No             0        "
           "Unmonitored                                  \n"
           "1 sip peers [Monitored: 0 online, 0 offline Unmonitored: 0 online, 1 offline]\n"
           "--END COMMAND--\r\n\r\n")
    ok, text = status.command_reply_output(status.parse_ami_message(raw))
    assert ok and text.startswith("Name/username")
    (peer,) = status.parse_sip_peers(text)
    assert (peer["name"], peer["dynamic"], peer["status"]) == ("8888", True, "Unmonitored")


def test_ami_error_reply_of_an_unknown_command():
    raw = ("Response: Error\r\nActionID: c1\r\nMessage: Command output follows\r\n"
           "Output: No such command 'foo bar' (type 'core show help foo bar' for other possible commands)\r\n\r\n")
    ok, text = status.command_reply_output(status.parse_ami_message(raw))
    assert not ok and text.startswith("No such command 'foo bar'")


def test_ami_messages_of_a_real_asterisk_22_session():
    raw = fixture("ami_asterisk22_session.bin")
    banner, rest = raw.split("\r\n", 1)
    assert banner.startswith("Asterisk Call Manager/")
    messages = [status.parse_ami_message(chunk + "\r\n\r\n") for chunk in rest.split("\r\n\r\n") if chunk]
    assert messages[0].get("Message") == "Authentication accepted"
    contacts = status.command_reply_output(messages[1])
    assert contacts[0] and status.parse_pjsip_contacts(contacts[1])[0]["status"] == "Avail"
    assert status.command_reply_output(messages[2])[0] is False
    events = [m for m in messages if m.get("Event") == "EndpointList"]
    assert events[0].get("ObjectName") == "omnileads" and events[0].get("DeviceState") == "Not in use"
