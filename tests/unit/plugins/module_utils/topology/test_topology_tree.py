# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Strategies, root_site, route overrides, promote/exclude/keep, unique names, node rates."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.topology.settings import TopologyError

# --- strategies on the small network (see conftest.Make.network) -------------------------------


def test_flat_has_no_nodes_and_every_circuit_unparented(make):
    topo = make.build(make.network(), strategy="flat")
    assert make.parents(topo.tree) == {}
    assert make.nodes_json(topo) == {}
    assert make.row_parents(topo) == {"c1": "", "c2": "", "c3": "", "c4": "", "c5": ""}
    stats = topo.stats()
    assert dict((key, stats[key]) for key in ("circuits", "devices", "nodes", "top_level_nodes", "depth",
                                              "unparented_circuits")) == {
        "circuits": 5, "devices": 5, "nodes": 0, "top_level_nodes": 0, "depth": 0, "unparented_circuits": 5}


def test_ap_only_keeps_one_level_of_aps(make):
    topo = make.build(make.network(), strategy="ap_only")
    assert make.parents(topo.tree) == {"AP A1": None, "AP A2": None, "AP B1": None}
    # An AP without its own capacity gets default_node_mbps: it has no parent to inherit from.
    assert make.rates(topo.tree) == {"AP A1": (300, 100), "AP A2": (10000, 10000), "AP B1": (200, 50)}
    # c4 hangs on a site, which ap_only does not keep: the walk up reaches the root, so unparented.
    assert make.row_parents(topo) == {"c1": "AP A1", "c2": "AP A2", "c3": "AP B1", "c4": "", "c5": ""}
    assert all(kind == "ap" for _p, _d, _u, kind, _id in make.nodes_json(topo).values())


def test_ap_site_puts_each_ap_under_the_nearest_site(make):
    topo = make.build(make.network(), strategy="ap_site")
    assert make.parents(topo.tree) == {"Tower A": None, "AP A1": "Tower A", "AP A2": "Tower A",
                                       "Relay B1": None, "AP B1": "Relay B1"}
    # Tower B has no AP of its own, so it is not a node; its circuit goes up to the root.
    assert make.row_parents(topo) == {"c1": "AP A1", "c2": "AP A2", "c3": "AP B1", "c4": "", "c5": ""}
    assert make.rates(topo.tree)["AP A2"] == (1000, 500)  # inherits its site's rate
    assert topo.tree.depth() == 2


def test_ap_site_ap_whose_site_is_unknown_goes_to_the_top(make):
    snap = make.snapshot([make.site("Core"), make.ap("Lost AP", "no-such-site"), make.ap("Root AP", "Core")],
                         circuits=make.circuits_on("Lost AP", "Root AP"), root="Core")
    topo = make.build(snap, strategy="ap_site")
    assert make.parents(topo.tree) == {"Lost AP": None, "Root AP": None}


def test_ap_site_walks_past_an_ap_to_the_site_above(make):
    snap = make.snapshot([make.site("Core"), make.site("Hill", "Core"), make.ap("Sector", "Hill"),
                          make.ap("Sub AP", "Sector")], circuits=make.circuits_on("Sector", "Sub AP"), root="Core")
    topo = make.build(snap, strategy="ap_site")
    assert make.parents(topo.tree) == {"Hill": None, "Sector": "Hill", "Sub AP": "Hill"}


def test_full_follows_the_crm_hierarchy_below_the_root(make):
    topo = make.build(make.network(), strategy="full")
    assert make.parents(topo.tree) == {"Tower A": None, "AP A1": "Tower A", "AP A2": "Tower A",
                                       "Tower B": None, "Relay B1": "Tower B", "AP B1": "Relay B1"}
    assert make.rates(topo.tree) == {"Tower A": (1000, 500), "AP A1": (300, 100), "AP A2": (1000, 500),
                                     "Tower B": (10000, 10000), "Relay B1": (10000, 10000),
                                     "AP B1": (200, 50)}
    assert make.row_parents(topo) == {"c1": "AP A1", "c2": "AP A2", "c3": "AP B1", "c4": "Tower B", "c5": ""}
    assert "Core" not in make.nodes_json(topo)  # the root site itself is the shaper, not a node
    stats = topo.stats()
    assert (stats["nodes"], stats["top_level_nodes"], stats["depth"], stats["unparented_circuits"]) == (6, 2, 3, 1)


