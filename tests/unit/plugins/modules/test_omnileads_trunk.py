# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""omnileads_trunk's main() in a temporary config dir; the Asterisk CLI is a small script that
answers like `asterisk -rx` (the outer boundary) and records what it was asked."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.isp.ops.plugins.module_utils.telephony.link import derive
from ansible_collections.isp.ops.plugins.modules import omnileads_trunk

SECRET = "s3cr3t-Link"
TRANSPORTS = """\
[agent-transport]
type=transport
bind=0.0.0.0:5160

[trunk-transport]
type=transport
bind=0.0.0.0:5161
"""
FAKE_CLI = """#!/bin/sh
# fake `asterisk -rx <command>`: records the command, answers like Asterisk 22
echo "$2" >> "{log}"
case "$2" in
  "pjsip show transports")
    printf 'Transport:  <TransportId........>  <Type>  <cos>  <tos>  <BindAddress....>\\n'
    printf '=====================\\n\\n'
    printf 'Transport:  agent-transport           udp      0      0  0.0.0.0:5160\\n'
    printf 'Transport:  trunk-transport           udp      0      0  0.0.0.0:5161\\n\\nObjects found: 2\\n' ;;
  "module reload res_pjsip.so")
    {reload} ;;
  *) echo "No such command '$2'" ;;
esac
"""


@pytest.fixture
def etc(tmp_path):
    directory = tmp_path / "etc"
    directory.mkdir()
    (directory / "oml_pjsip_transports.conf").write_text(TRANSPORTS)
    return directory


def fake_cli(tmp_path, reload_answer="echo \"Module 'res_pjsip.so' reloaded successfully.\""):
    script = tmp_path / "asterisk"
    script.write_text(FAKE_CLI.format(log=tmp_path / "commands.log", reload=reload_answer))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return [str(script)]


def commands(tmp_path):
    log = tmp_path / "commands.log"
    return log.read_text().splitlines() if log.exists() else []


def link(scenario="lan"):
    return derive(dict(scenario=scenario, pbx={"address": "192.0.2.10"}, oml={"address": "192.0.2.20"},
                       credentials={"username": "issabel", "secret": SECRET}))["oml"]


def test_present_writes_the_block_reloads_once_then_is_idempotent(run_module, tmp_path, etc):
    args = dict(link=link(), config_dir=str(etc), asterisk_cli=fake_cli(tmp_path))
    first = run_module(omnileads_trunk.main, args, diff=True)
    assert first["changed"] and first["reloaded"] and first["transports"] == ["agent-transport", "trunk-transport"]
    assert commands(tmp_path) == ["pjsip show transports", "module reload res_pjsip.so"]
    text = (etc / "oml_pjsip_wizard_custom.conf").read_text()
    assert text.startswith("; BEGIN isp.ops omnileads_trunk:issabel\n[issabel]\ntype=wizard\n")
    assert text.count(SECRET) == 2
    assert SECRET not in first["block"] and SECRET not in first["diff"]["after"]
    assert first["diff"]["before"] == "" and "inbound_auth/password=********" in first["diff"]["after"]

    second = run_module(omnileads_trunk.main, args)
    assert not second["changed"] and not second["reloaded"]
    assert commands(tmp_path)[2:] == ["pjsip show transports"]


def test_check_mode_writes_nothing_and_does_not_reload(run_module, tmp_path, etc):
    result = run_module(omnileads_trunk.main, dict(link=link(), config_dir=str(etc), asterisk_cli=fake_cli(tmp_path)),
                        check_mode=True, diff=True)
    assert result["changed"] and "[issabel]" in result["diff"]["after"]
    assert not (etc / "oml_pjsip_wizard_custom.conf").exists()
    assert commands(tmp_path) == ["pjsip show transports"]


