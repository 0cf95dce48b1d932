# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bandwidth and route override CSVs."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.topology.overrides import (
    read_bandwidth_overrides, read_route_overrides)
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import TopologyError


def write(tmp_path, text, name="overrides.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- bandwidth ---------------------------------------------------------------------------------


def test_bandwidth_with_libreqos_header(tmp_path):
    path = write(tmp_path, "ParentNode,Download Mbps,Upload Mbps\nAP 1,100,50\n\"Site, North\",1000.5,200\n")
    assert read_bandwidth_overrides(path) == {"AP 1": (100.0, 50.0), "Site, North": (1000.5, 200.0)}


def test_bandwidth_without_header_with_comments_bom_and_spaces(tmp_path):
    path = write(tmp_path, "\ufeff# node rates\n\n Tower A , 300 , 100 \n   # AP 9,1,1\n,,\nParent Node,Down,Up\n")
    assert read_bandwidth_overrides(path) == {"Tower A": (300.0, 100.0)}


@pytest.mark.parametrize("text, message", [
    ("ParentNode,Download Mbps,Upload Mbps\nAP 1,100\n",
     "row 2: expected 3 fields (ParentNode,Download Mbps,Upload Mbps), got 2"),
    ("AP 1,100,50,extra\n", "row 1: expected 3 fields (ParentNode,Download Mbps,Upload Mbps), got 4"),
    ("# c\nAP 1,fast,50\n", "row 2: Download Mbps must be a number, got 'fast'"),
    ("AP 1,100,\n", "row 1: Upload Mbps must be a number, got ''"),
    ("AP 1,0,50\n", "row 1: Download Mbps must be above 0, got '0'"),
    ("AP 1,100,-5\n", "row 1: Upload Mbps must be above 0, got '-5'"),
    ("AP 1,nan,50\n", "row 1: Download Mbps must be a number, got 'nan'"),
    ("AP 1,100,inf\n", "row 1: Upload Mbps must be a number, got 'inf'"),
    ("AP 1,100,50\nAP 2,1,1\nAP 1,200,60\n", "row 3: node 'AP 1' is listed twice"),
])
def test_bandwidth_errors_name_file_and_row(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(TopologyError) as err:
        read_bandwidth_overrides(path)
    assert str(err.value) == "%s %s" % (path, message)


def test_missing_file_is_an_error(tmp_path):
    path = str(tmp_path / "nope.csv")
    with pytest.raises(TopologyError, match="nope.csv: file not found"):
        read_bandwidth_overrides(path)
    with pytest.raises(TopologyError, match="nope.csv: file not found"):
        read_route_overrides(path)


def test_empty_files_give_no_overrides(tmp_path):
    assert read_bandwidth_overrides(write(tmp_path, "")) == {}
    assert read_route_overrides(write(tmp_path, "# only a comment\n")) == {}


# --- routes ------------------------------------------------------------------------------------


def test_routes_seed_example(tmp_path):
    path = write(tmp_path, "# prefer Site 1 > Site 2 > Site 3\nSite 1, Site 3, 100\nSite 3, Site 1, 100\n\n")
    assert read_route_overrides(path) == {("Site 1", "Site 3"): 100, ("Site 3", "Site 1"): 100}


def test_routes_zero_cost_and_last_row_wins(tmp_path):
    path = write(tmp_path, "A,B,0\nA,B,30\n")
    assert read_route_overrides(path) == {("A", "B"): 30}


@pytest.mark.parametrize("text, message", [
    ("Site 1,Site 3\n", "row 1: expected 3 fields (From Site, To Site, Cost), got 2"),
    ("# c\nA,B,1,2\n", "row 2: expected 3 fields (From Site, To Site, Cost), got 4"),
    ("From Site,To Site,Cost\nA,B,10\n", "row 1: Cost must be a whole number, got 'Cost'"),
    ("A,B,10.5\n", "row 1: Cost must be a whole number, got '10.5'"),
    ("A,B,\n", "row 1: Cost must be a whole number, got ''"),
    ("A,B,-1\n", "row 1: Cost must not be negative, got -1"),
])
def test_route_errors_name_file_and_row(tmp_path, text, message):
    path = write(tmp_path, text, "routes.csv")
    with pytest.raises(TopologyError) as err:
        read_route_overrides(path)
    assert str(err.value) == "%s %s" % (path, message)


def test_route_file_drives_the_seed_example(tmp_path, make):
    path = write(tmp_path, "Site 1, Site 3, 100\nSite 3, Site 1, 100\n", "routes.csv")
    topo = make.build(make.seed_sites(), strategy="full", route_overrides=read_route_overrides(path))
    assert make.parents(topo.tree)["Site 3"] == "Site 2"


def test_bandwidth_file_drives_node_rates(tmp_path, make):
    path = write(tmp_path, "ParentNode,Download Mbps,Upload Mbps\nTower B,750,250\n")
    topo = make.build(make.network(), strategy="full", bandwidth_overrides=read_bandwidth_overrides(path))
    assert make.rates(topo.tree)["Tower B"] == (750, 250)
