# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""IPv6 from MikroTik: router list, RouterOS API (librouteros against the emulator), matching."""

from __future__ import annotations

import io

import pytest
from librouteros import protocol

from ansible_collections.isp.ops.plugins.module_utils.crm import mikrotik_ipv6 as mk
from ansible_collections.isp.ops.plugins.module_utils.crm import sources
from ansible_collections.isp.ops.plugins.module_utils.topology import engine
from ansible_collections.isp.ops.plugins.module_utils.topology.model import Circuit, Device, Snapshot
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings
from tests.emulators import routeros
from tests.emulators.labnet import generate
from tests.emulators.sonar import AIRMAX_AP_MODEL_IDS, SonarEmulator

USER, PASSWORD = "libreqos", "Rtr-pass-8Jx2"
HEADER = "Router Name / ID,IP,API Username,API Password,API Port\n"


@pytest.fixture(scope="module")
def network():
    return generate(90, 5)


@pytest.fixture(scope="module")
def routers(network):
    started = [router.start() for router in routeros.lab_routers(network, 2, USER, PASSWORD)]
    yield started
    for router in started:
        router.stop()


@pytest.fixture
def lab(routers):
    for router in routers:
        router.fault = None
    yield routers
    for router in routers:
        router.fault = None


def router_list(tmp_path, routers, password=PASSWORD, extra=""):
    path = tmp_path / "mikrotikDHCPRouterList.csv"
    rows = "".join("%s,127.0.0.1,%s,%s,%d\n" % (r.name, USER, password, r.bound_port) for r in routers)
    path.write_text(HEADER + rows + extra)
    return path


def expected_prefixes(network):
    """device MAC -> its lab IPv6 prefixes, for every device that has some."""
    return dict((d.mac.upper(), list(d.ipv6)) for s in network.subscribers for d in s.devices if d.ipv6)


# --- RouterOS words -----------------------------------------------------------------------------
@pytest.mark.parametrize("length", [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000, 0xFFFFFFF])
def test_emulator_length_encoding_agrees_with_librouteros(length):
    encoded = routeros.encode_length(length)
    assert encoded == protocol.encode_length(length)
    assert protocol.decode_length(encoded) == length
    assert routeros.read_length(io.BytesIO(encoded).read) == length


def test_emulator_reads_five_byte_lengths_and_whole_sentences():
    assert routeros.encode_length(0x10000000) == b"\xf0\x10\x00\x00\x00"
    assert routeros.read_length(io.BytesIO(b"\xf0\x10\x00\x00\x00").read) == 0x10000000
    data = protocol.encode_sentence("/login", "=name=a", "=password=" + "x" * 200, encoding="ASCII")
    assert routeros.read_sentence(io.BytesIO(data).read) == ["/login", "=name=a", "=password=" + "x" * 200]


# --- router list ----------------------------------------------------------------------------------
def test_router_list_reads_libreqos_layout_with_comments(tmp_path):
    path = tmp_path / "routers.csv"
    path.write_text(HEADER + "# core routers\n\ncore-1, 127.0.0.1 ,api,p a,ss,8728\n".replace("p a,ss", "p a ss")
                    + "edge,127.0.0.2,api,secret,8729\n")
    routers = mk.read_router_list(str(path))
    assert [(r.name, r.host, r.username, r.password, r.port) for r in routers] == [
        ("core-1", "127.0.0.1", "api", "p a ss", 8728), ("edge", "127.0.0.2", "api", "secret", 8729)]
    assert "secret" not in repr(routers)


