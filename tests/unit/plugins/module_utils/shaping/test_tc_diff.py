# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tc_diff.diff() and the request/undo encoding of tc_apply, against hand-made kernel states
(no kernel, no root)."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.shaping import tc_apply, tc_codec, tc_diff
from ansible_collections.isp.ops.plugins.module_utils.shaping import tc_netlink as tn
from ansible_collections.isp.ops.plugins.module_utils.shaping.spec import (
    DOWNLOAD, MQ_HANDLE, HtbClass, InterfacePlan, Leaf, classid)
from ansible_collections.isp.ops.plugins.module_utils.shaping.tc_state import KernelClass, KernelQdisc, TcState

MBIT = 1000000
PFIFO = Leaf("pfifo", ("limit", "100"))


def make_plan(circuits=6, nodes=2, queues=1):
    """Per queue q:1 and q:2 (default, pfifo); nodes 0x10..; circuits 0x100.. under the nodes."""
    plan = InterfacePlan("dev0", DOWNLOAD, queues, 1000 * MBIT, 10)
    for q in range(1, queues + 1):
        plan.add(HtbClass(classid(q, 1), q << 16, 1000 * MBIT, 1000 * MBIT, 60000, 3, "root", "root"))
        plan.add(HtbClass(classid(q, 2), classid(q, 1), 10 * MBIT, 999 * MBIT, 1522, 5, "default", "default"), PFIFO)
    for n in range(nodes):
        q = n % queues + 1
        plan.add(HtbClass(classid(q, 0x10 + n), classid(q, 1), 499 * MBIT, 500 * MBIT, 6000, 3, "node", "node:%d" % n))
    for k in range(circuits):
        parent = classid(k % nodes % queues + 1, 0x10 + k % nodes)
        plan.add(HtbClass(classid(parent >> 16, 0x100 + k), parent, 10 * MBIT, 50 * MBIT, 1522, 3, "circuit",
                          "circuit:%d" % k), PFIFO)
    return plan


def kernel_state(plan, txqueues=4, default=2):
    """The TcState a kernel would report after applying `plan`."""
    state = TcState(plan.ifname, None, 7, txqueues)
    if plan.queues == 1:
        state.root = KernelQdisc("htb", 1 << 16, tn.TC_H_ROOT, b"", {"default": default, "r2q": 10})
        state.htb[1 << 16] = state.qdiscs[1 << 16] = state.root
    else:
        state.root = state.qdiscs[MQ_HANDLE] = KernelQdisc("mq", MQ_HANDLE, tn.TC_H_ROOT, None)
        for q in range(1, plan.queues + 1):
            htb = KernelQdisc("htb", q << 16, MQ_HANDLE | q, b"", {"default": default, "r2q": 10})
            state.htb[q << 16] = state.qdiscs[q << 16] = htb
    for n, (cid, cls) in enumerate(plan.classes.items()):
        options = tc_codec.htb_class_options(cls.rate, cls.ceil, cls.quantum, cls.prio)
        state.classes[cid] = KernelClass(cid, cls.parent, options, 0, 0, tc_codec.decode_htb_class(options))
        leaf = plan.leaves.get(cid)
        if leaf is not None:
            raw = tc_codec.encode_leaf(leaf.kind, tc_codec.leaf_params(leaf.kind, leaf.options))
            qdisc = KernelQdisc(leaf.kind, (0x8000 + n) << 16, cid, raw, tc_codec.decode_leaf(leaf.kind, raw))
            state.qdiscs[qdisc.handle] = state.leaves[cid] = qdisc
    return state


def actions(changes):
    return [(c.action, c.classid) for c in changes]


def test_empty_kernel_is_a_full_build_parents_first():
    plan = make_plan()
    changes = tc_diff.diff(plan, TcState("dev0", None, 7, 1))
    assert changes.rebuild and "default" in changes.reason
    assert changes.changes[0].action == tc_diff.ADD_ROOT
    seen = set([1 << 16])
    for change in changes.changes[1:]:
        if change.action == tc_diff.ADD_CLASS:
            assert change.new.parent in seen, change
            seen.add(change.classid)
        else:
            assert change.action == tc_diff.ADD_LEAF and change.classid in seen
    assert changes.summary() == {"add_root": 1, "add_class": 10, "add_leaf": 7}


