# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the lab network generator and the Splynx/UISP HTTP emulators."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # plain "pytest" runs do not put the repo on sys.path
    sys.path.insert(0, str(REPO))

from tests.emulators import labnet  # noqa: E402
from tests.emulators.httpbase import FAULT_KINDS, EmulatorServer  # noqa: E402
from tests.emulators.splynx import (  # noqa: E402
    ACTIVE_SERVICES_QUERY, CUSTOMERS_ONLINE, MONITORING, NETWORK_SITES, SERVICES, TARIFFS,
    SplynxEmulator, service_id)
from tests.emulators.uisp import DATA_LINKS, DEVICES, SITES, UispEmulator  # noqa: E402

KEY, SECRET, TOKEN = "lab-key", "s3cr3t-value", "tok-123456"
BASIC = ("lab-key", "s3cr3t-value")
UISP_HEADERS = {"X-Auth-Token": TOKEN}


@pytest.fixture(scope="module")
def network():
    return labnet.generate(40, seed=7)


@pytest.fixture
def splynx(network):
    with SplynxEmulator(network, KEY, SECRET, timeout_delay=1.0) as server:
        yield server


@pytest.fixture
def uisp(network):
    with UispEmulator(network, TOKEN, timeout_delay=1.0) as server:
        yield server


def end_name(end: dict, what: str) -> str | None:
    """Name of the site or device at one end of a UISP data-link (None when absent)."""
    return (end[what] or {}).get("identification", {}).get("name")


def splynx_get(server, path, **kwargs):
    return requests.get(server.url + path, auth=BASIC, timeout=kwargs.pop("timeout", 5), **kwargs)


# --- lab network -----------------------------------------------------------------------------
def test_generate_is_deterministic():
    first, second = labnet.generate(60, seed=3), labnet.generate(60, seed=3)
    assert first.subscribers == second.subscribers and first.equipment == second.equipment
    assert labnet.generate(60, seed=4).subscribers != first.subscribers


def test_multi_homed_sites_and_ptmp_feed(network):
    core, site1, site2, site3 = (network.site_named(n) for n in ("Core", "Site 1", "Site 2", "Site 3"))
    assert site1.parent_id == core.id and site2.parent_id == site1.id
    assert {network.site(link.from_site_id).name for link in network.links_to(site3.id)} == {"Site 1", "Site 2"}
    feed = network.links_to(network.ptmp_fed_site.id)[0]
    assert feed.kind == "ptmp" and network.equipment_by_id(feed.from_equipment_id).customer_ap
    assert network.route_override_rows == (("Site 1", "Site 3", 100), ("Site 3", "Site 1", 100))


def test_subscriber_mix_and_bad_rows(network):
    models = {ap.model for ap in network.aps} | {e.model for e in network.equipment}
    assert {"LAP-120", "Rocket 5AC Prism", "LTU Rocket", "AF60"} <= models
    assert "José Núñez" in network.duplicate_names
    bad = next(s for s in network.subscribers if s.id == network.invalid_ip_subscriber_id)
    assert labnet.INVALID_IP in [ip for d in bad.devices for ip in d.ipv4] and bad.active
    first, second = (next(s for s in network.subscribers if s.id == i) for i in network.duplicate_ip_subscriber_ids)
    assert network.duplicate_ip in first.devices[0].ipv4 and network.duplicate_ip in second.devices[0].ipv4
    counts = network.counts()
    assert counts["active"] + counts["inactive"] == counts["subscribers"] == 40
    assert counts["suspended"] and counts["inactive"] and network.dynamic_device_ids
    assert any(not s.ap_recorded for s in network.subscribers)
    assert len(network.expected_active(include_suspended=False)) == counts["active"] - len(network.suspended_ids)


def test_generate_scales():
    started = time.monotonic()
    big = labnet.generate(20_000, seed=1)
    assert time.monotonic() - started < 3.0
    assert len(big.subscribers) == 20_000 and len(big.aps) > 100
    assert any("/29" in ip for s in big.subscribers for d in s.devices for ip in d.ipv4)
    assert any(p.endswith("/56") for s in big.subscribers for d in s.devices for p in d.ipv6)


def test_servers_refuse_non_loopback(network):
    for host in ("0.0.0.0", "::1", "192.0.2.1"):
        with pytest.raises(ValueError):
            EmulatorServer(host=host)