def test_full_rows_carry_the_parent_id(make):
    topo = make.build(make.network(), strategy="full")
    refs = dict((r.circuit_id, r.parent_node_id) for r in topo.rows)
    assert refs == {"c1": "AP A1", "c2": "AP A2", "c3": "AP B1", "c4": "Tower B", "c5": ""}


def test_default_node_mbps_is_the_rate_of_top_nodes_without_capacity(make):
    topo = make.build(make.network(), strategy="full", default_node_mbps=2500)
    rates = make.rates(topo.tree)
    assert rates["Tower B"] == (2500, 2500)
    assert rates["Relay B1"] == (2500, 2500)  # inherited from Tower B
    assert rates["AP B1"] == (200, 50)
    assert rates["Tower A"] == (1000, 500)


def test_full_without_root_starts_from_every_crm_top_node(make):
    snap = make.network()
    snap.root_id = None
    topo = make.build(snap, strategy="full")
    assert make.parents(topo.tree)["Core"] is None
    assert make.parents(topo.tree)["Tower A"] == "Core"
    assert topo.report.count("node not connected to root_site, placed at the top level") == 0


def test_snapshot_root_unknown_is_ignored(make):
    snap = make.network()
    snap.root_id = "gone"
    topo = make.build(snap, strategy="full")
    assert make.parents(topo.tree)["Core"] is None


# --- root_site ---------------------------------------------------------------------------------


def test_unknown_root_site_raises_naming_the_site_and_source(make):
    with pytest.raises(TopologyError, match=r"root_site 'Nowhere' is not a site known to TestCRM"):
        make.build(make.network(), strategy="full", root_site="Nowhere")


def test_root_site_is_case_sensitive_and_excluded_root_is_unknown(make):
    with pytest.raises(TopologyError):
        make.build(make.network(), root_site="core")
    with pytest.raises(TopologyError):
        make.build(make.network(), root_site="Core", exclude_sites=["CORE"])


def test_root_site_overrides_the_snapshot_root_and_reroots_the_tree(make):
    topo = make.build(make.network(), strategy="full", root_site="Tower B")
    # From Tower B's point of view Core is one hop away, and Tower A beyond it.
    assert make.parents(topo.tree) == {"Core": None, "Tower A": "Core", "AP A1": "Tower A",
                                       "AP A2": "Tower A", "Relay B1": None, "AP B1": "Relay B1"}
    assert make.row_parents(topo)["c4"] == ""  # directly on the root site
    assert topo.tree.root_id == "Tower B"


def test_root_site_with_flat_strategy_is_still_checked(make):
    with pytest.raises(TopologyError):
        make.build(make.network(), strategy="flat", root_site="Nowhere")
    topo = make.build(make.network(), strategy="flat", root_site="Core")
    assert topo.tree.top == []


def test_unreachable_node_is_reported_and_placed_at_the_top(make):
    snap = make.network()
    snap.add_node(make.site("Island"))
    snap.add_node(make.ap("Island AP", "Island", 50))
    snap.circuits.append(make.circuit("c6", "Island AP", ["100.64.0.6"]))
    topo = make.build(snap, strategy="full")
    parents = make.parents(topo.tree)
    assert parents["Island"] is None
    assert parents["Island AP"] == "Island"
    assert topo.report.count("node not connected to root_site, placed at the top level") == 2
    assert topo.report.examples("node not connected to root_site, placed at the top level") == ["Island", "Island AP"]
    assert make.row_parents(topo)["c6"] == "Island AP"


