# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validated inputs -> ShapingPlan: the HTB trees of both directions and the classifier's prefixes.

Plain Python, no Ansible and no kernel imports. The LibreQoS queue model (reference §5.1):
rates and ceilings capped down the tree, the circuit min-sum rule, quantum from r2q, at most
HTB_MAX_DEPTH class levels, top-level nodes spread over the queues.

Class ids and circuit indexes are kept stable across runs by `state`, a JSON-able dict the
caller stores and hands back next time (an empty dict or None on the first run):
    {"version": 1, "queues": 4,
     "classes": {"node:<name>": [major, minor], "circuit:<id>": [major, minor]},
     "circuits": {"<circuit id>": index}}
A key keeps its (major, minor) while its queue is unchanged; new keys take the lowest minor no
current key holds. With the same queue count a top-level node stays on its queue (a renamed one
follows most of its descendants); pass an empty state to rebalance from scratch.
"""

from __future__ import annotations

import heapq
from collections import Counter

from .spec import (DEFAULT_MINOR, DOWNLOAD, FIRST_MINOR, HTB_MAX_DEPTH, MAX_MINOR, ROOT_MINOR, UPLOAD,
                   HtbClass, InterfacePlan, Leaf, ShapingPlan, classid)
from .validate import ShapingInputError

STATE_VERSION = 1
MBIT = 1000000
FLOOR = 10000  # 0.01 Mbps: the smallest rate LibreQoS uses
MAX_NODE_DEPTH = HTB_MAX_DEPTH - 2  # the root class above the nodes, a circuit class below them
MAX_QUEUES = 0x7FFE  # majors 1..N; 7fff is the mq root
MTU_QUANTUM, QUANTUM_TARGET, QUANTUM_MIN, QUANTUM_MAX = 1522, 60000, 1000, 200000
FALLBACK = ("cake", "fq_codel", "pfifo")
LEAF_KINDS = FALLBACK + ("none",)


def plan(inputs, to_internet, to_network, downlink_mbps, uplink_mbps, queues, sqm, available_leaf_kinds, state):
    """(ShapingPlan, new state). Raises ShapingInputError for arguments or inputs it cannot shape."""
    _check_arguments(downlink_mbps, uplink_mbps, queues)
    tree = _Tree(inputs)
    saved = _Saved(state, queues)
    queue_of = _assign_queues(tree, inputs.circuits, queues, saved)
    wanted = [("node:" + name, queue_of[tree.top[name]]) for name in tree.order]
    wanted += [("circuit:" + cid, queue_of[tree.top_of(c.parent, cid)]) for cid, c in inputs.circuits.items()]
    ids = _allocate(wanted, saved.classes)
    index = _allocate_indexes(inputs.circuits, saved.circuits)
    warnings = list(inputs.warnings)
    if tree.flattened:
        warnings.append("network.json is %d levels deep; HTB allows %d class levels, so %d node(s) deeper than %d "
                        "levels hang under their ancestor at depth %d" % (tree.deepest, HTB_MAX_DEPTH, tree.flattened,
                                                                          MAX_NODE_DEPTH, MAX_NODE_DEPTH - 1))
    leaves = _Leaves(sqm, available_leaf_kinds)
    down = _interface(DOWNLOAD, to_network, downlink_mbps, queues, tree, inputs, ids, leaves, warnings)
    up = _interface(UPLOAD, to_internet, uplink_mbps, queues, tree, inputs, ids, leaves, warnings)
    if leaves.fallbacks:
        warnings.append(leaves.warning())
    prefixes = {}
    for cid, circuit in inputs.circuits.items():
        for network in circuit.networks:
            prefixes[network] = (ids["circuit:" + cid], index[cid])
    new_state = {"version": STATE_VERSION, "queues": queues,
                 "classes": dict((key, [value >> 16, value & 0xFFFF]) for key, value in ids.items()),
                 "circuits": index}
    return ShapingPlan(down, up, prefixes, dict(index), warnings), new_state


def _check_arguments(downlink_mbps, uplink_mbps, queues):
    for name, value in (("downlink_mbps", downlink_mbps), ("uplink_mbps", uplink_mbps)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 < value < float("inf"):
            raise ShapingInputError("%s must be a number of Mbps above 1, got %r" % (name, value))
    if isinstance(queues, bool) or not isinstance(queues, int) or not 1 <= queues <= MAX_QUEUES:
        raise ShapingInputError("queues must be an integer from 1 to %d, got %r" % (MAX_QUEUES, queues))


class _Tree(object):
    """The node tree in pre-order, with HTB's depth limit applied (`attach`: the node whose class
    is the parent, None for the queue's root class)."""

    def __init__(self, inputs):
        children = {}
        for name, node in inputs.nodes.items():
            children.setdefault(node.parent, []).append(name)
        self.nodes, self.order, self.top, self.attach = inputs.nodes, [], {}, {}
        self.weight = Counter()
        depth, anchor = {}, {}
        self.flattened = self.deepest = 0
        stack = list(reversed(children.get(None, [])))
        while stack:
            name = stack.pop()
            parent = inputs.nodes[name].parent
            level = depth[name] = 1 if parent is None else depth[parent] + 1
            self.top[name] = "node:" + name if parent is None else self.top[parent]
            anchor[name] = name if level < MAX_NODE_DEPTH else anchor[parent]  # deepest ancestor above the limit
            self.attach[name] = parent if level <= MAX_NODE_DEPTH else anchor[parent]
            self.flattened += level > MAX_NODE_DEPTH
            self.deepest = max(self.deepest, level)
            self.order.append(name)
            stack.extend(reversed(children.get(name, [])))
        if len(self.order) != len(inputs.nodes):
            raise ShapingInputError("network.json: nodes %s do not hang from the top level"
                                    % sorted(set(inputs.nodes) - set(self.order))[:10])
        for cid, circuit in inputs.circuits.items():
            if circuit.parent is not None and circuit.parent not in inputs.nodes:
                raise ShapingInputError("circuit %r: parent node %r is not in network.json" % (cid, circuit.parent))
            self.weight[self.top_of(circuit.parent, cid)] += circuit.down_max + circuit.up_max

    def top_of(self, parent, cid):
        """The key of what goes onto a queue: the top-level node above, or the circuit itself."""
        return self.top[parent] if parent is not None else "circuit:" + cid


