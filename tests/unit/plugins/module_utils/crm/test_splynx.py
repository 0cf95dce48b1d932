# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Splynx client: fetch + to_snapshot against the Splynx emulator, checked against the LabNetwork."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.crm import splynx as client
from ansible_collections.isp.ops.plugins.module_utils.crm.http import CrmError
from ansible_collections.isp.ops.plugins.module_utils.topology.model import AP, SITE
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import STRATEGIES, Settings
from tests.emulators.labnet import PLANS
from tests.emulators.splynx import (
    CUSTOMERS, CUSTOMERS_ONLINE, MONITORING, NETWORK_SITES, ROUTER_SECTORS, ROUTERS, SERVICES, TARIFFS,
    SplynxEmulator, service_id)

FLAT_PATHS = [TARIFFS, CUSTOMERS, CUSTOMERS_ONLINE, SERVICES]
ALL_PATHS = FLAT_PATHS + [ROUTERS, ROUTER_SECTORS, MONITORING, NETWORK_SITES]
TURBO_EXTRA = (100.0, 20.0)  # the emulator's Turbo tariffs: burst_limit_fixed = speed + 100000/20000 kbps


@pytest.fixture(scope="module")
def snapshots(splynx_server, crm):
    """One snapshot per strategy, fetched from the emulator, and the paths each fetch requested."""
    result = {}
    for strategy in STRATEGIES:
        splynx_server.clear_log()
        snapshot = crm.snapshot(splynx_server, strategy=strategy)
        result[strategy] = snapshot, [entry["path"] for entry in splynx_server.requests]
    return result


@pytest.fixture(params=STRATEGIES)
def snapshot(request, snapshots):
    return snapshots[request.param][0]


def circuits_by_subscriber(snapshot, network):
    by_id = dict((c.id, c) for c in snapshot.circuits)
    return dict((s.id, by_id.get(str(service_id(s)))) for s in network.subscribers)


def has_session(subscriber):
    """customers-online lists every active, unsuspended dynamic service (see the emulator)."""
    return subscriber.active and not subscriber.suspended


def expected_addresses(subscriber):
    """(IPv4, IPv6) the service must carry: static ones, plus the dynamic CPE's from its session."""
    v4, v6 = [], []
    for device in subscriber.devices:
        if device.dynamic and not has_session(subscriber):
            continue
        v4 += device.ipv4
        v6 += device.ipv6 if not device.dynamic else [p for p in device.ipv6 if p.endswith("/64")][:1]
    return sorted(v4), sorted(v6)


# --- circuits ------------------------------------------------------------------------------------
def test_one_circuit_per_active_service(snapshot, network):
    assert network.inactive_ids and network.suspended_ids
    expected = set(str(service_id(s)) for s in network.expected_active())
    assert [c.id for c in snapshot.circuits] == [str(service_id(s)) for s in network.expected_active()]
    assert set(c.id for c in snapshot.circuits) == expected
    assert len(snapshot.circuits) == network.counts()["active"]
    circuits = circuits_by_subscriber(snapshot, network)
    for subscriber in network.subscribers:
        if subscriber.id in network.inactive_ids:
            assert circuits[subscriber.id] is None
            continue
        circuit = circuits[subscriber.id]
        assert circuit.name == subscriber.name
        # One device per service, named after the customer, with the service's MAC.
        [device] = circuit.devices
        assert device.id == "splynx_service_%d" % service_id(subscriber)
        assert device.mac == subscriber.devices[0].mac


def test_blocked_customers_are_suspended(snapshot, network):
    suspended = set(c.id for c in snapshot.circuits if c.suspended)
    assert suspended == set(str(service_id(s)) for s in network.subscribers if s.id in network.suspended_ids)


