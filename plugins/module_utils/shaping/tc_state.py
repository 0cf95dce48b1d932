# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the kernel holds on one interface: root qdisc, HTB qdiscs, HTB classes, leaf qdiscs.

Plain Python, no Ansible imports; pyroute2 only to enter a network namespace (guarded, see
tc_netlink). Two netlink dumps (qdiscs, classes) parsed with struct: about 0.2 s for 20k
classes with their leaves.

    state = read_state("to_network", netns="shaper")
    state.root            # KernelQdisc or None (the kernel's default root, e.g. noqueue)
    state.classes[0x1000a].rate, state.leaves[0x1000a].kind, state.leaves[0x1000a].params

Every object keeps the raw TCA_OPTIONS it was dumped with, so the applier can put back exactly
what was there (undo, or restoring a tree after a failed rebuild).
"""

from __future__ import annotations

from .tc_codec import decode_htb_class, decode_htb_qdisc, decode_leaf
from .tc_netlink import (HAS_PYROUTE2, PYROUTE2_IMPORT_ERROR, RTM_GETQDISC, RTM_GETTCLASS, TC_H_ROOT, TCA_KIND,
                         TCA_OPTIONS, TcError, basic_stats, open_socket)

__all__ = ["HAS_PYROUTE2", "PYROUTE2_IMPORT_ERROR", "KernelClass", "KernelQdisc", "TcState", "TcError",
           "read_state"]

TC_H_INGRESS = 0xFFFFFFF1  # ingress and clsact (the classifier's hook): never ours to touch


class KernelQdisc(object):
    """One visible qdisc. `params`: decoded options (HTB: default, r2q; leaves: see tc_codec)."""

    __slots__ = ("kind", "handle", "parent", "options", "params", "bytes", "packets")

    def __init__(self, kind, handle, parent, options, params=None, nbytes=0, packets=0):
        self.kind, self.handle, self.parent = kind, handle, parent
        self.options, self.params = options, params
        self.bytes, self.packets = nbytes, packets

    def __repr__(self):
        return "KernelQdisc(%s %x: parent %x %r)" % (self.kind, self.handle >> 16, self.parent, self.params)


class KernelClass(object):
    """One HTB class; rates in bit/s as in spec.HtbClass, `parent` a class or qdisc handle."""

    __slots__ = ("classid", "parent", "rate", "ceil", "quantum", "prio", "level", "buffer", "cbuffer",
                 "options", "bytes", "packets")

    def __init__(self, classid, parent, options, nbytes=0, packets=0, fields=None):
        self.classid, self.parent, self.options = classid, parent, options
        self.bytes, self.packets = nbytes, packets
        fields = fields or {}
        self.rate, self.ceil = fields.get("rate", 0), fields.get("ceil", 0)
        self.quantum, self.prio, self.level = fields.get("quantum", 0), fields.get("prio", 0), fields.get("level", 0)
        self.buffer, self.cbuffer = fields.get("buffer", 0), fields.get("cbuffer", 0)

    def params(self):
        """Comparable with spec.HtbClass.params()."""
        return (self.parent, self.rate, self.ceil, self.quantum, self.prio)

    def __repr__(self):
        return "KernelClass(%x parent %x rate %d ceil %d quantum %d prio %d)" % (
            self.classid, self.parent, self.rate, self.ceil, self.quantum, self.prio)


class TcState(object):
    """Snapshot of one interface's egress tree."""

    def __init__(self, ifname, netns, ifindex, txqueues):
        self.ifname, self.netns, self.ifindex, self.txqueues = ifname, netns, ifindex, txqueues
        self.root = None  # KernelQdisc at the root, None while the kernel's default is there
        self.qdiscs = {}  # handle -> KernelQdisc, every visible egress qdisc with a handle
        self.htb = {}  # handle -> KernelQdisc of kind htb
        self.classes = {}  # classid -> KernelClass (HTB classes only)
        self.leaves = {}  # classid of an HTB class -> its visible leaf KernelQdisc

    @property
    def queues(self):
        """Number of HTB qdiscs in the shape the planner builds (0: something else)."""
        if self.root is None:
            return 0
        if self.root.kind == "htb":
            return 1
        if self.root.kind == "mq":
            return len([h for h, q in self.htb.items() if q.parent >> 16 == self.root.handle >> 16])
        return 0

    def children(self):
        """{parent classid: [child classids]}, for walking the kernel tree."""
        out = {}
        for cls in self.classes.values():
            out.setdefault(cls.parent, []).append(cls.classid)
        return out

    def describe(self):
        root = "default" if self.root is None else "%s %x:" % (self.root.kind, self.root.handle >> 16)
        return "%s%s: root %s, %d htb qdisc(s), %d class(es), %d leaf qdisc(s)" % (
            self.ifname, " (netns %s)" % self.netns if self.netns else "", root, len(self.htb),
            len(self.classes), len(self.leaves))


def _kind(attrs):
    raw = attrs.get(TCA_KIND)
    return raw.rstrip(b"\0").decode() if raw else ""


def _read_qdiscs(sock, state, stats):
    for (ifindex, handle, parent, info), attrs in sock.dump(RTM_GETQDISC, state.ifindex):
        if parent == TC_H_INGRESS or handle >> 16 == 0xFFFF or handle == 0 and parent != TC_H_ROOT:
            continue
        kind, options = _kind(attrs), attrs.get(TCA_OPTIONS)
        nbytes, packets = basic_stats(attrs) if stats else (0, 0)
        qdisc = KernelQdisc(kind, handle, parent, options, None, nbytes, packets)
        if kind == "htb":
            qdisc.params = decode_htb_qdisc(options or b"")
            state.htb[handle] = qdisc
        if parent == TC_H_ROOT:
            if handle == 0:  # the kernel's default (noqueue, pfifo_fast, mq 0:): nothing of ours
                continue
            state.root = qdisc
        state.qdiscs[handle] = qdisc


def _read_classes(sock, state, stats):
    for (ifindex, handle, parent, info), attrs in sock.dump(RTM_GETTCLASS, state.ifindex):
        if _kind(attrs) != "htb" or handle & 0xFFFF0000 not in state.htb:
            continue
        if parent == TC_H_ROOT:  # HTB reports a top class's parent as the root
            parent = handle & 0xFFFF0000
        options = attrs.get(TCA_OPTIONS) or b""
        nbytes, packets = basic_stats(attrs) if stats else (0, 0)
        state.classes[handle] = KernelClass(handle, parent, options, nbytes, packets, decode_htb_class(options))


def _attach_leaves(state):
    for qdisc in state.qdiscs.values():
        if qdisc.parent in state.classes:
            qdisc.params = decode_leaf(qdisc.kind, qdisc.options)
            state.leaves[qdisc.parent] = qdisc


def read_state(ifname, netns=None, sock=None, stats=True):
    """TcState of `ifname` (inside `netns` when given). `sock`: an open tc_netlink socket to
    reuse (the applier reads and writes through one socket). stats=False leaves the byte and
    packet counters at 0 (a little faster)."""
    own = sock is None
    sock = open_socket(netns) if own else sock
    try:
        ifindex, txqueues = sock.link(ifname)
        state = TcState(ifname, netns, ifindex, txqueues)
        _read_qdiscs(sock, state, stats)
        _read_classes(sock, state, stats)
        _attach_leaves(state)
        return state
    except TcError as exc:
        raise TcError("reading tc state of %s%s: %s" % (ifname, " in netns %s" % netns if netns else "", exc),
                      exc.errno)
    finally:
        if own:
            sock.close()
