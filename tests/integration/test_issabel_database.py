# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""issabel_trunk and issabel_custom_extension in database mode against a real MariaDB loaded with
the Issabel `asterisk` schema subset. `amportal a r` is the outer boundary: a recording script."""

from __future__ import annotations

import stat

import pytest

from ansible_collections.isp.ops.plugins.modules import issabel_trunk
from tests.integration.mariadb import issabel_db, mariadb_server  # noqa: F401  pylint: disable=unused-import

OML = "192.0.2.20"


def gui_trunk(db, trunkid, name):
    """A trunk as the Issabel GUI saved it (not ours: must never change)."""
    db.query("INSERT INTO trunks (trunkid, name, tech, outcid, keepcid, maxchans, failscript, dialoutprefix, "
             "channelid, usercontext, provider, disabled, `continue`) VALUES "
             "(%s, %s, 'sip', '', 'off', '', '', '', %s, '', '', 'off', 'off')", (trunkid, name, name))
    for flags, (key, value) in enumerate([("account", name), ("host", "198.51.100.7"), ("type", "peer")], start=2):
        db.query("INSERT INTO sip (id, keyword, data, flags) VALUES (%s, %s, %s, %s)",
                 ("tr-peer-%d" % trunkid, key, value, flags))


@pytest.fixture
def amportal(tmp_path):
    """A stand-in for `amportal a r` that records each call; `fail=True` makes it report a failure."""
    log = tmp_path / "amportal.log"

    def make(fail=False):
        script = tmp_path / ("amportal-fail" if fail else "amportal")
        body = "echo \"$@\" >> %s\n" % log
        body += "echo 'retrieve_conf failed, config not applied'\nexit 1\n" if fail else "echo 'Reloading done'\n"
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        return [str(script), "a", "r"]

    make.calls = lambda: log.read_text().splitlines() if log.exists() else []
    return make


def trunk_args(db, amportal_command, **extra):
    args = dict(name="omnileads", mode="database", host=OML, port=5161, username="issabel", secret="S3cret",
                codecs=["alaw"], amportal_command=amportal_command, **db.params)
    args.update(extra)
    return args


def ours(db, trunkid):
    return (db.query("SELECT * FROM trunks WHERE trunkid = %s", (trunkid,)),
            db.query("SELECT keyword, data, flags FROM sip WHERE id = %s ORDER BY flags", ("tr-peer-%d" % trunkid,)))


def test_trunk_rows_next_free_id_idempotent_absent(issabel_db, amportal, run_module):
    db = issabel_db
    gui_trunk(db, 1, "provider-a")
    gui_trunk(db, 3, "provider-b")
    untouched = {t: db.dump()[t] for t in ("trunks", "sip")}
    command = amportal()

    first = run_module(issabel_trunk.main, trunk_args(db, command), diff=True)
    assert first["changed"] is True and first["trunk_id"] == 2, first
    trunk_rows, sip_rows = ours(db, 2)
    assert trunk_rows == [(2, "omnileads", "sip", "", "off", "", "", "", "omnileads", "", "", "off", "off")]
    assert sip_rows == [("account", "omnileads", 2), ("type", "friend", 3), ("host", OML, 4), ("port", "5161", 5),
                        ("disallow", "all", 6), ("allow", "alaw", 7), ("qualify", "yes", 8), ("secret", "S3cret", 9),
                        ("fromuser", "issabel", 10), ("defaultuser", "issabel", 11), ("context", "from-internal", 12)]
    assert db.query("SELECT value FROM admin WHERE variable = 'need_reload'") == [("true",)]
    assert amportal.calls() == ["a r"]
    assert "tr-peer-2" in first["diff"]["after"] and first["diff"]["before"] == ""
    assert "S3cret" not in str(first["diff"])

    second = run_module(issabel_trunk.main, trunk_args(db, command))
    assert second["changed"] is False and second["trunk_id"] == 2
    assert amportal.calls() == ["a r"]

    before = db.dump()
    checked = run_module(issabel_trunk.main, trunk_args(db, command, port=5162), check_mode=True, diff=True)
    assert checked["changed"] is True and "keyword=port, data=5161" in checked["diff"]["before"]
    assert db.dump() == before and amportal.calls() == ["a r"]

    updated = run_module(issabel_trunk.main, trunk_args(db, command, port=5162))
    assert updated["changed"] is True and updated["trunk_id"] == 2
    assert ("port", "5162", 5) in ours(db, 2)[1]
    assert len(amportal.calls()) == 2

    removed = run_module(issabel_trunk.main, trunk_args(db, command, state="absent"))
    assert removed["changed"] is True
    assert ours(db, 2) == ([], [])
    assert {t: db.dump()[t] for t in ("trunks", "sip")} == untouched
    assert run_module(issabel_trunk.main, trunk_args(db, command, state="absent"))["changed"] is False
    assert len(amportal.calls()) == 3


def test_pjsip_trunk_rows(issabel_db, amportal, run_module):
    result = run_module(issabel_trunk.main, trunk_args(issabel_db, amportal(), technology="pjsip",
                                                       codecs=["alaw", "ulaw"]))
    assert result["trunk_id"] == 1
    assert issabel_db.query("SELECT tech, channelid FROM trunks") == [("pjsip", "omnileads")]
    rows = dict(issabel_db.query("SELECT keyword, data FROM sip WHERE id = 'pjsip-1'"))
    assert rows["server"] == OML + ":5161" and rows["codecs"] == "alaw,ulaw" and rows["match"] == OML
    # One auth object for both directions in Issabel: OML sends another user name (the trunk name),
    # so the PBX authenticates outbound only and identifies OML by address.
    assert rows["authentication"] == "outbound" and rows["registration"] == "none"
    assert rows["username"] == rows["from_user"] == "issabel"
    same_user = run_module(issabel_trunk.main, trunk_args(issabel_db, amportal(), technology="pjsip",
                                                          codecs=["alaw", "ulaw"], peer_username="issabel"))
    assert same_user["changed"] is True
    assert issabel_db.query("SELECT data FROM sip WHERE id = 'pjsip-1' AND keyword = 'authentication'") == [("both",)]
    switched = run_module(issabel_trunk.main, trunk_args(issabel_db, amportal()))
    assert switched["changed"] is True and switched["trunk_id"] == 1
    assert issabel_db.query("SELECT COUNT(*) FROM sip WHERE id = 'pjsip-1'") == [(0,)]


def test_a_failed_apply_is_reported(issabel_db, amportal, run_module):
    result = run_module(issabel_trunk.main, trunk_args(issabel_db, amportal(fail=True)))
    assert result.get("failed") and "did not apply" in result["msg"] and "retrieve_conf failed" in result["msg"]
    # The rows are committed (the GUI shows "Apply Config"); a rerun does not re-apply by itself.
    assert issabel_db.query("SELECT value FROM admin WHERE variable = 'need_reload'") == [("true",)]


def test_a_trunk_of_another_technology_is_left_alone(issabel_db, amportal, run_module):
    issabel_db.query("INSERT INTO trunks (trunkid, name, tech, channelid) VALUES (1, 'omnileads', 'iax2', 'omnileads')")
    result = run_module(issabel_trunk.main, trunk_args(issabel_db, amportal()))
    assert result.get("failed") and "iax2 trunk" in result["msg"]
    assert amportal.calls() == []


def test_bad_credentials_name_the_database(issabel_db, amportal, run_module):
    args = trunk_args(issabel_db, amportal(), db_password="wrong")
    result = run_module(issabel_trunk.main, args)
    assert result.get("failed") and "cannot connect to database %s" % issabel_db.name in result["msg"]
    assert "Access denied" in result["msg"]