def test_nothing_to_change():
    plan = make_plan()
    changes = tc_diff.diff(plan, kernel_state(plan))
    assert not changes and not changes.rebuild and changes.summary() == {}


def test_rate_change_is_one_class_change_labelled_by_key():
    plan = make_plan()
    state = kernel_state(plan)
    plan.classes[0x10101].rate = 12 * MBIT
    plan.classes[0x10102].ceil = 50 * MBIT + 7  # same number of bytes per second: no change
    changes = tc_diff.diff(plan, state)
    assert actions(changes) == [("change_class", 0x10101)]
    assert changes.by_label() == {"circuit:1": ["change_class"]}
    assert "rate 10000000 -> 12000000" in changes.changes[0].describe()


def test_adds_parents_first_then_changes_deletes_children_first():
    plan = make_plan(circuits=4, nodes=2)
    state = kernel_state(plan)
    del plan.classes[0x10011]  # node 1 with circuits 1 and 3 under it
    for cid in (0x10101, 0x10103):
        del plan.classes[cid]
        del plan.leaves[cid]
    plan.add(HtbClass(0x10020, 0x10001, 100 * MBIT, 100 * MBIT, 1522, 3, "node", "node:new"))
    plan.add(HtbClass(0x10200, 0x10020, 5 * MBIT, 10 * MBIT, 1522, 3, "circuit", "circuit:new"), PFIFO)
    plan.classes[0x10100].prio = 4
    changes = tc_diff.diff(plan, state, known_keys={0x10011: "node:1", 0x10101: "circuit:1"})
    got = actions(changes)
    assert got[:3] == [("del_class", 0x10103), ("del_class", 0x10101), ("del_class", 0x10011)] or \
        got[:3] == [("del_class", 0x10101), ("del_class", 0x10103), ("del_class", 0x10011)]
    assert got[3:] == [("add_class", 0x10020), ("add_class", 0x10200), ("add_leaf", 0x10200),
                       ("change_class", 0x10100)]
    labels = changes.by_label()
    assert labels["node:1"] == ["del_class"] and labels["circuit:1"] == ["del_class"]
    assert labels[""] == ["del_class"]  # circuit 3: no known key
    deleted = changes.changes[2]
    assert deleted.old is state.classes[0x10011] and deleted.leaf is None
    assert changes.changes[0].leaf is state.leaves[changes.changes[0].classid]  # put back on undo


def test_moved_class_is_recreated_with_its_subtree():
    plan = make_plan(circuits=4, nodes=2)
    state = kernel_state(plan)
    plan.classes[0x10010].parent = 0x10011  # node 0 (circuits 0 and 2) moves under node 1
    changes = tc_diff.diff(plan, state)
    got = actions(changes)
    deletes = [cid for action, cid in got if action == "del_class"]
    adds = [cid for action, cid in got if action == "add_class"]
    assert sorted(deletes) == sorted(adds) == [0x10010, 0x10100, 0x10102]
    assert deletes[-1] == 0x10010 and adds[0] == 0x10010
    assert got.index(("del_class", 0x10010)) < got.index(("add_class", 0x10010))
    assert [c.detail for c in changes if c.action == "del_class"] == ["moved"] * 3
    assert sorted(cid for action, cid in got if action == "add_leaf") == [0x10100, 0x10102]


def test_leaf_kind_change_options_change_and_removal():
    plan = make_plan(circuits=4)
    state = kernel_state(plan)
    plan.leaves[0x10100] = Leaf("bfifo", ("limit", "30000"))
    plan.leaves[0x10101] = Leaf("pfifo", ("limit", "200"))
    del plan.leaves[0x10102]
    changes = tc_diff.diff(plan, state)
    assert actions(changes) == [("del_leaf", 0x10102), ("replace_leaf", 0x10100), ("change_leaf", 0x10101)]
    assert changes.changes[1].detail == "pfifo -> bfifo" and changes.changes[2].detail == "limit"


