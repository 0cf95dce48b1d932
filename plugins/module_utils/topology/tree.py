# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Turn a snapshot's sites and APs into the node tree of network.json.

The strategy picks which nodes are kept and who their parent is; then promote_to_root,
unique names, bandwidth overrides and parent caps are applied the same way for every CRM.
"""

from __future__ import annotations

import heapq

from .model import AP, SITE
from .settings import DEFAULT_HOP_COST, TopologyError


class TreeNode(object):
    __slots__ = ("node", "name", "parent", "children", "download_mbps", "upload_mbps")

    def __init__(self, node):
        self.node = node
        self.name = node.name.strip() or str(node.id)
        self.parent = None
        self.children = []
        self.download_mbps = None
        self.upload_mbps = None


class Edge(object):
    """A candidate parent edge with its route cost, kept for graph.dot."""

    __slots__ = ("parent_id", "child_id", "cost", "capacity_mbps", "chosen")

    def __init__(self, parent_id, child_id, cost, capacity_mbps=None):
        self.parent_id = parent_id
        self.child_id = child_id
        self.cost = cost
        self.capacity_mbps = capacity_mbps
        self.chosen = False


class Tree(object):
    def __init__(self, snapshot, by_id, top, edges, root_id, dropped=()):
        self.snapshot = snapshot
        self.by_id = by_id  # node id -> TreeNode, for kept nodes only
        self.top = top
        self.edges = edges
        self.root_id = root_id
        self.dropped = set(dropped)  # node ids left out by keep_top_level

    def _nearest(self, node_id):
        """The kept TreeNode, or the dropped node id, nearest at or above `node_id`, or None."""
        nodes = self.snapshot.nodes
        seen = 0
        while node_id is not None and seen <= len(nodes):
            if node_id == self.root_id:
                return None
            if node_id in self.dropped:
                return node_id
            kept = self.by_id.get(node_id)
            if kept is not None:
                return kept
            node = nodes.get(node_id)
            node_id = node.parent_id if node is not None else None
            seen += 1
        return None

    def resolve(self, node_id):
        """Nearest kept node at or above `node_id` in the CRM's own hierarchy, or None."""
        found = self._nearest(node_id)
        return found if isinstance(found, TreeNode) else None

    def left_out(self, node_id):
        """True when `node_id` lies in a part of the network keep_top_level left out."""
        found = self._nearest(node_id)
        return found is not None and not isinstance(found, TreeNode)

    def prune_idle_aps(self, used_names):
        """Drop APs with no circuits and no child nodes (backhaul radios, spare sectors): they
        would only cost a queue class each. Returns how many were dropped."""
        dropped = 0
        for item in reversed(list(self.items())):  # children first: an AP of idle APs goes too
            if item.node.kind == AP and not item.children and item.name not in used_names:
                siblings = item.parent.children if item.parent is not None else self.top
                siblings.remove(item)
                del self.by_id[item.node.id]
                dropped += 1
        return dropped

    def walk(self):
        """Pre-order walk yielding (TreeNode, depth) with depth 1 at the top level."""
        stack = [(n, 1) for n in reversed(self.top)]
        while stack:
            item, depth = stack.pop()
            yield item, depth
            stack.extend((child, depth + 1) for child in reversed(item.children))

    def items(self):
        """Kept nodes in pre-order, parents before children."""
        return (item for item, depth in self.walk())

    def depth(self):
        return max((depth for item, depth in self.walk()), default=0)


