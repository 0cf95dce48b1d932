# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""omnileads_trunk on a real Asterisk 22 OML peer (the two-instance lab in namespaces).

Both ends come from one pbx_link through the project's modules: issabel_trunk (PJSIP) on the
PBX, omnileads_trunk on OML. Proved here: the transport check against the running Asterisk, the
reload that makes the wizard endpoint appear, the trunk qualifying both ways, a call from the PBX
to DID 098098 arriving in OML's from-pbx context, and a wrong secret on the OML side reported by
the omnileads_trunk role's bounded wait with asterisk_info's diagnosis.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.isp.ops.plugins.module_utils.telephony.link import derive
from ansible_collections.isp.ops.plugins.modules import asterisk_info, issabel_trunk, omnileads_trunk
from tests.integration.asterisk_lab import asterisk_marks, lab_fixture, wait_for
from tests.telephony_args import issabel_trunk_args

pytestmark = asterisk_marks()
lab = lab_fixture()
SECRET = "Lab-Oml-S3cret"


def read(path):
    return open(path).read() if os.path.exists(path) else None


def sides(lab):
    return derive(lab.pbx_link(SECRET, dids=["098098"]))


def pbx_trunk(run_module, lab, pbx):
    result = run_module(issabel_trunk.main, issabel_trunk_args(pbx, config_dir=lab.pbx.etc, asterisk_cli=lab.pbx.cli))
    assert "failed" not in result, result.get("msg")


def trunk_status(run_module, instance, name):
    result = run_module(asterisk_info.main, dict(name=name, technology="pjsip", asterisk_cli=instance.cli))
    assert "failed" not in result, result.get("msg")
    return result["trunk"]


def trunk_up(run_module, instance, name):
    trunk = trunk_status(run_module, instance, name)
    return trunk if trunk["up"] else None


def test_trunk_from_the_link_qualifies_both_ways_and_a_did_call_reaches_from_pbx(lab, run_module):
    link = sides(lab)
    args = dict(link=link["oml"], config_dir=lab.oml.etc, asterisk_cli=lab.oml.cli)
    first = run_module(omnileads_trunk.main, args, diff=True)
    assert first.get("failed") is None, first.get("msg")
    assert first["changed"] and first["reloaded"] and "trunk-transport" in first["transports"]
    assert SECRET not in json.dumps(first)
    endpoint = lab.oml.rx("pjsip show endpoint issabel")
    assert "trunk-transport" in endpoint and "from-pbx" in endpoint
    again = run_module(omnileads_trunk.main, args)
    assert again["changed"] is False and again["reloaded"] is False

    pbx_trunk(run_module, lab, link["pbx"])
    up_on_oml = wait_for(lambda: trunk_up(run_module, lab.oml, "issabel"), timeout=30, what="OML trunk issabel up")
    up_on_pbx = wait_for(lambda: trunk_up(run_module, lab.pbx, "omnileads"), timeout=30, what="PBX trunk omnileads up")
    assert up_on_oml["status"] == "Avail" and up_on_oml["rtt_ms"] is not None
    assert up_on_pbx["status"] == "Avail"

    # The PBX dials the DID over the trunk, authenticating with the link's one secret.
    lab.pbx.rx("channel originate PJSIP/098098@omnileads extension s@lab-park")
    arrival = wait_for(lambda: "OML-ARRIVAL did 098098" in lab.oml.read_log(), timeout=20,
                       what="the DID call in OML's from-pbx context")
    assert arrival
    # An agent: SIP extension 1006 followed by agent id 1 (omlacd takes ${EXTEN:4} as the agent id).
    lab.pbx.rx("channel originate PJSIP/10061@omnileads extension s@lab-park")
    assert wait_for(lambda: "OML-ARRIVAL agent 1 via 10061" in lab.oml.read_log(), timeout=20,
                    what="the agent call in OML's from-pbx context")


def test_a_transport_the_running_asterisk_lacks_is_refused_before_writing(lab, run_module):
    link = sides(lab)
    wizard_file = os.path.join(lab.oml.etc, "oml_pjsip_wizard_custom.conf")
    before = read(wizard_file)
    result = run_module(omnileads_trunk.main, dict(link=link["oml"], scenario="docker", config_dir=lab.oml.etc,
                                                   asterisk_cli=lab.oml.cli))
    assert result["failed"]
    assert result["msg"].startswith("transport 'trunk-nat-docker-transport' is not defined in the running Asterisk")
    assert "agent-transport, trunk-transport" in result["msg"]
    after = read(wizard_file)
    assert after == before


@pytest.mark.playbook
def test_the_role_reports_a_wrong_secret_with_the_diagnosis(lab, run_module, playbook, tmp_path):
    link = sides(lab)
    pbx_trunk(run_module, lab, link["pbx"])
    pbx_link = lab.pbx_link("Not-The-PBX-Secret", dids=["098098"])
    inventory = tmp_path / "hosts.json"
    inventory.write_text(json.dumps({"contact_center": {"hosts": {"oml-lab": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "pbx_link": pbx_link, "omnileads_trunk_config_dir": lab.oml.etc,
        "omnileads_trunk_asterisk_cli": lab.oml.cli, "omnileads_trunk_manage_routes": False,
        "omnileads_trunk_wait_retries": 3, "omnileads_trunk_wait_delay": 1}}}}))
    play = tmp_path / "oml.yml"
    play.write_text("- hosts: contact_center\n  gather_facts: false\n  roles: [isp.ops.omnileads_trunk]\n")
    run = playbook(str(play), inventory=str(inventory))
    assert run.returncode != 0, run.stdout[-3000:]
    assert "trunk issabel to the PBX at %s:%d is not up after 3 checks" % (lab.pbx.address, lab.pbx.sip_port) \
        in " ".join(run.stdout.split()), run.stdout[-3000:]
    assert "rejects our credentials (401/403 after the authenticated retry): wrong secret or username" in \
        " ".join(run.stdout.split()), run.stdout[-3000:]
    assert "Not-The-PBX-Secret" not in run.stdout

    # Put the right secret back: the same role run converges and its wait passes.
    pbx_link["credentials"]["secret"] = SECRET
    inventory.write_text(inventory.read_text().replace("Not-The-PBX-Secret", SECRET))
    fixed = playbook(str(play), inventory=str(inventory))
    assert fixed.returncode == 0, fixed.stdout[-3000:]
