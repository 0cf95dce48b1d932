# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm_topology source=ubilling against the Ubilling emulator in its own process."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.isp.ops.plugins.modules import crm_topology
from tests.emulators.labnet import generate
from tests.emulators.ubilling import login_of
from tests.integration import crm_source_checks
from tests.integration.crm_source_checks import files, rows, start_crm

SERIAL = "UB0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SUBSCRIBERS = 60
FAULTS = ("500", "timeout", "reset", "truncated", "wrong_shape", "html", "empty")


@pytest.fixture
def ubilling(emulator):
    return start_crm(emulator, "ubilling", SUBSCRIBERS, "--serial", SERIAL)


def shaped(directory):
    return dict((row["Circuit ID"], row) for row in rows(directory))


def run(server, out, **options):
    options = dict(dict(serial=SERIAL, retry_backoff=0), **options)
    return crm_source_checks.run("ubilling", server.url + "/billing/", out, **options)


def test_circuits_rates_and_suspension(ubilling, out):
    network = generate(SUBSCRIBERS, 1)
    result = run(ubilling, out, suspended_strategy="slow")
    assert result["changed"] and not result.get("failed"), result.get("msg")
    rows = shaped(out)
    expected = dict((login_of(s), s) for s in network.expected_active())
    duplicate_loser = login_of(next(s for s in network.subscribers if s.id == network.duplicate_ip_subscriber_ids[1]))
    assert set(rows) == set(expected) - {duplicate_loser}  # the lab's duplicate IP is kept in the first circuit
    for login, row in rows.items():
        subscriber = expected[login]
        assert (row["Circuit Name"], row["MAC"], row["IPv4"], row["Parent Node"]) == (
            subscriber.name, subscriber.devices[0].mac, subscriber.devices[0].ipv4[0], "")
        if subscriber.suspended:
            assert float(row["Download Max Mbps"]) < 1 and float(row["Upload Max Mbps"]) < 1
        else:
            assert float(row["Download Max Mbps"]) == pytest.approx(subscriber.plan.download_mbps * 1.15)
            assert float(row["Upload Max Mbps"]) == pytest.approx(subscriber.plan.upload_mbps * 1.15)
    assert json.loads((out / "network.json").read_text()) == {}  # flat: no sites or APs in Ubilling
    assert SERIAL not in json.dumps(result)

    again = run(ubilling, out, suspended_strategy="slow")
    assert not again["changed"]
    ignored = run(ubilling, out, check_mode=True, suspended_strategy="ignore")
    assert ignored["changed"]


@pytest.mark.parametrize("fault", FAULTS)
def test_faults_leave_the_files_byte_identical(ubilling, out, fault):
    first = run(ubilling, out)
    assert first["changed"], first.get("msg")
    before = files(out)
    ubilling.control("POST", "/_emulator/faults", {"kind": fault})
    failed = run(ubilling, out, suspended_strategy="ignore")
    assert failed["failed"] and failed["msg"].startswith("Ubilling ?action=userside&request=get_tariff_list: ")
    assert failed["crm_error"]["source"] == "Ubilling"
    assert files(out) == before
    assert SERIAL not in json.dumps(failed)


@pytest.mark.parametrize("state, words", [
    ({"enabled": False}, "REMOTEAPI_ENABLED=0 in alter.ini"),
    ({"maintenance": True}, "Ubilling is in maintenance"),
    ({"serial": None}, "has no serial yet"),
])
def test_ubilling_answers_fail_with_their_meaning(ubilling, out, state, words):
    assert run(ubilling, out)["changed"]
    before = files(out)
    ubilling.control("POST", "/_emulator/state", state)
    failed = run(ubilling, out)
    assert failed["failed"] and words in failed["msg"]
    assert files(out) == before


def test_wrong_or_missing_serial(run_module, ubilling, out, monkeypatch):
    failed = run(ubilling, out, serial="UB" + "1" * 32)
    assert failed["failed"] and "the serial is wrong" in failed["msg"]
    monkeypatch.delenv("ISP_OPS_UBILLING_SERIAL", raising=False)
    args = dict(source="ubilling", url=ubilling.url + "/billing/", output_dir=str(out))
    missing = run_module(crm_topology.main, args)
    assert missing["failed"] and "source=ubilling needs the options: serial" in missing["msg"]
    monkeypatch.setenv("ISP_OPS_UBILLING_SERIAL", SERIAL)
    assert run_module(crm_topology.main, dict(args, retries=0))["changed"]
    assert os.listdir(out)