def test_tariff_speeds_kbps_to_mbps_and_fixed_burst(snapshot, network):
    circuits = circuits_by_subscriber(snapshot, network)
    with_burst = without_burst = 0
    for subscriber in network.expected_active():
        circuit = circuits[subscriber.id]
        assert (circuit.plan_download, circuit.plan_upload) == (subscriber.plan.download_mbps,
                                                                subscriber.plan.upload_mbps)
        if subscriber.burst_down_kbytes:
            with_burst += 1
            assert (circuit.burst_download, circuit.burst_upload) == TURBO_EXTRA
        else:
            without_burst += 1
            assert (circuit.burst_download, circuit.burst_upload) == (0.0, 0.0)
    assert with_burst and without_burst


def test_rates_in_the_rows(splynx, crm, network):
    """Min = plan x commit, max = (plan + burst) x overhead, with the engine's own Settings."""
    snapshot, topology = crm.build(splynx, strategy="ap_only", commit_bandwidth_multiplier=0.9,
                                   bandwidth_overhead_factor=1.2)
    subscribers = dict((str(service_id(s)), s) for s in network.subscribers)
    assert topology.rows
    for row in topology.rows:
        subscriber = subscribers[row.circuit_id]
        plan = subscriber.plan
        burst = TURBO_EXTRA if subscriber.burst_down_kbytes else (0, 0)
        assert (row.download_min, row.upload_min) == (round(plan.download_mbps * 0.9, 2),
                                                      round(plan.upload_mbps * 0.9, 2))
        assert (row.download_max, row.upload_max) == (round((plan.download_mbps + burst[0]) * 1.2, 2),
                                                      round((plan.upload_mbps + burst[1]) * 1.2, 2))


def test_fixed_burst_below_the_speed_adds_nothing():
    """burst_limit_fixed is the total rate: only the part above the speed is burst; strings count."""
    payloads = {
        "tariffs": [{"id": 1, "speed_download": "20000", "speed_upload": 4000,
                     "burst_limit_fixed_down": 10000, "burst_limit_fixed_up": ""},
                    {"id": "2", "speed_download": 50000, "speed_upload": 10000,
                     "burst_limit_fixed_down": "75000", "burst_limit_fixed_up": 12500}],
        "customers": [{"id": 7, "name": "Ana", "status": "active"}],
        "online": [],
        "services": [{"id": 70, "customer_id": "7", "tariff_id": 1, "status": "active", "ipv4": "100.64.9.1"},
                     {"id": 71, "customer_id": 7, "tariff_id": "2", "status": "active", "ipv4": "100.64.9.2"}],
    }
    snapshot = client.to_snapshot(payloads, Settings(strategy="flat"))
    rates = [(c.plan_download, c.plan_upload, c.burst_download, c.burst_upload) for c in snapshot.circuits]
    assert rates == [(20.0, 4.0, 0.0, 0.0), (50.0, 10.0, 25.0, 2.5)]


# --- addresses -------------------------------------------------------------------------------------
def test_addresses_static_routed_and_from_sessions(snapshot, network):
    circuits = circuits_by_subscriber(snapshot, network)
    for subscriber in network.expected_active():
        [device] = circuits[subscriber.id].devices
        assert (sorted(device.ipv4), sorted(device.ipv6)) == expected_addresses(subscriber), subscriber.id


def test_ipv4_route_is_split_into_addresses(snapshot, network):
    """The routed /29 and the other devices' addresses arrive in ipv4_route, ", " separated."""
    circuits = circuits_by_subscriber(snapshot, network)
    routed = [s for s in network.expected_active() if any("/" in ip for ip in s.devices[0].ipv4)]
    several = [s for s in network.expected_active() if len(s.devices) > 2 and not s.devices[0].dynamic]
    assert routed and several
    for subscriber in routed + several:
        addresses = circuits[subscriber.id].devices[0].ipv4
        assert all(", " not in ip and ip == ip.strip() for ip in addresses)
        assert addresses == [ip for d in subscriber.devices for ip in d.ipv4]


