# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure helpers of shaper_stats (state file, class roles, rates, the report): no kernel, no root."""

from __future__ import annotations

import json

import pytest

from ansible_collections.isp.ops.plugins.modules import shaper_stats as ss

ROOT = 0xFFFFFFFF


def rec(classid, parent, level=0, nbytes=0, packets=0, drops=0):
    return {"classid": classid, "parent": parent, "level": level, "leaf": "pfifo" if level == 0 else None,
            "bytes": nbytes, "packets": packets, "drops": drops, "overlimits": 0, "backlog_bytes": 0}


def snapshot(when, records, defaults=(0x10002,)):
    return {"time": when, "classes": dict((r["classid"], r) for r in records), "defaults": set(defaults)}


def tree(scale):
    """1:1 root > 1:2 default, 1:3 node > 1:a, 1:b circuits; counters grow with `scale`."""
    return [rec(0x10001, ROOT, 2, 1000 * scale, 10 * scale), rec(0x10002, 0x10001, 0, 100 * scale, scale),
            rec(0x10003, 0x10001, 1, 900 * scale, 9 * scale), rec(0x1000a, 0x10003, 0, 600 * scale, 6 * scale, 1),
            rec(0x1000b, 0x10003, 0, 300 * scale, 3 * scale)]


STATE = {"classes": {"1:1": {"kind": "root", "key": "root"}, "1:2": {"kind": "default", "key": "default"},
                     "1:3": {"kind": "node", "key": "node:Tower"}, "1:a": {"kind": "circuit", "key": "circuit:10"},
                     "1:b": {"kind": "circuit", "key": "circuit:9"}, "1:c": {"kind": "circuit", "key": "circuit:x1"}}}


def test_parse_state_and_overrides():
    parsed = ss.parse_state(STATE)
    assert parsed["download"] is parsed["upload"]
    assert parsed["download"][0x1000a] == ("circuit", "10")
    assert parsed["download"][0x10003] == ("node", "Tower")
    per_dir = ss.parse_state(dict(STATE, upload={"classes": {"2:a": {"kind": "circuit", "key": "circuit:10"}}}))
    assert per_dir["upload"] == {0x2000a: ("circuit", "10")}
    assert 0x1000a in per_dir["download"]


@pytest.mark.parametrize("data, message", [
    ([], "JSON object"),
    ({"classes": {"zz": {"kind": "circuit", "key": "circuit:1"}}}, "'zz' is not a class id"),
    ({"classes": {"1:a": {"kind": "subscriber", "key": "x"}}}, "kind must be one of"),
    ({"classes": {"1:a": {"kind": "circuit", "key": "circuit:"}}}, "needs a key"),
    ({"classes": {}, "upload": []}, '"upload" in the state file'),
])
def test_parse_state_errors(data, message):
    with pytest.raises(ss.StatsError, match=message):
        ss.parse_state(data)


def test_load_state_file(tmp_path):
    assert ss.load_state_file(str(tmp_path / "none.json")) is None
    assert ss.load_state_file(None) is None
    path = tmp_path / "state.json"
    path.write_text(json.dumps(STATE))
    assert ss.load_state_file(str(path))["upload"][0x1000b] == ("circuit", "9")
    path.write_text("{not json")
    with pytest.raises(ss.StatsError, match="cannot read the state file"):
        ss.load_state_file(str(path))


def test_role_of_with_and_without_state():
    mapping = ss.parse_state(STATE)["download"]
    defaults = {0x10002}
    assert ss.role_of(rec(0x1000a, 0x10003), None, defaults) == ("circuit", "1:a")
    assert ss.role_of(rec(0x10003, 0x10001, 1), None, defaults) == ("node", "1:3")
    assert ss.role_of(rec(0x10001, ROOT, 2), None, defaults) == ("root", None)
    assert ss.role_of(rec(0x10002, 0x10001), None, defaults) == ("default", None)
    assert ss.role_of(rec(0x1000a, 0x10003), mapping, defaults) == ("circuit", "10")
    assert ss.role_of(rec(0x100ff, 0x10003), mapping, defaults) == ("unmapped", None)


def test_delta_stats_rates_and_wraps():
    first = rec(1, ROOT, nbytes=1000, packets=(1 << 32) - 5)
    second = rec(1, ROOT, nbytes=126000, packets=95)
    out = ss.delta_stats(first, second, 0.5)
    assert out["rate_bps"] == 2000000 and out["rate_pps"] == 200.0  # 100 packets across the 32-bit wrap
    assert ss.delta_stats(None, second, 1)["rate_bps"] is None
    assert ss.delta_stats(second, first, 1)["rate_bps"] is None  # counters went back: class re-created


def test_add_stats_keeps_unknown_rates_unknown():
    a = {"bytes": 1, "packets": 1, "drops": 0, "overlimits": 0, "backlog_bytes": 0, "rate_bps": 8, "rate_pps": 1.0}
    b = dict(a, rate_bps=None)
    assert ss.add_stats(ss.add_stats(None, a), a)["rate_bps"] == 16
    assert ss.add_stats(a, b)["rate_bps"] is None and ss.add_stats(a, b)["bytes"] == 2


def test_natural_key_sorts_numbers_first_numerically():
    assert sorted(["10", "9", "x1", "100", "a"], key=ss.natural_key) == ["9", "10", "100", "a", "x1"]


def test_build_report_with_state_file():
    directions = {"download": {"first": snapshot(0.0, tree(1)), "second": snapshot(2.0, tree(3)), "seconds": 2.0},
                  "upload": None}
    report = ss.build_report(directions, ss.parse_state(STATE))
    assert [c["id"] for c in report["circuits"]] == ["9", "10"]
    ten = report["circuits"][1]
    assert ten["classids"] == {"download": ["1:a"]} and ten["upload"] is None
    assert ten["download"]["bytes"] == 1800 and ten["download"]["rate_bps"] == 4800 and ten["download"]["drops"] == 1
    assert ten["download"]["classified_bytes"] is None
    assert report["nodes"][0]["name"] == "Tower" and report["nodes"][0]["download"]["rate_pps"] == 9.0
    assert "classified_bytes" not in report["nodes"][0]["download"]
    assert report["default_class"]["download"]["classids"] == ["1:2"]
    assert report["default_class"]["download"]["packets"] == 3
    assert report["default_class"]["upload"] is None
    assert report["totals"]["download"]["rate_bps"] == 8000
    assert report["missing_classes"] == {"download": ["1:c"]}
    assert report["unmapped_classes"] == []


def test_build_report_by_class_id_and_classifier_counters():
    class Reader(object):
        index_classid = {1: 0x1000a, 2: 0x1000b}
        default_classid = 0

    first = {0: (10, 1), 1: (1000, 10), 2: (0, 0)}
    second = {0: (50, 2), 1: (3000, 30), 2: (0, 0)}
    directions = {"download": None,
                  "upload": {"first": snapshot(0.0, tree(1)), "second": snapshot(1.0, tree(2)), "seconds": 1.0,
                             "classifier": (first, second, Reader())}}
    report = ss.build_report(directions, None)
    assert [c["id"] for c in report["circuits"]] == ["1:a", "1:b"]
    assert [n["name"] for n in report["nodes"]] == ["1:3"]
    up = report["circuits"][0]["upload"]
    assert (up["classified_bytes"], up["classified_packets"], up["classified_rate_bps"]) == (3000, 30, 16000)
    assert report["default_class"]["upload"]["classifier_misses"] == {"bytes": 50, "packets": 2}
    assert report["missing_classes"] == {}