class _Saved(object):
    """The previous run's state, with anything malformed ignored."""

    def __init__(self, state, queues):
        state = state if isinstance(state, dict) and state.get("version") == STATE_VERSION else {}
        self.same_queues = state.get("queues") == queues
        self.classes, self.circuits = {}, {}
        for key, value in (state.get("classes") or {}).items():
            if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value):
                self.classes[key] = tuple(value)
        for key, value in (state.get("circuits") or {}).items():
            if isinstance(value, int) and value >= 1:
                self.circuits[key] = value


def _assign_queues(tree, circuits, queues, saved):
    """Key of a top-level node or unparented circuit -> queue. Kept from the last run when
    possible, the rest greedily: heaviest (sum of down+up max below it) first onto the lightest
    queue, ties to the lower queue number and then by key."""
    items = ["node:" + name for name in tree.order if tree.nodes[name].parent is None]
    items += ["circuit:" + cid for cid, c in circuits.items() if c.parent is None]
    if queues == 1:
        return dict((key, 1) for key in items)
    members = {}
    if saved.same_queues:
        for name in tree.order:
            members.setdefault(tree.top[name], []).append("node:" + name)
        for cid, circuit in circuits.items():
            if circuit.parent is not None:
                members.setdefault(tree.top[circuit.parent], []).append("circuit:" + cid)
    load, result, pending = [0.0] * (queues + 1), {}, []
    for key in items:
        queue = _sticky_queue(key, members.get(key, ()), saved, queues) if saved.same_queues else None
        if queue is None:
            pending.append((-tree.weight[key], key))
        else:
            result[key] = queue
            load[queue] += tree.weight[key]
    heap = [(load[q], q) for q in range(1, queues + 1)]
    heapq.heapify(heap)
    for weight, key in sorted(pending):
        total, queue = heapq.heappop(heap)
        result[key] = queue
        heapq.heappush(heap, (total - weight, queue))
    return result


def _sticky_queue(key, members, saved, queues):
    """The key's last queue, or (a renamed node) the queue most of its descendants were on."""
    old = saved.classes.get(key)
    if old is not None and 1 <= old[0] <= queues:
        return old[0]
    votes = Counter(saved.classes[m][0] for m in members if m in saved.classes and 1 <= saved.classes[m][0] <= queues)
    if not votes:
        return None
    return min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _allocate(wanted, saved):
    """key -> classid; saved ids first (same major, minor free), then the lowest free minors.

    Ids of keys that leave in this run are not handed to new keys in the same run (unless a
    queue would otherwise run out): the kernel would see one class change instead of one
    removed and one added, and the new circuit would inherit the old one's counters.
    """
    wanted_keys = set(key for key, major in wanted)
    retiring = set(tuple(old) for key, old in saved.items() if key not in wanted_keys and old is not None)
    try:
        return _allocate_avoiding(wanted, saved, retiring)
    except ShapingInputError:
        return _allocate_avoiding(wanted, saved, set())