def test_unreachable_crm_parent_cycle_still_lands_in_the_tree(make):
    # Two sites that name each other as parent and have no path to the root.
    snap = make.network()
    snap.add_node(make.site("Loop 1", "Loop 2"))
    snap.add_node(make.site("Loop 2", "Loop 1"))
    snap.circuits.append(make.circuit("c7", "Loop 1", ["100.64.0.7"]))
    topo = make.build(snap, strategy="full")
    parents = make.parents(topo.tree)
    assert "Loop 1" in parents and "Loop 2" in parents
    assert len(list(topo.tree.items())) == len(topo.tree.by_id)
    assert make.row_parents(topo)["c7"] in make.nodes_json(topo)


def test_node_that_is_its_own_parent(make):
    snap = make.network()
    snap.add_node(make.site("Selfie", "Selfie"))
    snap.add_node(make.ap("Self AP", "Self AP"))
    snap.add_node(make.ap("Loop AP 1", "Loop AP 2"))
    snap.add_node(make.ap("Loop AP 2", "Loop AP 1"))
    snap.circuits += make.circuits_on("Self AP", "Loop AP 1", "Loop AP 2")
    for strategy in ("full", "ap_site", "ap_only"):
        topo = make.build(snap, strategy=strategy)
        parents = make.parents(topo.tree)
        assert len(parents) == len(topo.tree.by_id)
        assert parents["Self AP"] is None and parents.get("Selfie") is None
    # In ap_site an AP whose parents loop without reaching a site stands alone at the top.
    topo = make.build(snap, strategy="ap_site")
    assert (make.parents(topo.tree)["Loop AP 1"], make.parents(topo.tree)["Loop AP 2"]) == (None, None)


def test_ties_go_to_the_node_listed_first(make):
    nodes = [make.site("Core"), make.site("Left", "Core"), make.site("Right", "Core"), make.site("Far")]
    links = [make.link("Left", "Far"), make.link("Right", "Far")]
    topo = make.build(make.snapshot(nodes, links, root="Core"), strategy="full")
    assert make.parents(topo.tree)["Far"] == "Left"
    # Same network, other input order: the winner follows the order, and is stable run to run.
    nodes = [make.site("Core"), make.site("Right", "Core"), make.site("Left", "Core"), make.site("Far")]
    for attempt in range(3):
        topo = make.build(make.snapshot(nodes, links, root="Core"), strategy="full")
        assert make.parents(topo.tree)["Far"] == "Right", attempt


# --- the seed's Site 1 / Site 2 / Site 3 example -------------------------------------------------


def test_seed_example_default_site3_hangs_under_site1(make):
    topo = make.build(make.seed_sites(), strategy="full")
    parents = make.parents(topo.tree)
    assert parents["Site 1"] is None
    assert parents["Site 2"] == "Site 1"
    assert parents["Site 3"] == "Site 1"
    assert make.row_parents(topo)["s3-customer"] == "Site 3"


def test_seed_example_route_overrides_move_site3_under_site2(make):
    overrides = {("Site 1", "Site 3"): 100, ("Site 3", "Site 1"): 100}
    topo = make.build(make.seed_sites(), strategy="full", route_overrides=overrides)
    parents = make.parents(topo.tree)
    assert parents["Site 2"] == "Site 1"
    assert parents["Site 3"] == "Site 2"
    # Link capacity becomes the rate of a site the CRM gives no capacity for.
    assert make.rates(topo.tree)["Site 3"] == (600, 600)


def test_route_override_applies_to_its_direction_only(make):
    topo = make.build(make.seed_sites(), strategy="full", route_overrides={("Site 1", "Site 3"): 100})
    assert make.parents(topo.tree)["Site 3"] == "Site 2"
    topo = make.build(make.seed_sites(), strategy="full", route_overrides={("Site 3", "Site 1"): 100})
    assert make.parents(topo.tree)["Site 3"] == "Site 1"


