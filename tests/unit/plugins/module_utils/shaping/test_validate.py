# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""network.json + ShapedDevices.csv validation: every rule, every message naming file, row and field."""

from __future__ import annotations

import json

import pytest

from ansible_collections.isp.ops.plugins.module_utils.shaping.validate import (
    Circuit, Node, ShapingInputError, load_inputs, parse_inputs)

HEADER = ("Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,"
          "Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment,sqm")
NETWORK = {
    "Site_1": {"downloadBandwidthMbps": 1000, "uploadBandwidthMbps": 1000, "children": {
        "AP_A": {"downloadBandwidthMbps": 500, "uploadBandwidthMbps": 500},
        "Site_3": {"downloadBandwidthMbps": 500, "uploadBandwidthMbps": 0, "children": {
            "PoP_5": {"downloadBandwidthMbps": 200, "uploadBandwidthMbps": 200}}}}},
    "Site_2": {"downloadBandwidthMbps": 500, "uploadBandwidthMbps": 500},
}


def line(cid="c1", parent="AP_A", ipv4="100.64.0.1", ipv6="", rates="10,2,100,20", sqm="", name="Ana"):
    return '%s,%s,d,dev,%s,,"%s","%s",%s,,%s' % (cid, name, parent, ipv4, ipv6, rates, sqm)


def check(*rows, **kw):
    network = kw.get("network", NETWORK)
    text = network if isinstance(network, str) else json.dumps(network)
    return parse_inputs(text, "\n".join((HEADER,) + rows) + "\n")


def problems(*rows, **kw):
    with pytest.raises(ShapingInputError) as info:
        check(*rows, **kw)
    return info.value


def test_nodes_in_tree_order_with_parents_and_inherit_warning():
    inputs = check(line())
    assert list(inputs.nodes) == ["Site_1", "AP_A", "Site_3", "PoP_5", "Site_2"]
    assert inputs.nodes["PoP_5"] == Node("PoP_5", "Site_3", 200.0, 200.0)
    assert inputs.nodes["Site_1"].parent is None
    assert any("inherit" in w and "'Site_3'" in w for w in inputs.warnings)


def test_circuits_group_rows_and_normalise_networks():
    inputs = check(line(ipv4="100.64.0.1, 100.64.0.8/29", ipv6="2001:DB8:0:0::/56"),
                   line(ipv4="100.64.0.1 100.64.0.2/32", ipv6="2001:db8:1::1/128"),
                   line("c2", parent="", ipv4="", rates="0.5,0.5,0.5,0.5", sqm="fq_codel/"))
    assert inputs.circuits["c1"] == Circuit("c1", "Ana", "AP_A", 10.0, 2.0, 100.0, 20.0, ("", ""), (
        "100.64.0.1", "100.64.0.8/29", "2001:db8::/56", "100.64.0.2", "2001:db8:1::1"), 2)
    assert inputs.circuits["c2"].parent is None
    assert inputs.circuits["c2"].sqm == ("fq_codel", "")
    assert inputs.circuits["c2"].networks == ()
    assert list(inputs.circuits) == ["c1", "c2"]


@pytest.mark.parametrize("token, expected", [("cake", ("cake", "cake")), ("/none", ("", "none")),
                                             ("FQ_CODEL/cake", ("fq_codel", "cake")), ("none", ("none", "none"))])
def test_sqm_tokens(token, expected):
    assert check(line(sqm=token)).circuits["c1"].sqm == expected


def test_differing_rates_first_row_wins_with_one_warning():
    inputs = check(line(), line(rates="50,5,500,50"), line("c2", ipv4="100.64.0.2"),
                   line("c2", ipv4="100.64.0.3", rates="1,1,10,10"))
    assert inputs.circuits["c1"].down_max == 100.0
    warning = [w for w in inputs.warnings if "first row wins" in w]
    assert len(warning) == 1 and "2 circuit(s)" in warning[0] and "'c1', 'c2'" in warning[0]