def test_services_without_static_ip_take_the_session_addresses(snapshot, network):
    circuits = circuits_by_subscriber(snapshot, network)
    dynamic = [s for s in network.expected_active() if s.devices[0].dynamic and has_session(s)]
    # Subscriber 37: a dynamic CPE plus a static router, whose address sits in ipv4_route; the
    # service still has no static address of its own, so the session's must be added.
    assert any(len(s.devices) > 1 for s in dynamic)
    for subscriber in dynamic:
        cpe = subscriber.devices[0]
        device = circuits[subscriber.id].devices[0]
        assert device.ipv4[0] == cpe.ipv4[0]
        assert [ip for d in subscriber.devices[1:] for ip in d.ipv4] == device.ipv4[1:]
        assert device.ipv6 == [p for p in cpe.ipv6 if p.endswith("/64")]


def test_suspended_dynamic_service_has_no_session_and_no_row(splynx, crm, network):
    """Blocked customers have no session: a dynamic one has no address and is reported, not shaped."""
    snapshot, topology = crm.build(splynx, strategy="flat")
    blocked_dynamic = [s for s in network.subscribers if s.suspended and s.devices[0].dynamic]
    assert blocked_dynamic
    circuits = circuits_by_subscriber(snapshot, network)
    shaped = set(row.circuit_id for row in topology.rows)
    for subscriber in blocked_dynamic:
        assert circuits[subscriber.id].devices[0].ipv4 == [ip for d in subscriber.devices[1:] for ip in d.ipv4]
        if len(subscriber.devices) == 1:
            assert str(service_id(subscriber)) not in shaped
            assert any(str(service_id(subscriber)) in line and "no usable IP address" in line
                       for line in topology.report.messages())


def test_invalid_and_duplicate_ip_are_reported(splynx, crm, network):
    snapshot, topology = crm.build(splynx, strategy="ap_only")
    messages = topology.report.messages()
    assert any("invalid IP address dropped" in m and network.invalid_ip in m for m in messages)
    assert any("IP address in two circuits" in m and network.duplicate_ip in m for m in messages)
    first, second = (str(service_id(network.subscribers[i - 1])) for i in network.duplicate_ip_subscriber_ids)
    owners = [row.circuit_id for row in topology.rows if network.duplicate_ip in row.ipv4.split(", ")]
    assert owners == [first]
    assert all(network.invalid_ip not in row.ipv4 for row in topology.rows)


# --- parents ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["ap_only", "ap_site", "full"])
def test_access_device_is_the_parent_ap(snapshots, network, strategy):
    snapshot = snapshots[strategy][0]
    circuits = circuits_by_subscriber(snapshot, network)
    recorded = [s for s in network.expected_active() if s.ap_recorded]
    for subscriber in recorded:
        ap = network.equipment_by_id(subscriber.ap_id)
        parent = snapshot.nodes[circuits[subscriber.id].parent_id]
        assert (parent.id, parent.name, parent.kind) == ("splynx:monitoring:%d" % ap.id, ap.name, AP)
    # The monitoring tree: every customer AP under its site's monitoring row, sites as SITE.
    for ap in network.aps:
        node = snapshot.nodes["splynx:monitoring:%d" % ap.id]
        assert node.parent_id == "splynx:monitoring:%d" % ap.site_id
        assert snapshot.nodes[node.parent_id].kind == SITE


def first_sector_ap(network, subscriber):
    """The emulator's router is per AP site; its first sector is the first customer AP there."""
    site_id = network.equipment_by_id(subscriber.ap_id).site_id
    return next(ap for ap in network.aps if ap.site_id == site_id)


def test_router_first_sector_is_the_fallback_parent(snapshots, network):
    snapshot = snapshots["full"][0]
    circuits = circuits_by_subscriber(snapshot, network)
    unrecorded = [s for s in network.expected_active() if not s.ap_recorded]
    assert unrecorded
    for subscriber in unrecorded:
        parent = snapshot.nodes[circuits[subscriber.id].parent_id]
        assert parent.id.startswith("splynx:sector:")
        assert (parent.name, parent.kind) == (first_sector_ap(network, subscriber).name, AP)


