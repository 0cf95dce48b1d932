# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""UISP client: fetch + to_snapshot (and the engine on top) against the UISP emulator."""

from __future__ import annotations

import gc

import pytest

from ansible_collections.isp.ops.plugins.module_utils.crm import sources
from ansible_collections.isp.ops.plugins.module_utils.crm import uisp as client
from ansible_collections.isp.ops.plugins.module_utils.crm.http import CrmError
from ansible_collections.isp.ops.plugins.module_utils.topology import engine
from ansible_collections.isp.ops.plugins.module_utils.topology.model import AP, SITE
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings
from tests.emulators.labnet import RADIO_CAPACITY
from tests.emulators.uisp import DATA_LINKS, DEVICES, SITES, UispEmulator, device_uuid, endpoint_uuid, site_uuid

AIRMAX, LTU = 0.5, 0.8  # not the defaults, so a scaled capacity cannot pass by accident


@pytest.fixture(scope="module")
def payloads(uisp_server, crm):
    """The three answers, fetched once and decoded (each to_snapshot reads them afresh)."""
    fetched = crm.fetch(uisp_server, Settings())
    return dict((key, list(items)) for key, items in fetched.items())


def snapshot_of(payloads, **options):
    return client.to_snapshot(payloads, Settings(**options))


def build(payloads, **options):
    settings = Settings(**options)
    return engine.build(client.to_snapshot(payloads, settings), settings)


@pytest.fixture(scope="module")
def snapshot(payloads):
    return snapshot_of(payloads, airmax_capacity=AIRMAX, ltu_capacity=LTU)


def circuit_of(snapshot, subscriber):
    return next((c for c in snapshot.circuits if c.id == endpoint_uuid(subscriber)), None)


def clean(network):
    """Active subscribers without the deliberately bad rows (invalid IP, duplicate IP)."""
    bad = set(network.duplicate_ip_subscriber_ids) | set([network.invalid_ip_subscriber_id])
    return [s for s in network.expected_active() if s.id not in bad]


def raw_addresses(device):
    """What UISP reports for a lab device: hosts with their /24 mask, subnets as network cidrs."""
    v4 = ["%s/24" % ip if "/" not in ip else ip for ip in device.ipv4]
    return v4, list(device.ipv6)


def node_id(equipment):
    return "uisp:device:%s" % device_uuid(equipment.id)


def site_node(site):
    return "uisp:site:%s" % site_uuid(site)


# --- fetch ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["", "/", "/nms/api/v2.1", "/nms/api/v2.1/"])
def test_fetch_reads_the_three_endpoints_whatever_the_url_form(uisp, crm, suffix):
    payloads = crm.fetch(uisp, Settings(), url=uisp.url + suffix)
    assert sorted(payloads) == ["devices", "links", "sites"]
    assert [(e["path"], e["query"], e["status"]) for e in uisp.requests] == [
        (SITES, {}, 200), (DEVICES, {"withInterfaces": ["true"]}, 200), (DATA_LINKS, {}, 200)]
    assert all(e["headers"].get("X-Auth-Token") == "<redacted>" for e in uisp.requests)


def test_wrong_token_is_a_401_naming_uisp(uisp, crm):
    with pytest.raises(CrmError) as caught:
        crm.fetch(uisp, Settings(), token="not-the-token")
    exc = caught.value
    assert (exc.source, exc.endpoint) == ("UISP", SITES)
    assert str(exc).startswith("UISP %s: HTTP 401" % SITES)
    crm.assert_no_secret(exc)


# --- circuits --------------------------------------------------------------------------------------
def test_endpoints_with_a_live_service_are_the_circuits(snapshot, network):
    assert network.inactive_ids
    assert [c.id for c in snapshot.circuits] == [endpoint_uuid(s) for s in network.expected_active()]
    for subscriber in network.subscribers:
        circuit = circuit_of(snapshot, subscriber)
        if subscriber.id in network.inactive_ids:
            assert circuit is None
        else:
            assert circuit.name == subscriber.name
    ended = [w for w in snapshot.warnings if w[0] == "endpoint with an ended UCRM service, not shaped"]
    assert sorted(name for kind, name in ended) == sorted(
        s.name for s in network.subscribers if s.id in network.inactive_ids)