def test_route_override_can_make_a_path_cheaper(make):
    # A cost below the default pulls Site 2 behind Site 3 (Site 1 > Site 3 > Site 2).
    topo = make.build(make.seed_sites(), strategy="full",
                      route_overrides={("Site 1", "Site 2"): 50, ("Site 3", "Site 2"): 5})
    assert make.parents(topo.tree)["Site 2"] == "Site 3"


def test_route_overrides_are_ignored_by_the_other_strategies(make):
    overrides = {("Site 1", "Site 3"): 100}
    topo = make.build(make.seed_sites(), strategy="ap_site", route_overrides=overrides)
    assert make.parents(topo.tree) == {"Site 1": None, "S1 PtMP": "Site 1"}


def test_use_ptmp_as_parent_hangs_the_site_under_the_ap(make):
    def snapshot():
        snap = make.seed_sites(via_ap=True)
        snap.links = [link for link in snap.links if "Site 2" not in (link.a, link.b)]
        return snap

    without = make.build(snapshot(), strategy="full")
    assert make.parents(without.tree)["Site 3"] == "Site 1"
    with_flag = make.build(snapshot(), strategy="full", use_ptmp_as_parent=True)
    parents = make.parents(with_flag.tree)
    assert parents["S1 PtMP"] == "Site 1"
    assert parents["Site 3"] == "S1 PtMP"
    # The AP's capacity caps the site behind it.
    assert make.rates(with_flag.tree)["Site 3"] == (400, 400)


def test_use_ptmp_as_parent_ignores_links_without_a_known_ap(make):
    snap = make.seed_sites(via_ap=False)
    topo = make.build(snap, strategy="full", use_ptmp_as_parent=True)
    assert make.parents(topo.tree)["Site 3"] == "Site 1"
    snap = make.seed_sites(via_ap=True)
    topo = make.build(snap, strategy="full", use_ptmp_as_parent=True, exclude_sites=["s1 ptmp"])
    assert make.parents(topo.tree)["Site 3"] == "Site 1"


# --- promote_to_root, exclude_sites, keep_top_level -------------------------------------------


def test_promote_to_root_lifts_the_node_with_its_subtree(make):
    topo = make.build(make.network(), strategy="full", promote_to_root=["Relay B1", "Nope"])
    parents = make.parents(topo.tree)
    assert parents["Relay B1"] is None
    assert parents["AP B1"] == "Relay B1"
    assert parents["Tower B"] is None
    assert [item.name for item in topo.tree.top] == ["Tower A", "Tower B", "Relay B1"]
    # No parent to inherit from any more: default rate, no longer Tower B's.
    assert make.rates(topo.tree)["Relay B1"] == (10000, 10000)
    assert topo.report.examples("promote_to_root names an unknown node") == ["Nope"]
    assert make.row_parents(topo)["c3"] == "AP B1"


def test_promote_to_root_works_in_ap_site(make):
    topo = make.build(make.network(), strategy="ap_site", promote_to_root=["AP A2"])
    assert make.parents(topo.tree) == {"Tower A": None, "AP A1": "Tower A", "AP A2": None,
                                       "Relay B1": None, "AP B1": "Relay B1"}
    assert make.rates(topo.tree)["AP A2"] == (10000, 10000)


def test_exclude_sites_is_case_insensitive_and_drops_direct_circuits(make):
    topo = make.build(make.network(), strategy="full", exclude_sites=["tower b", "AP a2"])
    names = set(make.nodes_json(topo))
    assert "Tower B" not in names and "AP A2" not in names
    assert topo.report.examples("excluded node") == ["AP A2", "Tower B"]
    rows = make.row_parents(topo)
    assert "c2" not in rows and "c4" not in rows  # directly under an excluded node
    assert rows["c1"] == "AP A1"
    assert sorted(topo.report.examples("circuit dropped, its site is excluded")) == [
        "'Customer c2' (c2)", "'Customer c4' (c4)"]
    # Relay B1 lost its path to the root: still shaped, reported, at the top.
    assert make.parents(topo.tree)["Relay B1"] is None
    assert topo.report.count("node not connected to root_site, placed at the top level") == 2


