# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Circuit rows: rate formulas, suspensions, addresses, duplicates, exception CPEs."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.topology.settings import TopologyError


def one(make, circuit, nodes=None, **settings):
    """Build a snapshot with the given circuit(s) on the standard network; return the topology."""
    snap = make.network() if nodes is None else make.snapshot(nodes)
    snap.circuits = circuit if isinstance(circuit, list) else [circuit]
    return make.build(snap, **settings)


def rates(row):
    return (row.download_min, row.upload_min, row.download_max, row.upload_max)


# --- rate formulas -------------------------------------------------------------------------------


def test_default_formula_min_is_commit_max_is_overhead(make):
    topo = one(make, make.circuit("r", "AP A1", plan=(100, 20)))
    assert rates(topo.rows[0]) == (98.0, 19.6, 115.0, 23.0)


@pytest.mark.parametrize("plan, burst, commit, overhead, expected", [
    ((100, 20), (0, 0), 1.0, 1.0, (100, 20, 100, 20)),
    ((50, 10), (0, 0), 0.5, 2.0, (25, 5, 100, 20)),
    ((100, 20), (50, 5), 0.98, 1.15, (98, 19.6, 172.5, 28.75)),
    ((33.3, 7.7), (0, 0), 0.9, 1.1, (29.97, 6.93, 36.63, 8.47)),
])
def test_formula_with_factors_and_burst(make, plan, burst, commit, overhead, expected):
    topo = one(make, make.circuit("r", "AP A1", plan=plan, burst=burst), commit_bandwidth_multiplier=commit,
               bandwidth_overhead_factor=overhead)
    assert rates(topo.rows[0]) == pytest.approx(expected, abs=1e-9)


def test_seed_burst_example_100_mbps_plus_12500_kBps(make):
    # UISP burst is in kB/s; the client converts with kB/s * 8 / 1000 before the engine sees it.
    burst_mbps = 12500 * 8 / 1000.0
    assert burst_mbps == 100.0
    topo = one(make, make.circuit("b", "AP A1", plan=(100, 100), burst=(burst_mbps, 6250 * 8 / 1000.0)))
    down_min, up_min, down_max, up_max = rates(topo.rows[0])
    assert down_min == 98.0                # 100 x 0.98
    assert down_max == 230.0               # (100 + 100) x 1.15
    assert up_min == 98.0
    assert up_max == pytest.approx(172.5)  # (100 + 50) x 1.15


def test_seed_burst_quick_reference(make):
    for kbps, added in ((6250, 50), (12500, 100), (25000, 200)):
        topo = one(make, make.circuit("q", "AP A1", plan=(100, 100), burst=(kbps * 8 / 1000.0, 0)),
                   bandwidth_overhead_factor=1.0, commit_bandwidth_multiplier=1.0)
        assert topo.rows[0].download_max == 100 + added
        assert topo.rows[0].upload_max == 100


def test_rates_are_not_capped_by_the_parent_node(make):
    # LibreQoS caps circuits at their node itself; the file carries the plan as sold.
    topo = one(make, make.circuit("big", "AP B1", plan=(1000, 1000)))
    assert topo.rows[0].download_max == 1150


def test_no_plan_speed_is_not_shaped(make):
    circuits = [make.circuit("zero-down", "AP A1", plan=(0, 20)), make.circuit("zero-up", "AP A1", plan=(100, 0)),
                make.circuit("none", "AP A1", plan=(None, None)), make.circuit("ok", "AP A1")]
    topo = one(make, circuits)
    assert [r.circuit_id for r in topo.rows] == ["ok"]
    assert topo.report.count("circuit has no plan speed, not shaped") == 3
    assert topo.report.examples("circuit has no plan speed, not shaped")[0] == "'Customer zero-down' (zero-down)"