# --- authentication --------------------------------------------------------------------------
def test_splynx_rejects_bad_basic_auth(splynx):
    assert requests.get(splynx.url + TARIFFS, timeout=5).status_code == 401
    wrong = requests.get(splynx.url + TARIFFS, auth=(KEY, "nope"), timeout=5)
    assert wrong.status_code == 401 and "error" in wrong.json()
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    garbage = requests.get(splynx.url + TARIFFS, headers={"Authorization": "Basic !!!"}, timeout=5)
    assert garbage.status_code == 401
    manual = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    ok = requests.get(splynx.url + TARIFFS, headers={"Authorization": f"Basic {manual}"}, timeout=5)
    assert ok.status_code == 200 and ok.headers["Content-Type"].startswith("application/json")


def test_uisp_rejects_bad_token(uisp):
    assert requests.get(uisp.url + SITES, timeout=5).status_code == 401
    wrong = requests.get(uisp.url + SITES, headers={"X-Auth-Token": "other"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["statusCode"] == 401
    assert requests.get(uisp.url + SITES, headers=UISP_HEADERS, timeout=5).status_code == 200


# --- Splynx contract ----------------------------------------------------------------------------
def test_splynx_services_status_filter_and_fields(splynx, network):
    active = splynx_get(splynx, f"{SERVICES}?{ACTIVE_SERVICES_QUERY}").json()
    everything = splynx_get(splynx, SERVICES).json()
    assert {s["status"] for s in active} == {"active"}
    assert len(active) == len(network.expected_active()) < len(everything) == len(network.subscribers)
    routed = [s for s in active if ", " in s["ipv4_route"]]
    assert routed and all(isinstance(s["id"], int) for s in active)
    online = {int(row["service_id"]): row for row in splynx_get(splynx, CUSTOMERS_ONLINE).json()}
    dynamic = [s for s in active if s["id"] in network.dynamic_device_ids]
    assert dynamic and all(s["ipv4"] == "" and s["taking_ipv4"] == 2 and online[s["id"]]["ipv4"] for s in dynamic)
    assert any(s["ipv6_delegated"].endswith("/56") for s in active)
    bad = next(s for s in active if s["customer_id"] == network.invalid_ip_subscriber_id)
    assert labnet.INVALID_IP in bad["ipv4_route"].split(", ")


def test_splynx_tariffs_monitoring_and_sites(splynx, network):
    tariffs = splynx_get(splynx, TARIFFS).json()
    assert {(t["speed_download"], t["speed_upload"]) for t in tariffs} >= {(10_000, 2_000), (300_000, 50_000)}
    rows = splynx_get(splynx, MONITORING).json()
    by_id = {row["id"]: row for row in rows}
    aps = [row for row in rows if row["access_device"]]
    assert len(aps) == len(network.aps)
    assert all(by_id[row["parent_id"]]["access_device"] == 0 for row in aps)
    site_ids = {site["id"] for site in splynx_get(splynx, NETWORK_SITES).json()}
    assert {row["network_site_id"] for row in rows} <= site_ids
    assert all("," in row["gps"] for row in rows)


def test_splynx_escapes_non_ascii_like_php(splynx):
    raw = splynx_get(splynx, "/api/2.0/admin/customers/customer").content
    assert b"\\u00e9" in raw and "José Núñez" in {c["name"] for c in json.loads(raw)}


# --- UISP contract --------------------------------------------------------------------------------
def test_uisp_sites_devices_shapes(uisp, network):
    sites = requests.get(uisp.url + SITES, headers=UISP_HEADERS, timeout=5).json()
    endpoints = [s for s in sites if s["identification"]["type"] == "endpoint"]
    assert len(endpoints) == len(network.subscribers)
    assert sum(s["identification"]["suspended"] for s in endpoints) == len(network.suspended_ids)
    assert {s["qos"]["downloadBurstSize"] for s in endpoints} <= {None, 0, 12500}
    plain = requests.get(uisp.url + DEVICES, headers=UISP_HEADERS, timeout=5).json()
    full = requests.get(uisp.url + DEVICES + "?withInterfaces=true", headers=UISP_HEADERS, timeout=5).json()
    assert "interfaces" not in plain[0] and "interfaces" in full[0]
    cidrs = {a["cidr"] for d in full for i in d["interfaces"] for a in i["addresses"]}
    assert any(c.endswith("/29") for c in cidrs) and f"{labnet.INVALID_IP}/24" in cidrs
    stations = [d for d in full if d["identification"]["role"] == "station"]
    assert all(d["ipAddress"].count("/") == 1 for d in stations)


def test_uisp_site3_is_multi_homed_in_data_links(uisp):
    links = requests.get(uisp.url + DATA_LINKS, headers=UISP_HEADERS, timeout=5).json()
    into_site3 = [link for link in links if end_name(link["to"], "site") == "Site 3"]
    assert {link["from"]["site"]["identification"]["name"] for link in into_site3} == {"Site 1", "Site 2"}
    assert all(link["from"]["device"] and link["to"]["device"] for link in into_site3)
    assert [link["canDelete"] for link in links].count(False) == 1


def test_uisp_unrecorded_ap_is_found_through_a_data_link(uisp, network):
    subscriber = next(s for s in network.subscribers if not s.ap_recorded)
    devices = requests.get(uisp.url + DEVICES, headers=UISP_HEADERS, timeout=5).json()
    cpe = next(d for d in devices if d["identification"]["mac"] == subscriber.devices[0].mac)
    cpe_id = cpe["identification"]["id"]
    assert cpe["attributes"]["apDevice"] is None
    links = requests.get(uisp.url + DATA_LINKS, headers=UISP_HEADERS, timeout=5).json()
    link = next(k for k in links if (k["to"]["device"] or {}).get("identification", {}).get("id") == cpe_id)
    assert link["from"]["device"]["identification"]["name"] == network.equipment_by_id(subscriber.ap_id).name


def test_uisp_ptmp_fed_site_station_points_at_parent_ap(uisp, network):
    devices = requests.get(uisp.url + DEVICES, headers=UISP_HEADERS, timeout=5).json()
    by_id = {d["identification"]["id"]: d for d in devices}
    station = next(d for d in devices if d["identification"]["site"]["name"] == network.ptmp_fed_site.name
                   and d["overview"]["wirelessMode"] == "sta-ptmp")
    ap = by_id[station["attributes"]["apDevice"]["id"]]
    assert ap["overview"]["wirelessMode"] == "ap-ptmp"
    assert ap["identification"]["site"]["id"] == station["identification"]["site"]["parent"]["id"]


def test_payloads_match_served_bodies(splynx, uisp):
    bodies = splynx.payloads()
    assert len(bodies) == 8
    target = f"{SERVICES}?{ACTIVE_SERVICES_QUERY}"
    assert splynx_get(splynx, target).content == bodies[target]
    devices = uisp.payloads()[DEVICES + "?withInterfaces=true"]
    assert requests.get(uisp.url + DEVICES + "?withInterfaces=true", headers=UISP_HEADERS, timeout=5).content == devices


# --- faults ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["401", "403", "500", "503", "429"])
def test_status_faults(splynx, kind):
    splynx.set_fault(TARIFFS, kind, count=1)
    reply = splynx_get(splynx, TARIFFS)
    assert reply.status_code == int(kind) and "error" in reply.json()
    if kind == "429":
        assert reply.headers["Retry-After"] == "0"
    assert splynx_get(splynx, TARIFFS).status_code == 200


def test_429_once_lets_a_retrying_client_succeed(uisp):
    uisp.set_fault(SITES, "429", count=1)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=Retry(total=2, status_forcelist=[429], backoff_factor=0)))
    assert session.get(uisp.url + SITES, headers=UISP_HEADERS, timeout=5).status_code == 200
    assert [(e["status"], e["fault"]) for e in uisp.requests] == [(429, "429"), (200, None)]