def test_fq_codel_flows_cannot_change_live_so_the_leaf_is_recreated():
    plan = make_plan(circuits=2)
    plan.leaves[0x10100] = Leaf("fq_codel", ())
    state = kernel_state(plan)
    assert not tc_diff.diff(plan, state)
    plan.leaves[0x10100] = Leaf("fq_codel", ("flows", "2048"))
    assert actions(tc_diff.diff(plan, state)) == [("del_leaf", 0x10100), ("add_leaf", 0x10100)]
    plan.leaves[0x10100] = Leaf("fq_codel", ("target", "10ms", "noecn"))
    changes = tc_diff.diff(plan, state)
    assert actions(changes) == [("change_leaf", 0x10100)] and changes.changes[0].detail == "ecn, target"


@pytest.mark.parametrize("mutate,reason", [
    (lambda s: setattr(s, "root", None), "kernel default"),
    (lambda s: s.root.params.update(default=3), "default class 3"),
    (lambda s: setattr(s.root, "kind", "tbf"), "root is tbf"),
])
def test_root_mismatch_is_a_rebuild_deleting_the_old_root_first(mutate, reason):
    plan = make_plan()
    state = kernel_state(plan)
    mutate(state)
    changes = tc_diff.diff(plan, state)
    assert changes.rebuild and reason in changes.reason
    first = [c.action for c in changes.changes[:2]]
    assert first == (["add_root", "add_class"] if state.root is None else ["del_root", "add_root"])


def test_queue_count_change_is_a_rebuild_and_mq_needs_tx_queues():
    two = make_plan(queues=2)
    assert not tc_diff.diff(two, kernel_state(two))
    three = make_plan(queues=3)
    changes = tc_diff.diff(three, kernel_state(two))
    assert changes.rebuild and "2 htb queue(s) under mq, want 3" in changes.reason
    assert [c.action for c in changes.changes[:5]] == ["del_root", "add_root", "add_qdisc", "add_qdisc", "add_qdisc"]
    with pytest.raises(tn.TcError, match="1 transmit queue"):
        tc_diff.diff(three, kernel_state(two, txqueues=1))


def test_unsupported_leaf_is_an_error():
    plan = make_plan()
    plan.leaves[0x10100] = Leaf("sfq", ())
    with pytest.raises(tn.TcError, match="sfq"):
        tc_diff.diff(plan, kernel_state(make_plan()))
    plan.leaves[0x10100] = Leaf("cake", ("diffserv4", "bogus"))
    with pytest.raises(tn.TcError, match="bogus"):
        tc_diff.diff(plan, kernel_state(make_plan()))


def test_leaf_params_words_and_defaults():
    cake = tc_codec.leaf_params("cake", ("diffserv4", "rtt", "300ms", "bandwidth", "100mbit", "nat", "overhead", "18"))
    assert (cake["diffserv"], cake["rtt"], cake["bandwidth"], cake["nat"], cake["overhead"]) == (1, 300000, 12500000, 1, 18)
    assert cake["flowmode"] == 7 and cake["split_gso"] == 1
    assert tc_codec.decode_leaf("cake", tc_codec.encode_leaf("cake", cake)) == cake
    fq = tc_codec.leaf_params("fq_codel", ("memory_limit", "4mb", "ce_threshold", "2.5ms"))
    assert fq["memory_limit"] == 4 << 20 and fq["ce_threshold"] == 2500 and fq["quantum"] is None
    assert tc_codec.encode_leaf("pfifo", tc_codec.leaf_params("pfifo", ())) is None  # kernel default limit
    with pytest.raises(tn.TcError):
        tc_codec.leaf_params("pfifo", ("limit", "10ms"))


