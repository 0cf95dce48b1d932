# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hand-made InterfacePlans for the tc applier's tests and benchmark, the same tree as a
LibreQoS-style `tc -batch` file, and throw-away namespaces holding one veth.

Everything here is test scaffolding: namespaces are named with netns_lab.STALE_PREFIX so that
netns_lab.cleanup_stale() also removes what a killed run left behind.
"""

from __future__ import annotations

import os
import random
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import netns_lab as nl  # noqa: E402

try:
    from ansible_collections.isp.ops.plugins.module_utils.shaping import spec
except ImportError:  # no .venv/collections (scripts/bootstrap.sh makes it)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from plugins.module_utils.shaping import spec

MBIT = 1000000
QUANTUM_R2Q = 10


def _quantum(rate, r2q):
    return min(200000, max(1522, rate // 8 // r2q))


def make_plan(circuits, nodes=4, queues=1, ifname="dev0", capacity_mbit=10000, leaf_limit=100):
    """InterfacePlan: per queue q:1 root and q:2 default; `nodes` node classes spread over the
    queues; `circuits` circuit classes spread over the nodes, each with a pfifo leaf. Circuit k
    (1-based) has key "circuit:k", rate 5+k%20 Mbit and ceil 4x that."""
    cap = capacity_mbit * MBIT
    r2q = max(10, -(-(cap // 8) // 60000))
    plan = spec.InterfacePlan(ifname, spec.DOWNLOAD, queues, cap, r2q)
    leaf = spec.Leaf("pfifo", ("limit", str(leaf_limit)))
    next_minor = dict((q, spec.FIRST_MINOR) for q in range(1, queues + 1))
    for q in range(1, queues + 1):
        root = spec.classid(q, spec.ROOT_MINOR)
        plan.add(spec.HtbClass(root, q << 16, cap, cap, _quantum(cap, r2q), 3, "root", "root"))
        plan.add(spec.HtbClass(spec.classid(q, spec.DEFAULT_MINOR), root, cap // 100, cap - MBIT,
                               _quantum(cap // 100, r2q), 5, "default", "default"), leaf)
    node_ids = []
    for n in range(nodes):
        q = n % queues + 1
        cid = spec.classid(q, next_minor[q])
        next_minor[q] += 1
        rate = cap // nodes
        plan.add(spec.HtbClass(cid, spec.classid(q, spec.ROOT_MINOR), rate - MBIT, rate,
                               _quantum(rate - MBIT, r2q), 3, "node", "node:n%d" % n))
        node_ids.append(cid)
    for k in range(1, circuits + 1):
        parent = node_ids[k % nodes]
        q = parent >> 16
        cid = spec.classid(q, next_minor[q])
        next_minor[q] += 1
        rate = (5 + k % 20) * MBIT
        plan.add(spec.HtbClass(cid, parent, rate, rate * 4, _quantum(rate, r2q), 3, "circuit", "circuit:%d" % k),
                 leaf)
    return plan


def circuit_ids(plan):
    return [cid for cid, cls in plan.classes.items() if cls.kind == "circuit"]


def copy_plan(plan):
    out = spec.InterfacePlan(plan.ifname, plan.direction, plan.queues, plan.capacity_bps, plan.r2q)
    for cid, cls in plan.classes.items():
        out.add(spec.HtbClass(cls.classid, cls.parent, cls.rate, cls.ceil, cls.quantum, cls.prio, cls.kind, cls.key),
                plan.leaves.get(cid))
    return out


def mutate(plan, change=0.10, add=0, delete=0, seed=1, keep=()):
    """A copy of `plan` with `change` (fraction) of its circuits at a new rate, `add` new
    circuits and `delete` circuits removed; class ids in `keep` are left alone.
    Returns (plan, {"changed", "added", "deleted"} class ids)."""
    rnd = random.Random(seed)
    out = copy_plan(plan)
    circuits = [cid for cid in circuit_ids(out) if cid not in keep]
    picked = rnd.sample(circuits, int(len(circuits) * change) + delete)
    changed, deleted = picked[:len(picked) - delete], picked[len(picked) - delete:]
    for cid in changed:
        cls = out.classes[cid]
        cls.rate, cls.ceil = cls.rate + MBIT, cls.ceil + 2 * MBIT
        cls.quantum = _quantum(cls.rate, out.r2q)
    for cid in deleted:
        del out.classes[cid]
        out.leaves.pop(cid, None)
    leaf = spec.Leaf("pfifo", ("limit", "100"))
    nodes = [cid for cid, cls in out.classes.items() if cls.kind == "node"]
    used = set(plan.classes)
    added = []
    for k in range(add):
        parent = nodes[k % len(nodes)]
        minor = max(c & 0xFFFF for c in used if c >> 16 == parent >> 16) + 1
        cid = spec.classid(parent >> 16, minor)
        used.add(cid)
        out.add(spec.HtbClass(cid, parent, 7 * MBIT, 28 * MBIT, _quantum(7 * MBIT, out.r2q), 3, "circuit",
                              "circuit:new%d" % k), leaf)
        added.append(cid)
    return out, {"changed": changed, "added": added, "deleted": deleted}


def _rate(bps):
    return "%dbit" % bps


def tc_batch(plan):
    """The plan as LibreQoS writes it for `tc -force -batch` (one line per command)."""
    dev = plan.ifname
    lines = []
    if plan.queues == 1:
        lines.append("qdisc replace dev %s root handle 1: htb default 2 r2q %d" % (dev, plan.r2q))
    else:
        lines.append("qdisc replace dev %s root handle 7fff: mq" % dev)
        lines += ["qdisc add dev %s parent 7fff:%x handle %x: htb default 2 r2q %d" % (dev, q, q, plan.r2q)
                  for q in range(1, plan.queues + 1)]
    for cid, cls in plan.classes.items():
        parent = "%x:" % (cls.parent >> 16) if cls.parent & 0xFFFF == 0 else spec.format_classid(cls.parent)
        lines.append("class add dev %s parent %s classid %s htb rate %s ceil %s prio %d quantum %d"
                     % (dev, parent, spec.format_classid(cid), _rate(cls.rate), _rate(cls.ceil), cls.prio,
                        cls.quantum))
        leaf = plan.leaves.get(cid)
        if leaf is not None:
            lines.append("qdisc add dev %s parent %s %s %s" % (dev, spec.format_classid(cid), leaf.kind,
                                                               " ".join(leaf.options)))
    return "\n".join(lines) + "\n"


class VethNamespace(object):
    """A fresh namespace holding veth `ifname` (up) and its peer; removed on exit."""

    def __init__(self, ifname="dev0", txqueues=1, prefix=None):
        self.name = "%stc%s" % (prefix or nl.STALE_PREFIX, secrets.token_hex(3))
        self.ifname, self.txqueues = ifname, txqueues

    def __enter__(self):
        nl.run(["ip", "netns", "add", self.name])
        try:
            nl.run(["ip", "-n", self.name, "link", "add", self.ifname, "numtxqueues", str(self.txqueues),
                    "type", "veth", "peer", "name", self.ifname + "p"])
            for link in (self.ifname, self.ifname + "p"):  # a peer that is down stops the queue
                nl.run(["ip", "-n", self.name, "link", "set", link, "up"])
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        nl.run(["ip", "netns", "delete", self.name], check=False)

    def tc(self, *args, **kwargs):
        return nl.run(["tc"] + list(args), ns=self.name, **kwargs).stdout
