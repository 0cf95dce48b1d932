# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""issabel_trunk in custom_conf mode: the chan_sip peer checked key by key against the OMniLeads
guide's three Issabel trunks, PJSIP objects, managed block, idempotence, check and diff, reloads."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.isp.ops.plugins.module_utils.asterisk import conf
from ansible_collections.isp.ops.plugins.module_utils.telephony.link import derive
from ansible_collections.isp.ops.plugins.modules import issabel_trunk
from tests.telephony_args import issabel_trunk_args

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
PBX, OML = "192.0.2.10", "192.0.2.20"
HAND_WRITTEN = "; hand-written by the operator\n[provider](!)\ntype=peer\n\n[itsp](provider)\nhost=198.51.100.1\n"


def seed_trunks():
    with open(os.path.join(FIXTURES, "seed_issabel_trunks.conf"), encoding="utf-8") as handle:
        return conf.parse(handle.read())


def trunk_args(pbx, config_dir, **extra):
    return issabel_trunk_args(pbx, config_dir=str(config_dir), reload=False, **extra)


@pytest.mark.parametrize("scenario", ["lan", "cloud", "docker"])
def test_chan_sip_peer_has_every_key_of_the_seed(tmp_path, run_module, scenario):
    link = {"scenario": scenario, "pbx": {"address": PBX}, "credentials": {"username": "issabel", "secret": "S3cret"},
            "codecs": ["alaw"]}
    if scenario != "docker":
        link["oml"] = {"address": OML}
    pbx = derive(link)["pbx"]
    result = run_module(issabel_trunk.main, trunk_args(pbx, tmp_path))
    assert result["changed"] is True, result
    written = conf.parse((tmp_path / "sip_custom.conf").read_text()).section("omnileads")
    seed = seed_trunks().section("seed-" + scenario)
    # The seed's placeholders, and its secret: the guide gives the two sides different secrets in
    # the LAN/cloud examples (omnileads vs issabelOML); here both sides share the link's one secret.
    expected = [(key, {"host": OML if scenario != "docker" else PBX, "secret": "S3cret"}.get(key, value))
                for key, value in seed.items]
    assert written.items == expected
    assert not (tmp_path / "sip_additional.conf").exists()
    assert not (tmp_path / "pjsip_custom.conf").exists()


def test_non_default_dtmf_and_qualify_add_chan_sip_keys(tmp_path, run_module):
    args = dict(name="omnileads", host=OML, port=5060, secret="x", dtmf_mode="info", qualify_frequency=30,
                config_dir=str(tmp_path), reload=False)
    run_module(issabel_trunk.main, args)
    section = conf.parse((tmp_path / "sip_custom.conf").read_text()).section("omnileads")
    assert section.get("dtmfmode") == "info" and section.get("qualifyfreq") == "30"
    assert "fromuser" not in section.keys()


def test_pjsip_objects(tmp_path, run_module):
    pbx = derive({"scenario": "lan", "pbx": {"address": PBX, "technology": "pjsip", "transport": "transport-udp"},
                  "oml": {"address": OML, "port": 5060}, "credentials": {"username": "issabel", "secret": "S3"}})["pbx"]
    run_module(issabel_trunk.main, trunk_args(pbx, tmp_path, transport="transport-udp"))
    parsed = conf.parse((tmp_path / "pjsip_custom.conf").read_text())
    by_type = {(s.name, s.get("type")): s for s in parsed.sections}
    assert len(by_type) == len(parsed.sections) == 5  # no duplicate (name, type): Asterisk would reject all
    endpoint = by_type[("omnileads", "endpoint")]
    assert endpoint.get("transport") == "transport-udp" and endpoint.get("aors") == "omnileads"
    assert by_type[("omnileads", "aor")].get("contact") == "sip:%s:5060" % OML
    assert by_type[("omnileads-in", "auth")].get("username") == "omnileads"   # what OML sends
    assert by_type[("omnileads-out", "auth")].get("username") == "issabel"    # what we send
    assert by_type[("omnileads", "identify")].get("match") == OML
    assert not (tmp_path / "sip_custom.conf").exists()