def test_plan_is_qos_bps_and_burst_is_kilobytes_per_second(snapshot, network):
    bursts = set()
    for subscriber in network.expected_active():
        circuit = circuit_of(snapshot, subscriber)
        assert (circuit.plan_download, circuit.plan_upload) == (subscriber.plan.download_mbps,
                                                                subscriber.plan.upload_mbps)
        # burst Mbps = kB/s x 8 / 1000: 12500 kB/s -> 100 Mbps, 2500 kB/s -> 20 Mbps; null or 0 -> none.
        expected = ((subscriber.burst_down_kbytes or 0) * 8 / 1000.0, (subscriber.burst_up_kbytes or 0) * 8 / 1000.0)
        assert (circuit.burst_download, circuit.burst_upload) == expected
        bursts.add(subscriber.burst_down_kbytes)
    assert bursts == {None, 0, 12500}


@pytest.mark.parametrize("commit, overhead", [(0.98, 1.15), (0.9, 1.2)])
def test_rows_min_is_plan_times_commit_and_max_plan_plus_burst_times_overhead(
        payloads, network, commit, overhead):
    topology = build(payloads, strategy="ap_only", commit_bandwidth_multiplier=commit,
                     bandwidth_overhead_factor=overhead)
    subscribers = dict((endpoint_uuid(s), s) for s in network.subscribers)
    checked = set()
    for row in topology.rows:
        subscriber = subscribers[row.circuit_id]
        plan, burst = subscriber.plan, (subscriber.burst_down_kbytes or 0, subscriber.burst_up_kbytes or 0)
        assert (row.download_min, row.upload_min) == (round(plan.download_mbps * commit, 2),
                                                      round(plan.upload_mbps * commit, 2))
        assert (row.download_max, row.upload_max) == (
            round((plan.download_mbps + burst[0] * 8 / 1000.0) * overhead, 2),
            round((plan.upload_mbps + burst[1] * 8 / 1000.0) * overhead, 2))
        checked.add(subscriber.burst_down_kbytes)
    assert checked == {None, 0, 12500}
    # The seed's example: 100 Mbps with 12,500 kB/s of burst -> max (100 + 100) x overhead.
    plus = set(endpoint_uuid(s) for s in clean(network)
               if s.plan.download_mbps == 100 and s.burst_down_kbytes == 12500)
    maxima = set(row.download_max for row in topology.rows if row.circuit_id in plus)
    assert maxima == {round(200 * overhead, 2)}


def test_suspended_endpoints_are_flagged(snapshot, network):
    assert network.suspended_ids
    assert set(c.id for c in snapshot.circuits if c.suspended) == set(
        endpoint_uuid(s) for s in network.subscribers if s.id in network.suspended_ids)


def test_suspended_strategies(payloads, network):
    suspended = set(endpoint_uuid(s) for s in network.subscribers if s.id in network.suspended_ids)
    slow = build(payloads, strategy="flat", suspended_strategy="slow")
    rates = set((r.download_min, r.upload_min, r.download_max, r.upload_max)
                for r in slow.rows if r.circuit_id in suspended)
    assert rates == {(0.1, 0.1, 0.1, 0.1)}
    ignore = build(payloads, strategy="flat", suspended_strategy="ignore")
    assert not suspended & set(r.circuit_id for r in ignore.rows)
    assert ignore.report.count("suspended circuit not shaped (suspended_strategy=ignore)") == len(suspended)


def test_every_device_of_a_subscriber_is_kept(snapshot, network):
    several = [s for s in network.expected_active() if len(s.devices) > 1]
    assert any(len(s.devices) == 3 for s in several)
    for subscriber in network.expected_active():
        circuit = circuit_of(snapshot, subscriber)
        assert [d.id for d in circuit.devices] == [device_uuid(d.id) for d in subscriber.devices]
        assert [d.mac for d in circuit.devices] == [d.mac for d in subscriber.devices]
        for mine, theirs in zip(circuit.devices, subscriber.devices):
            assert (mine.ipv4, mine.ipv6) == raw_addresses(theirs)


def test_rows_carry_every_device_with_ipv4_subnets_and_ipv6_prefixes(payloads, network):
    topology = build(payloads, strategy="ap_only")
    rows = dict((row.device_id, row) for row in topology.rows)
    prefixes = 0
    for subscriber in clean(network):
        for device in subscriber.devices:
            row = rows[device_uuid(device.id)]
            assert row.circuit_id == endpoint_uuid(subscriber)
            assert row.ipv4.split(", ") == list(device.ipv4)  # host masks dropped, /29 kept
            assert row.ipv6 == ", ".join(device.ipv6)
            prefixes += sum(p.endswith("/56") for p in device.ipv6)
    assert prefixes  # delegated /56s as well as /64s