def test_htb_class_encoding_round_trip_and_64_bit_rates():
    options = tc_codec.htb_class_options(40 * 1000 * MBIT, 100 * 1000 * MBIT, 200000, 5)
    got = tc_codec.decode_htb_class(options)
    assert (got["rate"], got["ceil"], got["quantum"], got["prio"]) == (40000 * MBIT, 100000 * MBIT, 200000, 5)
    attrs = tn.parse_attrs(options)
    assert tc_codec.TCA_HTB_RATE64 in attrs and tc_codec.TCA_HTB_CEIL64 in attrs
    small = tc_codec.decode_htb_class(tc_codec.htb_class_options(10 * MBIT, 50 * MBIT, 1522, 3))
    assert small["buffer"] > 0 and small["cbuffer"] > 0  # burst as tc computes it, never zero


def test_requests_and_their_undo():
    plan = make_plan(circuits=2)
    state = kernel_state(plan)
    plan.classes[0x10100].rate = 20 * MBIT
    del plan.classes[0x10101]
    del plan.leaves[0x10101]
    changes = tc_diff.diff(plan, state)
    assert actions(changes) == [("del_class", 0x10101), ("change_class", 0x10100)]
    delete, change = changes.changes
    msg_type, flags, body = tc_apply.request(7, delete)
    assert (msg_type, flags) == (tn.RTM_DELTCLASS, 0)
    assert tn.TCMSG.unpack_from(body) == (0, 7, 0x10101, 0x10011, 0)
    undo = tc_apply.undo_requests(7, delete)
    assert [(t, f) for t, f, b in undo] == [(tn.RTM_NEWTCLASS, tc_apply.ADD), (tn.RTM_NEWQDISC, tc_apply.ADD)]
    assert tn.TCMSG.unpack_from(undo[1][2])[2:4] == (state.leaves[0x10101].handle, 0x10101)  # same handle back
    msg_type, flags, body = tc_apply.request(7, change)
    assert (msg_type, flags) == (tn.RTM_NEWTCLASS, 0)  # no NLM_F_CREATE: a missing class is an error
    sent = tc_codec.decode_htb_class(tn.parse_attrs(body, tn.TCMSG.size)[tn.TCA_OPTIONS])
    assert sent["rate"] == 20 * MBIT
    restored = tc_apply.undo_requests(7, change)[0][2]
    assert tn.parse_attrs(restored, tn.TCMSG.size)[tn.TCA_OPTIONS] == state.classes[0x10100].options


def test_restore_requests_rebuild_the_snapshot_in_order():
    plan = make_plan(circuits=2, queues=2)
    state = kernel_state(plan)
    out = tc_apply.restore_requests(7, state)
    kinds = [(t, tn.TCMSG.unpack_from(b)[2]) for t, f, b in out]
    assert kinds[0] == (tn.RTM_DELQDISC, 0)
    assert kinds[1:4] == [(tn.RTM_NEWQDISC, MQ_HANDLE), (tn.RTM_NEWQDISC, 1 << 16), (tn.RTM_NEWQDISC, 2 << 16)]
    classes = [h for t, h in kinds if t == tn.RTM_NEWTCLASS]
    assert sorted(classes) == sorted(state.classes) and classes.index(0x10001) < classes.index(0x10010)
    assert len(out) == 4 + len(state.classes) + len(state.leaves)


def test_empty_change_set_sends_nothing(monkeypatch):
    plan = make_plan()
    changes = tc_diff.diff(plan, kernel_state(plan))
    monkeypatch.setattr(tc_apply, "open_socket", lambda *a: pytest.fail("opened a socket"))
    result = tc_apply.apply(changes, lock_path=None)
    assert result.requests == 0 and not result.changed


def test_ack_text_uses_the_kernel_message():
    inner = tn.HDR.pack(36, tn.RTM_NEWTCLASS, 5, 9, 0)
    msg = tn.HDR.pack(0, tn.NLMSG_ERROR, tn.NLM_F_CAPPED | tn.NLM_F_ACK_TLVS, 9, 0) + tn.I32.pack(-2) + inner
    msg += tn.nla(tn.NLMSGERR_ATTR_MSG, b"Failed to find specified class\0")
    assert tn._ack_text(msg, tn.NLM_F_CAPPED | tn.NLM_F_ACK_TLVS, 2) == \
        "Failed to find specified class (No such file or directory)"
