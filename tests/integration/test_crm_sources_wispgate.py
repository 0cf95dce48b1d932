# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm_topology source=wispgate against the WISPGate emulator process."""

from __future__ import annotations

import pytest

from tests.emulators.labnet import generate
from tests.emulators.wispgate import PATH, download_max_missing, upload_max_missing
from tests.integration.crm_source_checks import (
    assert_every_fault_fails_cleanly, assert_idempotent, files, rows, run, start_crm)

TOKEN = "wispgate-integration-token-9d02aa"
SUBSCRIBERS = 90


@pytest.fixture
def crm(emulator):
    return start_crm(emulator, "wispgate", SUBSCRIBERS, "--token", TOKEN)


def test_flat_rows_with_min_and_max_per_direction(crm, out):
    network = generate(SUBSCRIBERS, 1)
    first = assert_idempotent("wispgate", crm.url, out, token=TOKEN)
    assert (out / "network.json").read_text() == "{}\n"
    by_id = dict((str(s.id), s) for s in network.expected_active())
    written = rows(out)
    assert set(row["Circuit ID"] for row in written) <= set(by_id)
    # A subscriber whose only device is a dynamic CPE without IPv6 has no address in WISPGate.
    addressed = [s for s in by_id.values() if any((d.ipv4 and not d.dynamic) or d.ipv6 for d in s.devices)]
    assert len(addressed) - 1 <= first["stats"]["circuits"] <= len(addressed) and first["stats"]["nodes"] == 0
    fallbacks = set()
    for row in written:
        subscriber = by_id[row["Circuit ID"]]
        down, up = subscriber.plan.download_mbps, subscriber.plan.upload_mbps
        max_down = down / 2 if download_max_missing(subscriber) else down
        max_up = up / 2 if upload_max_missing(subscriber) else up
        assert row["Parent Node"] == ""
        assert (float(row["Download Min Mbps"]), float(row["Upload Min Mbps"])) == (down / 2, up / 2)
        assert (float(row["Download Max Mbps"]), float(row["Upload Max Mbps"])) == (
            round(max_down * 1.15, 2), round(max_up * 1.15, 2))
        fallbacks.add((download_max_missing(subscriber), upload_max_missing(subscriber)))
    assert fallbacks == {(False, False), (True, False), (False, True)}


def test_every_fault_fails_cleanly(crm, out):
    assert_every_fault_fails_cleanly(crm, "wispgate", crm.url, out, PATH, PATH, TOKEN, token=TOKEN)


def test_wrong_token_fails_naming_wispgate(crm, out):
    result = run("wispgate", crm.url, out, token="wrong")
    assert result["failed"] and result["msg"].startswith("WISPGate %s: HTTP 401" % PATH)
    assert files(out) == {}
