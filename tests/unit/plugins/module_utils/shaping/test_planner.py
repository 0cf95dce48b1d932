# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shaping planner: LibreQoS's HTB model, stable class ids, queues, leaves, limits."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.isp.ops.plugins.module_utils.shaping import planner
from ansible_collections.isp.ops.plugins.module_utils.shaping.spec import (
    DOWNLOAD, HTB_MAX_DEPTH, UPLOAD, Leaf, classid)
from ansible_collections.isp.ops.plugins.module_utils.shaping.validate import (
    Circuit, Inputs, Node, ShapingInputError, parse_inputs)

MBIT = 1000000
ALL = ("cake", "fq_codel", "pfifo")


def node(name, parent=None, down=1000.0, up=None):
    return Node(name, parent, down, down if up is None else up)


def circuit(cid, parent=None, rates=(10, 2, 100, 20), nets=None, sqm=("", "")):
    return Circuit(cid, cid, parent, float(rates[0]), float(rates[1]), float(rates[2]), float(rates[3]), sqm,
                   ("100.64.%d.%d" % (hash(cid) % 200, hash(cid) % 250),) if nets is None else nets, 2)


def inputs(nodes=(), circuits=()):
    return Inputs(dict((n.name, n) for n in nodes), dict((c.id, c) for c in circuits), [])


def run(data, state=None, down=1000, up=500, queues=1, sqm="cake diffserv4", kinds=ALL):
    shaping, new_state = planner.plan(data, "up0", "down0", down, up, queues, sqm, kinds, state)
    return shaping, json.loads(json.dumps(new_state))  # the state must survive being stored as JSON


def by_key(interface):
    return dict((c.key, c) for c in interface.classes.values() if c.kind in ("node", "circuit"))


def ids(shaping):
    return dict((key, c.classid) for key, c in by_key(shaping.download).items())


def level(interface, cls):
    depth = 1
    while cls.kind != "root":
        cls, depth = interface.classes[cls.parent], depth + 1
    return depth


TREE = inputs([node("Site_1", down=2000), node("AP_A", "Site_1", 500, 50), node("Tiny", "Site_1", 0.5),
               node("Site_2", down=300, up=800)],
              [circuit("c1", "AP_A", (10, 2, 100, 20), ("100.64.0.1", "100.64.0.8/29", "2001:db8::/56")),
               circuit("c2", "AP_A", (100, 20, 100, 20)), circuit("c3", "Tiny", (0.5, 0.5, 0.5, 0.5)),
               circuit("c4", "Site_2", (5, 5, 900, 900)), circuit("c5", None, (1, 1, 50, 10))])


def test_single_queue_tree_roots_and_defaults():
    shaping, state = run(TREE)
    down, up = shaping.download, shaping.upload
    assert (down.ifname, down.direction, up.ifname, up.direction) == ("down0", DOWNLOAD, "up0", UPLOAD)
    assert not down.uses_mq and down.capacity_bps == 1000 * MBIT and up.capacity_bps == 500 * MBIT
    root, default = down.classes[0x10001], down.classes[0x10002]
    assert (root.parent, root.rate, root.ceil, root.kind) == (0x10000, 1000 * MBIT, 1000 * MBIT, "root")
    assert (default.parent, default.rate, default.ceil, default.prio) == (0x10001, 249750000, 999 * MBIT, 5)
    assert down.leaves[0x10002] == Leaf("cake", ["diffserv4"]) and 0x10001 not in down.leaves
    assert ids(shaping) == {"node:Site_1": 0x10003, "node:AP_A": 0x10004, "node:Tiny": 0x10005,
                            "node:Site_2": 0x10006, "circuit:c1": 0x10007, "circuit:c2": 0x10008,
                            "circuit:c3": 0x10009, "circuit:c4": 0x1000a, "circuit:c5": 0x1000b}
    assert [c.parent for c in (by_key(up)[k] for k in ("circuit:c1", "circuit:c4", "circuit:c5"))] == \
        [0x10004, 0x10006, 0x10001]
    assert [c.classid for c in up.classes.values()] == [c.classid for c in down.classes.values()]
    assert shaping.prefixes["100.64.0.8/29"] == (0x10007, 1) and shaping.prefixes["2001:db8::/56"] == (0x10007, 1)
    assert shaping.prefixes["100.64.0.1"] == (0x10007, 1)  # a single host is written bare
    assert shaping.circuit_index == {"c1": 1, "c2": 2, "c3": 3, "c4": 4, "c5": 5} == state["circuits"]
    assert state["classes"]["circuit:c1"] == [1, 7] and state["queues"] == 1