def test_text_outside_the_block_is_kept_and_a_change_only_touches_the_block(run_module, tmp_path, etc):
    wizard_file = etc / "oml_pjsip_wizard_custom.conf"
    wizard_file.write_text("; hand edits\n[other](+type=endpoint)\nallow=g722\n")
    args = dict(link=link(), config_dir=str(etc), check_transport="files", reload=False)
    run_module(omnileads_trunk.main, args)
    changed = run_module(omnileads_trunk.main, dict(args, scenario="cloud", check_transport="skip"), diff=True)
    assert changed["changed"]
    assert "transport=trunk-transport" in changed["diff"]["before"]
    assert "transport=trunk-nat-transport" in changed["diff"]["after"]
    text = wizard_file.read_text()
    assert text.startswith("; hand edits\n[other](+type=endpoint)\nallow=g722\n; BEGIN isp.ops omnileads_trunk:issabel\n")
    assert text.count("[issabel]") == 1

    removed = run_module(omnileads_trunk.main, dict(name="issabel", state="absent", config_dir=str(etc), reload=False))
    assert removed["changed"] and wizard_file.read_text() == "; hand edits\n[other](+type=endpoint)\nallow=g722\n"
    assert not run_module(omnileads_trunk.main, dict(name="issabel", state="absent", config_dir=str(etc),
                                                     reload=False))["changed"]


def test_a_missing_transport_fails_before_writing(run_module, tmp_path, etc):
    result = run_module(omnileads_trunk.main, dict(link=link("docker"), config_dir=str(etc),
                                                   asterisk_cli=fake_cli(tmp_path)))
    assert result["failed"]
    assert result["msg"].startswith("transport 'trunk-nat-docker-transport' is not defined in the running Asterisk")
    assert "it has: agent-transport, trunk-transport" in result["msg"]
    assert not (etc / "oml_pjsip_wizard_custom.conf").exists() and "module reload res_pjsip.so" not in commands(tmp_path)


def test_a_same_named_trunk_elsewhere_is_refused(run_module, tmp_path, etc):
    (etc / "oml_pjsip_trunks.conf").write_text("\n[issabel]\ntype=wizard\ntransport=trunk-transport\n")
    result = run_module(omnileads_trunk.main, dict(link=link(), config_dir=str(etc), check_transport="files",
                                                   reload=False))
    assert result["failed"] and "[issabel] is already defined in %s line 2" % (etc / "oml_pjsip_trunks.conf") \
        in result["msg"]


def test_a_failed_reload_is_a_clear_error_after_the_write(run_module, tmp_path, etc):
    refused = "echo 'Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl exist?)'; exit 1"
    cli = fake_cli(tmp_path, reload_answer=refused)
    result = run_module(omnileads_trunk.main, dict(link=link(), config_dir=str(etc), asterisk_cli=cli,
                                                   check_transport="files"))
    assert result["failed"] and result["changed"]
    assert "module reload res_pjsip.so" in result["msg"] and "Unable to connect" in result["msg"]
    assert SECRET not in str(result)


def test_explicit_options_and_secret_never_in_output(run_module, tmp_path, etc):
    result = run_module(omnileads_trunk.main, dict(
        config_dir=str(etc), scenario="lan", name="pbx2", remote_hosts=["198.51.100.7:5060"],
        inbound_username="pbx2", outbound_username="oml", secret=SECRET, codecs=["ulaw"],
        check_transport="files", reload=False), diff=True)
    assert result["changed"] and SECRET not in str(result)
    text = (etc / "oml_pjsip_wizard_custom.conf").read_text()
    assert "outbound_auth/username=oml\noutbound_auth/password=%s\nendpoint/from_user=oml\n" % SECRET in text


def test_an_explicit_outbound_username_overrides_the_links_and_its_from_user(run_module, tmp_path, etc):
    result = run_module(omnileads_trunk.main, dict(link=link(), outbound_username="pbx-peer", config_dir=str(etc),
                                                   check_transport="files", reload=False))
    assert result["changed"]
    text = (etc / "oml_pjsip_wizard_custom.conf").read_text()
    assert "outbound_auth/username=pbx-peer\n" in text and "endpoint/from_user=pbx-peer\n" in text


def test_missing_config_dir_and_incomplete_settings(run_module, tmp_path):
    gone = run_module(omnileads_trunk.main, dict(link=link(), config_dir=str(tmp_path / "nope"),
                                                 check_transport="skip", reload=False))
    assert gone["failed"] and "is not a directory" in gone["msg"]
    partial = run_module(omnileads_trunk.main, dict(scenario="lan", name="x", config_dir=str(tmp_path),
                                                    check_transport="skip", reload=False))
    assert partial["failed"] and "the trunk needs remote_hosts" in partial["msg"]
    assert os.listdir(str(tmp_path)) == []
