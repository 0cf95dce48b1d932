# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compare a spec.InterfacePlan with a tc_state.TcState: the ordered changes that turn one into
the other. Pure Python, no kernel access (unit-tested without root).

Order (each change is one netlink request, see tc_apply):
  1. deletes, children first: stale leaf qdiscs, then classes (a class takes its leaf with it);
  2. adds, parents first, each new class followed by its leaf qdisc;
  3. changes: class parameters, then leaf qdiscs (same kind: changed in place; other kind: a new
     qdisc grafted in its place).
Deletes come first because HTB cannot delete a class with children and a class that moves to
another parent must be deleted (with its subtree) before it is added again under the same id.

A root that is not the planned shape (no HTB, another queue count, another default class) is a
full rebuild: delete the root, then add everything. ``ChangeSet.rebuild`` says so and why.
"""

from __future__ import annotations

from .spec import DEFAULT_MINOR, MQ_HANDLE, format_classid
from .tc_codec import FIXED, encode_leaf, leaf_differs, leaf_params
from .tc_netlink import TcError

ADD_ROOT, DEL_ROOT, ADD_QDISC = "add_root", "del_root", "add_qdisc"
ADD_CLASS, CHANGE_CLASS, DEL_CLASS = "add_class", "change_class", "del_class"
ADD_LEAF, CHANGE_LEAF, REPLACE_LEAF, DEL_LEAF = "add_leaf", "change_leaf", "replace_leaf", "del_leaf"
ACTIONS = (DEL_ROOT, ADD_ROOT, ADD_QDISC, DEL_LEAF, DEL_CLASS, ADD_CLASS, ADD_LEAF, CHANGE_CLASS,
           CHANGE_LEAF, REPLACE_LEAF)


class WantedLeaf(object):
    """A planned leaf qdisc: kind, option bytes to send, and the params to compare."""

    __slots__ = ("kind", "options", "params")

    def __init__(self, leaf):
        self.kind = leaf.kind
        self.params = leaf_params(leaf.kind, leaf.options)
        self.options = encode_leaf(leaf.kind, self.params)


class Change(object):
    """One netlink request. `new`: spec.HtbClass, WantedLeaf or a root tuple (kind, handle,
    options); `old`: the tc_state object it replaces or removes; `leaf`: the old leaf qdisc of
    a deleted class (put back on undo)."""

    __slots__ = ("action", "classid", "label", "new", "old", "leaf", "detail")

    def __init__(self, action, classid, label, new=None, old=None, leaf=None, detail=""):
        self.action, self.classid, self.label = action, classid, label
        self.new, self.old, self.leaf, self.detail = new, old, leaf, detail

    def describe(self):
        text = "%s %s" % (self.action.replace("_", " "), format_classid(self.classid))
        if self.label:
            text += " (%s)" % self.label
        return text + (": " + self.detail if self.detail else "")

    def __repr__(self):
        return "Change(%s)" % self.describe()


class ChangeSet(object):
    """The ordered changes for one interface, with the snapshot they were computed from."""

    def __init__(self, current, changes, rebuild=False, reason=None, r2q=10):
        self.current = current  # tc_state.TcState: what to restore if a rebuild fails
        self.ifname, self.netns, self.ifindex = current.ifname, current.netns, current.ifindex
        self.changes = changes
        self.rebuild, self.reason = rebuild, reason
        self.r2q = r2q  # for new HTB qdiscs only: every class has an explicit quantum

    def __len__(self):
        return len(self.changes)

    def __bool__(self):
        return bool(self.changes)

    __nonzero__ = __bool__

    def __iter__(self):
        return iter(self.changes)

    def summary(self):
        """{action: count} of the actions present."""
        out = {}
        for change in self.changes:
            out[change.action] = out.get(change.action, 0) + 1
        return out

    def by_label(self):
        """{label: [action, ...]} e.g. {"circuit:42": ["change_class"]} for per-circuit reports."""
        out = {}
        for change in self.changes:
            out.setdefault(change.label, []).append(change.action)
        return out


def _root_mismatch(plan, current):
    """Why the root is not the planned shape, or None when only classes and leaves differ."""
    root = current.root
    if root is None:
        return "no root qdisc of ours (kernel default)"
    if plan.queues == 1:
        if root.kind != "htb" or root.handle != 1 << 16:
            return "root is %s %x:, want htb 1:" % (root.kind, root.handle >> 16)
        handles = [root.handle]
    else:
        if root.kind != "mq" or root.handle != MQ_HANDLE:
            return "root is %s %x:, want mq %x:" % (root.kind, root.handle >> 16, MQ_HANDLE >> 16)
        if current.queues != plan.queues:
            return "%d htb queue(s) under mq, want %d" % (current.queues, plan.queues)
        handles = [q << 16 for q in range(1, plan.queues + 1)]
        for handle in handles:
            qdisc = current.htb.get(handle)
            if qdisc is None or qdisc.parent != MQ_HANDLE | (handle >> 16):
                return "no htb %x: under mq queue %x" % (handle >> 16, handle >> 16)
    for handle in handles:
        default = current.htb[handle].params["default"]
        if default != DEFAULT_MINOR:
            return "htb %x: has default class %x, want %x" % (handle >> 16, default, DEFAULT_MINOR)
    return None


def depths(parents):
    """{id: depth} for a {id: parent id} forest (ids missing from the map are depth 0)."""
    depth = {}
    for start in parents:
        chain, node = [], start
        while node in parents and node not in depth and len(chain) <= len(parents):
            chain.append(node)
            node = parents[node]
        base = depth.get(node, 0)
        for offset, item in enumerate(reversed(chain)):
            depth[item] = base + offset + 1
    return depth


def parents_first(classes):
    """Ids of {id: object with .parent}, every parent before its children."""
    depth = depths(dict((cid, cls.parent) for cid, cls in classes.items()))
    return sorted(classes, key=lambda cid: (depth[cid], cid))


def _class_detail(new, old):
    parts = []
    for name in ("rate", "ceil"):
        was, now = getattr(old, name), getattr(new, name)
        if was // 8 != now // 8:
            parts.append("%s %d -> %d bit/s" % (name, was, now))
    for name in ("quantum", "prio"):
        if getattr(old, name) != getattr(new, name):
            parts.append("%s %d -> %d" % (name, getattr(old, name), getattr(new, name)))
    return ", ".join(parts)


class _Differ(object):
    """Builds the change list; `wanted_leaf()` parses each distinct planned Leaf once."""

    def __init__(self, plan, current, known_keys):
        self.plan, self.current = plan, current
        self.known_keys = known_keys or {}
        self.leaf_cache = {}

    def wanted_leaf(self, classid):
        leaf = self.plan.leaves.get(classid)
        if leaf is None:
            return None
        key = (leaf.kind, tuple(leaf.options))
        if key not in self.leaf_cache:
            self.leaf_cache[key] = WantedLeaf(leaf)
        return self.leaf_cache[key]

    def label(self, classid):
        cls = self.plan.classes.get(classid)
        return cls.key if cls is not None else self.known_keys.get(classid, "")

    def additions(self, classids):
        out = []
        for cid in classids:
            cls = self.plan.classes[cid]
            out.append(Change(ADD_CLASS, cid, cls.key, new=cls, detail="rate %d ceil %d" % (cls.rate, cls.ceil)))
            leaf = self.wanted_leaf(cid)
            if leaf is not None:
                out.append(Change(ADD_LEAF, cid, cls.key, new=leaf, detail=leaf.kind))
        return out

    def rebuild(self, reason):
        plan, current = self.plan, self.current
        changes = []
        if current.root is not None:
            changes.append(Change(DEL_ROOT, current.root.handle, "root", old=current.root, detail=reason))
        if plan.queues == 1:
            changes.append(Change(ADD_ROOT, 1 << 16, "root", new=("htb", 1 << 16), detail="htb"))
        else:
            changes.append(Change(ADD_ROOT, MQ_HANDLE, "root", new=("mq", MQ_HANDLE), detail="mq"))
            changes += [Change(ADD_QDISC, q << 16, "queue:%d" % q, new=("htb", q << 16), detail="htb")
                        for q in range(1, plan.queues + 1)]
        return ChangeSet(current, changes + self.additions(parents_first(plan.classes)), True, reason, plan.r2q)

    def incremental(self):
        want, have = self.plan.classes, self.current.classes
        recreate = self._moved_subtrees()
        gone = dict((cid, cls) for cid, cls in have.items() if cid not in want or cid in recreate)
        kept = [cid for cid in want if cid in have and cid not in recreate]
        deletes, changes = [], []
        for cid in kept:
            self._compare(cid, deletes, changes)
        for cid in reversed(parents_first(gone)):
            deletes.append(Change(DEL_CLASS, cid, self.label(cid), old=have[cid], leaf=self.current.leaves.get(cid),
                                  detail="moved" if cid in recreate and cid in want else ""))
        new = dict((cid, want[cid]) for cid in want if cid not in have or cid in recreate)
        adds = self.additions(parents_first(new))
        adds += [c for c in changes if c.action == ADD_LEAF]
        changes = [c for c in changes if c.action != ADD_LEAF]
        changes.sort(key=lambda c: c.action != CHANGE_CLASS)  # stable: classes, then leaves
        return ChangeSet(self.current, deletes + adds + changes, r2q=self.plan.r2q)

    def _moved_subtrees(self):
        """Kernel classes to delete and add again: those whose parent changes, and their subtrees."""
        want, have = self.plan.classes, self.current.classes
        children = self.current.children()
        todo = [cid for cid, cls in want.items() if cid in have and have[cid].parent != cls.parent]
        marked = set()
        while todo:
            cid = todo.pop()
            if cid not in marked:
                marked.add(cid)
                todo.extend(children.get(cid, ()))
        return marked

    def _compare(self, cid, deletes, changes):
        new, old = self.plan.classes[cid], self.current.classes[cid]
        detail = _class_detail(new, old)
        if detail:
            changes.append(Change(CHANGE_CLASS, cid, new.key, new=new, old=old, detail=detail))
        wanted, have = self.wanted_leaf(cid), self.current.leaves.get(cid)
        if wanted is None:
            if have is not None:
                deletes.append(Change(DEL_LEAF, cid, new.key, old=have, detail=have.kind))
            return
        if have is None:
            changes.append(Change(ADD_LEAF, cid, new.key, new=wanted, detail=wanted.kind))
        elif have.kind != wanted.kind:
            changes.append(Change(REPLACE_LEAF, cid, new.key, new=wanted, old=have,
                                  detail="%s -> %s" % (have.kind, wanted.kind)))
        else:
            names = leaf_differs(wanted.params, have.params)
            if set(names) & FIXED.get(wanted.kind, frozenset()):
                # the kernel cannot change these live: a new qdisc in place of the old one
                deletes.append(Change(DEL_LEAF, cid, new.key, old=have, detail="recreate: " + ", ".join(names)))
                changes.append(Change(ADD_LEAF, cid, new.key, new=wanted, detail="recreate: " + ", ".join(names)))
            elif names:
                changes.append(Change(CHANGE_LEAF, cid, new.key, new=wanted, old=have, detail=", ".join(names)))


def _check_parents(plan):
    """HTB makes a class whose parent class is missing a top class without any error, so a plan
    like that would apply "successfully" and then differ forever: refuse it here."""
    qdiscs = set(q << 16 for q in range(1, plan.queues + 1))
    for cid, cls in plan.classes.items():
        if cls.parent not in plan.classes and cls.parent not in qdiscs:
            raise TcError("class %s (%s): parent %s is neither a planned class nor an htb qdisc"
                          % (format_classid(cid), cls.key, format_classid(cls.parent)))
        if cid >> 16 != cls.parent >> 16 or (cid >> 16) << 16 not in qdiscs:
            raise TcError("class %s (%s) is not in the same htb qdisc as its parent %s"
                          % (format_classid(cid), cls.key, format_classid(cls.parent)))


def diff(interface_plan, current, known_keys=None):
    """ChangeSet turning `current` (tc_state.TcState) into `interface_plan` (spec.InterfacePlan).

    known_keys: optional {classid: key} for classes the plan no longer has (e.g. from the
    planner's previous state), so their deletion is reported under their circuit or node.
    Raises TcError when the plan is inconsistent (a parent missing), the interface cannot hold
    it (too few transmit queues) or a leaf kind or option is not supported.
    """
    _check_parents(interface_plan)
    if interface_plan.queues > 1 and current.txqueues < interface_plan.queues:
        raise TcError("%s has %d transmit queue(s); the plan needs %d for mq"
                      % (current.ifname, current.txqueues, interface_plan.queues))
    differ = _Differ(interface_plan, current, known_keys)
    reason = _root_mismatch(interface_plan, current)
    return differ.rebuild(reason) if reason else differ.incremental()