def test_explicit_min_is_used_and_lowered_to_max_when_above(make):
    ok = make.circuit("ok", "AP A1", plan=(100, 20), min_download=10.0, min_upload=2.5)
    high = make.circuit("high", "AP A1", plan=(100, 20), min_download=500.0, min_upload=None)
    topo = one(make, [ok, high])
    by_id = make.rows_by_circuit(topo)
    assert rates(by_id["ok"][0]) == (10.0, 2.5, 115.0, 23.0)
    assert rates(by_id["high"][0]) == (115.0, 19.6, 115.0, 23.0)
    assert topo.report.examples("min above max, min lowered to max") == ["'Customer high' (high) 500.0 > 115.0"]


def test_rates_never_below_the_floor(make):
    tiny = make.circuit("tiny", "AP A1", plan=(0.01, 0.02))
    zero_min = make.circuit("zmin", "AP A1", plan=(100, 20), min_download=0.0, min_upload=0.0)
    topo = one(make, [tiny, zero_min])
    by_id = make.rows_by_circuit(topo)
    assert rates(by_id["tiny"][0]) == (0.1, 0.1, 0.1, 0.1)
    assert rates(by_id["zmin"][0])[:2] == (0.1, 0.1)


# --- suspended circuits -----------------------------------------------------------------------------


@pytest.mark.parametrize("strategy, expected, kind", [
    ("none", (98.0, 19.6, 115.0, 23.0), "suspended circuit shaped at full speed (suspended_strategy=none)"),
    ("slow", (0.1, 0.1, 0.1, 0.1), None),
    ("ignore", None, "suspended circuit not shaped (suspended_strategy=ignore)"),
])
def test_suspended_strategies(make, strategy, expected, kind):
    circuits = [make.circuit("s", "AP A1", suspended=True), make.circuit("active", "AP A1")]
    topo = one(make, circuits, suspended_strategy=strategy)
    by_id = make.rows_by_circuit(topo)
    assert rates(by_id["active"][0]) == (98.0, 19.6, 115.0, 23.0)
    if expected is None:
        assert "s" not in by_id
    else:
        assert rates(by_id["s"][0]) == expected
        assert by_id["s"][0].parent_node == "AP A1"
    if kind:
        assert topo.report.examples(kind) == ["'Customer s' (s)"]


def test_suspended_slow_shapes_even_without_a_plan(make):
    topo = one(make, make.circuit("s", "AP A1", plan=(0, 0), suspended=True), suspended_strategy="slow")
    assert rates(topo.rows[0]) == (0.1, 0.1, 0.1, 0.1)


# --- row contents ------------------------------------------------------------------------------------


def test_row_fields_for_a_multi_device_circuit(make):
    circuit = make.circuit("m", "AP A1", name="Ana Pérez", comment="vip", sqm="cake")
    circuit.devices = [make.device("d1", "router", ["100.64.5.1", "100.64.5.2"], ["2001:db8:5::/56"],
                                   mac="aa:bb:cc:dd:ee:01"),
                       make.device("d2", "", ["100.64.5.3"])]
    topo = one(make, circuit)
    first, second = topo.rows
    assert first == first._replace(circuit_id="m", circuit_name="Ana Pérez", device_id="d1", device_name="router",
                                   parent_node="AP A1", parent_node_id="AP A1", anchor_node_id="",
                                   mac="aa:bb:cc:dd:ee:01", ipv4="100.64.5.1, 100.64.5.2",
                                   ipv6="2001:db8:5::/56", comment="vip", sqm="cake")
    assert (second.device_id, second.device_name, second.ipv4, second.ipv6) == ("d2", "d2", "100.64.5.3", "")
    assert topo.stats()["devices"] == 2 and topo.stats()["circuits"] == 1


def test_circuit_name_falls_back_to_the_id(make):
    topo = one(make, make.circuit(42, "AP A1", name=""))
    assert (topo.rows[0].circuit_id, topo.rows[0].circuit_name) == ("42", "42")


