# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/telephony.yml end to end: one pbx_link, a real Asterisk 22 PBX and OML peer in
namespaces (the lab), and the OML REST API emulator for the routes. A first run converges from
nothing (both ends, both waits), a second run changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.integration.asterisk_lab import asterisk_marks, lab_fixture

pytestmark = asterisk_marks() + [pytest.mark.playbook]
lab = lab_fixture()
SECRET = "Lab-Link-S3cret"


def inventory(lab, oml_api_url):
    pbx_link = lab.pbx_link(SECRET)
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    return {"all": {"vars": {"pbx_link": pbx_link}, "children": {
        "pbx": {"hosts": {"pbx-lab": dict(local, pbx_trunk_config_dir=lab.pbx.etc, pbx_trunk_asterisk_cli=lab.pbx.cli,
                                          pbx_trunk_wait_retries=15, pbx_trunk_wait_delay=1)}},
        "contact_center": {"hosts": {"oml-lab": dict(
            local, omnileads_trunk_config_dir=lab.oml.etc, omnileads_trunk_asterisk_cli=lab.oml.cli,
            omnileads_trunk_api_url=oml_api_url, omnileads_trunk_api_password="api-pass",
            omnileads_trunk_inbound_default_destination={"type": "campaign", "name": "Ventas"},
            omnileads_trunk_wait_retries=15, omnileads_trunk_wait_delay=1)}},
    }}}


def test_both_ends_from_one_link_converge_then_stay(lab, emulator, playbook, tmp_path):
    oml_api = emulator("--source", "omnileads", "--password", "api-pass", "--trunks", "issabel")
    hosts = tmp_path / "hosts.json"
    hosts.write_text(json.dumps(inventory(lab, oml_api.url)))

    first = playbook("telephony.yml", inventory=str(hosts))
    assert first.returncode == 0, first.stdout[-4000:]
    assert SECRET not in first.stdout
    state = oml_api.control("GET", "/_emulator/state")
    assert [(r["nombre"], r["telefono"], r["destino"]["nombre"]) for r in state["inbound"]] == [
        ("pbx_098098", "098098", "Ventas")]
    assert [(r["nombre"], [t["troncal"] for t in r["troncales"]]) for r in state["outbound"]] == [("to_pbx", [1])]
    assert "Avail" in lab.oml.rx("pjsip show contacts") and "Avail" in lab.pbx.rx("pjsip show contacts")
    assert "Dial(PJSIP/098098@omnileads)" in lab.pbx.rx("dialplan show 7001@from-internal")

    second = playbook("telephony.yml", inventory=str(hosts))
    assert second.returncode == 0, second.stdout[-4000:]
    for host in ("pbx-lab", "oml-lab"):
        line = [row for row in second.stdout.splitlines() if row.startswith(host) and " : ok=" in row]
        assert line and "changed=0" in line[0], second.stdout[-3000:]
