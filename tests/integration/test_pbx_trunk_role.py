# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role isp.ops.pbx_trunk through ansible-playbook against a real Asterisk 22 PBX (the namespace lab),
with the OML peer configured from the same pbx_link: the wait sees the trunk qualify, a second run
changes nothing, and a wrong secret on the OML side makes the role fail with the likely cause."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.integration.asterisk_lab import AsteriskLab, asterisk_marks
from tests.integration.conftest import ROOT, VENV_BIN, play_recap
from tests.integration.test_issabel_asterisk import configure_oml, lab_link

pytestmark = asterisk_marks() + [pytest.mark.playbook]

PLAY = """\
- name: Issabel side of the link
  hosts: pbx
  gather_facts: false
  roles:
    - role: isp.ops.pbx_trunk
"""


@pytest.fixture(scope="module")
def lab():
    with AsteriskLab() as running:
        yield running


def pbx_link(lab):
    return lab_link(lab, credentials={"username": "issabel", "secret": "Role-S3cret"}, agents="all")


def run_role(tmp_path, lab, link, retries=10):
    inventory = {"all": {"children": {"pbx": {"hosts": {"pbx-lab": {
        "ansible_connection": "local", "ansible_python_interpreter": os.path.join(VENV_BIN, "python"),
        "pbx_link": link, "pbx_trunk_config_dir": lab.pbx.etc, "pbx_trunk_asterisk_cli": lab.pbx.cli,
        "pbx_trunk_wait_retries": retries, "pbx_trunk_wait_delay": 1}}}}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "play.yml").write_text(PLAY)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_ROLES_PATH=os.path.join(ROOT, "roles"), PATH=VENV_BIN + os.pathsep + os.environ["PATH"])
    return subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", str(tmp_path / "inventory.json"),
                           str(tmp_path / "play.yml")], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL, check=False)


def test_role_waits_for_the_trunk_then_is_idempotent(lab, tmp_path):
    link = pbx_link(lab)
    configure_oml(lab, link)
    first = run_role(tmp_path, lab, link)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert play_recap(first.stdout)["changed"] == 2
    assert "Avail" in lab.pbx.rx("pjsip show contacts")
    assert "Dial(PJSIP/098098@omnileads)" in lab.pbx.rx("dialplan show 7001@from-internal")
    second = run_role(tmp_path, lab, link)
    assert second.returncode == 0 and play_recap(second.stdout)["changed"] == 0, second.stdout[-4000:]


def test_wrong_secret_on_the_oml_side_fails_with_the_cause(lab, tmp_path):
    link = pbx_link(lab)
    configure_oml(lab, dict(link, credentials={"username": "issabel", "secret": "not-the-same"}))
    failed = run_role(tmp_path, lab, link, retries=3)
    assert failed.returncode != 0
    message = failed.stdout[failed.stdout.find("Fail with the trunk's status"):]
    assert "trunk omnileads to OML at %s:%d is not up" % (lab.oml.address, lab.oml.sip_port) in message
    assert "secret" in message, message[-3000:]
    assert "Role-S3cret" not in failed.stdout and "not-the-same" not in failed.stdout
