# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Issabel modules against a real Asterisk 22 (the two-instance lab in namespaces).

- custom_conf: issabel_trunk (PJSIP; Asterisk 22 has no chan_sip) and issabel_custom_extension
  write into the PBX's config dir and reload through its CLI; the trunk qualifies against the OML
  peer configured from the same pbx_link, and the dialplan holds the custom extensions.
- database: issabel_custom_extension writes rows into a real MariaDB and the AstDB keys into the
  PBX's real AstDB; `amportal a r` is a recording script (the outer boundary).
"""

from __future__ import annotations

import time

import pytest

from ansible_collections.isp.ops.plugins.module_utils.asterisk import conf
from ansible_collections.isp.ops.plugins.module_utils.telephony.link import derive, wizard_lines
from ansible_collections.isp.ops.plugins.modules import issabel_custom_extension, issabel_trunk
from tests.integration.asterisk_lab import AsteriskLab, asterisk_marks
from tests.integration.mariadb import issabel_db, mariadb_server  # noqa: F401  pylint: disable=unused-import
from tests.integration.test_issabel_database import amportal, gui_trunk  # noqa: F401  pylint: disable=unused-import
from tests.telephony_args import issabel_trunk_args

pytestmark = asterisk_marks()


@pytest.fixture(scope="module")
def lab():
    with AsteriskLab() as running:
        yield running


def lab_link(lab, **changes):
    """The lab's pbx_link with the guide's default qualify frequency."""
    link = lab.pbx_link("Lab-S3cret", qualify_frequency=60)
    link.update(changes)
    return link


def configure_oml(lab, pbx_link):
    """The OML peer from the same link (the wizard lines omnileads_trunk writes)."""
    oml = derive(pbx_link)["oml"]
    lab.oml.write("oml_pjsip_wizard_custom.conf", conf.render_section(oml["trunk_name"], wizard_lines(oml)))
    lab.oml.rx("module reload res_pjsip.so")


def link(lab):
    return derive(lab_link(lab))


def trunk_args(pbx, lab, **extra):
    return issabel_trunk_args(pbx, config_dir=lab.pbx.etc, asterisk_cli=lab.pbx.cli, **extra)


def wait_for(probe, timeout=20.0):
    """Poll `probe()` until it returns something truthy (bounded); return its last value."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value and time.monotonic() < deadline:
        time.sleep(0.5)
        value = probe()
    return value


def test_custom_conf_trunk_qualifies_and_dialplan_reaches_it(lab, run_module):
    configure_oml(lab, lab_link(lab))
    pbx = link(lab)["pbx"]

    first = run_module(issabel_trunk.main, trunk_args(pbx, lab))
    assert first["changed"] is True and first["reloaded"] == ["pjsip"], first
    assert run_module(issabel_trunk.main, trunk_args(pbx, lab))["changed"] is False
    assert "omnileads" in lab.pbx.rx("pjsip show endpoint omnileads")

    def available():
        lab.pbx.rx("pjsip qualify omnileads")
        contacts = lab.pbx.rx("pjsip show contacts")
        return "Avail" in contacts and contacts
    assert available_or_log(wait_for(available), lab)

    ext_args = dict(trunk=pbx["trunk_name"], technology="pjsip", extensions=pbx["custom_extensions"],
                    outbound_route=pbx["outbound_route"], config_dir=lab.pbx.etc, asterisk_cli=lab.pbx.cli)
    assert run_module(issabel_custom_extension.main, ext_args)["changed"] is True
    assert run_module(issabel_custom_extension.main, ext_args)["changed"] is False
    plan = lab.pbx.rx("dialplan show 7001@from-internal")
    assert "Dial(PJSIP/098098@omnileads)" in plan
    assert "Dial(PJSIP/${EXTEN}@omnileads)" in lab.pbx.rx("dialplan show 10072@from-internal")

    assert run_module(issabel_custom_extension.main, dict(ext_args, state="absent"))["changed"] is True
    assert "There is no existence of 7001@from-internal" in lab.pbx.rx("dialplan show 7001@from-internal")
    assert run_module(issabel_trunk.main, trunk_args(pbx, lab, state="absent"))["reloaded"] == ["pjsip"]
    assert wait_for(lambda: "omnileads" not in lab.pbx.rx("pjsip show endpoints"), timeout=10)


def available_or_log(contacts, lab):
    assert contacts, "trunk never became Avail; PBX log tail:\n%s" % lab.pbx.read_log()[-3000:]
    return contacts


