# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AsteriskControl and the AMI client: against a small AMI server on loopback (both Command reply
formats, auth, faults) and, for the CLI, against a runner standing in for `asterisk -rx`."""

from __future__ import annotations

import time

import pytest

from ansible_collections.isp.ops.plugins.module_utils.asterisk.ami import AmiClient
from ansible_collections.isp.ops.plugins.module_utils.asterisk.control import (
    AsteriskControl,
    AsteriskError,
    control_options,
)
from tests.emulators.fake_ami import FakeAmi, free_port

SECRET = "t0p-s3cret"
CONTACTS = ("\n  Contact:  <Aor/ContactUri..............................> <Hash....> <Status> <RTT(ms)..>\n"
            "==========================================================================================\n\n"
            "  Contact:  omnileads/sip:10.66.0.2:5161                   35eab27438 Avail         1.534\n\n"
            "Objects found: 1\n\n")
RELOADS = {"module reload res_pjsip.so": "Module 'res_pjsip.so' reloaded successfully.\n",
           "dialplan reload": "Dialplan reloaded.\n", "core reload": "", "sip reload": ""}


def ami_control(fake, secret=SECRET, timeout=3.0):
    return AsteriskControl(ami=dict(host="127.0.0.1", port=fake.port, username=fake.username, secret=secret),
                           timeout=timeout)


@pytest.mark.parametrize("reply_format", ["output", "follows"])
def test_command_through_ami_in_both_reply_formats(reply_format):
    with FakeAmi(outputs={"pjsip show contacts": CONTACTS}, reply_format=reply_format) as fake:
        output = ami_control(fake).command("pjsip show contacts")
    assert output == CONTACTS
    assert "Avail         1.534" in output
    assert fake.commands == ["pjsip show contacts"]


@pytest.mark.parametrize("what, command", [(None, "core reload"), ("core", "core reload"),
                                           ("pjsip", "module reload res_pjsip.so"), ("sip", "sip reload"),
                                           ("dialplan", "dialplan reload")])
def test_reload_sends_the_command_of_each_kind(what, command):
    with FakeAmi(outputs=RELOADS) as fake:
        ami_control(fake).reload(what)
    assert fake.commands == [command]


@pytest.mark.parametrize("reply_format", ["output", "follows"])
def test_reload_failure_names_the_command_and_the_answer(reply_format):
    outputs = {"module reload res_pjsip.so": "No such module 'res_pjsip.so'\n"}
    with FakeAmi(outputs=outputs, reply_format=reply_format) as fake:
        with pytest.raises(AsteriskError) as failure:
            ami_control(fake).reload("pjsip")
    assert "'module reload res_pjsip.so'" in str(failure.value)
    assert "No such module 'res_pjsip.so'" in str(failure.value)


def test_chan_sip_reload_on_an_asterisk_without_chan_sip_fails_clearly():
    with FakeAmi(outputs={}) as fake:
        with pytest.raises(AsteriskError, match=r"'sip reload'.*No such command 'sip reload'"):
            ami_control(fake).reload("sip")


def test_unknown_reload_kind():
    with pytest.raises(AsteriskError, match="cannot reload 'everything'"):
        AsteriskControl(runner=lambda argv: (0, "", "")).reload("everything")


def test_wrong_secret_is_refused_without_showing_it():
    with FakeAmi() as fake:
        with pytest.raises(AsteriskError) as failure:
            ami_control(fake, secret="not-the-secret").command("core show version")
    text = str(failure.value)
    assert "login as 'isptest' refused: Authentication failed" in text
    assert "not-the-secret" not in text and SECRET not in text
    assert fake.commands == []


def test_silent_server_is_bounded_by_the_timeout():
    with FakeAmi(fault="silent") as fake:
        started = time.monotonic()
        with pytest.raises(AsteriskError, match="no complete reply within 0.5s"):
            ami_control(fake, timeout=0.5).command("core show version")
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("fault, message", [("no_banner", "not an AMI server"),
                                            ("close_after_banner", "connection closed by Asterisk")])
def test_broken_servers(fault, message):
    with FakeAmi(fault=fault) as fake:
        with pytest.raises(AsteriskError, match=message):
            ami_control(fake).command("core show version")


def test_nothing_listening():
    control = AsteriskControl(ami=dict(host="127.0.0.1", port=free_port(), username="u", secret="s"), timeout=2)
    with pytest.raises(AsteriskError, match=r"AMI 127.0.0.1:\d+: cannot connect"):
        control.command("core show version")


def test_client_skips_events_and_matches_action_ids():
    with FakeAmi(outputs={"core show version": "Asterisk 22.10.1\n"}) as fake:
        with AmiClient("127.0.0.1", fake.port, fake.username, SECRET, timeout=3) as client:
            assert client.banner == "Asterisk Call Manager/11.0.0"
            assert client.command("core show version") == "Asterisk 22.10.1\n"
            assert client.command("core show version") == "Asterisk 22.10.1\n"
            client.logoff()


def test_a_field_with_a_line_break_is_refused_before_sending():
    with FakeAmi() as fake:
        with AmiClient("127.0.0.1", fake.port, fake.username, SECRET, timeout=3) as client:
            with pytest.raises(AsteriskError, match="must be one line"):
                client.action("Command", Command="core show version\r\nAction: Originate")


def cli(outputs, rc=0, seen=None):
    def runner(argv):
        if seen is not None:
            seen.append(argv)
        command = argv[argv.index("-rx") + 1]
        if command not in outputs:
            return rc, NO_SUCH % (command, command), ""
        return rc, outputs[command], ""
    return runner


NO_SUCH = "No such command '%s' (type 'core show help %s' for other possible commands)\n"


def test_cli_prefix_and_timeout_wrapper():
    seen = []
    control = AsteriskControl(cli=["ip", "netns", "exec", "pbx", "chroot", "/srv/ast", "asterisk"],
                              runner=cli(RELOADS, seen=seen), timeout=7, timeout_bin="/usr/bin/timeout")
    assert control.reload("pjsip") == "Module 'res_pjsip.so' reloaded successfully.\n"
    assert seen == [["/usr/bin/timeout", "--kill-after=2", "7", "ip", "netns", "exec", "pbx", "chroot", "/srv/ast",
                     "asterisk", "-rx", "module reload res_pjsip.so"]]


def test_cli_failures():
    control = AsteriskControl(runner=cli({}))
    with pytest.raises(AsteriskError, match=r"'dialplan reload' failed \(CLI asterisk\): No such command"):
        control.reload("dialplan")
    down = AsteriskControl(runner=lambda argv: (1, "", "Unable to connect to remote asterisk (does "
                                                       "/var/run/asterisk/asterisk.ctl exist?)\n"))
    with pytest.raises(AsteriskError, match=r"rc=1\): Unable to connect to remote asterisk"):
        down.command("core show version")
    hung = AsteriskControl(runner=lambda argv: (124, "", ""), timeout=3, timeout_bin="/usr/bin/timeout")
    with pytest.raises(AsteriskError, match="no answer within 3s"):
        hung.command("core show version")


def test_a_long_listing_quoting_failure_words_is_not_a_failure():
    history = "No.   Timestamp  (Dir) Address   SIP Message\n00000 1 * <== 10.0.0.2:5060  SIP/2.0 404 Not Found\n" \
              "00001 1 * <== 10.0.0.2:5060  MESSAGE sip:x No such command was not found\n"
    assert AsteriskControl(runner=cli({"pjsip show history": history})).command("pjsip show history") == history


@pytest.mark.parametrize("text", ["", "core reload\nmodule unload res_pjsip.so"])
def test_commands_must_be_one_line(text):
    with pytest.raises(AsteriskError, match="one non-empty line"):
        AsteriskControl(runner=cli({})).command(text)


class FakeModule(object):
    def __init__(self, **params):
        self.params = dict({key: spec.get("default") for key, spec in control_options().items()}, **params)

    def run_command(self, argv, check_rc=False):
        return 0, "Asterisk 22\n", ""

    @staticmethod
    def get_bin_path(name):
        return "/usr/bin/" + name


def test_from_module_picks_ami_when_a_host_is_set():
    assert AsteriskControl.from_module(FakeModule()).via == "CLI asterisk"
    control = AsteriskControl.from_module(FakeModule(ami_host="127.0.0.1", ami_username="u", ami_secret="s"))
    assert control.via == "AMI 127.0.0.1:5038"
    with pytest.raises(AsteriskError, match="ami_secret must be set"):
        AsteriskControl.from_module(FakeModule(ami_host="127.0.0.1", ami_username="u"))
    assert control_options()["ami_secret"]["no_log"] is True
