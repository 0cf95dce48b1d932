# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/shapers.yml through ansible-playbook against the UISP and Splynx emulators."""

from __future__ import annotations

import json

import pytest

from tests.integration.crm_source_checks import files

pytestmark = pytest.mark.playbook

TOKEN = "uisp-integration-token-5f0c2a9d"
SECRET = "splynx-integration-secret-77aa1e"


def test_uisp_end_to_end(emulator, playbook, recap, out):
    crm = emulator("--source", "uisp", "--subscribers", "150", "--token", TOKEN)
    extra = ["-e", "crm_url=%s" % crm.url, "-e", "crm_token=%s" % TOKEN, "-e", "shaper_data_dir=%s" % out]

    first = playbook("shapers.yml", *extra, "--tags", "crm")
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first.stdout)["changed"] == 1
    network = json.loads((out / "network.json").read_text())
    # The lab's route overrides make Site 3 hang under Site 2, not on its direct link to Site 1.
    assert "Site 3" in _find(network, "Site 2")["children"]
    assert "Site 3" not in _find(network, "Site 1")["children"]
    assert (out / "graph.svg").read_text().lstrip().startswith(("<?xml", "<svg"))

    second = playbook("shapers.yml", *extra, "--tags", "crm", "-vvv")
    assert second.returncode == 0, second.stdout[-3000:]
    assert recap(second.stdout)["changed"] == 0
    assert TOKEN not in second.stdout + second.stderr

    before = files(out)
    check = playbook("shapers.yml", *extra, "--tags", "crm", "-e", "crm_suspended_strategy=ignore", "--check", "--diff")
    assert check.returncode == 0, check.stdout[-3000:]
    assert recap(check.stdout)["changed"] == 1
    assert "-circuit " in check.stdout and "+circuit " not in check.stdout
    assert files(out) == before

    crm.control("POST", "/_emulator/faults", {"path": "/nms/api/v2.1/devices", "kind": "500"})
    failed = playbook("shapers.yml", *extra, "--tags", "crm", "-e", "crm_retries=0")
    assert failed.returncode == 2
    assert "UISP /nms/api/v2.1/devices: HTTP 500" in failed.stdout
    assert files(out) == before
    assert TOKEN not in failed.stdout + failed.stderr


def test_splynx_end_to_end(emulator, playbook, recap, out):
    crm = emulator("--source", "splynx", "--subscribers", "80", "--api-key", "lab", "--api-secret", SECRET)
    extra = ["-e", "crm_source=splynx", "-e", "crm_url=%s" % crm.url, "-e", "crm_api_key=lab",
             "-e", "crm_api_secret=%s" % SECRET, "-e", "crm_strategy=ap_site", "-e", "crm_root_site=''",
             "-e", "crm_route_overrides=''", "-e", "shaper_data_dir=%s" % out]
    first = playbook("shapers.yml", *extra, "--tags", "crm", "-vvv")
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first.stdout)["changed"] == 1
    header = (out / "ShapedDevices.csv").read_text().splitlines()[0]
    assert header.startswith("Circuit ID,Circuit Name,Device ID")
    assert SECRET not in first.stdout + first.stderr
    again = playbook("shapers.yml", *extra, "--tags", "crm")
    assert recap(again.stdout)["changed"] == 0


def _find(tree, name):
    for key, node in tree.items():
        if key == name:
            return node
        found = _find(node.get("children") or {}, name)
        if found is not None:
            return found
    return None
