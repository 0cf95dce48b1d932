# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm_topology source=netzur against the Netzur emulator process, and through ansible-playbook."""

from __future__ import annotations

import json

import pytest

from tests.emulators.labnet import generate
from tests.emulators.netzur import PATH
from tests.integration.crm_source_checks import (
    assert_every_fault_fails_cleanly, assert_idempotent, files, rows, run, start_crm)

API_KEY = "netzur-integration-key-41c9e2"
SUBSCRIBERS = 90


@pytest.fixture
def crm(emulator):
    return start_crm(emulator, "netzur", SUBSCRIBERS, "--api-key", API_KEY)


def test_zones_and_customers_in_the_files(crm, out):
    network = generate(SUBSCRIBERS, 1)
    first = assert_idempotent("netzur", crm.url + PATH, out, api_key=API_KEY, timeout_secs=1)
    written = dict((row["Circuit ID"], row) for row in rows(out))
    expected = dict(("netzur_%d" % s.id, s) for s in network.expected_active())
    assert set(written) <= set(expected) and len(set(expected) - set(written)) <= 1  # one loses its only IP
    for circuit_id, row in written.items():
        subscriber = expected[circuit_id]
        zone = network.site(network.equipment_by_id(subscriber.ap_id).site_id).name
        assert (row["Circuit Name"], row["Parent Node"]) == (subscriber.name, zone)
        assert float(row["Download Max Mbps"]) == round(subscriber.plan.download_mbps * 1.15, 2)
        assert float(row["Upload Min Mbps"]) == round(subscriber.plan.upload_mbps * 0.98, 2)
    zones = json.loads((out / "network.json").read_text())
    assert zones["Tower North"]["downloadBandwidthMbps"] == network.site_named("Tower North").download_mbps
    assert first["stats"]["circuits"] == len(written)


def test_every_fault_fails_cleanly(crm, out):
    assert_every_fault_fails_cleanly(crm, "netzur", crm.url + PATH, out, PATH, PATH, API_KEY, api_key=API_KEY)


def test_wrong_key_fails_naming_netzur(crm, out):
    result = run("netzur", crm.url + PATH, out, api_key="wrong")
    assert result["failed"] and result["msg"].startswith("Netzur %s: HTTP 401" % PATH)
    assert files(out) == {}


@pytest.mark.playbook
def test_netzur_through_the_playbook(crm, playbook, recap, out):
    extra = ["-e", "crm_source=netzur", "-e", "crm_url=%s%s" % (crm.url, PATH), "-e", "crm_api_key=%s" % API_KEY,
             "-e", "crm_strategy=full", "-e", "crm_root_site=''", "-e", "crm_route_overrides=''",
             "-e", "shaper_data_dir=%s" % out, "--tags", "crm"]
    first = playbook("shapers.yml", *extra)
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first.stdout)["changed"] == 1
    assert "Tower North" in json.loads((out / "network.json").read_text())
    again = playbook("shapers.yml", *extra, "-vvv")
    assert recap(again.stdout)["changed"] == 0
    assert API_KEY not in again.stdout + again.stderr