def test_database_mode_rows_and_astdb(lab, issabel_db, amportal, run_module):  # noqa: F811
    db = issabel_db
    gui_trunk(db, 1, "omnileads")
    db.query("INSERT INTO devices (id, tech, dial, devicetype, user, description, emergency_cid) "
             "VALUES ('7005', 'sip', 'SIP/7005', 'fixed', '7005', 'Reception', '')")
    db.query("INSERT INTO users (extension, name) VALUES ('7005', 'Reception')")
    pbx = link(lab)["pbx"]
    args = dict(trunk="omnileads", technology="sip", mode="database", extensions=pbx["custom_extensions"],
                outbound_route=pbx["outbound_route"], amportal_command=amportal(), asterisk_cli=lab.pbx.cli,
                **db.params)
    before = db.dump()

    checked = run_module(issabel_custom_extension.main, args, check_mode=True, diff=True)
    assert checked["changed"] is True and db.dump() == before
    assert 'database put DEVICE 7001/dial "SIP/omnileads/098098"' in checked["astdb_commands"]
    assert "0 results found" in lab.pbx.rx("database show DEVICE")

    first = run_module(issabel_custom_extension.main, args)
    assert first["changed"] is True and first["route_id"] == 1, first
    assert db.query("SELECT id, tech, dial, devicetype, user, description FROM devices WHERE tech = 'custom' "
                    "ORDER BY id") == [("10061", "custom", "SIP/omnileads/10061", "fixed", "10061", "Adrian Belew"),
                                       ("7001", "custom", "SIP/omnileads/098098", "fixed", "7001", "OML sales")]
    assert db.query("SELECT extension, name, voicemail FROM users WHERE extension = '7001'") == [
        ("7001", "OML sales", "novm")]
    assert db.query("SELECT name FROM outbound_routes") == [("omnileads-agents",)]
    assert db.query("SELECT match_pattern_pass FROM outbound_route_patterns WHERE route_id = 1") == [("1XXX.",)]
    assert db.query("SELECT trunk_id, seq FROM outbound_route_trunks WHERE route_id = 1") == [(1, 0)]
    assert db.query("SELECT seq FROM outbound_route_sequence WHERE route_id = 1") == [(0,)]
    astdb = lab.pbx.rx("database show DEVICE/7001") + lab.pbx.rx("database show AMPUSER/7001")
    for line in ("/DEVICE/7001/dial", "SIP/omnileads/098098", "/DEVICE/7001/type", "/AMPUSER/7001/device",
                 "/AMPUSER/7001/cidname", "OML sales"):
        assert line in astdb
    assert amportal.calls() == ["a r"]

    again = run_module(issabel_custom_extension.main, args)
    assert again["changed"] is False and again["astdb_commands"] == [] and again["route_id"] == 1
    assert amportal.calls() == ["a r"]

    # A key lost from AstDB (e.g. an astdb restored from an old backup) is put back, without amportal.
    lab.pbx.rx("database del DEVICE 7001/dial")
    healed = run_module(issabel_custom_extension.main, args)
    assert healed["astdb_commands"] == ['database put DEVICE 7001/dial "SIP/omnileads/098098"']
    assert amportal.calls() == ["a r"]

    refused = run_module(issabel_custom_extension.main, dict(args, extensions=[{"extension": "7005", "number": "1"}]))
    assert refused.get("failed") and "7005 is already a sip device" in refused["msg"]

    removed = run_module(issabel_custom_extension.main, dict(
        args, state="absent", extensions=pbx["custom_extensions"] + [{"extension": "7005"}]))
    assert removed["changed"] is True
    # Everything is as before, except the "Apply Config" flag (the real amportal clears it).
    assert dict(db.dump(), admin=None) == dict(before, admin=None)
    assert "0 results found" in lab.pbx.rx("database show DEVICE/7001")
    assert "0 results found" in lab.pbx.rx("database show AMPUSER/10061")
    assert len(amportal.calls()) == 2


def test_database_mode_astdb_over_ami(lab, issabel_db, amportal, run_module):  # noqa: F811
    """The same AstDB writes through AMI (`Action: Command`) instead of the CLI."""
    gui_trunk(issabel_db, 1, "omnileads")
    extensions = [{"extension": "7002", "number": "098099", "name": "OML support"}]
    args = dict(trunk="omnileads", mode="database", extensions=extensions,
                amportal_command=amportal(), asterisk_cli=["false"], **dict(issabel_db.params, **lab.pbx.ami))
    result = run_module(issabel_custom_extension.main, args)
    assert result["changed"] is True, result
    assert "SIP/omnileads/098099" in lab.pbx.rx("database show DEVICE/7002")
    assert run_module(issabel_custom_extension.main, args)["changed"] is False
    assert run_module(issabel_custom_extension.main, dict(args, state="absent"))["changed"] is True
    assert "0 results found" in lab.pbx.rx("database show AMPUSER/7002")