def test_virtual_nodes_are_not_classes_and_children_move_up():
    network = {"Core": {"downloadBandwidthMbps": 100, "uploadBandwidthMbps": 100, "children": {
        "Logical": {"virtual": True, "children": {"AP": {"downloadBandwidthMbps": 50, "uploadBandwidthMbps": 50}}}}},
        "Top": {"type": "virtual"}}
    inputs = check(line(parent="Logical"), line("c2", parent="Top", ipv4="100.64.0.2"), network=network)
    assert list(inputs.nodes) == ["Core", "AP"]
    assert inputs.nodes["AP"].parent == "Core"
    assert inputs.circuits["c1"].parent == "Core"
    assert inputs.circuits["c2"].parent is None


@pytest.mark.parametrize("row, where, what", [
    (line(ipv4="100.64.0.300"), "row 2, IPv4", "100.64.0.300"),
    (line(ipv4="100.64.0.1/29"), "row 2, IPv4", "host bits"),
    (line(ipv4="100.64.0.0/33"), "row 2, IPv4", "prefix"),
    (line(ipv4="2001:db8::1"), "row 2, IPv4", "IPv6"),
    (line(ipv6="2001:db8::zz"), "row 2, IPv6", "2001:db8::zz"),
    (line(ipv6="2001:db8::1/56"), "row 2, IPv6", "host bits"),
    (line(parent="Nowhere"), "row 2, Parent Node", "'Nowhere' is not a node"),
    (line(rates="101,2,100,20"), "row 2, Download Min Mbps", "above Download Max Mbps"),
    (line(rates="1,21,100,20"), "row 2, Upload Min Mbps", "above Upload Max Mbps"),
    (line(rates="1,2,100,0.001"), "row 2, Upload Max Mbps", "'0.001'"),
    (line(rates="1,2,fast,20"), "row 2, Download Max Mbps", "'fast'"),
    (line(rates="1,nan,100,20"), "row 2, Upload Min Mbps", "'nan'"),
    (line(rates="1,-2,100,20"), "row 2, Upload Min Mbps", "'-2'"),
    (line(cid=""), "row 2, Circuit ID", "empty"),
    (line(sqm="cake diffserv4"), "row 2, sqm", "'cake diffserv4'"),
    (line(sqm="cake/sfq"), "row 2, sqm", "'cake/sfq'"),
])
def test_each_row_error_names_file_row_and_field(row, where, what):
    error = problems(row)
    assert "ShapedDevices.csv " + where in str(error)
    assert what in str(error)
    assert len(error.problems) == 1


def test_devices_of_one_circuit_must_share_the_parent():
    error = problems(line(), line(parent="Site_2", ipv4="100.64.0.2"))
    assert "ShapedDevices.csv row 3, Parent Node: 'Site_2' differs from 'AP_A' given for circuit 'c1' on row 2" \
        == str(error)


def test_every_problem_is_collected_and_at_most_twenty_listed():
    rows = [line("c%d" % i, ipv4="10.0.0.%d/8" % i) for i in range(1, 26)]
    error = problems(*rows)
    assert len(error.problems) == 25
    assert str(error).startswith("25 problems: ShapedDevices.csv row 2, IPv4")
    assert "row 21, IPv4" in str(error) and "row 22," not in str(error)
    assert str(error).endswith("... and 5 more")


def test_host_inside_another_circuits_prefix_is_an_error():
    error = problems(line("c1", ipv4="100.64.0.8/29"), line("c2", ipv4="100.64.0.9"))
    assert str(error) == ("ShapedDevices.csv row 3, IPv4: 100.64.0.9 overlaps 100.64.0.8/29 of circuit 'c1' (row 2)")


def test_same_host_twice_in_one_circuit_is_not_an_error():
    inputs = check(line(ipv4="100.64.0.9, 100.64.0.8/29"), line(ipv4="100.64.0.9", ipv6="fd00::1"),
                   line(ipv4="100.64.0.9/32"))
    assert inputs.circuits["c1"].networks == ("100.64.0.9", "100.64.0.8/29", "fd00::1")