def test_invalid_and_duplicate_ip_are_reported(payloads, network):
    topology = build(payloads, strategy="full")
    messages = topology.report.messages()
    invalid = [m for m in messages if m.startswith("invalid IP address dropped (1)")]
    assert len(invalid) == 1 and network.invalid_ip in invalid[0]
    duplicate = [m for m in messages if m.startswith("IP address in two circuits, kept in the first (1)")]
    assert len(duplicate) == 1 and network.duplicate_ip in duplicate[0]
    first, second = (network.subscribers[i - 1] for i in network.duplicate_ip_subscriber_ids)
    assert endpoint_uuid(first) in duplicate[0] and endpoint_uuid(second) in duplicate[0]
    owners = [r.circuit_id for r in topology.rows if network.duplicate_ip in r.ipv4.split(", ")]
    assert owners == [endpoint_uuid(first)]
    bad = network.subscribers[network.invalid_ip_subscriber_id - 1]
    assert device_uuid(network.invalid_ip_device_id) not in [r.device_id for r in topology.rows]
    assert device_uuid(bad.devices[0].id) in [r.device_id for r in topology.rows]


# --- parents ---------------------------------------------------------------------------------------
def test_station_ap_device_is_the_parent(snapshot, network):
    for subscriber in network.expected_active():
        if subscriber.ap_recorded:
            ap = network.equipment_by_id(subscriber.ap_id)
            assert circuit_of(snapshot, subscriber).parent_id == node_id(ap)


def test_data_link_names_the_ap_when_the_station_does_not(payloads, snapshot, network):
    unrecorded = [s for s in network.expected_active() if not s.ap_recorded]
    assert unrecorded
    stations = dict((d["identification"]["id"], d) for d in payloads["devices"])
    for subscriber in unrecorded:
        assert stations[device_uuid(subscriber.devices[0].id)]["attributes"]["apDevice"] is None
        assert circuit_of(snapshot, subscriber).parent_id == node_id(network.equipment_by_id(subscriber.ap_id))


def test_ap_only_rows_name_their_ap(payloads, network):
    topology = build(payloads, strategy="ap_only")
    parent = dict((row.circuit_id, row.parent_node) for row in topology.rows)
    for subscriber in clean(network):
        assert parent[endpoint_uuid(subscriber)] == network.equipment_by_id(subscriber.ap_id).name


def test_flat_rows_have_no_parent(payloads, network):
    topology = build(payloads, strategy="flat")
    assert topology.rows and not topology.tree.by_id
    assert set(row.parent_node for row in topology.rows) == {""}


# --- infrastructure ----------------------------------------------------------------------------------
def test_sites_keep_their_uisp_hierarchy(snapshot, network):
    for site in network.sites:
        node = snapshot.nodes[site_node(site)]
        assert (node.name, node.kind) == (site.name, SITE)
        assert node.parent_id == (site_node(network.site(site.parent_id)) if site.parent_id else None)
        assert (node.latitude, node.longitude) == (site.latitude, site.longitude)


def expected_capacity(equipment):
    factor = AIRMAX if "5AC" in equipment.model else LTU if "LTU" in equipment.model else 1.0
    down, up = RADIO_CAPACITY[equipment.model]
    return round(down * factor, 2), round(up * factor, 2)


def test_ap_capacity_is_scaled_by_the_radio_family(snapshot, network):
    models = set()
    for ap in network.aps:
        node = snapshot.nodes[node_id(ap)]
        assert (node.name, node.kind, node.ptmp) == (ap.name, AP, True)
        assert node.parent_id == site_node(network.site(ap.site_id))
        assert (node.download_mbps, node.upload_mbps) == expected_capacity(ap)
        models.add(ap.model)
    assert models == {"LAP-120", "Rocket 5AC Prism", "LTU Rocket"}  # x 1, x airmax, x ltu


def test_station_radios_are_not_aps(snapshot, network):
    stations = [e for e in network.equipment if e.role == "station"]
    assert stations and not [e for e in stations if node_id(e) in snapshot.nodes]


def link_names(snapshot):
    names = dict((nid, n.name) for nid, n in snapshot.nodes.items())
    return dict(((names[l.a], names[l.b]), l) for l in snapshot.links)


def test_multi_homed_site_3_has_links_to_site_1_and_site_2(snapshot):
    links = link_names(snapshot)
    assert {a for a, b in links if b == "Site 3"} == {"Site 1", "Site 2"}
    backup, main = links[("Site 1", "Site 3")], links[("Site 2", "Site 3")]
    assert backup.capacity_mbps == round(RADIO_CAPACITY["Rocket 5AC Prism"][0] * AIRMAX, 2)
    assert main.capacity_mbps == RADIO_CAPACITY["AF60"][0]
    assert backup.via_ap is None and main.via_ap is None


