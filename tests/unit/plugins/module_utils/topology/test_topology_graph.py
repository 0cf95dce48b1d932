# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""graph.dot: chosen parent edges bold, links not taken dashed, both labelled with their costs."""

from __future__ import annotations

from ansible_collections.isp.ops.plugins.module_utils.topology import graph


def edge_lines(text):
    return sorted(line.strip() for line in text.splitlines() if "->" in line)


def test_seed_example_default_costs(make):
    topo = make.build(make.seed_sites(), strategy="full")
    text = graph.render(topo.tree)
    assert text.startswith("digraph topology {\n  rankdir=LR;\n")
    assert text.endswith("}\n")
    assert '  root [label="Core", shape=doubleoctagon, color=darkgreen];' in text
    assert edge_lines(text) == sorted([
        'root -> "Site 1" [label="10", style=bold, color=black];',
        '"Site 1" -> "Site 2" [label="10", style=bold, color=black];',
        '"Site 1" -> "Site 3" [label="10", style=bold, color=black];',
        '"Site 1" -> "S1 PtMP" [label="10", style=bold, color=black];',
        '"Site 2" -> "Site 3" [label="10", style=dashed, color=grey60];',
    ])


def test_seed_example_with_route_overrides(make):
    overrides = {("Site 1", "Site 3"): 100, ("Site 3", "Site 1"): 100}
    topo = make.build(make.seed_sites(), strategy="full", route_overrides=overrides)
    lines = edge_lines(graph.render(topo.tree))
    assert '"Site 2" -> "Site 3" [label="10", style=bold, color=black];' in lines
    assert '"Site 1" -> "Site 3" [label="100", style=dashed, color=grey60];' in lines


def test_different_costs_per_direction_are_both_shown(make):
    topo = make.build(make.seed_sites(), strategy="full", route_overrides={("Site 1", "Site 3"): 100})
    lines = edge_lines(graph.render(topo.tree))
    # One line per physical link; a link not taken is drawn in its cheaper direction.
    assert '"Site 3" -> "Site 1" [label="10/100", style=dashed, color=grey60];' in lines
    assert not [line for line in lines if line.startswith('"Site 1" -> "Site 3"')]


def test_nodes_show_rates_kind_and_circuit_counts(make):
    topo = make.build(make.network(), strategy="full")
    counts = {}
    for row in topo.rows:
        counts[row.parent_node] = counts.get(row.parent_node, 0) + 1
    text = graph.render(topo.tree, counts)
    assert '  "AP A1" [label="AP A1\\n300/100 Mbps\\n1 circuits", shape=ellipse, color=blue];' in text
    assert '  "Tower A" [label="Tower A\\n1000/500 Mbps", shape=box, color=red];' in text
    assert '  "Tower B" [label="Tower B\\n10000/10000 Mbps\\n1 circuits", shape=box, color=red];' in text


def test_non_full_strategies_draw_tree_edges_bold_without_costs(make):
    topo = make.build(make.network(), strategy="ap_site")
    lines = edge_lines(graph.render(topo.tree))
    assert lines == sorted([
        'root -> "Tower A" [style=bold];',
        '"Tower A" -> "AP A1" [style=bold];',
        '"Tower A" -> "AP A2" [style=bold];',
        'root -> "Relay B1" [style=bold];',
        '"Relay B1" -> "AP B1" [style=bold];',
    ])


def test_promoted_node_gets_a_bold_edge_from_the_root(make):
    topo = make.build(make.network(), strategy="full", promote_to_root=["Relay B1"])
    lines = edge_lines(graph.render(topo.tree))
    assert 'root -> "Relay B1" [style=bold];' in lines


def test_without_root_site_the_root_is_the_shaper(make):
    topo = make.build(make.snapshot([make.site("Lonely", down=100)]), strategy="full")
    text = graph.render(topo.tree)
    assert 'root [label="Shaper root"' in text
    assert 'root -> "Lonely" [style=bold];' in edge_lines(text)


def test_quotes_in_ids_and_names_are_escaped(make):
    topo = make.build(make.snapshot([make.site('Say "hi"', id='id"1')]), strategy="full")
    text = graph.render(topo.tree)
    assert '"id\\"1" [label="Say \\"hi\\"\\n10000/10000 Mbps", shape=box, color=red];' in text
    assert 'root -> "id\\"1" [style=bold];' in text