@pytest.mark.parametrize("content, message", [
    (HEADER + "core,127.0.0.1,api,pw\n", "row 2: 4 fields, expected 5 (name, host, username, password, port)"),
    (HEADER + "core,,api,pw,8728\n", "row 2 field host: empty"),
    (HEADER + "core,127.0.0.1,,pw,8728\n", "row 2 field username: empty"),
    (HEADER + "# x\ncore,127.0.0.1,api,pw,api\n", "row 3 field port: 'api' is not a TCP port number"),
    (HEADER + "core,127.0.0.1,api,pw,70000\n", "row 2 field port: '70000' is not a TCP port number"),
    (HEADER + "a,127.0.0.1,api,pw,1\na,127.0.0.2,api,pw,2\n", "row 3 field name: 'a' is listed twice"),
    ("core,127.0.0.1,api,pw,8728\n", "row 1: looks like a router, but the first row must be the header"),
    (HEADER, ": has a header but no routers"),
    ("", ": no header and no routers"),
])
def test_router_list_errors_name_file_row_and_field(tmp_path, content, message):
    path = tmp_path / "routers.csv"
    path.write_text(content)
    with pytest.raises(mk.RouterListError) as caught:
        mk.read_router_list(str(path))
    assert str(caught.value).startswith("mikrotik_router_list %s" % path)
    assert message in str(caught.value)
    assert "pw" not in str(caught.value).replace("pw,8728", "")


def test_missing_router_list_names_the_file(tmp_path):
    with pytest.raises(mk.RouterListError, match=r"mikrotik_router_list .*nope.csv: cannot be read"):
        mk.read_router_list(str(tmp_path / "nope.csv"))


def test_default_router_list_is_libreqos_name_in_output_dir():
    assert mk.router_list_path({"output_dir": "/opt/libreqos/src"}) == "/opt/libreqos/src/mikrotikDHCPRouterList.csv"
    assert mk.router_list_path({"output_dir": "/x", "mikrotik_router_list": "/etc/r.csv"}) == "/etc/r.csv"


# --- DUIDs, tables, matching ---------------------------------------------------------------------------
@pytest.mark.parametrize("duid, mac", [
    ("0x00030001aabbccddeeff", "AA:BB:CC:DD:EE:FF"),  # DUID-LL
    ("00:01:00:01:2c:7a:1b:00:aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF"),  # DUID-LLT
    ("0xaabbccddeeff", "AA:BB:CC:DD:EE:FF"),  # LibreQoS's 14-character form
    ("0x000200003a8c00000001", ""),  # DUID-EN: no MAC inside
    ("0x00030006aabbccddeeff", ""),  # DUID-LL of another hardware type
    ("", ""), (None, ""), ("zz", ""),
])
def test_mac_from_duid(duid, mac):
    assert mk.duid_mac(duid) == mac


def test_resolve_uses_duid_then_neighbour_and_leases_win_over_arp():
    tables = {
        "arp": [{"mac-address": "02:00:00:00:00:01", "address": "100.64.0.1"},
                {"mac-address": "02:00:00:00:00:02", "address": "100.64.0.99"}],
        "leases": [{"mac-address": "02:00:00:00:00:02", "address": "100.64.0.2"},
                   {"mac-address": "02:00:00:00:00:03", "address": "100.64.0.3", "disabled": True}],
        "neighbors": [{"address": "fe80::ff:fe00:2", "mac-address": "02:00:00:00:00:02"}],
        "bindings": [
            {"address": "2001:db8:1::/56", "duid": "0x00030001020000000001", "client-address": "fe80::1"},
            {"address": "2001:db8:2::/56", "duid": "0x0002000000000009", "client-address": "FE80::FF:FE00:2"},
            {"address": "2001:db8:3::/56", "duid": "0x00030001020000000003"},
            {"address": "2001:db8:4::/56", "duid": "0x00030001020000000004", "disabled": "true"},
            {"address": "", "duid": "0x00030001020000000001"},
        ]}
    assert mk.resolve(tables) == [("2001:db8:1::/56", "02:00:00:00:00:01", "100.64.0.1"),
                                  ("2001:db8:2::/56", "02:00:00:00:00:02", "100.64.0.2"),
                                  ("2001:db8:3::/56", "02:00:00:00:00:03", "")]


