# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""network.json: rendering a tree, flattening it back, and the errors on bad files."""

from __future__ import annotations

import json

import pytest

from ansible_collections.isp.ops.plugins.module_utils.topology import network_json
from ansible_collections.isp.ops.plugins.module_utils.topology.network_json import NetworkJsonError


def test_to_dict_nests_children_with_libreqos_keys(make):
    snap = make.network()
    snap.nodes["Tower A"].latitude, snap.nodes["Tower A"].longitude = -34.6, -58.4
    snap.nodes["Tower B"].latitude = 1.0  # without a longitude: no coordinates at all
    topo = make.build(snap, strategy="full")
    data = network_json.to_dict(topo.tree)
    assert list(data) == ["Tower A", "Tower B"]
    assert data["Tower A"] == {
        "downloadBandwidthMbps": 1000, "uploadBandwidthMbps": 500, "type": "site", "id": "Tower A",
        "latitude": -34.6, "longitude": -58.4,
        "children": {
            "AP A1": {"downloadBandwidthMbps": 300, "uploadBandwidthMbps": 100, "type": "ap", "id": "AP A1",
                      "children": {}},
            "AP A2": {"downloadBandwidthMbps": 1000, "uploadBandwidthMbps": 500, "type": "ap", "id": "AP A2",
                      "children": {}},
        },
    }
    assert "latitude" not in data["Tower B"]
    assert list(data["Tower B"]["children"]["Relay B1"]["children"]) == ["AP B1"]


def test_render_is_indented_json_with_integers_and_fractions(make):
    nodes = [make.site("Core"), make.site("Zoë", "Core", 100.5, 40, id=7)]
    text = network_json.render(make.build(make.snapshot(nodes, root="Core")).tree)
    assert text.endswith("}\n")
    assert '"Zoë"' in text  # not \u-escaped
    assert '"downloadBandwidthMbps": 100.5,' in text
    assert '"uploadBandwidthMbps": 40,' in text
    assert '"id": "7"' in text
    assert json.loads(text)["Zoë"]["uploadBandwidthMbps"] == 40


def test_flat_strategy_renders_an_empty_object(make):
    topo = make.build(make.network(), strategy="flat")
    assert network_json.render(topo.tree) == "{}\n"
    assert network_json.parse("{}") == {}


def test_render_flatten_round_trip(make):
    topo = make.build(make.network(), strategy="full")
    flat = network_json.parse(network_json.render(topo.tree), "/x/network.json")
    assert flat == {
        "Tower A": (None, 1000.0, 500.0, "site", "Tower A"),
        "AP A1": ("Tower A", 300.0, 100.0, "ap", "AP A1"),
        "AP A2": ("Tower A", 1000.0, 500.0, "ap", "AP A2"),
        "Tower B": (None, 10000.0, 10000.0, "site", "Tower B"),
        "Relay B1": ("Tower B", 10000.0, 10000.0, "site", "Relay B1"),
        "AP B1": ("Relay B1", 200.0, 50.0, "ap", "AP B1"),
    }
    assert flat == network_json.flatten(network_json.to_dict(topo.tree))


def test_flatten_hand_written_file_with_missing_fields():
    data = {"A": {"children": {"B": {"downloadBandwidthMbps": "250", "uploadBandwidthMbps": 0}}},
            "C": {"downloadBandwidthMbps": 5, "uploadBandwidthMbps": 5, "children": {}}}
    assert network_json.flatten(data) == {"A": (None, 0.0, 0.0, "", ""), "B": ("A", 250.0, 0.0, "", ""),
                                          "C": (None, 5.0, 5.0, "", "")}


@pytest.mark.parametrize("data, message", [
    ([], "/n.json: the top level must be a JSON object, got list"),
    ("x", "/n.json: the top level must be a JSON object, got str"),
    ({"A": 5}, "/n.json: node 'A' must be an object"),
    ({"A": {"children": {"B": []}}}, "/n.json: node 'B' must be an object"),
    ({"A": {"children": ["B"]}}, "/n.json: children of node 'A' must be an object"),
    ({"A": {"downloadBandwidthMbps": "fast"}}, "/n.json: node 'A' has a bandwidth that is not a number"),
    ({"A": {"uploadBandwidthMbps": [1]}}, "/n.json: node 'A' has a bandwidth that is not a number"),
    ({"A": {"children": {"B": {}}}, "C": {"children": {"B": {}}}}, "/n.json: node name 'B' appears more than once"),
    ({"A": {"children": {"A": {}}}}, "/n.json: node name 'A' appears more than once"),
])
def test_flatten_wrong_shapes_and_duplicates(data, message):
    with pytest.raises(NetworkJsonError) as err:
        network_json.flatten(data, "/n.json")
    assert str(err.value) == message


def test_parse_invalid_json_names_the_file():
    with pytest.raises(NetworkJsonError, match=r"^/n\.json: not valid JSON: "):
        network_json.parse('{"A": ', "/n.json")
    assert issubclass(NetworkJsonError, ValueError)
