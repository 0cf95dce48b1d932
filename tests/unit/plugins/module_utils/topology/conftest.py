# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builders for hand-made snapshots, shared by the topology engine tests (fixture `make`)."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.isp.ops.plugins.module_utils.topology import engine, network_json
from ansible_collections.isp.ops.plugins.module_utils.topology.model import (
    AP, SITE, Circuit, Device, Link, Node, Snapshot)
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings

_ADDRESSES = itertools.count(1)


class Make(object):
    """Small constructors with test-friendly defaults; ids are the names unless given."""

    SITE = SITE
    AP = AP

    @staticmethod
    def site(name, parent=None, down=None, up=None, id=None, **kw):
        return Node(id or name, name, SITE, parent, down, up if up is not None else down, **kw)

    @staticmethod
    def ap(name, parent=None, down=None, up=None, id=None, **kw):
        return Node(id or name, name, AP, parent, down, up if up is not None else down, **kw)

    @staticmethod
    def link(a, b, capacity=None, via_ap=None):
        return Link(a, b, capacity, via_ap)

    @staticmethod
    def circuit(id, parent=None, ips=("auto",), name=None, plan=(100.0, 20.0), burst=(0.0, 0.0),
                device_name=None, ipv6=(), **kw):
        """One circuit with one device; ips=("auto",) gives it a unique 100.64.x.y address."""
        if tuple(ips) == ("auto",):
            number = next(_ADDRESSES)
            ips = ["100.65.%d.%d" % (number // 250, number % 250 + 1)]
        device = Device("dev-%s" % id, device_name if device_name is not None else "cpe-%s" % id,
                        "", list(ips), list(ipv6))
        return Circuit(id, name if name is not None else "Customer %s" % id, parent, [device],
                       plan_download=plan[0], plan_upload=plan[1], burst_download=burst[0],
                       burst_upload=burst[1], **kw)

    @staticmethod
    def circuits_on(*parents):
        """One circuit "on-<parent id>" on each parent, so no AP is idle (idle APs are left out)."""
        return [Make.circuit("on-%s" % parent, parent) for parent in parents]

    @staticmethod
    def device(id, name="", ipv4=(), ipv6=(), mac=""):
        return Device(id, name, mac, list(ipv4), list(ipv6))

    @staticmethod
    def snapshot(nodes=(), links=(), circuits=(), root=None, source="TestCRM"):
        snap = Snapshot(source, links=list(links), circuits=list(circuits), root_id=root)
        for node in nodes:
            snap.add_node(node)
        return snap

    @staticmethod
    def settings(**kw):
        return Settings(**kw)

    @staticmethod
    def build(snapshot, **kw):
        return engine.build(snapshot, Settings(**kw))

    @staticmethod
    def parents(tree):
        """{node name in the tree: parent name or None}, for every node reachable from the top."""
        return dict((item.name, item.parent.name if item.parent else None) for item in tree.items())

    @staticmethod
    def rates(tree):
        return dict((item.name, (item.download_mbps, item.upload_mbps)) for item in tree.items())

    @staticmethod
    def row_parents(topology):
        """{circuit id: Parent Node} of the ShapedDevices rows."""
        return dict((row.circuit_id, row.parent_node) for row in topology.rows)

    @staticmethod
    def rows_by_circuit(topology):
        result = {}
        for row in topology.rows:
            result.setdefault(row.circuit_id, []).append(row)
        return result

    @staticmethod
    def nodes_json(topology):
        """network.json flattened: {name: (parent, down, up, type, id)}."""
        return network_json.flatten(network_json.to_dict(topology.tree))

    @staticmethod
    def network():
        """A small network used by many tests.

            Core (root site)
            |- Tower A  1000/500
            |  |- AP A1  300/100
            |  `- AP A2  (no capacity)
            `- Tower B  (no capacity)
               `- Relay B1 (site)
                  `- AP B1  200/50

        Circuits: c1 on AP A1, c2 on AP A2, c3 on AP B1, c4 directly on Tower B, c5 unparented.
        """
        nodes = [
            Make.site("Core"),
            Make.site("Tower A", "Core", 1000, 500),
            Make.ap("AP A1", "Tower A", 300, 100),
            Make.ap("AP A2", "Tower A"),
            Make.site("Tower B", "Core"),
            Make.site("Relay B1", "Tower B"),
            Make.ap("AP B1", "Relay B1", 200, 50),
        ]
        circuits = [
            Make.circuit("c1", "AP A1", ["100.64.0.1"]),
            Make.circuit("c2", "AP A2", ["100.64.0.2"]),
            Make.circuit("c3", "AP B1", ["100.64.0.3"]),
            Make.circuit("c4", "Tower B", ["100.64.0.4"]),
            Make.circuit("c5", None, ["100.64.0.5"]),
        ]
        return Make.snapshot(nodes, circuits=circuits, root="Core")

    @staticmethod
    def network_with(count, parent="AP A1"):
        """The small network with `count` circuits n0..n{count-1} instead of c1..c5."""
        snap = Make.network()
        snap.circuits = [Make.circuit("n%d" % i, parent, ["100.66.%d.%d" % (i // 200, i % 200 + 1)])
                         for i in range(count)]
        return snap

    @staticmethod
    def seed_sites(via_ap=False, backup_capacity=None):
        """The seed's example: Site 1 > Site 2 > Site 3 preferred, a backup link Site 1 - Site 3.

        Core is the root site; Site 1 hangs under it in the CRM; Sites 2 and 3 are only joined
        by data links. With via_ap, the backup link is fed by the PtMP AP "S1 PtMP" at Site 1.
        """
        nodes = [
            Make.site("Core"),
            Make.site("Site 1", "Core", 1000, 1000),
            Make.site("Site 2"),
            Make.site("Site 3"),
            Make.ap("S1 PtMP", "Site 1", 400, 400, ptmp=True),
        ]
        links = [
            Make.link("Site 1", "Site 2", 800),
            Make.link("Site 2", "Site 3", 600),
            Make.link("Site 1", "Site 3", backup_capacity, via_ap="S1 PtMP" if via_ap else None),
        ]
        circuits = [Make.circuit("s3-customer", "Site 3", ["100.64.3.1"]),
                    Make.circuit("ptmp-customer", "S1 PtMP", ["100.64.3.2"])]
        return Make.snapshot(nodes, links, circuits, root="Core")


@pytest.fixture(scope="session")
def make():
    return Make
