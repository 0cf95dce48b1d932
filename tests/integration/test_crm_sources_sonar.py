# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm_topology source=sonar against the Sonar emulator process (GraphQL, paged, Bearer token)."""

from __future__ import annotations

import json

import pytest

from tests.emulators.labnet import generate
from tests.emulators.sonar import AIRMAX_AP_MODEL_IDS, API, LTU_AP_MODEL_IDS, MODEL_IDS
from tests.integration.crm_source_checks import (
    assert_every_fault_fails_cleanly, assert_idempotent, files, rows, run, start_crm)

TOKEN = "sonar-integration-token-9d2e71"
SUBSCRIBERS = 240  # three pages of accounts
MODELS = dict(sonar_airmax_ap_model_ids=list(AIRMAX_AP_MODEL_IDS), sonar_ltu_ap_model_ids=list(LTU_AP_MODEL_IDS))


@pytest.fixture
def crm(emulator):
    return start_crm(emulator, "sonar", SUBSCRIBERS, "--token", TOKEN)


def shaped(network):
    return dict((str(s.id), s) for s in network.subscribers if s.active and not s.suspended)


def test_flat_accounts_and_kbps_rates_in_the_files(crm, out):
    network = generate(SUBSCRIBERS, 1)
    first = assert_idempotent("sonar", crm.url, out, token=TOKEN, strategy="flat")
    written = rows(out)
    expected = shaped(network)
    circuits = set(row["Circuit ID"] for row in written)
    assert circuits <= set(expected) and len(set(expected) - circuits) <= 1  # one loses its only IP
    for row in written:
        subscriber = expected[row["Circuit ID"]]
        assert (row["Circuit Name"], row["Parent Node"]) == (subscriber.name, "")
        assert float(row["Download Max Mbps"]) == round(subscriber.plan.download_mbps * 1.15, 2)
        assert float(row["Upload Min Mbps"]) == round(subscriber.plan.upload_mbps * 0.98, 2)
    assert first["stats"]["circuits"] == len(circuits)
    assert json.loads((out / "network.json").read_text()) == {}
    operations = [entry for entry in crm.control("GET", "/_emulator/log") if entry["path"] == API]
    assert operations and all(entry["method"] == "POST" for entry in operations)


def test_full_maps_sites_and_places_cpes_under_aps_by_exception(crm, out):
    network = generate(SUBSCRIBERS, 1)
    subscriber = shaped(network)["11"]
    ap = network.equipment_by_id(subscriber.ap_id)
    site = network.site(ap.site_id)
    ap_name = "%s %s %d" % (site.name, ap.model, ap.id)
    assert MODEL_IDS[ap.model] in AIRMAX_AP_MODEL_IDS + LTU_AP_MODEL_IDS
    assert_idempotent("sonar", crm.url, out, token=TOKEN, strategy="full", always_overwrite_network_json=True,
                      exception_cpes=["%s:%s" % (subscriber.name, ap_name)], **MODELS)
    tree = json.loads((out / "network.json").read_text())
    assert tree[site.name]["children"][ap_name]["type"] == "ap"
    sites_with_aps = set(network.site(e.site_id).name for e in network.aps)
    assert set(tree) == sites_with_aps
    row = next(r for r in rows(out) if r["Circuit ID"] == "11")
    assert row["Parent Node"] == ap_name


def test_every_fault_fails_cleanly_naming_sonar_and_the_query(crm, out):
    options = dict(token=TOKEN, strategy="flat", sonar_active_status_ids=[1, 4])
    assert_every_fault_fails_cleanly(crm, "sonar", crm.url, out, API, "/api/graphql query getAccounts", TOKEN,
                                     **options)


@pytest.mark.parametrize("kind, reason", [
    ("graphql_errors", "GraphQL errors: Internal server error; Injected fault: the accounts index is being rebuilt"),
    ("page_drift", "total_pages changed from 2 to 4 at page 2"),
])
def test_graphql_level_faults_fail_cleanly(crm, out, kind, reason):
    assert_idempotent("sonar", crm.url, out, token=TOKEN, **MODELS)
    before = files(out)
    crm.control("POST", "/_emulator/faults", {"path": API, "kind": kind})
    result = run("sonar", crm.url, out, token=TOKEN, **MODELS)
    assert result["failed"] is True
    assert result["msg"].startswith("Sonar /api/graphql query getActiveStatuses: %s" % reason)
    assert result["crm_error"]["endpoint"] == "/api/graphql query getActiveStatuses"
    assert files(out) == before


def test_wrong_token_and_unsupported_strategy(crm, out):
    result = run("sonar", crm.url, out, token="wrong", strategy="flat")
    assert result["failed"] and result["msg"].startswith("Sonar /api/graphql query getActiveStatuses: HTTP 401")
    result = run("sonar", crm.url, out, token=TOKEN, strategy="ap_site")
    assert result["failed"] and result["msg"] == "source=sonar supports strategy flat or full, not ap_site"
    result = run("sonar", crm.url, out, token=TOKEN)
    assert result["failed"] and "strategy=full needs sonar_airmax_ap_model_ids" in result["msg"]
    assert files(out) == {}