def _allocate_avoiding(wanted, saved, retiring):
    ids, used = {}, set()
    for key, major in wanted:
        old = saved.get(key)
        if old is not None and old[0] == major and FIRST_MINOR <= old[1] <= MAX_MINOR and old not in used:
            used.add(old)
            ids[key] = classid(major, old[1])
    cursor = {}
    for key, major in wanted:
        if key in ids:
            continue
        minor = cursor.get(major, FIRST_MINOR)
        while (major, minor) in used or (major, minor) in retiring:
            minor += 1
        if minor > MAX_MINOR:
            raise ShapingInputError("queue %d needs more classes than 16-bit minors allow (at most %d per queue)"
                                    % (major, MAX_MINOR - FIRST_MINOR + 1))
        used.add((major, minor))
        cursor[major] = minor + 1
        ids[key] = classid(major, minor)
    return ids


def _allocate_indexes(circuits, saved):
    """circuit id -> counter slot from 1: kept when free, else the lowest free that no circuit
    leaving in this run held (its counters must not carry over to a newcomer)."""
    index = {}
    staying = set(circuits)
    used = set(old for cid, old in saved.items() if cid not in staying)
    for cid in circuits:
        old = saved.get(cid)
        if old is not None and old not in used:
            used.add(old)
            index[cid] = old
    cursor = 1
    for cid in circuits:
        if cid not in index:
            while cursor in used:
                cursor += 1
            used.add(cursor)
            index[cid] = cursor
    return index


def _bps(mbps):
    return int(round(mbps * MBIT))


def _node_rate(ceil):
    """Strictly below the ceil: 1 Mbps less, 0.01 Mbps less under 1 Mbps."""
    return min(ceil, max(FLOOR, ceil - MBIT if ceil > MBIT else ceil - FLOOR))


def _circuit_rate(min_bps, ceil):
    if min_bps < ceil:
        return min_bps
    return min(ceil, max(FLOOR, ceil - MBIT if ceil > MBIT else int(ceil * 0.99)))