@pytest.mark.parametrize("first, second, where", [
    (line("a", ipv4="100.64.0.1"), line("b", ipv4="100.64.0.1"), "row 3, IPv4: 100.64.0.1 overlaps 100.64.0.1"),
    (line("a", ipv4="100.64.0.0/30"), line("b", ipv4="100.64.0.0/24"), "row 2, IPv4: 100.64.0.0/30 overlaps"),
    (line("a", ipv4="", ipv6="2001:db8::/48"), line("b", ipv4="", ipv6="2001:db8:0:5::/64"), "row 3, IPv6"),
    (line("a", ipv4="", ipv6="fd00::1"), line("b", ipv4="", ipv6="FD00:0::1"), "row 3, IPv6: fd00::1 overlaps"),
])
def test_overlaps_between_circuits(first, second, where):
    assert where in str(problems(first, second))


def test_nested_overlap_found_past_a_prefix_of_the_same_circuit():
    # a's /24 holds b's /25, which holds a's host: the host is checked against the innermost prefix
    error = problems(line("a", ipv4="100.64.0.0/24"), line("b", ipv4="100.64.0.0/25"), line("a", ipv4="100.64.0.5"))
    assert error.problems == [
        "ShapedDevices.csv row 3, IPv4: 100.64.0.0/25 overlaps 100.64.0.0/24 of circuit 'a' (row 2)",
        "ShapedDevices.csv row 4, IPv4: 100.64.0.5 overlaps 100.64.0.0/25 of circuit 'b' (row 3)"]
    error = problems(line("a", ipv4="100.64.0.0/25"), line("b", ipv4="100.64.0.0/24"), line("c", ipv4="100.64.0.200"))
    assert len(error.problems) == 2 and "row 4, IPv4: 100.64.0.200 overlaps 100.64.0.0/24 of circuit 'b'" in str(error)


def test_families_do_not_collide_and_disjoint_prefixes_pass():
    inputs = check(line("a", ipv4="100.64.0.1"), line("b", ipv4="", ipv6="::6440:1"),
                   line("c", ipv4="100.64.0.8/29"), line("d", ipv4="100.64.0.16/29"))
    assert len(inputs.circuits) == 4


def test_network_json_errors_are_collected_with_the_csv_ones():
    error = problems(line(ipv4="bogus"), network='{"A": {"children": {"B": {}}}, "B": {}}')
    assert "network.json: node name 'B' appears more than once" in str(error)
    assert "ShapedDevices.csv row 2, IPv4" in str(error)
    assert "not valid JSON" in str(problems(line(), network="{nope"))
    error = problems(line(parent="A"), network={"A": {"downloadBandwidthMbps": -5, "uploadBandwidthMbps": 0.001}})
    assert "network.json node 'A', field downloadBandwidthMbps: -5.0" in str(error)
    assert "field uploadBandwidthMbps: 0.001" in str(error)


def test_load_inputs_reads_files_and_names_them(tmp_path):
    network, devices = tmp_path / "network.json", tmp_path / "ShapedDevices.csv"
    network.write_text(json.dumps(NETWORK))
    devices.write_text("\ufeff# comment\n\n" + HEADER + "\n" + line(ipv4="x") + "\n", encoding="utf-8")
    with pytest.raises(ShapingInputError, match=r"^%s row 4, IPv4" % devices):
        load_inputs(str(network), str(devices))
    with pytest.raises(ShapingInputError, match="missing.json: cannot read"):
        load_inputs(str(tmp_path / "missing.json"), str(devices))


def test_headerless_legacy_and_snake_case_files():
    legacy = "c1,Ana,d,dev,AP_A,,100.64.0.1,,1,1,10,10,\n"
    assert list(parse_inputs(json.dumps(NETWORK), legacy).circuits) == ["c1"]
    snake = "circuit_id,parent_node,ipv4,download_min,upload_min,download_max,upload_max\nc9,Site_2,,1,1,5,5\n"
    assert parse_inputs("{}", snake.replace("Site_2", "")).circuits["c9"].down_max == 5.0
    assert "row 2, Parent Node: 'Site_2'" in str(pytest.raises(ShapingInputError, parse_inputs, "{}", snake).value)


def test_twenty_thousand_rows_validate():
    rows = [line("c%d" % i, parent="PoP_5", ipv4="100.%d.%d.%d" % (64 + i // 65536, i // 256 % 256, i % 256),
                 ipv6="2001:db8:%x::/48" % i) for i in range(20000)]
    inputs = check(*rows)
    assert len(inputs.circuits) == 20000
    assert sum(len(c.networks) for c in inputs.circuits.values()) == 40000