def test_duplicate_circuit_id_later_one_dropped(make):
    topo = one(make, [make.circuit("d", "AP A1", ["100.64.1.1"]), make.circuit("d", "AP B1", ["100.64.1.2"])])
    assert [(r.circuit_id, r.ipv4) for r in topo.rows] == [("d", "100.64.1.1")]
    assert topo.report.count("duplicate circuit id, later one dropped") == 1


# --- addresses ---------------------------------------------------------------------------------------


def test_addresses_are_normalised_and_split_by_family(make):
    circuit = make.circuit("n", "AP A1", ["100.64.1.5/24", "100.64.8.0/29", "2001:db8::1/64"],
                           ipv6=["2001:DB8:0:100::/56", "10.9.9.9"])
    topo = one(make, circuit)
    assert topo.rows[0].ipv4 == "100.64.1.5, 100.64.8.0/29, 10.9.9.9"
    assert topo.rows[0].ipv6 == "2001:db8::1, 2001:db8:0:100::/56"


def test_invalid_ip_dropped_with_a_warning_naming_the_customer(make):
    circuit = make.circuit("bad", "AP A1", ["100.64.1.1", "300.1.1.1", "not-an-ip", ""], name="Bob Smith",
                           device_name="bob-cpe")
    topo = one(make, circuit)
    assert topo.rows[0].ipv4 == "100.64.1.1"
    assert topo.report.count("invalid IP address dropped") == 3
    examples = topo.report.examples("invalid IP address dropped")
    assert examples[0] == "'Bob Smith' (bad) device 'bob-cpe': '300.1.1.1'"
    assert all("Bob Smith" in example for example in examples)


def test_circuit_with_no_usable_ip_is_dropped(make):
    no_ip = make.circuit("none", "AP A1", [])
    all_bad = make.circuit("bad", "AP A1", ["999.0.0.1"])
    no_devices = make.circuit("empty", "AP A1")
    no_devices.devices = []
    topo = one(make, [no_ip, all_bad, no_devices, make.circuit("ok", "AP A1", ["100.64.1.1"])])
    assert [r.circuit_id for r in topo.rows] == ["ok"]
    assert topo.report.count("circuit has no usable IP address, not shaped") == 3


def test_device_without_ip_is_skipped_but_the_circuit_kept(make):
    circuit = make.circuit("two", "AP A1", ["100.64.1.1"])
    circuit.devices.append(make.device("spare", "spare"))
    topo = one(make, circuit)
    assert [r.device_id for r in topo.rows] == ["dev-two"]


def test_same_ip_twice_in_one_circuit_is_written_once(make):
    circuit = make.circuit("twice", "AP A1", ["100.64.1.1", "100.64.1.1/32"])
    circuit.devices.append(make.device("d2", "d2", ["100.64.1.1", "100.64.1.2"]))
    topo = one(make, circuit)
    assert [r.ipv4 for r in topo.rows] == ["100.64.1.1", "100.64.1.2"]
    assert topo.report.count("IP address in two circuits, kept in the first") == 0


def test_duplicate_ip_in_two_circuits_is_kept_in_the_first_and_reported(make):
    first = make.circuit("first", "AP A1", ["100.64.1.1"])
    second = make.circuit("second", "AP B1", ["100.64.1.1/24", "100.64.1.2"])
    third = make.circuit("third", "AP B1", ["100.64.1.1"])
    topo = one(make, [first, second, third])
    by_id = make.rows_by_circuit(topo)
    assert by_id["first"][0].ipv4 == "100.64.1.1"
    assert by_id["second"][0].ipv4 == "100.64.1.2"
    assert "third" not in by_id
    assert topo.report.count("IP address in two circuits, kept in the first") == 2
    assert topo.report.examples("IP address in two circuits, kept in the first")[0] == \
        "100.64.1.1 in first and 'Customer second' (second)"
    assert topo.report.count("circuit has no usable IP address, not shaped") == 1


def test_duplicate_ipv6_is_detected_after_normalising(make):
    first = make.circuit("a", "AP A1", [], ipv6=["2001:db8::1"])
    second = make.circuit("b", "AP A1", [], ipv6=["2001:0DB8:0::1/64"])
    topo = one(make, [first, second])
    assert [r.circuit_id for r in topo.rows] == ["a"]