def test_every_site_to_site_link_and_no_uplink_or_client_link(snapshot, network):
    expected = set((network.site(l.from_site_id).name, network.site(l.to_site_id).name) for l in network.links)
    assert set(link_names(snapshot)) == expected


def tree_parents(topology):
    return dict((item.name, item.parent.name if item.parent else None) for item in topology.tree.items())


def test_full_strategy_and_the_seed_route_overrides(payloads, network):
    without = tree_parents(build(payloads, strategy="full"))
    assert without["Site 3"] == "Site 1"  # the direct backup link is one hop shorter
    overrides = dict(((a, b), cost) for a, b, cost in network.route_override_rows)
    assert overrides == {("Site 1", "Site 3"): 100, ("Site 3", "Site 1"): 100}
    with_overrides = tree_parents(build(payloads, strategy="full", route_overrides=overrides))
    assert with_overrides["Site 3"] == "Site 2"
    assert with_overrides["Site 2"] == "Site 1"


def test_ptmp_fed_site_link_names_its_ap(snapshot, network):
    site = network.ptmp_fed_site
    [feed] = network.links_to(site.id)
    ap = network.equipment_by_id(feed.from_equipment_id)
    assert ap.customer_ap and "LTU" in ap.model
    link = link_names(snapshot)[(network.site(feed.from_site_id).name, site.name)]
    assert link.via_ap == node_id(ap)
    assert snapshot.nodes[link.via_ap].ptmp


def test_use_ptmp_as_parent_hangs_the_fed_site_under_its_ap(payloads, network):
    site = network.ptmp_fed_site
    [feed] = network.links_to(site.id)
    ap = network.equipment_by_id(feed.from_equipment_id)
    assert tree_parents(build(payloads, strategy="full"))[site.name] == network.site(ap.site_id).name
    assert tree_parents(build(payloads, strategy="full", use_ptmp_as_parent=True))[site.name] == ap.name


def test_a_wrong_shaped_device_names_endpoint_and_item(payloads):
    broken = dict(payloads, devices=payloads["devices"][:3] + [{"identification": {"site": None}}])
    with pytest.raises(CrmError) as caught:
        client.to_snapshot(broken, Settings())
    assert str(caught.value).startswith("UISP /nms/api/v2.1/devices: item 3 has an unexpected shape (KeyError")


class ReversedLinks(UispEmulator):
    """A UISP whose data-links all run the other way (UISP does not promise a direction)."""

    def data_links(self, query):
        for row in super(ReversedLinks, self).data_links(query):
            row["from"], row["to"] = row["to"], row["from"]
            yield row


def test_data_link_direction_does_not_matter(payloads, network, crm):
    with ReversedLinks(network, crm.TOKEN) as server:
        reversed_payloads = dict((key, list(items)) for key, items in crm.fetch(server, Settings()).items())
    assert reversed_payloads["links"] != payloads["links"]
    normal, flipped = snapshot_of(payloads), snapshot_of(reversed_payloads)
    assert [(c.id, c.parent_id) for c in flipped.circuits] == [(c.id, c.parent_id) for c in normal.circuits]
    assert set(frozenset((l.a, l.b)) for l in flipped.links) == set(frozenset((l.a, l.b)) for l in normal.links)
    ptmp = [(l.a, l.b, l.via_ap) for l in normal.links if l.via_ap]
    assert ptmp and [(l.a, l.b, l.via_ap) for l in flipped.links if l.via_ap] == ptmp
    overrides = dict(((a, b), cost) for a, b, cost in network.route_override_rows)
    for options in ({}, {"route_overrides": overrides}):
        assert tree_parents(build(reversed_payloads, strategy="full", **options)) == tree_parents(
            build(payloads, strategy="full", **options))


def test_a_truncated_answer_fails_while_mapping_and_writes_nothing(uisp, crm, tmp_path):
    """Lists decode lazily: the fetch succeeds, the error surfaces as a CrmError in build_outputs."""
    uisp.set_fault(DEVICES, "truncated")
    settings = Settings()
    payloads = crm.fetch(uisp, settings)
    with pytest.raises(CrmError) as caught:
        sources.build_outputs("uisp", payloads, settings, str(tmp_path))
    assert caught.value.endpoint == DEVICES
    assert "answered with invalid JSON" in str(caught.value) and "truncated" in str(caught.value)
    assert gc.isenabled()
    assert list(tmp_path.iterdir()) == []