def test_timeout_fault_times_out_client(splynx):
    splynx.set_fault(TARIFFS, "timeout")
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        splynx_get(splynx, TARIFFS, timeout=0.3)
    assert time.monotonic() - started < 1.0


def test_timeout_fault_then_closes_without_reply(network):
    with SplynxEmulator(network, KEY, SECRET, timeout_delay=0.2) as server:
        server.set_fault(None, "timeout", count=1)
        with pytest.raises(requests.ConnectionError):
            splynx_get(server, TARIFFS, timeout=2)


def test_reset_fault_aborts_connection(uisp):
    uisp.set_fault(SITES, "reset")
    with pytest.raises(requests.ConnectionError):
        requests.get(uisp.url + SITES, headers=UISP_HEADERS, timeout=2)
    with socket.create_connection(("127.0.0.1", uisp.bound_port), timeout=2) as raw:
        raw.sendall(b"GET /nms/api/v2.1/sites HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            assert raw.recv(1024) == b""  # an RST, not an orderly close


def test_body_faults(splynx):
    normal = splynx_get(splynx, MONITORING).content
    splynx.set_fault(MONITORING, "truncated", count=1)
    cut = splynx_get(splynx, MONITORING)
    assert cut.status_code == 200 and len(cut.content) == len(normal) // 2
    with pytest.raises(ValueError):
        cut.json()
    splynx.set_fault(MONITORING, "wrong_shape", count=1)
    assert isinstance(splynx_get(splynx, MONITORING).json(), dict)
    splynx.set_fault(MONITORING, "html", count=1)
    html = splynx_get(splynx, MONITORING)
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    assert html.text.startswith("<!DOCTYPE html>")
    splynx.set_fault(MONITORING, "empty", count=1)
    assert splynx_get(splynx, MONITORING).json() == []
    assert splynx_get(splynx, MONITORING).content == normal


def test_fault_count_scope_and_validation(splynx):
    splynx.set_fault(None, "500", count=2)
    assert [splynx_get(splynx, p).status_code for p in (TARIFFS, MONITORING, TARIFFS)] == [500, 500, 200]
    splynx.set_fault(None, "503")
    splynx.set_fault(TARIFFS, "403")
    assert splynx_get(splynx, TARIFFS).status_code == 403
    assert splynx_get(splynx, MONITORING).status_code == 503
    splynx.clear_faults()
    assert splynx_get(splynx, MONITORING).status_code == 200
    for bad in (("nope", None), ("500", 0), ("500", True)):
        with pytest.raises(ValueError):
            splynx.set_fault(TARIFFS, *bad)
    assert set(FAULT_KINDS) == {"401", "403", "500", "503", "429", "timeout", "reset",
                                "truncated", "wrong_shape", "html", "empty"}


# --- log and HTTP control --------------------------------------------------------------------------
def test_request_log_hides_secrets(splynx):
    splynx_get(splynx, f"{SERVICES}?{ACTIVE_SERVICES_QUERY}")
    requests.get(splynx.url + TARIFFS, timeout=5)
    first, second = splynx.requests
    assert first["method"] == "GET" and first["path"] == SERVICES and first["status"] == 200
    assert first["query"] == {"main_attributes[status]": ["active"]}
    assert first["headers"]["Authorization"] == "Basic <redacted>"
    assert second["status"] == 401
    dumped = json.dumps(splynx.requests)
    assert SECRET not in dumped and base64.b64encode(f"{KEY}:{SECRET}".encode()).decode() not in dumped


def test_http_control_endpoint(uisp):
    control = uisp.url + "/_emulator/faults"
    assert requests.post(control, json={"path": SITES, "kind": "bogus"}, timeout=5).status_code == 400
    listed = requests.post(control, json={"path": SITES, "kind": "503", "count": 1}, timeout=5).json()
    assert listed == [{"path": SITES, "kind": "503", "remaining": 1}]
    assert requests.get(uisp.url + SITES, headers=UISP_HEADERS, timeout=5).status_code == 503
    assert requests.get(uisp.url + SITES, headers=UISP_HEADERS, timeout=5).status_code == 200
    requests.post(control, json={"path": None, "kind": "500"}, timeout=5)
    assert requests.get(uisp.url + DEVICES, headers=UISP_HEADERS, timeout=5).status_code == 500
    assert requests.delete(control, timeout=5).json() == []
    log = requests.get(uisp.url + "/_emulator/log", timeout=5).json()
    assert [(e["path"], e["status"]) for e in log] == [(SITES, 503), (SITES, 200), (DEVICES, 500)]
    assert requests.delete(uisp.url + "/_emulator/log", timeout=5).json() == []
    assert requests.get(uisp.url + "/_emulator/health", timeout=5).json()["ok"] is True


# --- serve.py CLI ---------------------------------------------------------------------------------------
def test_serve_cli_runs_until_sigterm(tmp_path):
    port_file = tmp_path / "port"
    command = [sys.executable, str(REPO / "tests/emulators/serve.py"), "--source", "uisp", "--subscribers", "20",
               "--token", TOKEN, "--port-file", str(port_file), "--timeout-delay", "0.5", "--max-seconds", "30"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for dummy in range(100):
            if port_file.exists() or process.poll() is not None:
                break
            time.sleep(0.02)
        url = f"http://127.0.0.1:{int(port_file.read_text())}"
        assert requests.get(url + SITES, headers=UISP_HEADERS, timeout=5).status_code == 200
        requests.post(url + "/_emulator/faults", json={"path": SITES, "kind": "html", "count": 1}, timeout=5)
        assert requests.get(url + SITES, headers=UISP_HEADERS, timeout=5).text.startswith("<!DOCTYPE")
    finally:
        process.send_signal(signal.SIGTERM)
        out, dummy = process.communicate(timeout=5)
    assert process.returncode == 0 and out.strip() == url


def test_serve_cli_refuses_other_hosts(tmp_path):
    command = [sys.executable, str(REPO / "tests/emulators/serve.py"), "--source", "splynx", "--host", "0.0.0.0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    assert result.returncode == 2 and "refusing" in result.stderr


def test_service_ids_are_first_device_ids(network):
    subscriber = network.subscribers[0]
    assert service_id(subscriber) == subscriber.devices[0].id