def test_apply_matches_by_mac_then_ipv4_and_reports_the_rest():
    by_mac = Device("d1", mac="02-00-00-00-00-01", ipv4=["100.64.0.50/32"])
    by_ip = Device("d2", ipv4=["100.64.0.2/32"], ipv6=["2001:db8:2::/56"])
    routed = Device("d3", ipv4=["100.96.0.0/29"])
    snapshot = Snapshot("test", circuits=[Circuit("1", devices=[by_mac]), Circuit("2", devices=[by_ip, routed])])
    bindings = [("2001:db8:1::/56", "02:00:00:00:00:01", "100.64.0.2", "r1"),
                ("2001:db8:2::/56", "02:00:00:00:00:09", "100.64.0.2", "r1"),
                ("2001:db8:5::/56", "", "100.64.0.2", "r2"),
                ("2001:db8:6::/56", "", "100.96.0.0", "r2"),
                ("2001:db8:7::/56", "02:00:00:00:00:07", "", "r2")]
    assert mk.apply(snapshot, (bindings, [("unread", "r3")])) == 2
    assert by_mac.ipv6 == ["2001:db8:1::/56"]
    assert by_ip.ipv6 == ["2001:db8:2::/56", "2001:db8:5::/56"]
    assert routed.ipv6 == []
    assert snapshot.warnings == [
        ("unread", "r3"),
        (mk.UNMATCHED, "2001:db8:6::/56 from r2 (MAC unknown, IPv4 100.96.0.0)"),
        (mk.UNMATCHED, "2001:db8:7::/56 from r2 (MAC 02:00:00:00:00:07, IPv4 unknown)")]


# --- against the RouterOS emulators ---------------------------------------------------------------------
def test_librouteros_reads_every_lab_binding(lab, network, tmp_path):
    bindings, warnings = mk.fetch_bindings(mk.read_router_list(str(router_list(tmp_path, lab))), 2)
    assert warnings == []
    found = {}
    for prefix, mac, ipv4, router in bindings:
        found.setdefault(mac, []).append(prefix)
    strays = [found.pop(routeros.STRAY_MAC % number) for number in (1, 2)]
    assert strays == [["2001:db8:ffff:100::/56"], ["2001:db8:ffff:200::/56"]]  # disabled ones left out
    assert found == expected_prefixes(network)
    lab_ipv4 = dict((d.mac.upper(), d.ipv4[0]) for s in network.subscribers for d in s.devices)
    assert all(ipv4 == lab_ipv4[mac] for prefix, mac, ipv4, router in bindings if mac in lab_ipv4)
    assert [r.logins for r in lab] == [{"ok": 1, "failed": 0}] * 2
    assert lab[0].commands == ["/login", "/ip/arp/print", "/ip/dhcp-server/lease/print",
                               "/ipv6/dhcp-server/binding/print", "/ipv6/neighbor/print"]


@pytest.mark.parametrize("fault, reason", [
    ("bad_password", "invalid user name or password (6)"),
    ("drop", "Connection reset by peer"),
    ("stall", "no answer (timeout)"),
])
def test_a_failing_router_is_a_warning_naming_it_and_the_others_still_count(lab, network, tmp_path, fault, reason):
    lab[0].fault = fault
    bindings, warnings = mk.fetch_bindings(mk.read_router_list(str(router_list(tmp_path, lab))), 0.5)
    assert warnings == [(mk.UNREAD, "core-1 (127.0.0.1:%d): %s" % (lab[0].bound_port, reason))]
    assert set(router for prefix, mac, ipv4, router in bindings) == {"core-2"}
    assert PASSWORD not in repr(warnings)