def test_rates_and_ceilings_follow_the_tree():
    shaping, state = run(TREE)
    down, up = by_key(shaping.download), by_key(shaping.upload)
    assert (down["node:Site_1"].ceil, down["node:Site_1"].rate) == (1000 * MBIT, 999 * MBIT)  # capped by the link
    assert (down["node:AP_A"].ceil, down["node:AP_A"].rate) == (500 * MBIT, 499 * MBIT)
    assert (up["node:AP_A"].ceil, up["node:AP_A"].rate) == (50 * MBIT, 49 * MBIT)
    assert (down["node:Tiny"].ceil, down["node:Tiny"].rate) == (500000, 490000)  # 0.01 Mbps below under 1 Mbps
    assert (down["circuit:c1"].rate, down["circuit:c1"].ceil) == (10 * MBIT, 100 * MBIT)
    assert (down["circuit:c2"].rate, down["circuit:c2"].ceil) == (99 * MBIT, 100 * MBIT)  # min == max
    assert (down["circuit:c3"].rate, down["circuit:c3"].ceil) == (10000, 500000)  # 0.495 -> min-sum floor
    assert (down["circuit:c4"].ceil, up["circuit:c4"].ceil) == (300 * MBIT, 500 * MBIT)  # parent / link caps
    warnings = shaping.warnings
    assert "download: 1 circuit(s) have a max above their parent's ceil; capped" in warnings
    assert "download: 2 circuit(s) have a min not below their ceil; min lowered under the ceil" in warnings
    assert "download: 1 node(s) capped at their parent's ceil or the link capacity" in warnings


def test_min_sum_rule_one_mbps_then_floor():
    crowd = [circuit("a%d" % i, "AP", (40, 1, 90, 10)) for i in range(3)]
    many = [circuit("b%d" % i, "Small", (2, 1, 5, 5)) for i in range(20)]
    shaping, state = run(inputs([node("AP", down=100), node("Small", down=10)], crowd + many))
    down = by_key(shaping.download)
    assert set(down["circuit:a%d" % i].rate for i in range(3)) == set([MBIT])  # 120 > 99 -> 1 Mbps each
    assert set(down["circuit:b%d" % i].rate for i in range(20)) == set([10000])  # 20 x 1 > 9 -> 0.01 Mbps
    assert by_key(shaping.upload)["circuit:a0"].rate == MBIT  # 3 x 1 fits under 99: untouched
    assert ("download: under 2 parent(s) the circuits' minimums add up to more than the parent's rate: "
            "3 circuit(s) get 1 Mbps, 20 get 0.01 Mbps") in shaping.warnings
    shaping, state = run(inputs([], [circuit("u%d" % i, None, (400, 1, 500, 5)) for i in range(3)]))
    assert set(c.rate for c in by_key(shaping.download).values()) == set([MBIT])  # under the root class too


