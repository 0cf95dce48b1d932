# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tc applier (shaping.tc_state, tc_diff, tc_apply) against the real kernel, each test in
fresh network namespaces (tc_plans.VethNamespace, netns_lab.NetnsLab). Needs root; ~15 s.

What is checked: a full apply reads back equal to the plan and a second run sends nothing; an
incremental change touches exactly the changed classes (netlink TC events, and the byte
counters of the others survive); a failure half-way leaves exactly the previous tree (also
after a failed full rebuild); the lock; and a UDP stream through an unchanged circuit loses no
datagram while other circuits are changed again and again.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import netns_lab as nl  # noqa: E402
import tc_plans as tp  # noqa: E402
from ansible_collections.isp.ops.plugins.module_utils.shaping import tc_apply as ta  # noqa: E402
from ansible_collections.isp.ops.plugins.module_utils.shaping import tc_netlink as tn  # noqa: E402
from ansible_collections.isp.ops.plugins.module_utils.shaping.spec import HtbClass, Leaf  # noqa: E402
from ansible_collections.isp.ops.plugins.module_utils.shaping.tc_diff import ADD_CLASS, Change  # noqa: E402


def _skip_reason():
    if os.geteuid() != 0:
        return "needs root (network namespaces, tc)"
    if not ta.HAS_PYROUTE2:
        return "pyroute2 is missing: %s" % ta.PYROUTE2_IMPORT_ERROR
    tools = [t for t in ("ip", "tc") if not shutil.which(t)]
    return "missing tools: %s" % ", ".join(tools) if tools else None


SKIP = _skip_reason()
pytestmark = [pytest.mark.netns] + ([pytest.mark.skip(reason=SKIP)] if SKIP else [])
RTNLGRP_TC = 4
N = 300


@pytest.fixture
def lock(tmp_path):
    return str(tmp_path / "tc.lock")


@pytest.fixture
def veth():
    with tp.VethNamespace() as ns:
        yield ns


def snapshot(state):
    """Everything the applier promises to keep or restore (not the counters)."""
    root = None if state.root is None else (state.root.kind, state.root.handle, state.root.params)
    return {"root": root,
            "htb": dict((h, (q.parent, q.params)) for h, q in state.htb.items()),
            "classes": dict((c, (k.params(), k.buffer, k.cbuffer)) for c, k in state.classes.items()),
            "leaves": dict((c, (q.kind, q.handle, q.params)) for c, q in state.leaves.items())}