class RouterOnMonitoring(SplynxEmulator):
    """A Splynx where each NAS is also a monitored device: the router's IP is its first AP's."""

    def routers(self, query):
        first_ap = {}
        for ap in self.network.aps:
            first_ap.setdefault(self.router_ids[ap.site_id], ap)
        for router in super(RouterOnMonitoring, self).routers(query):
            router["ip"] = first_ap[router["id"]].ipv4
            yield router


def test_router_on_a_monitored_device_is_the_fallback_parent(network, crm):
    with RouterOnMonitoring(network, crm.API_KEY, crm.API_SECRET) as server:
        snapshot = crm.snapshot(server, strategy="full")
    circuits = circuits_by_subscriber(snapshot, network)
    for subscriber in [s for s in network.expected_active() if not s.ap_recorded]:
        ap = first_sector_ap(network, subscriber)
        assert circuits[subscriber.id].parent_id == "splynx:monitoring:%d" % ap.id
    assert not [node for node in snapshot.nodes if node.startswith("splynx:sector:")]


def test_flat_fetches_only_the_four_flat_endpoints(snapshots):
    snapshot, paths = snapshots["flat"]
    assert sorted(paths) == sorted(FLAT_PATHS)
    assert not snapshot.nodes
    assert all(c.parent_id is None for c in snapshot.circuits)


@pytest.mark.parametrize("strategy", ["ap_only", "ap_site", "full"])
def test_other_strategies_fetch_every_endpoint_once(snapshots, strategy):
    assert sorted(snapshots[strategy][1]) == sorted(ALL_PATHS)


def test_ap_site_puts_each_ap_under_its_site(splynx, crm, network):
    snapshot, topology = crm.build(splynx, strategy="ap_site")
    top = dict((item.name, item) for item in topology.tree.top)
    used = set(s.ap_id for s in network.expected_active() if s.ap_recorded)
    assert used
    for ap in network.aps:
        if ap.id in used:  # (the engine may prune APs without circuits)
            site = network.site(ap.site_id)
            assert ap.name in [child.name for child in top[site.name].children]
    assert all(row.parent_node for row in topology.rows)


def test_wrong_credentials_are_a_401_naming_splynx(splynx, crm):
    with pytest.raises(CrmError) as caught:
        crm.fetch(splynx, Settings(strategy="flat"), api_secret="not-the-secret")
    exc = caught.value
    assert exc.source == "Splynx" and exc.endpoint == TARIFFS
    assert str(exc).startswith("Splynx %s: HTTP 401" % TARIFFS)
    assert "not-the-secret" not in str(exc)
    crm.assert_no_secret(exc)
    assert [entry["status"] for entry in splynx.requests] == [401]


def test_unknown_tariff_is_reported_not_shaped():
    payloads = {"tariffs": [], "customers": [], "online": [],
                "services": [{"id": 1, "customer_id": 1, "tariff_id": 99, "status": "active", "ipv4": "100.64.0.1"}]}
    snapshot = client.to_snapshot(payloads, Settings(strategy="flat"))
    assert snapshot.circuits == []
    assert snapshot.warnings == [("service has an unknown tariff, not shaped", "service 1 tariff 99")]


def test_a_wrong_shaped_row_names_endpoint_and_item(splynx, crm):
    settings = Settings(strategy="flat")
    payloads = crm.fetch(splynx, settings)
    payloads["tariffs"] = list(payloads["tariffs"]) + [{"speed_download": 1000}]  # no id
    with pytest.raises(CrmError) as caught:
        client.to_snapshot(payloads, settings)
    assert str(caught.value).startswith("Splynx %s: item %d has an unexpected shape" % (TARIFFS, 2 * len(PLANS)))
