# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The example inventory is complete and parses with every playbook, and two shapers that keep
different top-level sites of one CRM split its subscribers without overlap or loss."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.integration.conftest import ROOT, VENV_BIN
from tests.integration.crm_source_checks import rows, run, start_crm

EXAMPLE = os.path.join(ROOT, "inventories", "example", "hosts.yml")
PLAYBOOKS = ("site.yml", "shapers.yml", "crm_sync.yml", "billing.yml", "billing_action.yml", "telephony.yml")


def ansible(tool, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([os.path.join(VENV_BIN, tool)] + list(args), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)


def test_example_inventory_has_the_four_groups_and_two_split_shapers():
    listed = ansible("ansible-inventory", "-i", EXAMPLE, "--list")
    assert listed.returncode == 0, listed.stderr
    inventory = json.loads(listed.stdout)
    for group in ("shapers", "billing", "pbx", "contact_center"):
        assert inventory[group]["hosts"], group
    shapers = inventory["shapers"]["hosts"]
    assert len(shapers) == 2
    kept = [set(inventory["_meta"]["hostvars"][host]["crm_keep_top_level"]) for host in shapers]
    assert kept[0] and kept[1] and not kept[0] & kept[1]
    # Secrets only as vault placeholders, never as values.
    for host, hostvars in inventory["_meta"]["hostvars"].items():
        for name in ("crm_token", "ubilling_serial", "omnileads_trunk_api_password"):
            if name in hostvars:
                assert hostvars[name].startswith("{{ vault_"), (host, name)
        if "pbx_link" in hostvars:
            assert hostvars["pbx_link"]["credentials"]["secret"].startswith("{{ vault_")


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_every_playbook_parses_against_the_example_inventory(name):
    checked = ansible("ansible-playbook", "--syntax-check", "-i", EXAMPLE, os.path.join("playbooks", name))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_site_yml_plays_are_tagged_by_capability():
    listed = ansible("ansible-playbook", "--list-tags", "-i", EXAMPLE, "playbooks/site.yml")
    assert listed.returncode == 0, listed.stderr
    tags = set()
    for line in listed.stdout.splitlines():
        if "TASK TAGS:" in line or "TAGS:" in line:
            tags.update(tag.strip() for tag in line.split("[", 1)[1].rstrip("]").split(","))
    assert {"crm", "shaper", "crm_sync", "billing", "telephony", "pbx", "contact_center"} <= tags


def test_two_shapers_split_one_crm_by_top_level_site(emulator, tmp_path):
    crm = start_crm(emulator, "uisp", 300, "--token", "split-token")
    whole, north, south = (tmp_path / name for name in ("whole", "north", "south"))
    for out in (whole, north, south):
        out.mkdir()
    common = dict(token="split-token", strategy="full", root_site="Core")
    assert not run("uisp", crm.url, whole, **common).get("failed")
    top_level = sorted(json.loads((whole / "network.json").read_text()))
    assert len(top_level) >= 2
    half = len(top_level) // 2
    for out, keep in ((north, top_level[:half]), (south, top_level[half:])):
        result = run("uisp", crm.url, out, keep_top_level=keep, **common)
        assert not result.get("failed"), result.get("msg")
        assert sorted(json.loads((out / "network.json").read_text())) == sorted(keep)

    def circuits(out):
        return set(row["Circuit ID"] for row in rows(out))

    assert circuits(north) and circuits(south)
    assert not circuits(north) & circuits(south)
    # Circuits hanging under a top-level node are split; none is lost (unparented ones stay
    # with neither, as keep_top_level says).
    parented = set(row["Circuit ID"] for row in rows(whole) if row["Parent Node"])
    assert parented <= circuits(north) | circuits(south)
