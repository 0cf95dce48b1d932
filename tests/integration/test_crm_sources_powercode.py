# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm_topology source=powercode against the Powercode emulator process, and through ansible-playbook.

Powercode writes ShapedDevices.csv only: the operator's network.json must stay byte-identical.
"""

from __future__ import annotations

import pytest

from tests.emulators.labnet import generate
from tests.emulators.powercode import BURST_EXTRA_KBPS, PATH, customer_id
from tests.integration.crm_source_checks import (
    assert_every_fault_fails_cleanly, assert_idempotent, files, rows, run, start_crm)
from tests.module_runner import warnings_of

API_KEY = "powercode-integration-key-e81b7c"
SUBSCRIBERS = 90
CUSTOMERS = "%s action=list_customers" % PATH
# The operator's own file, with its own formatting: a rewrite would show at once.
OPERATOR_NETWORK_JSON = (b'{ "Core":  {"downloadBandwidthMbps": 5000, "uploadBandwidthMbps": 5000,\n'
                         b'   "children": {}}}\n')


@pytest.fixture
def crm(emulator):
    return start_crm(emulator, "powercode", SUBSCRIBERS, "--api-key", API_KEY)


@pytest.fixture
def out(out):
    """The output directory with the operator's network.json in it."""
    (out / "network.json").write_bytes(OPERATOR_NETWORK_JSON)
    return out


def test_active_customers_kbps_and_the_operator_network_json(crm, out):
    network = generate(SUBSCRIBERS, 1)
    first = assert_idempotent("powercode", crm.url, out, api_key=API_KEY, always_overwrite_network_json=True)
    assert (out / "network.json").read_bytes() == OPERATOR_NETWORK_JSON
    assert not (out / "network.lastGood.json").exists()
    assert first["network_json_kept"] is True
    assert any("always_overwrite_network_json is ignored" in w and str(out) in w for w in warnings_of(first))
    by_id = dict((customer_id(s), s) for s in network.subscribers if s.active and not s.suspended)
    written = rows(out)
    assert set(row["Circuit ID"] for row in written) <= set(by_id)
    # Dynamic CPEs have no address in Powercode; a subscriber with nothing else has no row.
    addressed = [s for s in by_id.values() if any(not d.dynamic for d in s.devices)]
    assert len(addressed) - 1 <= len(set(row["Circuit ID"] for row in written)) <= len(addressed)
    equipment_ips = set(e.ipv4 for e in network.equipment)
    for row in written:
        subscriber = by_id[row["Circuit ID"]]
        extra = BURST_EXTRA_KBPS if subscriber.burst_down_kbytes else (0, 0)
        down = (subscriber.plan.download_mbps * 1000 + extra[0]) / 1000.0
        up = (subscriber.plan.upload_mbps * 1000 + extra[1]) / 1000.0
        assert (float(row["Download Max Mbps"]), float(row["Upload Max Mbps"])) == (
            round(down * 1.15, 2), round(up * 1.15, 2))
        assert row["Parent Node"] == "" and row["IPv4"] not in equipment_ips


def test_exception_cpes_place_customers_under_the_operator_nodes(crm, out):
    network = generate(SUBSCRIBERS, 1)
    named = [s for s in network.subscribers if s.active and not s.suspended and not s.devices[0].dynamic
             and s.name not in network.duplicate_names and s.id not in network.duplicate_ip_subscriber_ids]
    chosen = named[0]
    result = run("powercode", crm.url, out, api_key=API_KEY, exception_cpes=["%s:Core" % chosen.name])
    assert result["changed"] and (out / "network.json").read_bytes() == OPERATOR_NETWORK_JSON
    parents = dict((row["Circuit ID"], row["Parent Node"]) for row in rows(out))
    assert parents.pop(customer_id(chosen)) == "Core"
    assert set(parents.values()) == {""}
    assert not [w for w in warnings_of(result) if "parent nodes used by circuits" in w]


def test_every_fault_fails_cleanly(crm, out):
    assert_every_fault_fails_cleanly(crm, "powercode", crm.url, out, PATH, CUSTOMERS, API_KEY, api_key=API_KEY)


def test_wrong_key_fails_naming_the_action(crm, out):
    result = run("powercode", crm.url, out, api_key="wrong")
    assert result["failed"] and result["msg"].startswith("Powercode %s: HTTP 401" % CUSTOMERS)
    assert files(out) == {"network.json": OPERATOR_NETWORK_JSON}


@pytest.mark.playbook
def test_powercode_through_the_playbook(crm, playbook, recap, out):
    extra = ["-e", "crm_source=powercode", "-e", "crm_url=%s" % crm.url, "-e", "crm_api_key=%s" % API_KEY,
             "-e", "crm_strategy=flat", "-e", "crm_root_site=''", "-e", "crm_route_overrides=''",
             "-e", "shaper_data_dir=%s" % out, "--tags", "crm"]
    first = playbook("shapers.yml", *extra)
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first.stdout)["changed"] == 1
    assert (out / "network.json").read_bytes() == OPERATOR_NETWORK_JSON
    assert rows(out)
    again = playbook("shapers.yml", *extra, "-vvv")
    assert recap(again.stdout)["changed"] == 0
    assert API_KEY not in again.stdout + again.stderr
    assert (out / "network.json").read_bytes() == OPERATOR_NETWORK_JSON