def test_duplicate_ip_is_fatal_with_fail_on_duplicate_ip(make):
    first = make.circuit("first", "AP A1", ["100.64.1.1"])
    second = make.circuit("second", "AP B1", ["100.64.1.1", "100.64.1.2"])
    with pytest.raises(TopologyError, match=r"100\.64\.1\.1 in circuits first and 'Customer second' \(second\)"):
        one(make, [first, second], fail_on_duplicate_ip=True)
    topo = one(make, [first, make.circuit("other", "AP B1", ["100.64.1.9"])], fail_on_duplicate_ip=True)
    assert len(topo.rows) == 2


def test_fail_on_duplicate_ip_lists_ten_and_counts_the_rest(make):
    circuits = [make.circuit("c%d" % i, "AP A1", ["100.64.1.1"]) for i in range(13)]
    with pytest.raises(TopologyError) as err:
        one(make, circuits, fail_on_duplicate_ip=True)
    assert str(err.value).count("100.64.1.1 in circuits") == 10
    assert str(err.value).endswith(" and 2 more")


# --- exception CPEs ----------------------------------------------------------------------------------


def test_exception_cpe_by_circuit_name(make):
    circuit = make.circuit("e1", "AP A1", name="Alice")
    topo = one(make, circuit, exception_cpes={"Alice": "AP B1"})
    assert make.row_parents(topo) == {"e1": "AP B1"}
    assert topo.rows[0].parent_node_id == "AP B1"


def test_exception_cpe_by_device_name(make):
    circuit = make.circuit("e2", None, device_name="cpe-bob")
    topo = one(make, circuit, exception_cpes={"cpe-bob": "Tower B"})
    assert make.row_parents(topo) == {"e2": "Tower B"}


def test_exception_cpe_resolves_to_the_nearest_kept_node(make):
    # ap_only keeps no sites: a CPE sent to Relay B1 goes up to the root, so it is unparented.
    circuit = make.circuit("e3", "AP A1", name="Carol")
    topo = one(make, circuit, strategy="ap_site", exception_cpes={"Carol": "Tower A"})
    assert make.row_parents(topo) == {"e3": "Tower A"}
    topo = one(make, circuit, strategy="ap_only", exception_cpes={"Carol": "Relay B1"})
    assert make.row_parents(topo) == {"e3": ""}


def test_exception_cpe_with_unknown_parent_is_reported_and_unparented(make):
    circuit = make.circuit("e4", "AP A1", name="Dave")
    topo = one(make, circuit, exception_cpes={"Dave": "Nowhere"})
    assert make.row_parents(topo) == {"e4": ""}
    assert topo.report.examples("exception_cpes parent is not a node") == ["Dave -> Nowhere"]


def test_exception_cpe_names_are_exact(make):
    circuit = make.circuit("e5", "AP A1", name="Erin")
    topo = one(make, circuit, exception_cpes={"erin": "AP B1"})
    assert make.row_parents(topo) == {"e5": "AP A1"}


def test_exception_cpe_into_a_kept_part_rescues_a_circuit(make):
    circuit = make.circuit("e6", "AP B1", name="Finn")
    topo = one(make, circuit, keep_top_level=["Tower A"], exception_cpes={"Finn": "AP A1"})
    assert make.row_parents(topo) == {"e6": "AP A1"}
    topo = one(make, circuit, keep_top_level=["Tower A"])
    assert topo.rows == []


def test_circuit_without_an_id_is_not_shaped(make):
    # An empty Circuit ID makes LibreQoS reject the whole ShapedDevices.csv.
    topo = one(make, [make.circuit("", "AP A1", name="No Id"), make.circuit(None, "AP A1", name="None Id"),
                      make.circuit("ok", "AP A1")])
    assert [r.circuit_id for r in topo.rows] == ["ok"]
    assert topo.report.count("circuit without an id, not shaped") == 2