def _r2q(top_bps):
    """The smallest r2q from 10 up that keeps the largest rate's quantum at or below 60000."""
    return max(10, -(-(top_bps // 8) // QUANTUM_TARGET))


def _quantum(rate, r2q):
    return min(QUANTUM_MAX, max(QUANTUM_MIN, MTU_QUANTUM, rate // 8 // r2q))


def _interface(direction, ifname, capacity_mbps, queues, tree, inputs, ids, leaves, warnings):
    cap = _bps(capacity_mbps)
    down = direction == DOWNLOAD
    r2q = _r2q(cap)  # every rate is capped at the link capacity, the root classes' rate
    result = InterfacePlan(ifname, direction, queues, cap, r2q)
    for queue in range(1, queues + 1):
        root = classid(queue, ROOT_MINOR)
        result.add(HtbClass(root, queue << 16, cap, cap, _quantum(cap, r2q), 3, "root", "root"))
        default = HtbClass(classid(queue, DEFAULT_MINOR), root, (cap - MBIT) // 4, cap - MBIT,
                           _quantum((cap - MBIT) // 4, r2q), 5, "default", "default")
        result.add(default, leaves.leaf("", default.ceil))
    ceil, rate, capped = {}, {}, 0
    for name in tree.order:
        node = tree.nodes[name]
        above = cap if node.parent is None else ceil[node.parent]
        own = _bps(node.down if down else node.up) or above
        capped += own > above
        ceil[name] = min(own, above)
        rate[name] = _node_rate(ceil[name])
        key = "node:" + name
        parent = ids["node:" + tree.attach[name]] if tree.attach[name] else ids[key] & 0xFFFF0000 | ROOT_MINOR
        result.add(HtbClass(ids[key], parent, rate[name], ceil[name], _quantum(rate[name], r2q), 3, "node", key))
    circuit_rates, notes = _circuit_rates(direction, cap, ceil, rate, inputs.circuits, ids)
    for cid, circuit in inputs.circuits.items():
        key = "circuit:" + cid
        own_id = ids[key]
        parent = ids["node:" + circuit.parent] if circuit.parent else own_id & 0xFFFF0000 | ROOT_MINOR
        circuit_rate, circuit_ceil = circuit_rates[cid]
        token = circuit.sqm[0 if down else 1]
        result.add(HtbClass(own_id, parent, circuit_rate, circuit_ceil, _quantum(circuit_rate, r2q), 3, "circuit", key),
                   leaves.leaf(token, circuit_ceil))
    if capped:
        notes.insert(0, "%d node(s) capped at their parent's ceil or the link capacity" % capped)
    warnings.extend("%s: %s" % (direction, note) for note in notes)
    return result


def _circuit_rates(direction, cap, ceil, rate, circuits, ids):
    """{circuit id: (rate, ceil)} and notes on what was adjusted. Circuits whose minimums add up
    to more than their parent's rate get 1 Mbps, or 0.01 Mbps if even that is too much."""
    down = direction == DOWNLOAD
    result, groups, capped, lowered = {}, {}, 0, 0
    for cid, circuit in circuits.items():
        above = ceil[circuit.parent] if circuit.parent else cap
        wanted = _bps(circuit.down_max if down else circuit.up_max)
        capped += wanted > above
        circuit_ceil = min(wanted, above)
        min_bps = _bps(circuit.down_min if down else circuit.up_min)
        circuit_rate = _circuit_rate(min_bps, circuit_ceil)
        lowered += circuit_rate != min_bps
        result[cid] = (circuit_rate, circuit_ceil)
        group = circuit.parent if circuit.parent else ids["circuit:" + cid] >> 16  # the queue's root class
        groups.setdefault(group, []).append(cid)
    notes = []
    if capped:
        notes.append("%d circuit(s) have a max above their parent's ceil; capped" % capped)
    if lowered:
        notes.append("%d circuit(s) have a min not below their ceil; min lowered under the ceil" % lowered)
    parents, to_one, to_floor = 0, 0, 0
    for group, members in groups.items():
        budget = rate[group] if isinstance(group, str) else cap
        if sum(result[cid][0] for cid in members) <= budget:
            continue
        parents += 1
        step = MBIT if sum(min(result[cid][0], MBIT) for cid in members) <= budget else FLOOR
        for cid in members:
            circuit_rate, circuit_ceil = result[cid]
            result[cid] = (min(circuit_rate, step), circuit_ceil)
        to_one += len(members) if step == MBIT else 0
        to_floor += len(members) if step == FLOOR else 0
    if parents:
        notes.append("under %d parent(s) the circuits' minimums add up to more than the parent's rate: "
                     "%d circuit(s) get 1 Mbps, %d get 0.01 Mbps" % (parents, to_one, to_floor))
    return result, notes


class _Leaves(object):
    """Leaf qdiscs: the circuit's sqm token or the default, falling back to what the kernel has."""

    def __init__(self, default, available):
        words = str(default or "").split()
        if not words or words[0] not in LEAF_KINDS:
            raise ShapingInputError("sqm %r: the default leaf must be one of %s" % (default, ", ".join(LEAF_KINDS)))
        self.default = (words[0], tuple(words[1:]))
        self.available = set(available or ()) | set(["pfifo"])  # pfifo is always built in
        self.fallbacks = Counter()
        self.cache = {}

    def leaf(self, token, ceil):
        kind, options = self.default
        if token and token != kind:
            kind, options = token, ("diffserv4",) if token == "cake" else ()
        if kind == "none":
            return None
        got = kind
        while got not in self.available:
            got = FALLBACK[FALLBACK.index(got) + 1]
        if got != kind:
            self.fallbacks[(kind, got)] += 1
            options = ()
        if got == "pfifo" and not options:
            # about one bandwidth-delay product at 50 ms, in 1500-byte packets
            options = ("limit", str(max(100, min(3000, ceil * 50 // 1000 // 12000))))
        key = (got, options)
        if key not in self.cache:
            self.cache[key] = Leaf(got, options)
        return self.cache[key]

    def warning(self):
        missing = sorted(set(kind for kind, got in self.fallbacks))
        parts = ["%d leaf qdisc(s) use %s instead of %s" % (count, got, kind)
                 for (kind, got), count in sorted(self.fallbacks.items())]
        return "this kernel lacks %s: %s" % (", ".join(missing), "; ".join(parts))