def test_wrong_password_and_refused_connection_warn_without_the_password(lab, tmp_path):
    path = router_list(tmp_path, lab[:1], password="Wrong-pw-Zz9", extra="gone,127.0.0.1,%s,Gone-pw-Q1,1\n" % USER)
    bindings, warnings = mk.fetch_bindings(mk.read_router_list(str(path)), 0.5)
    assert bindings == []
    assert warnings == [(mk.UNREAD, "core-1 (127.0.0.1:%d): invalid user name or password (6)" % lab[0].bound_port),
                        (mk.UNREAD, "gone (127.0.0.1:1): Connection refused")]
    assert "Wrong-pw-Zz9" not in repr(warnings) and "Gone-pw-Q1" not in repr(warnings)


def test_sources_add_router_prefixes_to_sonar_circuits(lab, network, tmp_path):
    with SonarEmulator(network, "tok") as sonar:
        params = dict(url=sonar.url, token="tok", timeout=2, retries=0, validate_certs=True, output_dir=str(tmp_path),
                      use_mikrotik_ipv6=True, mikrotik_router_list=str(router_list(tmp_path, lab)),
                      sonar_airmax_ap_model_ids=list(AIRMAX_AP_MODEL_IDS))
        settings = Settings(strategy="flat")
        payloads = sources.fetch("sonar", params, settings)
        topology, plan = sources.build_outputs("sonar", payloads, settings, str(tmp_path))
    expected = expected_prefixes(network)
    lab_devices = dict(("sonar:device:%d" % d.id, d) for s in network.subscribers for d in s.devices)
    lab_devices.update(("sonar:uninventoried-mac-address:%d" % d.id, d) for s in network.subscribers for d in s.devices)
    lab_devices.update(("sonar:account-ip-assignments:%d" % s.id, s.devices[-1]) for s in network.subscribers)
    checked = 0
    for row in topology.rows:
        lab_device = lab_devices[row.device_id]
        assert row.ipv6 == ", ".join(expected.get(lab_device.mac.upper(), []))
        checked += bool(row.ipv6)
    assert checked == len([row for row in topology.rows if lab_devices[row.device_id].ipv6]) > 10
    assert any(not row.mac and row.ipv6 for row in topology.rows)  # matched by IPv4: Sonar has no MAC
    unmatched = [m for m in topology.report.messages() if m.startswith(mk.UNMATCHED)]
    assert len(unmatched) == 1 and "2001:db8:ffff:100::/56 from core-1" in unmatched[0]


def test_engine_is_unchanged_without_the_option(lab, network, tmp_path):
    with SonarEmulator(network, "tok") as sonar:
        params = dict(url=sonar.url, token="tok", timeout=2, retries=0, validate_certs=True, output_dir=str(tmp_path))
        settings = Settings(strategy="flat")
        payloads = sources.fetch("sonar", params, settings)
    assert mk.PAYLOAD_KEY not in payloads
    assert all(not row.ipv6 for row in engine.build(sonar_snapshot(payloads, settings), settings).rows)


def sonar_snapshot(payloads, settings):
    return sources.SOURCES["sonar"].to_snapshot(payloads, settings)


def test_without_librouteros_the_module_and_the_import_say_so(monkeypatch, tmp_path, run_module):
    from ansible_collections.isp.ops.plugins.modules import crm_topology
    monkeypatch.setattr(mk, "HAS_LIBROUTEROS", False)
    result = run_module(crm_topology.main, dict(source="sonar", url="http://127.0.0.1:9", token="lab-token-Zq",
                                                output_dir=str(tmp_path), use_mikrotik_ipv6=True))
    assert result["failed"] and "librouteros" in result["msg"]
    with pytest.raises(mk.TopologyError, match="use_mikrotik_ipv6 needs the Python library librouteros"):
        sources.fetch("sonar", dict(url="http://127.0.0.1:9", token="lab-token-Zq", output_dir=str(tmp_path),
                                    use_mikrotik_ipv6=True), Settings(strategy="flat"))
    assert list(tmp_path.iterdir()) == []
