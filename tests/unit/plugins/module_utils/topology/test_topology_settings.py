# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Settings validation, exception_cpes parsing, address normalising and the warning report."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.topology import addresses
from ansible_collections.isp.ops.plugins.module_utils.topology.report import Report
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import (
    Settings, TopologyError, parse_exception_cpes)

# --- Settings -----------------------------------------------------------------------------------


def test_settings_defaults_match_lqos_conf():
    s = Settings()
    assert (s.strategy, s.suspended_strategy, s.bandwidth_overhead_factor, s.commit_bandwidth_multiplier,
            s.airmax_capacity, s.ltu_capacity, s.default_node_mbps) == ("full", "none", 1.15, 0.98, 0.65, 0.95, 10000.0)
    assert (s.root_site, s.promote_to_root, s.exclude_sites, s.exception_cpes, s.keep_top_level) == (None, [], [], {}, [])


@pytest.mark.parametrize("kwargs, message", [
    ({"strategy": "full2"}, "strategy must be one of flat, ap_only, ap_site, full, got 'full2'"),
    ({"suspended_strategy": "drop"}, "suspended_strategy must be one of none, ignore, slow, got 'drop'"),
    ({"bandwidth_overhead_factor": 0}, "bandwidth_overhead_factor must be a positive number, got 0"),
    ({"commit_bandwidth_multiplier": -0.5}, "commit_bandwidth_multiplier must be a positive number, got -0.5"),
    ({"airmax_capacity": None}, "airmax_capacity must be a positive number, got None"),
    ({"ltu_capacity": 0.0}, "ltu_capacity must be a positive number, got 0.0"),
])
def test_settings_reject_bad_values(kwargs, message):
    with pytest.raises(TopologyError) as err:
        Settings(**kwargs)
    assert str(err.value) == message


def test_settings_copy_their_inputs():
    promote = ["A"]
    overrides = {"A": (1.0, 2.0)}
    s = Settings(promote_to_root=promote, bandwidth_overrides=overrides, root_site="")
    promote.append("B")
    overrides["B"] = (3.0, 4.0)
    assert s.promote_to_root == ["A"] and list(s.bandwidth_overrides) == ["A"]
    assert s.root_site is None


# --- exception_cpes ------------------------------------------------------------------------------


def test_parse_exception_cpes_strings():
    assert parse_exception_cpes(["cpe-1:AP North", " cpe 2 : Tower B ", "aa:bb:cc:Site X"]) == {
        "cpe-1": "AP North", "cpe 2": "Tower B", "aa:bb:cc": "Site X"}


def test_parse_exception_cpes_dict_and_tables():
    assert parse_exception_cpes({"a": "P", 1: 2}) == {"a": "P", "1": "2"}
    assert parse_exception_cpes([{"cpe": "a", "parent": "P"}, "b:Q"]) == {"a": "P", "b": "Q"}
    assert parse_exception_cpes(None) == {}
    assert parse_exception_cpes([]) == {}


@pytest.mark.parametrize("entry", ["no-colon", ":parent", "cpe:", " : ", "", None,
                                   {"cpe": "only"}, {"parent": "only"}, {"cpe": "x", "parnet": "y"}])
def test_parse_exception_cpes_bad_entries(entry):
    with pytest.raises(TopologyError, match="is not in the form 'cpe:parent'"):
        parse_exception_cpes(["good:Parent", entry])


# --- addresses.normalize ------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("100.64.0.1", (4, "100.64.0.1")),
    (" 100.64.0.1 ", (4, "100.64.0.1")),
    ("100.64.1.5/24", (4, "100.64.1.5")),        # host with its mask -> the host
    ("100.64.8.0/29", (4, "100.64.8.0/29")),     # a network keeps its prefix
    ("100.64.8.7/32", (4, "100.64.8.7")),
    ("0.0.0.0/0", (4, "0.0.0.0/0")),
    ("2001:db8::1", (6, "2001:db8::1")),
    ("2001:DB8:0:0::1", (6, "2001:db8::1")),
    ("2001:db8::1/64", (6, "2001:db8::1")),
    ("2001:db8:0:100::/56", (6, "2001:db8:0:100::/56")),
    ("2001:db8::5/128", (6, "2001:db8::5")),
])
def test_normalize(text, expected):
    assert addresses.normalize(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.4/33",
                                  "2001:db8::1/129", "2001:db8:::1", "host.example", "1.2.3.4/abc", "-1.2.3.4"])
def test_normalize_invalid_raises_value_error(text):
    with pytest.raises(ValueError):
        addresses.normalize(text)


@pytest.mark.parametrize("value, expected", [
    (None, []),
    ("", []),
    ("100.64.0.1", ["100.64.0.1"]),
    ("100.64.0.1, 100.64.0.2 100.64.0.3,,", ["100.64.0.1", "100.64.0.2", "100.64.0.3"]),
    (["a", "b, c", ["d"]], ["a", "b", "c", "d"]),
    (("x",), ["x"]),
])
def test_split_list(value, expected):
    assert addresses.split_list(value) == expected


# --- Report --------------------------------------------------------------------------------------


def test_report_groups_by_kind_and_keeps_five_examples():
    report = Report()
    for i in range(7):
        report.add("bad ip", "row %d" % i)
    report.add("other", "x")
    assert report.count("bad ip") == 7 and report.count("missing") == 0
    assert report.examples("bad ip") == ["row 0", "row 1", "row 2", "row 3", "row 4"]
    assert report.examples("missing") == []
    assert report.counts() == {"bad ip": 7, "other": 1}
    assert report.messages() == ["bad ip (7): row 0; row 1; row 2; row 3; row 4; and 2 more", "other (1): x"]


def test_snapshot_warnings_reach_the_report(make):
    snap = make.network()
    snap.warnings.append(("CRM row skipped", "customer 9"))
    topo = make.build(snap)
    assert topo.report.examples("CRM row skipped") == ["customer 9"]