@pytest.mark.parametrize("capacity", [1.5, 10, 1000, 100000])
def test_quantum_bounds_from_tiny_to_huge(capacity):
    data = inputs([node("N", down=100000)], [circuit("tiny", "N", (0.01, 0.01, 0.1, 0.1)),
                                             circuit("big", "N", (0.01, 0.01, 100000, 100000))])
    shaping, state = run(data, down=capacity, up=capacity)
    for interface in shaping.interfaces():
        quanta = [c.quantum for c in interface.classes.values()]
        assert min(quanta) >= 1522 and max(quanta) <= 60000
        assert interface.r2q == max(10, -(-interface.capacity_bps // 8 // 60000))
        assert interface.classes[0x10001].quantum == max(1522, interface.capacity_bps // 8 // interface.r2q)
    assert by_key(shaping.download)["circuit:tiny"].quantum == 1522
    if capacity == 100000:
        assert shaping.download.r2q == 208334  # 12.5 GB/s / 60000


def test_twelve_level_chain_is_flattened_to_eight_class_levels():
    chain = [node("L1")] + [node("L%d" % i, "L%d" % (i - 1), 1000 - i) for i in range(2, 13)]
    shaping, state = run(inputs(chain, [circuit("deep", "L12"), circuit("mid", "L6")]))
    down = shaping.download
    classes = by_key(down)
    assert max(level(down, c) for c in down.classes.values()) == HTB_MAX_DEPTH
    assert [classes["node:L%d" % i].parent for i in range(6, 13)] == [classes["node:L5"].classid] * 7
    assert classes["circuit:deep"].parent == classes["node:L12"].classid
    assert classes["node:L12"].ceil == 988 * MBIT  # the cap of the original chain is kept
    assert [w for w in shaping.warnings if "levels deep" in w] == [
        "network.json is 12 levels deep; HTB allows 8 class levels, so 6 node(s) deeper than 6 levels hang "
        "under their ancestor at depth 5"]


def test_greedy_spread_over_four_queues_and_unparented_circuits():
    weights = {"A": 1000, "B": 800, "C": 600, "D": 400, "E": 300, "F": 200, "G": 100}
    tops = [node(name, down=5000) for name in sorted(weights)]
    data = inputs(tops, [circuit("c" + n, n, (1, 1, w / 2.0, w / 2.0)) for n, w in weights.items()] +
                  [circuit("u1", None, (1, 1, 45, 45)), circuit("u2", None, (1, 1, 40, 10))])
    shaping, state = run(data, queues=4)
    assert shaping.download.uses_mq and shaping.download.queues == 4
    majors = dict((key, value >> 16) for key, value in ids(shaping).items())
    # loads after each step: A->1 (1000), B->2, C->3, D->4, E->4 (700), F->3 (800), G->4 (800), u1->2 (890), u2->3
    assert [majors["node:" + n] for n in "ABCDEFG"] == [1, 2, 3, 4, 4, 3, 4]
    assert (majors["circuit:u1"], majors["circuit:u2"]) == (2, 3)
    assert by_key(shaping.download)["circuit:u1"].parent == classid(2, 1)
    assert all(classid(q, m) in shaping.upload.classes for q in range(1, 5) for m in (1, 2))
    assert run(data, queues=4)[0].download.classes.keys() == shaping.download.classes.keys()


def test_ids_stay_when_rates_change_even_if_the_greedy_order_would_not():
    tops = [node("T%d" % i) for i in range(6)]
    data = inputs(tops, [circuit("c%d" % i, "T%d" % i, (1, 1, 10 * (i + 1), 10)) for i in range(6)])
    first, state = run(data, queues=4)
    changed = data.circuits.copy()
    changed["c0"] = changed["c0"]._replace(down_max=900.0, down_min=50.0)
    second, state2 = run(Inputs(data.nodes, changed, []), state, queues=4)
    assert ids(second) == ids(first) and state2 == state
    assert by_key(second.download)["circuit:c0"].ceil == 900 * MBIT
    fresh, state3 = run(Inputs(data.nodes, changed, []), None, queues=4)
    assert ids(fresh) != ids(first)  # without the state the heavier circuit would move its node


def test_added_and_removed_circuits_leave_the_others_alone():
    base = [circuit("c%d" % i, "AP" if i % 2 else None) for i in range(10)]
    first, state = run(inputs([node("AP")], base), queues=2)
    kept = [c for c in base if c.id not in ("c3", "c4")] + [circuit("n1", "AP"), circuit("n2", "AP")]
    second, state2 = run(inputs([node("AP")], kept), state, queues=2)
    before, after = ids(first), ids(second)
    assert all(after[k] == before[k] for k in after if k in before)
    assert "circuit:c3" not in state2["classes"] and "c3" not in state2["circuits"]
    assert len(set(after.values())) == len(after)
    major = after["node:AP"] >> 16
    retiring = set(before[k] & 0xFFFF for k in ("circuit:c3", "circuit:c4") if before[k] >> 16 == major)
    held = set(v & 0xFFFF for k, v in after.items() if v >> 16 == major and k[-2:] not in ("n1", "n2"))
    lowest = [m for m in range(3, 100) if m not in held and m not in retiring][:2]
    # ids and counter slots of circuits leaving in this run are not handed to newcomers in it
    assert [after["circuit:n1"], after["circuit:n2"]] == [classid(major, m) for m in lowest]
    assert not {before["circuit:c3"], before["circuit:c4"]} & {after["circuit:n1"], after["circuit:n2"]}
    assert not {first.circuit_index["c3"], first.circuit_index["c4"]} & {second.circuit_index[c] for c in ("n1", "n2")}
    # a run later they are free again
    third, state3 = run(inputs([node("AP")], kept + [circuit("n3", "AP")]), state2, queues=2)
    assert third.circuit_index["n3"] in (first.circuit_index["c3"], first.circuit_index["c4"])


def test_renamed_node_only_changes_itself():
    nodes = [node("Top"), node("Mid", "Top"), node("Leaf", "Mid"), node("Other")]
    circuits = [circuit("a", "Leaf"), circuit("b", "Mid"), circuit("c", "Other"), circuit("d", "Top")]
    first, state = run(inputs(nodes, circuits), queues=3)
    for old, new in (("Mid", "Middle"), ("Top", "Summit")):
        renamed = [n._replace(name=new if n.name == old else n.name, parent=new if n.parent == old else n.parent)
                   for n in nodes]
        moved = [c._replace(parent=new if c.parent == old else c.parent) for c in circuits]
        second, state2 = run(inputs(renamed, moved), state, queues=3)
        before, after = ids(first), ids(second)
        assert set(before) - set(after) == set(["node:" + old]) and set(after) - set(before) == set(["node:" + new])
        assert all(after[k] == before[k] for k in after if k != "node:" + new)
        assert after["node:" + new] >> 16 == before["node:" + old] >> 16  # stays on its queue


def test_state_is_checked_and_a_queue_change_rebalances():
    data = inputs([node("A"), node("B")], [circuit("x", "A"), circuit("y", "B")])
    first, state = run(data, queues=2)
    for junk in ({"version": 99}, {"version": 1, "classes": {"node:A": "x"}, "circuits": {"x": -1}}, "nope"):
        assert ids(run(data, junk, queues=2)[0]) == ids(first)
    clash = dict(state, classes=dict(state["classes"], **{"node:B": state["classes"]["node:A"]}))
    assert len(set(ids(run(data, clash, queues=2)[0]).values())) == 4
    assert set(v >> 16 for v in ids(run(data, state, queues=1)[0]).values()) == set([1])
    saved = dict(state, classes=dict(state["classes"], **{"circuit:x": [1, 0xFFFE]}))
    assert ids(run(data, saved, queues=2)[0])["circuit:x"] == classid(1, 0xFFFE)  # the last minor is usable


def test_more_classes_than_minors_is_an_error():
    crowd = [circuit("c%d" % i, None, nets=()) for i in range(0xFFFE - 2 + 1)]
    with pytest.raises(ShapingInputError, match="queue 1 needs more classes than 16-bit minors allow"):
        run(inputs([], crowd))


def test_leaf_choice_per_circuit_and_direction():
    data = inputs([node("N")], [circuit("plain", "N"), circuit("fq", "N", sqm=("fq_codel", "fq_codel")),
                                circuit("off", "N", sqm=("none", "none")), circuit("split", "N", sqm=("cake", "none"))])
    shaping, state = run(data, sqm="fq_codel")
    down, up = shaping.download, shaping.upload
    leaf = dict((k, down.leaves.get(c.classid)) for k, c in by_key(down).items())
    assert leaf["circuit:plain"] == Leaf("fq_codel") and leaf["circuit:fq"] == Leaf("fq_codel")
    assert leaf["circuit:off"] is None and leaf["circuit:split"] == Leaf("cake", ["diffserv4"])
    assert by_key(up)["circuit:split"].classid not in up.leaves and leaf["node:N"] is None
    assert not [w for w in shaping.warnings if "lacks" in w]


def test_missing_leaf_kinds_fall_back_with_one_warning():
    data = inputs([], [circuit("a", None, (1, 1, 1, 1)), circuit("b", None, (1, 1, 1000, 1000)),
                       circuit("c", None, (1, 1, 100, 100), sqm=("fq_codel", "cake"))])
    shaping, state = run(data, kinds=("pfifo",), down=2000, up=2000)
    leaves = dict((k, shaping.download.leaves[c.classid]) for k, c in by_key(shaping.download).items())
    assert leaves == {"circuit:a": Leaf("pfifo", ["limit", "100"]), "circuit:b": Leaf("pfifo", ["limit", "3000"]),
                      "circuit:c": Leaf("pfifo", ["limit", "416"])}
    assert shaping.download.leaves[0x10002] == Leaf("pfifo", ["limit", "3000"])
    lacks = [w for w in shaping.warnings if "lacks" in w]
    assert lacks == ["this kernel lacks cake, fq_codel: 7 leaf qdisc(s) use pfifo instead of cake; "
                     "1 leaf qdisc(s) use pfifo instead of fq_codel"]
    shaping, state = run(data, kinds=("fq_codel", "pfifo"))
    assert set(shaping.upload.leaves.values()) == set([Leaf("fq_codel")])


@pytest.mark.parametrize("kw", [{"queues": 0}, {"queues": True}, {"down": 1}, {"up": float("nan")},
                                {"sqm": "sfq"}, {"sqm": ""}])
def test_bad_arguments(kw):
    with pytest.raises(ShapingInputError):
        run(TREE, **kw)


def test_twenty_thousand_circuits_from_the_files():
    network = dict(("Site%d" % s, {"downloadBandwidthMbps": 10000, "uploadBandwidthMbps": 10000, "children": dict(
        ("AP%d_%d" % (s, a), {"downloadBandwidthMbps": 1000, "uploadBandwidthMbps": 1000}) for a in range(20))})
        for s in range(10))
    rows = ["c%d,n,d,d,AP%d_%d,,100.%d.%d.%d,2001:db8:%x::/48,%d,5,%d,20,," % (
        i, i % 10, i // 10 % 20, 64 + i // 65536, i // 256 % 256, i % 256, i, 10 + i % 90, 100 + i % 400)
        for i in range(20000)]
    data = parse_inputs(json.dumps(network), "Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,"
                        "IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment\n"
                        + "\n".join(rows))
    shaping, state = run(data, queues=8, down=10000, up=10000, kinds=("pfifo",))
    assert len(shaping.download.classes) == 20000 + 210 + 16 and len(shaping.prefixes) == 40000
    again, state2 = run(data, state, queues=8, down=10000, up=10000, kinds=("pfifo",))
    assert state2 == state


@st.composite
def trees(draw):
    count = draw(st.integers(0, 14))
    nodes = [node("n%d" % i, draw(st.one_of(st.none(), st.sampled_from(["n%d" % j for j in range(i)])))
                  if i else None, draw(st.sampled_from([0.0, 0.5, 5, 100, 5000])), draw(st.sampled_from([1.5, 80])))
             for i in range(count)]
    parents = st.one_of(st.none(), st.sampled_from([n.name for n in nodes])) if nodes else st.none()
    rate = st.sampled_from([0.01, 0.5, 1, 3, 50, 2000])
    circuits = [circuit("c%d" % i, draw(parents), sorted([draw(rate), draw(rate)]) * 2, nets=())
                for i in range(draw(st.integers(0, 12)))]
    return inputs(nodes, circuits), draw(st.integers(1, 4))


@settings(max_examples=150, deadline=None)
@given(trees())
def test_property_ceilings_parents_and_ids(case):
    data, queues = case
    shaping, state = run(data, queues=queues, down=300)
    for interface in shaping.interfaces():
        classes = interface.classes
        assert len(classes) == 2 * queues + len(data.nodes) + len(data.circuits)  # no classid twice
        for cls in classes.values():
            if cls.kind == "root":
                assert cls.parent == cls.classid & 0xFFFF0000
                continue
            parent = classes[cls.parent]
            assert parent.classid >> 16 == cls.classid >> 16
            assert 0 < cls.rate <= cls.ceil <= parent.ceil
            assert 1000 <= cls.quantum <= 200000 and level(interface, cls) <= HTB_MAX_DEPTH
        for parent in classes.values():  # the min-sum rule: within the parent's rate, or floored
            rates = [c.rate for c in classes.values() if c.parent == parent.classid and c.kind == "circuit"]
            assert sum(rates) <= parent.rate or set(rates) == set([planner.FLOOR])
    assert ids(run(data, state, queues=queues, down=300)[0]) == ids(shaping)