def build_tree(snapshot, settings, report):
    excluded = set(name.lower() for name in settings.exclude_sites)
    candidates = dict((nid, n) for nid, n in snapshot.nodes.items() if n.name.lower() not in excluded)
    for node in snapshot.nodes.values():
        if node.name.lower() in excluded:
            report.add("excluded node", node.name)
    root_id = _root_id(snapshot, settings, candidates)

    edges = []
    if settings.strategy == "flat":
        parents = {}
    elif settings.strategy == "ap_only":
        parents = dict((nid, None) for nid, n in candidates.items() if n.kind == AP)
    elif settings.strategy == "ap_site":
        parents = _ap_site_parents(snapshot, candidates, root_id)
    else:
        parents, edges = _cheapest_parents(snapshot, settings, candidates, root_id, report)

    promoted = set(settings.promote_to_root)
    by_id = dict((nid, TreeNode(candidates[nid])) for nid in parents if nid != root_id)
    top = []
    for nid, item in by_id.items():
        parent = by_id.get(parents[nid])
        if parent is None or item.node.name in promoted:
            top.append(item)
        else:
            item.parent = parent
            parent.children.append(item)
    unknown = promoted - set(item.node.name for item in by_id.values())
    for name in sorted(unknown):
        report.add("promote_to_root names an unknown node", name)
    dropped = set()
    if settings.keep_top_level:
        dropped = set(by_id)
        top = _keep_only(top, by_id, settings.keep_top_level, report)
        dropped -= set(by_id)

    tree = Tree(snapshot, by_id, top, edges, root_id, dropped)
    _unique_names(tree)
    _apply_rates(tree, settings, report)
    return tree


def _root_id(snapshot, settings, candidates):
    if not settings.root_site:
        return snapshot.root_id if snapshot.root_id in candidates else None
    if not candidates:
        return None  # an empty answer is left to the safety valve
    for nid, node in candidates.items():
        if node.name == settings.root_site:
            return nid
    raise TopologyError("root_site %r is not a site known to %s (it returned %d sites and APs)"
                        % (settings.root_site, snapshot.source, len(candidates)))


def _ap_site_parents(snapshot, candidates, root_id):
    """Two levels: each AP under the nearest site above it; those sites at the top."""
    parents = {}
    for nid, node in candidates.items():
        if node.kind != AP:
            continue
        site_id = node.parent_id
        guard = 0
        while site_id is not None and guard <= len(snapshot.nodes):
            site = snapshot.nodes.get(site_id)
            if site is None or (site.kind == SITE and site_id in candidates):
                break
            site_id = site.parent_id
            guard += 1
        if site_id in candidates and site_id != root_id and candidates[site_id].kind == SITE:
            parents[site_id] = None
            parents[nid] = site_id
        else:
            parents[nid] = None
    return parents


def _cheapest_parents(snapshot, settings, candidates, root_id, report):
    """`full`: every node takes its cheapest path to the root (default cost 10 a hop)."""
    names = dict((nid, n.name) for nid, n in candidates.items())
    adjacency = dict((nid, []) for nid in candidates)
    edges = []

    by_pair = {}

    def connect(a, b, capacity):
        for parent, child in ((a, b), (b, a)):
            edge = by_pair.get((parent, child))
            if edge is not None:  # the CRM's parent link and a data-link are one physical link
                edge.capacity_mbps = edge.capacity_mbps or capacity
                continue
            cost = settings.route_overrides.get((names[parent], names[child]), DEFAULT_HOP_COST)
            edge = by_pair[(parent, child)] = Edge(parent, child, cost, capacity)
            adjacency[parent].append(edge)
            edges.append(edge)

    for nid, node in candidates.items():
        if node.parent_id in candidates:
            connect(node.parent_id, nid, None)
    for link in snapshot.links:
        if link.a in candidates and link.b in candidates and link.a != link.b:
            connect(link.a, link.b, link.capacity_mbps)

    order = dict((nid, i) for i, nid in enumerate(candidates))
    starts = [root_id] if root_id is not None else [
        nid for nid, n in candidates.items() if n.parent_id not in candidates]
    best = dict((nid, 0) for nid in starts)
    via = {}
    heap = [(0, order[nid], nid) for nid in starts]
    heapq.heapify(heap)
    done = set()
    while heap:
        dist, dummy, nid = heapq.heappop(heap)
        if nid in done:
            continue
        done.add(nid)
        for edge in adjacency[nid]:
            new = dist + edge.cost
            child = edge.child_id
            if child in done:
                continue
            known = best.get(child, float("inf"))
            # On a tie the CRM's own parent wins, so equal paths never flap between runs.
            if new < known or (new == known and edge.parent_id == candidates[child].parent_id):
                best[child] = new
                via[child] = edge
                heapq.heappush(heap, (new, order[child], child))

    parents = {}
    stray = []
    for nid, node in candidates.items():
        edge = via.get(nid)
        if edge is not None:
            edge.chosen = True
            parents[nid] = edge.parent_id
        elif nid in done:
            parents[nid] = None
        else:
            report.add("node not connected to root_site, placed at the top level", node.name)
            parents[nid] = node.parent_id if node.parent_id in candidates else None
            stray.append(nid)
    _cut_loops(stray, parents)
    if settings.use_ptmp_as_parent:
        _hang_under_ptmp_aps(snapshot, candidates, parents, by_pair, edges)
    if root_id is not None:
        for nid in list(parents):
            if parents[nid] == root_id:
                parents[nid] = None
    return parents, edges