def test_exclude_sites_in_ap_only_and_flat(make):
    topo = make.build(make.network(), strategy="ap_only", exclude_sites=["AP B1"])
    assert set(make.parents(topo.tree)) == {"AP A1", "AP A2"}
    assert "c3" not in make.row_parents(topo)
    topo = make.build(make.network(), strategy="flat", exclude_sites=["TOWER A"])
    assert "c1" in make.row_parents(topo)  # not directly under Tower A
    assert "c2" in make.row_parents(topo)


def test_keep_top_level_keeps_only_the_named_subtrees(make):
    topo = make.build(make.network(), strategy="full", keep_top_level=["Tower A", "Missing"])
    assert make.parents(topo.tree) == {"Tower A": None, "AP A1": "Tower A", "AP A2": "Tower A"}
    assert set(topo.tree.by_id) == {"Tower A", "AP A1", "AP A2"}
    assert topo.report.examples("keep_top_level names a node that is not at the top level") == ["Missing"]
    rows = make.row_parents(topo)
    assert rows["c1"] == "AP A1" and rows["c2"] == "AP A2"
    # Circuits of the part left to another shaper are not shaped here.
    assert "c3" not in rows and "c4" not in rows
    assert topo.report.count("circuit dropped, its node is outside keep_top_level") == 2
    # A circuit the CRM gives no parent at all is not part of any subtree and stays.
    assert rows["c5"] == ""


def test_keep_top_level_names_a_nested_node(make):
    topo = make.build(make.network(), strategy="full", keep_top_level=["AP A1"])
    assert make.parents(topo.tree) == {}
    assert topo.report.examples("keep_top_level names a node that is not at the top level") == ["AP A1"]


def test_keep_top_level_with_promote_to_root(make):
    topo = make.build(make.network(), strategy="full", promote_to_root=["AP B1"], keep_top_level=["AP B1"])
    assert make.parents(topo.tree) == {"AP B1": None}
    assert make.row_parents(topo) == {"c3": "AP B1", "c5": ""}


# --- unique names ------------------------------------------------------------------------------


def test_duplicate_names_get_the_id_suffix_across_the_whole_tree(make):
    nodes = [
        make.site("Core", id="crm:site:0"),
        make.site("Tower", "crm:site:0", id="crm:site:1"),
        make.ap("Sector", "crm:site:1", id="crm:ap:11"),
        make.site("Hill", "crm:site:0", id="crm:site:2"),
        make.ap("Sector", "crm:site:2", id="crm:ap:21"),
        make.site("Tower", "crm:site:2", id="crm:site:3"),
    ]
    circuits = [make.circuit("x", "crm:ap:21", ["100.64.9.1"])] + make.circuits_on("crm:ap:11")
    topo = make.build(make.snapshot(nodes, circuits=circuits, root="crm:site:0"), strategy="full")
    names = [item.name for item in topo.tree.items()]
    assert names == ["Tower", "Sector", "Hill", "Sector (21)", "Tower (3)"]
    assert len(set(names)) == len(names)
    assert make.row_parents(topo)["x"] == "Sector (21)"
    assert set(make.nodes_json(topo)) == set(names)


def test_unique_name_suffix_collisions_are_counted(make):
    nodes = [make.site("X", id="a:1"), make.site("X", id="b:1"), make.site("X", id="c:1"),
             make.site("X (1)", id="d:9")]
    topo = make.build(make.snapshot(nodes), strategy="full")
    assert [item.name for item in topo.tree.items()] == ["X", "X (1)", "X (1-2)", "X (1) (9)"]