def assert_matches(plan, state):
    assert set(state.classes) == set(plan.classes)
    for cid, cls in plan.classes.items():
        got = state.classes[cid]
        assert (got.parent, got.rate // 8, got.ceil // 8, got.quantum, got.prio) == \
            (cls.parent, cls.rate // 8, cls.ceil // 8, cls.quantum, cls.prio), cls.key
    assert dict((c, (q.kind, q.params["limit"])) for c, q in state.leaves.items()) == \
        dict((c, (leaf.kind, int(leaf.options[1]))) for c, leaf in plan.leaves.items())


def send_frames(ns, ifname, classids, count=2):
    """Raw frames out of `ifname` with skb->priority = class id, so HTB puts them in that class."""
    sock = tn.pyroute2_netns.create_socket(ns, socket.AF_PACKET, socket.SOCK_RAW, 0, flags=0)
    try:
        sock.bind((ifname, 0))
        frame = b"\xff" * 6 + b"\x02\0\0\0\0\x01" + b"\x88\xb5" + b"x" * 100
        for cid in classids:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, cid)
            for _k in range(count):
                sock.send(frame)
    finally:
        sock.close()


class TcMonitor(object):
    """Netlink TC events inside a namespace (what `tc monitor` shows)."""

    def __init__(self, ns):
        self.sock = tn.pyroute2_netns.create_socket(ns, socket.AF_NETLINK, socket.SOCK_RAW, 0, flags=0)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((0, 1 << (RTNLGRP_TC - 1)))

    def events(self):
        """[(message type, handle, parent)] received so far."""
        out = []
        self.sock.setblocking(False)
        for _batch in range(10000):
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                break
            pos = 0
            while pos + 36 <= len(data):
                length, msg_type = tn.HDR.unpack_from(data, pos)[:2]
                out.append((msg_type,) + tn.TCMSG.unpack_from(data, pos + 16)[2:4])
                pos += (length + 3) & ~3
        return out

    def close(self):
        self.sock.close()


def test_full_apply_reads_back_and_second_run_sends_nothing(veth, lock):
    plan = tp.make_plan(N, nodes=5)
    result = ta.sync(plan, netns=veth.name, lock_path=lock)
    assert result.changes.rebuild and result.requests == 1 + len(plan.classes) + len(plan.leaves)
    state = ta.read_state(plan.ifname, veth.name)
    assert (state.root.kind, state.root.handle, state.root.params["default"]) == ("htb", 0x10000, 2)
    assert_matches(plan, state)
    monitor = TcMonitor(veth.name)
    try:
        again = ta.sync(plan, netns=veth.name, lock_path=lock)
        assert not again.changes and again.requests == 0 and not again.changed
        assert monitor.events() == []
    finally:
        monitor.close()


def test_mq_plan_with_two_queues(lock):
    plan = tp.make_plan(60, nodes=4, queues=2)
    with tp.VethNamespace(txqueues=2) as ns:
        ta.sync(plan, netns=ns.name, lock_path=lock)
        state = ta.read_state(plan.ifname, ns.name)
        assert (state.root.kind, state.root.handle, state.queues) == ("mq", 0x7FFF0000, 2)
        assert_matches(plan, state)
        assert not ta.diff(plan, state)


def test_incremental_change_touches_only_what_changed(veth, lock):
    plan = tp.make_plan(N, nodes=5)
    ta.sync(plan, netns=veth.name, lock_path=lock)
    send_frames(veth.name, plan.ifname, tp.circuit_ids(plan))
    before = ta.read_state(plan.ifname, veth.name)
    assert all(before.classes[c].packets == 2 and before.leaves[c].packets == 2 for c in tp.circuit_ids(plan))
    changed_plan, picked = tp.mutate(plan, change=0.10, add=7, delete=5)
    monitor = TcMonitor(veth.name)
    try:
        result = ta.sync(changed_plan, netns=veth.name, lock_path=lock)
        events = monitor.events()
    finally:
        monitor.close()
    assert result.summary == {"change_class": len(picked["changed"]), "add_class": 7, "add_leaf": 7, "del_class": 5}
    touched = set(picked["changed"] + picked["added"] + picked["deleted"])
    assert set(h for t, h, p in events if t in (tn.RTM_NEWTCLASS, tn.RTM_DELTCLASS)) == touched
    assert set(p for t, h, p in events if t in (tn.RTM_NEWQDISC, tn.RTM_DELQDISC)) <= touched
    after = ta.read_state(plan.ifname, veth.name)
    assert_matches(changed_plan, after)
    for cid in set(tp.circuit_ids(plan)) - set(picked["deleted"]):
        # not re-created: the counters and the leaf qdisc (same handle, same count) survive
        assert (after.classes[cid].bytes, after.classes[cid].packets) == \
            (before.classes[cid].bytes, before.classes[cid].packets), hex(cid)
        assert (after.leaves[cid].handle, after.leaves[cid].packets) == (before.leaves[cid].handle, 2)
    assert not ta.diff(changed_plan, after)


def _leaf_changes(plan, keep=()):
    """Leaf edits on a few circuits: new limit (changed in place), other kind (grafted), none."""
    circuits = [cid for cid in tp.circuit_ids(plan) if cid not in keep]
    for cid in circuits[1:4]:
        plan.leaves[cid] = Leaf("pfifo", ("limit", "250"))
    for cid in circuits[4:6]:
        plan.leaves[cid] = Leaf("bfifo", ("limit", "30000"))
    del plan.leaves[circuits[6]]
    return circuits[1:7]


def test_leaf_changes_in_place_graft_and_removal(veth, lock):
    plan = tp.make_plan(40, nodes=2)
    ta.sync(plan, netns=veth.name, lock_path=lock)
    send_frames(veth.name, plan.ifname, tp.circuit_ids(plan))
    before = ta.read_state(plan.ifname, veth.name)
    edited = tp.copy_plan(plan)
    touched = _leaf_changes(edited)
    result = ta.sync(edited, netns=veth.name, lock_path=lock)
    assert result.summary == {"change_leaf": 3, "replace_leaf": 2, "del_leaf": 1}
    after = ta.read_state(plan.ifname, veth.name)
    for cid in touched[:3]:  # same qdisc, new limit, counters kept
        assert (after.leaves[cid].handle, after.leaves[cid].packets, after.leaves[cid].params["limit"]) == \
            (before.leaves[cid].handle, 2, 250)
    assert [after.leaves[cid].kind for cid in touched[3:5]] == ["bfifo", "bfifo"]
    assert touched[5] not in after.leaves and touched[5] in after.classes
    assert not ta.diff(edited, after)


def _bogus(cid=0x9FFF0):
    """A class under 9:1, in a qdisc 9: that does not exist. (A missing parent *class* in an
    existing qdisc is no error for HTB: the class silently becomes a top class; diff() refuses
    such plans.)"""
    return Change(ADD_CLASS, cid, "circuit:bogus",
                  new=HtbClass(cid, 0x90001, 1000000, 2000000, 1522, 3, "circuit", "circuit:bogus"))


@pytest.mark.parametrize("window", [8, tn.WINDOW])
def test_failure_half_way_rolls_back_exactly(veth, lock, window):
    plan = tp.make_plan(N, nodes=5)
    ta.sync(plan, netns=veth.name, lock_path=lock)
    before = ta.read_state(plan.ifname, veth.name)
    changed_plan, picked = tp.mutate(plan, change=0.10, add=6, delete=6)
    _leaf_changes(changed_plan, keep=picked["deleted"])
    changes = ta.diff(changed_plan, before)
    assert [c.action for c in changes][:7] == ["del_leaf"] + ["del_class"] * 6  # all of it gets undone
    assert set(["change_leaf", "replace_leaf", "add_class", "change_class"]) <= set(changes.summary())
    changes.changes.insert(len(changes) // 2, _bogus())
    with pytest.raises(ta.TcApplyError) as info:
        ta.apply(changes, lock_path=lock, window=window)
    error = info.value
    assert "add class 9:fff0 (circuit:bogus)" in str(error) and "rolled back" in str(error)
    assert error.undone and not error.undo_errors and error.failures[0][0].classid == 0x9FFF0
    assert snapshot(ta.read_state(plan.ifname, veth.name)) == snapshot(before)


def test_failed_rebuild_restores_the_previous_tree(lock):
    one = tp.make_plan(N, nodes=5)
    two = tp.make_plan(N, nodes=5, queues=2)
    with tp.VethNamespace(txqueues=2) as ns:
        ta.sync(one, netns=ns.name, lock_path=lock)
        before = ta.read_state(one.ifname, ns.name)
        changes = ta.diff(two, before)
        assert changes.rebuild and [c.action for c in changes][:2] == ["del_root", "add_root"]
        changes.changes.insert(len(changes) * 2 // 3, _bogus())
        with pytest.raises(ta.TcApplyError, match="9:fff0.*rolled back"):
            ta.apply(changes, lock_path=lock)
        assert snapshot(ta.read_state(one.ifname, ns.name)) == snapshot(before)
        assert ta.sync(two, netns=ns.name, lock_path=lock).changes.rebuild
        assert not ta.diff(two, ta.read_state(two.ifname, ns.name))


def test_restore_puts_back_an_applied_change_set(lock):
    """restore(): e.g. the download side after the upload side failed; incremental and rebuild."""
    plan = tp.make_plan(N, nodes=5)
    with tp.VethNamespace(txqueues=2) as ns:
        ta.sync(plan, netns=ns.name, lock_path=lock)
        before = ta.read_state(plan.ifname, ns.name)
        changed_plan = tp.mutate(plan, change=0.10, add=6, delete=6)[0]
        _leaf_changes(changed_plan)
        for target in (changed_plan, tp.make_plan(N, nodes=5, queues=2)):
            changes = ta.diff(target, ta.read_state(plan.ifname, ns.name))
            ta.apply(changes, lock_path=lock)
            assert not ta.diff(target, ta.read_state(plan.ifname, ns.name))
            assert ta.restore(changes) > 0
            assert snapshot(ta.read_state(plan.ifname, ns.name)) == snapshot(before), changes.reason
        assert ta.restore(ta.diff(plan, before)) == 0  # nothing applied, nothing to put back


def test_lock_times_out_then_waits_for_another_process(veth, lock):
    plan = tp.make_plan(20)
    with ta.TcLock(lock):
        started = time.monotonic()
        with pytest.raises(ta.TcLockTimeout, match="holds %s \\(pid %d\\)" % (lock, os.getpid())):
            ta.sync(plan, netns=veth.name, lock_path=lock, lock_timeout=0.3)
        assert 0.3 <= time.monotonic() - started < 3
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl,sys,time\n"
                               "f=open(sys.argv[1],'a+'); fcntl.flock(f, fcntl.LOCK_EX)\n"
                               "print('locked', flush=True); time.sleep(1.0)", lock],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = ta.sync(plan, netns=veth.name, lock_path=lock, lock_timeout=20)
        assert result.requests > 0 and 0.5 < time.monotonic() - started < 15
    finally:
        holder.wait(timeout=10)


RECEIVER = """
import json, socket, sys, time
s = socket.socket(); s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((sys.argv[1], int(sys.argv[2]))); s.settimeout(0.2)
print("ready", flush=True)
seen, deadline, last = set(), time.monotonic() + float(sys.argv[3]), None
while time.monotonic() < deadline and (last is None or time.monotonic() - last < 1.5):
    try:
        data = s.recv(2048)
    except socket.timeout:
        continue
    seen.add(int(data[:8])); last = time.monotonic()
print(json.dumps({"count": len(seen), "max": max(seen) if seen else -1}))
"""
SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
start, burst = time.monotonic(), int(sys.argv[4])
for k in range(int(sys.argv[3])):
    s.sendto(b"%08d" % k + b"u" * 192, (sys.argv[1], int(sys.argv[2])))
    if k % burst == burst - 1:  # bursts of back-to-back datagrams every 40 ms
        time.sleep(max(0.0, start + (k + 1) // burst * 0.04 - time.monotonic()))
"""


def test_udp_stream_of_unchanged_circuit_loses_nothing_while_others_change(lock):
    """The circuit's class is slow (2 Mbit/s ceiling) and the stream comes in bursts of 30
    datagrams (7 kB every 40 ms, 1.5 Mbit/s on the wire), so its leaf queue is rarely empty:
    re-creating the class or the leaf, or replacing the root, would drop what is queued. (Checked
    by hand: with a root delete and full re-apply instead of the incremental runs, 42 of 2400
    datagrams were lost.)"""
    datagrams, burst, port = 2400, 30, 5001
    with nl.NetnsLab(subscribers=1) as lab:
        plan = tp.make_plan(N, nodes=5, ifname=lab.to_network)
        target = tp.circuit_ids(plan)[17]
        plan.classes[target].rate, plan.classes[target].ceil = 1500000, 2000000
        ta.sync(plan, netns=lab.shaper, lock_path=lock)
        nl.run(["tc", "filter", "add", "dev", lab.to_network, "parent", "1:", "protocol", "ip", "prio", "1", "u32",
                "match", "ip", "dst", lab.subscribers[0].v4_block, "flowid", "1:%x" % (target & 0xFFFF)],
               ns=lab.shaper)
        sub = lab.subscribers[0]
        nl.run(["ping", "-c", "1", "-W", "2", sub.ipv4[0]], ns=lab.inet, check=False)  # ARP before counting
        receiver = subprocess.Popen(["ip", "netns", "exec", sub.ns, sys.executable, "-c", RECEIVER, sub.ipv4[0],
                                     str(port), "30"], stdout=subprocess.PIPE, text=True)
        assert receiver.stdout.readline().strip() == "ready"
        sender = subprocess.Popen(["ip", "netns", "exec", lab.inet, sys.executable, "-c", SENDER, sub.ipv4[0],
                                   str(port), str(datagrams), str(burst)])
        plans = [tp.mutate(plan, change=0.10, add=5, delete=5, seed=s, keep=(target,))[0] for s in range(2)]
        results, errors = [], []

        def churn():
            try:
                for k in range(8):  # bounded: 8 incremental runs while the stream flows
                    results.append(ta.sync(plans[k % 2], netns=lab.shaper, lock_path=lock))
                    time.sleep(0.15)
            except Exception as exc:  # reported below
                errors.append(exc)
        time.sleep(0.2)
        worker = threading.Thread(target=churn)
        worker.start()
        worker.join(timeout=60)
        sender.wait(timeout=30)
        out, _err = receiver.communicate(timeout=40)
        assert not errors, errors
        assert len(results) == 8 and all(r.requests > 0 for r in results)
        assert all(target not in set(c.classid for c in r.changes) for r in results)
        got = __import__("json").loads(out.strip().splitlines()[-1])
        assert got == {"count": datagrams, "max": datagrams - 1}
        stats = ta.read_state(lab.to_network, lab.shaper).classes[target]
        assert stats.packets >= datagrams  # the stream really went through the unchanged circuit
