# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/telephony.yml (roles pbx_trunk and omnileads_trunk) against the two real Asterisk 22
peers of the lab: it converges, waits until the trunk qualifies on both sides, changes nothing on a
second run, and when one side's secret differs the role fails naming the wrong secret.

OML's REST routes are left out here (omnileads_trunk_manage_routes: false); the OML API emulator
tests cover them."""

from __future__ import annotations

import json
import re
import sys

from tests.integration.asterisk_lab import asterisk_marks, lab_fixture

pytestmark = asterisk_marks()
lab = lab_fixture()

SECRET = "Playbook-Secret-3"


def inventory(lab, path):
    """JSON is YAML: an inventory of two local hosts whose Asterisks are the lab's."""
    data = {"all": {
        "vars": {"pbx_link": lab.pbx_link(SECRET), "ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {
            "pbx": {"hosts": {"lab-pbx": {
                "pbx_trunk_config_dir": lab.pbx.etc, "pbx_trunk_asterisk_cli": lab.pbx.cli,
                "pbx_trunk_wait_retries": 8, "pbx_trunk_wait_delay": 1}}},
            "contact_center": {"hosts": {"lab-oml": {
                "omnileads_trunk_config_dir": lab.oml.etc, "omnileads_trunk_ami_host": lab.oml.ami_host,
                "omnileads_trunk_ami_username": lab.oml.ami_username,
                "omnileads_trunk_ami_secret": lab.oml.ami_secret,
                "omnileads_trunk_manage_routes": False,
                "omnileads_trunk_wait_retries": 8, "omnileads_trunk_wait_delay": 1}}},
        }}}
    path.write_text(json.dumps(data))
    return str(path)


def changed_counts(output):
    return {host: int(count) for host, count in re.findall(r"^(lab-\w+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def test_playbook_converges_waits_and_is_idempotent(lab, playbook, tmp_path):
    hosts = inventory(lab, tmp_path / "hosts.yml")
    first = playbook("telephony.yml", inventory=hosts)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert changed_counts(first.stdout)["lab-pbx"] >= 2 and changed_counts(first.stdout)["lab-oml"] >= 1
    assert "Avail" in lab.pbx.rx("pjsip show contacts") and "Avail" in lab.oml.rx("pjsip show contacts")

    second = playbook("telephony.yml", inventory=hosts)
    assert second.returncode == 0, second.stdout[-4000:]
    assert changed_counts(second.stdout) == {"lab-pbx": 0, "lab-oml": 0}


def test_role_reports_a_wrong_secret_on_one_side(lab, playbook, tmp_path):
    hosts = inventory(lab, tmp_path / "hosts.yml")
    assert playbook("telephony.yml", inventory=hosts).returncode == 0
    # Someone edits OML's secret by hand: the two sides now disagree.
    wizard = lab.oml.etc + "/oml_pjsip_wizard_custom.conf"
    with open(wizard) as handle:
        text = handle.read()
    lab.oml.write("oml_pjsip_wizard_custom.conf", text.replace("inbound_auth/password=" + SECRET,
                                                               "inbound_auth/password=Edited-By-Hand"))
    assert "reloaded successfully" in lab.oml.rx("module reload res_pjsip.so")
    try:
        failed = playbook("telephony.yml", "--tags", "pbx", inventory=hosts)
        assert failed.returncode != 0
        assert "rejects our credentials" in failed.stdout and "wrong secret" in failed.stdout, failed.stdout[-4000:]
        assert SECRET not in failed.stdout
    finally:
        # The next full run puts OML's block back from the one definition.
        repaired = playbook("telephony.yml", inventory=hosts)
    assert repaired.returncode == 0, repaired.stdout[-4000:]