# --- bandwidth overrides and parent caps --------------------------------------------------------


def test_bandwidth_override_by_name_and_unused_override_reported(make):
    overrides = {"Tower B": (800.0, 400.0), "AP A1": (150.0, 60.0), "Ghost": (1.0, 1.0)}
    topo = make.build(make.network(), strategy="full", bandwidth_overrides=overrides)
    rates = make.rates(topo.tree)
    assert rates["Tower B"] == (800, 400)
    assert rates["Relay B1"] == (800, 400)  # inherits the overridden parent
    assert rates["AP B1"] == (200, 50)
    assert rates["AP A1"] == (150, 60)
    assert topo.report.examples("bandwidth override names no node in the topology") == ["Ghost"]


def test_bandwidth_override_by_unique_name(make):
    nodes = [make.site("Core"), make.ap("AP", "Core", 100, id="ap:1"), make.ap("AP", "Core", 100, id="ap:2")]
    topo = make.build(make.snapshot(nodes, circuits=make.circuits_on("ap:1", "ap:2"), root="Core"),
                      strategy="full", bandwidth_overrides={"AP (2)": (40.0, 20.0)})
    assert make.rates(topo.tree) == {"AP": (100, 100), "AP (2)": (40, 20)}
    assert topo.report.count("bandwidth override names no node in the topology") == 0


def test_bandwidth_override_by_crm_name_applies_to_every_duplicate(make):
    nodes = [make.site("Core"), make.ap("AP", "Core", 100, id="ap:1"), make.ap("AP", "Core", 100, id="ap:2")]
    topo = make.build(make.snapshot(nodes, circuits=make.circuits_on("ap:1", "ap:2"), root="Core"),
                      strategy="full", bandwidth_overrides={"AP": (40.0, 20.0)})
    assert make.rates(topo.tree) == {"AP": (40, 20), "AP (2)": (40, 20)}


def test_parent_cap_limits_a_child_and_is_reported(make):
    overrides = {"AP A1": (5000.0, 50.0)}
    topo = make.build(make.network(), strategy="full", bandwidth_overrides=overrides)
    assert make.rates(topo.tree)["AP A1"] == (1000, 50)
    assert topo.report.examples("node capped at its parent's rate") == ["AP A1 5000/50 > Tower A 1000/500"]


def test_parent_cap_applies_to_crm_capacities_too(make):
    nodes = [make.site("Core"), make.site("Small", "Core", 100, 40), make.ap("Big AP", "Small", 450.5, 30)]
    topo = make.build(make.snapshot(nodes, circuits=make.circuits_on("Big AP"), root="Core"), strategy="full")
    assert make.rates(topo.tree)["Big AP"] == (100, 30)
    assert topo.report.examples("node capped at its parent's rate") == ["Big AP 450.5/30 > Small 100/40"]


def test_parent_cap_follows_the_chosen_path_not_the_crm_parent(make):
    # Site 3's own capacity is above Site 2's; with the override it hangs under Site 2.
    snap = make.seed_sites()
    snap.nodes["Site 2"].download_mbps = snap.nodes["Site 2"].upload_mbps = 300
    snap.nodes["Site 3"].download_mbps = snap.nodes["Site 3"].upload_mbps = 900
    topo = make.build(snap, strategy="full", route_overrides={("Site 1", "Site 3"): 100})
    assert make.rates(topo.tree)["Site 3"] == (300, 300)


def test_fractional_rates_are_rounded_to_two_decimals(make):
    nodes = [make.site("Core"), make.site("A", "Core", 123.456, 7.891)]
    topo = make.build(make.snapshot(nodes, root="Core"), strategy="full")
    assert make.rates(topo.tree)["A"] == (123.46, 7.89)
    assert make.nodes_json(topo)["A"][1:3] == (123.46, 7.89)
