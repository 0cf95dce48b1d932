# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Netzur, WISPGate and Powercode emulators: auth, form POSTs, faults and their payloads."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # plain "pytest" runs do not put the repo on sys.path
    sys.path.insert(0, str(REPO))

from tests.emulators import labnet, netzur, powercode, wispgate  # noqa: E402
from tests.emulators.httpbase import FAULT_KINDS  # noqa: E402

KEY = "form-key-31"


@pytest.fixture(scope="module")
def network():
    return labnet.generate(40, seed=7)


@pytest.fixture
def servers(network):
    with netzur.NetzurEmulator(network, KEY, timeout_delay=1.0) as nz, \
            wispgate.WispGateEmulator(network, KEY, timeout_delay=1.0) as wg, \
            powercode.PowercodeEmulator(network, KEY, timeout_delay=1.0) as pc:
        yield {"netzur": nz, "wispgate": wg, "powercode": pc}


def call(servers, name, key=KEY, method=None, **data):
    server = servers[name]
    if name == "netzur":
        return requests.request(method or "GET", server.url + netzur.PATH, timeout=5,
                                headers={"Authorization": "Bearer %s" % key})
    path, field = (wispgate.PATH, "api_token") if name == "wispgate" else (powercode.PATH, "apiKey")
    return requests.request(method or "POST", server.url + path, data=dict(data, **{field: key}), timeout=5)


@pytest.mark.parametrize("name", ["netzur", "wispgate", "powercode"])
def test_wrong_or_missing_credentials_are_401(servers, name):
    assert call(servers, name, key="wrong", action="list_services").status_code == 401
    assert call(servers, name, key="", action="list_services").status_code == 401
    assert call(servers, name, action="list_services").status_code == 200


@pytest.mark.parametrize("name", ["wispgate", "powercode"])
def test_form_apis_answer_post_only(servers, name):
    answer = call(servers, name, method="PUT", action="list_services")
    assert answer.status_code == 405 and answer.headers["Allow"] == "POST"


def test_credentials_in_the_form_are_redacted_in_the_log(servers):
    call(servers, "powercode", action="list_customers")
    [entry] = servers["powercode"].requests
    assert entry["query"] == {"apiKey": ["<redacted>"], "action": ["list_customers"]}


def test_powercode_actions_and_an_unknown_one(servers, network):
    customers = call(servers, "powercode", action="list_customers").json()
    assert [c["id"] for c in customers[:2]] == ["1", ""]
    assert len(customers) == 2 + len(network.subscribers)
    statuses = set(c["status"] for c in customers[2:])
    assert statuses == {"Active", "Suspended", "Inactive"}
    types = set(e["type"] for c in customers for e in c["equipment"])
    assert types == {"CPE", "Router", "Managed Routers", "Customer Owned Equipment", "Access Point", "Battery Backup"}
    services = call(servers, "powercode", action="list_services").json()
    assert [s["rate_down"] for s in services[:5]] == [p.download_mbps * 1000 for p in labnet.PLANS]
    assert call(servers, "powercode", action="drop_tables").json()["status"] == "error"


def test_netzur_answer_and_its_empty_form(servers, network):
    answer = call(servers, "netzur").json()
    assert len(answer["zones"]) == len(network.sites)
    assert len(answer["customers"]) == network.counts()["active"]
    servers["netzur"].set_fault(netzur.PATH, "empty")
    assert call(servers, "netzur").json() == {"zones": [], "customers": []}


def test_wispgate_rows_leave_out_one_max_at_a_time(servers, network):
    rows = call(servers, "wispgate").json()
    assert len(rows) == sum(len(s.devices) for s in network.expected_active())
    assert any(r["Download Max Mbps"] is None for r in rows) and any(r["Upload Max Mbps"] is None for r in rows)
    assert not any(r["Download Max Mbps"] is None and r["Upload Max Mbps"] is None for r in rows)


@pytest.mark.parametrize("kind", [k for k in FAULT_KINDS if k not in ("timeout", "reset")])
def test_every_fault_kind_applies_to_post_apis(servers, kind):
    server = servers["powercode"]
    server.set_fault(powercode.PATH, kind, count=1)
    answer = call(servers, "powercode", action="list_services")
    assert answer.status_code == (int(kind) if kind.isdigit() else 200)
    if kind == "wrong_shape":
        assert answer.json()["data"][0]["id"] == "1"
    elif kind == "truncated":
        with pytest.raises(ValueError):
            answer.json()
    elif kind == "html":
        assert answer.headers["Content-Type"].startswith("text/html")
    assert call(servers, "powercode", action="list_services").status_code == 200  # count=1: once only


def test_reset_and_timeout_on_a_post(servers):
    server = servers["wispgate"]
    server.set_fault(wispgate.PATH, "reset", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        call(servers, "wispgate")
    server.set_fault(wispgate.PATH, "timeout", count=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(server.url + wispgate.PATH, data={"api_token": KEY}, timeout=0.3)
