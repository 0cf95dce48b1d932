# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The common subscriber and topology model every CRM client maps into.

Plain Python, no Ansible imports. Nothing downstream of a CRM client knows which CRM the
data came from.
"""

from __future__ import annotations

SITE = "site"
AP = "ap"


class Node(object):
    """A piece of infrastructure: a site (PoP, tower, relay) or an access point."""

    __slots__ = ("id", "name", "kind", "parent_id", "download_mbps", "upload_mbps",
                 "latitude", "longitude", "ptmp")

    def __init__(self, id, name, kind=SITE, parent_id=None, download_mbps=None,
                 upload_mbps=None, latitude=None, longitude=None, ptmp=False):
        self.id = id
        self.name = name
        self.kind = kind
        self.parent_id = parent_id
        self.download_mbps = download_mbps
        self.upload_mbps = upload_mbps
        self.latitude = latitude
        self.longitude = longitude
        self.ptmp = ptmp  # a point-to-multipoint AP that may feed other sites

    def __repr__(self):
        return "Node(%r, %r, %s)" % (self.id, self.name, self.kind)


class Link(object):
    """A physical link between two nodes, a candidate parent edge for the `full` strategy.

    Links are undirected; the path search may use either direction. `via_ap` names the
    point-to-multipoint AP that feeds `b` over this link, for `use_ptmp_as_parent`.
    """

    __slots__ = ("a", "b", "capacity_mbps", "via_ap")

    def __init__(self, a, b, capacity_mbps=None, via_ap=None):
        self.a = a
        self.b = b
        self.capacity_mbps = capacity_mbps
        self.via_ap = via_ap


class Device(object):
    """A subscriber device: a CPE or router with its addresses."""

    __slots__ = ("id", "name", "mac", "ipv4", "ipv6")

    def __init__(self, id, name="", mac="", ipv4=None, ipv6=None):
        self.id = id
        self.name = name
        self.mac = mac
        self.ipv4 = ipv4 if ipv4 is not None else []
        self.ipv6 = ipv6 if ipv6 is not None else []


class Circuit(object):
    """One subscriber service: one queue shared by one or more devices.

    `plan_*` and `burst_*` are in Mbps as sold; the engine turns them into min/max rates.
    A client that gets explicit min rates from its CRM sets `min_download`/`min_upload`.
    """

    __slots__ = ("id", "name", "parent_id", "devices", "plan_download", "plan_upload",
                 "burst_download", "burst_upload", "min_download", "min_upload",
                 "suspended", "comment", "sqm")

    def __init__(self, id, name="", parent_id=None, devices=None, plan_download=0.0,
                 plan_upload=0.0, burst_download=0.0, burst_upload=0.0, min_download=None,
                 min_upload=None, suspended=False, comment="", sqm=""):
        self.id = id
        self.name = name
        self.parent_id = parent_id
        self.devices = devices if devices is not None else []
        self.plan_download = plan_download
        self.plan_upload = plan_upload
        self.burst_download = burst_download
        self.burst_upload = burst_upload
        self.min_download = min_download
        self.min_upload = min_upload
        self.suspended = suspended
        self.comment = comment
        self.sqm = sqm


class Snapshot(object):
    """Everything one CRM fetch produced, before any topology decision."""

    __slots__ = ("source", "nodes", "links", "circuits", "root_id", "warnings")

    def __init__(self, source, nodes=None, links=None, circuits=None, root_id=None):
        self.source = source
        self.nodes = nodes if nodes is not None else {}  # id -> Node, insertion ordered
        self.links = links if links is not None else []
        self.circuits = circuits if circuits is not None else []
        self.root_id = root_id
        self.warnings = []

    def add_node(self, node):
        self.nodes[node.id] = node
        return node

    def node_by_name(self):
        """Name -> node id; on duplicate names the first node wins."""
        index = {}
        for node in self.nodes.values():
            index.setdefault(node.name, node.id)
        return index