def test_idempotent_keeps_the_rest_of_the_file_and_removes_cleanly(tmp_path, run_module):
    path = tmp_path / "sip_custom.conf"
    path.write_text(HAND_WRITTEN)
    args = dict(name="omnileads", host=OML, port=5161, username="issabel", secret="S3", config_dir=str(tmp_path),
                reload=False)
    assert run_module(issabel_trunk.main, args)["changed"] is True
    assert path.read_text().startswith(HAND_WRITTEN)
    assert run_module(issabel_trunk.main, args)["changed"] is False
    changed = run_module(issabel_trunk.main, dict(args, port=5162), diff=True)
    assert changed["changed"] is True
    assert "port=5161" in changed["diff"][0]["before"] and "port=5162" in changed["diff"][0]["after"]
    assert "S3" not in str(changed["diff"])  # the secret is masked in the diff
    removed = run_module(issabel_trunk.main, dict(args, state="absent"))
    assert removed["changed"] is True and path.read_text() == HAND_WRITTEN
    assert run_module(issabel_trunk.main, dict(args, state="absent"))["changed"] is False


def test_check_mode_reports_and_writes_nothing(tmp_path, run_module):
    args = dict(name="omnileads", host=OML, secret="S3", config_dir=str(tmp_path), reload=False)
    result = run_module(issabel_trunk.main, args, check_mode=True, diff=True)
    assert result["changed"] is True and result["files"] == []
    assert "[omnileads]" in result["diff"][0]["after"] and result["diff"][0]["before"] == ""
    assert os.listdir(tmp_path) == []


def test_switching_technology_moves_the_trunk(tmp_path, run_module):
    args = dict(name="omnileads", host=OML, secret="S3", config_dir=str(tmp_path), reload=False)
    run_module(issabel_trunk.main, args)
    result = run_module(issabel_trunk.main, dict(args, technology="pjsip"))
    assert result["changed"] is True
    assert conf.find_block((tmp_path / "sip_custom.conf").read_text(), "trunk/omnileads") is None
    assert "type=endpoint" in (tmp_path / "pjsip_custom.conf").read_text()


@pytest.mark.parametrize("filename, text", [
    ("sip_additional.conf", "; generated by IssabelPBX\n[omnileads]\ntype=friend\n"),
    ("sip_custom.conf", "[omnileads]\nhost=203.0.113.9\n"),
])
def test_name_taken_by_a_gui_or_hand_written_peer_is_refused(tmp_path, run_module, filename, text):
    (tmp_path / filename).write_text(text)
    result = run_module(issabel_trunk.main, dict(name="omnileads", host=OML, secret="S3", config_dir=str(tmp_path),
                                                 reload=False))
    assert result.get("failed") and "already defined in %s" % (tmp_path / filename) in result["msg"]
    assert (tmp_path / filename).read_text() == text


@pytest.mark.parametrize("extra, message", [
    (dict(secret="a;b"), "secret: must not contain"),
    (dict(name="bad name"), "name: 'bad name' is not a valid trunk name"),
    (dict(port=0), "port: 0 is outside"),
    (dict(codecs=["alaw", "G.729!"]), "codecs:"),
    (dict(host=None), "host is required with state=present"),
])
def test_bad_options_fail_before_writing(tmp_path, run_module, extra, message):
    args = dict(dict(name="omnileads", host=OML, secret="S3", config_dir=str(tmp_path), reload=False), **extra)
    result = run_module(issabel_trunk.main, args)
    assert result.get("failed") and message in result["msg"], result
    assert os.listdir(tmp_path) == []


def recording_cli(tmp_path, reply):
    """An `asterisk` stand-in for the CLI boundary: records its argv, prints `reply`."""
    script = tmp_path / "fake-asterisk"
    log = tmp_path / "cli.log"
    script.write_text("#!/bin/sh\necho \"$@\" >> %s\nprintf '%%s\\n' '%s'\n" % (log, reply))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return [str(script)], log


def test_reload_goes_through_the_asterisk_cli(tmp_path, run_module):
    etc = tmp_path / "etc"
    etc.mkdir()
    cli, log = recording_cli(tmp_path, "Module 'chan_sip.so' reloaded.")
    args = dict(name="omnileads", host=OML, secret="S3", config_dir=str(etc), asterisk_cli=cli)
    result = run_module(issabel_trunk.main, args)
    assert result["reloaded"] == ["sip"] and log.read_text().strip().endswith("-rx sip reload")
    assert run_module(issabel_trunk.main, args)["reloaded"] == []


def test_reload_failure_is_a_clear_error(tmp_path, run_module):
    etc = tmp_path / "etc"
    etc.mkdir()
    cli, log = recording_cli(tmp_path, "No such command 'sip reload' (type 'core show help sip' for other help)")
    result = run_module(issabel_trunk.main, dict(name="omnileads", host=OML, secret="S3", config_dir=str(etc),
                                                 asterisk_cli=cli))
    assert result.get("failed") and "sip reload" in result["msg"] and "No such command" in result["msg"]