def _hang_under_ptmp_aps(snapshot, candidates, parents, by_pair, edges):
    """use_ptmp_as_parent: a site whose chosen path arrives over a point-to-multipoint AP's link
    hangs under that AP rather than beside it. The path choice itself is left as it was."""
    for link in snapshot.links:
        ap, site = link.via_ap, link.b
        if ap not in candidates or site not in candidates or parents.get(site) != link.a:
            continue
        if _is_below(ap, site, parents):
            continue  # the AP hangs under this very site: re-hanging would close a loop
        parents[site] = ap
        chosen = by_pair.get((link.a, site))
        if chosen is not None:
            chosen.chosen = False
        edge = Edge(ap, site, chosen.cost if chosen is not None else DEFAULT_HOP_COST, link.capacity_mbps)
        edge.chosen = True
        edges.append(edge)


def _is_below(node, ancestor, parents):
    seen = set()
    while node is not None and node not in seen:
        if node == ancestor:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


def _cut_loops(stray, parents):
    """Unreachable nodes keep their CRM parent; a CRM parent loop is cut at its first node."""
    walked = set()
    for nid in stray:
        path = set()
        current = nid
        while current is not None and current not in walked and current not in path:
            path.add(current)
            current = parents.get(current)
        if current in path:
            parents[current] = None
        walked.update(path)


def _keep_only(top, by_id, keep, report):
    wanted = set(keep)
    kept = [item for item in top if item.node.name in wanted]
    missing = wanted - set(item.node.name for item in kept)
    for name in sorted(missing):
        report.add("keep_top_level names a node that is not at the top level", name)
    dropped = [item for item in top if item.node.name not in wanted]
    stack = list(dropped)
    while stack:
        item = stack.pop()
        by_id.pop(item.node.id, None)
        stack.extend(item.children)
    return kept


def _unique_names(tree):
    seen = set()
    for item in tree.items():
        name = item.name
        if name in seen:
            suffix = str(item.node.id).rsplit(":", 1)[-1]
            name = "%s (%s)" % (item.name, suffix)
            counter = 2
            while name in seen:
                name = "%s (%s-%d)" % (item.name, suffix, counter)
                counter += 1
        seen.add(name)
        item.name = name


def _apply_rates(tree, settings, report):
    """Own capacity (override, CRM, link, parent, default), then never above the parent."""
    link_capacity = dict((e.child_id, e.capacity_mbps) for e in tree.edges if e.chosen and e.capacity_mbps)
    used = set()
    for item in tree.items():
        node = item.node
        override = settings.bandwidth_overrides.get(node.name) or settings.bandwidth_overrides.get(item.name)
        parent = item.parent
        fallback_down = parent.download_mbps if parent else settings.default_node_mbps
        fallback_up = parent.upload_mbps if parent else settings.default_node_mbps
        if override is not None:
            used.add(node.name if node.name in settings.bandwidth_overrides else item.name)
            down, up = override
        else:
            down = node.download_mbps or link_capacity.get(node.id) or fallback_down
            up = node.upload_mbps or link_capacity.get(node.id) or fallback_up
        if parent is not None:
            if down > parent.download_mbps or up > parent.upload_mbps:
                report.add("node capped at its parent's rate", "%s %s/%s > %s %s/%s" % (
                    item.name, _fmt(down), _fmt(up), parent.name,
                    _fmt(parent.download_mbps), _fmt(parent.upload_mbps)))
            down = min(down, parent.download_mbps)
            up = min(up, parent.upload_mbps)
        item.download_mbps = round(float(down), 2)
        item.upload_mbps = round(float(up), 2)
    for name in sorted(set(settings.bandwidth_overrides) - used):
        report.add("bandwidth override names no node in the topology", name)


def _fmt(value):
    return ("%.2f" % value).rstrip("0").rstrip(".")
