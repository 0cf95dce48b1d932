# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wanted shaping state: what the planner produces and the kernel applier enforces.

Plain Python, no Ansible and no kernel imports. Rates are integers in bits per second;
class ids are integers `major << 16 | minor` as the kernel stores them (tc prints them in hex,
`1:a` = 0x1000a). A queue's HTB qdisc has handle `major << 16` and is the parent of that
queue's root class `major:1`.

Per interface, with Q queues (majors 1..Q):
  Q == 1: root qdisc htb 1: (default 2); classes 1:1 (root, the link capacity), 1:2 (default).
  Q >= 2: root qdisc mq 7fff:, and one htb q: under 7fff:q for each queue q, each with its own
          q:1 root and q:2 default class.
Nodes of network.json and circuits of ShapedDevices.csv are classes under q:1 (top-level
nodes spread over the queues); every circuit class and every default class has a leaf qdisc.
"""

from __future__ import annotations

DOWNLOAD = "download"  # egress on to_network: the classifier looks up the destination address
UPLOAD = "upload"  # egress on to_internet: the classifier looks up the source address
MQ_HANDLE = 0x7FFF << 16
ROOT_MINOR = 1
DEFAULT_MINOR = 2
FIRST_MINOR = 3
MAX_MINOR = 0xFFFE
HTB_MAX_DEPTH = 8  # kernel TC_HTB_MAXDEPTH: class levels below the qdisc, the root class included


def classid(major, minor):
    return (major << 16) | minor


def format_classid(value):
    return "%x:%x" % (value >> 16, value & 0xFFFF)


class HtbClass(object):
    """One HTB class. `kind` is "root", "default", "node" or "circuit"; `key` names what it
    shapes ("node:<name>", "circuit:<id>", "root", "default") and is stable across runs."""

    __slots__ = ("classid", "parent", "rate", "ceil", "quantum", "prio", "kind", "key")

    def __init__(self, classid, parent, rate, ceil, quantum, prio=3, kind="circuit", key=""):
        self.classid = classid
        self.parent = parent
        self.rate = rate
        self.ceil = ceil
        self.quantum = quantum
        self.prio = prio
        self.kind = kind
        self.key = key

    def params(self):
        """What the kernel holds for this class; equal params mean nothing to change."""
        return (self.parent, self.rate, self.ceil, self.quantum, self.prio)


class Leaf(object):
    """The qdisc under a circuit or default class: kind "cake", "fq_codel" or "pfifo",
    with tc-style option words (["diffserv4"], ["limit", "1000"], ...)."""

    __slots__ = ("kind", "options")

    def __init__(self, kind, options=()):
        self.kind = kind
        self.options = tuple(options)

    def __eq__(self, other):
        return isinstance(other, Leaf) and (self.kind, self.options) == (other.kind, other.options)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.kind, self.options))

    def __repr__(self):
        return "Leaf(%s %s)" % (self.kind, " ".join(self.options))


class InterfacePlan(object):
    """The tree wanted on one interface (one direction)."""

    def __init__(self, ifname, direction, queues, capacity_bps, r2q):
        self.ifname = ifname
        self.direction = direction
        self.queues = queues  # number of HTB qdiscs; 1 means no mq root
        self.capacity_bps = capacity_bps
        self.r2q = r2q
        self.classes = {}  # classid -> HtbClass, parents inserted before children
        self.leaves = {}  # classid of a circuit or default class -> Leaf (absent: no leaf qdisc)

    @property
    def uses_mq(self):
        return self.queues > 1

    def add(self, htb_class, leaf=None):
        self.classes[htb_class.classid] = htb_class
        if leaf is not None:
            self.leaves[htb_class.classid] = leaf


class ShapingPlan(object):
    """Both directions plus the classifier's prefix map, as one unit to apply or roll back."""

    def __init__(self, download, upload, prefixes, circuit_index, warnings=None):
        self.download = download  # InterfacePlan for to_network
        self.upload = upload  # InterfacePlan for to_internet
        self.prefixes = prefixes  # "100.64.0.0/29" or "2001:db8::/56" -> (classid, circuit index)
        self.circuit_index = circuit_index  # circuit id -> stable index (counter slot, from 1)
        self.warnings = warnings if warnings is not None else []

    def interfaces(self):
        return (self.download, self.upload)
