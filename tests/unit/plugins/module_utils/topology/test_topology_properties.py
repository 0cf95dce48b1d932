# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Properties over random snapshots and settings: whatever the CRM hands us, the output holds together."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from ansible_collections.isp.ops.plugins.module_utils.topology import addresses, network_json, shaped_devices
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import STRATEGIES, TopologyError

NAMES = ["Core", "Tower", "Hill", "AP", "ap", "Relay", "Sector 1"]
RATE = st.one_of(st.none(), st.floats(min_value=0.5, max_value=20000, allow_nan=False))
PLAN = st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=2000, allow_nan=False))
IPS = ["100.64.0.%d" % i for i in range(1, 8)] + ["100.64.1.0/29", "2001:db8::1", "bogus", "100.64.0.1/24"]


@st.composite
def snapshots(draw, make):
    count = draw(st.integers(min_value=1, max_value=10))
    index = st.integers(min_value=0, max_value=count - 1)
    nodes = []
    for i in range(count):
        build = make.ap if draw(st.booleans()) else make.site
        parent = draw(st.one_of(st.none(), index.map(lambda j: "n%d" % j), st.just("missing")))
        nodes.append(build(draw(st.sampled_from(NAMES)), parent, draw(RATE), draw(RATE), id="n%d" % i,
                           ptmp=draw(st.booleans())))
    links = [make.link("n%d" % a, "n%d" % b, draw(RATE), draw(st.one_of(st.none(), index.map(lambda j: "n%d" % j))))
             for a, b in draw(st.lists(st.tuples(index, index), max_size=8))]
    circuits = []
    for i in range(draw(st.integers(min_value=0, max_value=8))):
        parent = draw(st.one_of(st.none(), index.map(lambda j: "n%d" % j), st.just("missing")))
        circuits.append(make.circuit(
            "c%d" % draw(st.integers(min_value=0, max_value=9)), parent,
            draw(st.lists(st.sampled_from(IPS), max_size=3)), name=draw(st.sampled_from(["Ana", "Bob", ""])),
            plan=(draw(PLAN), draw(PLAN)), burst=(draw(st.floats(0, 500)), 0.0),
            suspended=draw(st.booleans()), min_download=draw(st.one_of(st.none(), st.floats(0, 3000)))))
    root = draw(st.one_of(st.none(), index.map(lambda j: "n%d" % j)))
    return make.snapshot(nodes, links, circuits, root=root)


@st.composite
def options(draw):
    names = st.lists(st.sampled_from(NAMES + ["ghost"]), max_size=3)
    return dict(
        strategy=draw(st.sampled_from(STRATEGIES)),
        root_site=draw(st.one_of(st.none(), st.sampled_from(NAMES))),
        promote_to_root=draw(names),
        exclude_sites=draw(st.lists(st.sampled_from(NAMES + ["TOWER", "ghost"]), max_size=2)),
        keep_top_level=draw(st.one_of(st.just([]), names)),
        exception_cpes=draw(st.dictionaries(st.sampled_from(["Ana", "Bob", "cpe-c1"]), st.sampled_from(NAMES),
                                            max_size=2)),
        suspended_strategy=draw(st.sampled_from(["none", "ignore", "slow"])),
        use_ptmp_as_parent=draw(st.booleans()),
        route_overrides=draw(st.dictionaries(st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES)),
                                             st.integers(0, 200), max_size=4)),
        bandwidth_overrides=draw(st.dictionaries(st.sampled_from(NAMES + ["ghost"]),
                                                 st.tuples(RATE.filter(bool), RATE.filter(bool)), max_size=3)),
        default_node_mbps=draw(st.sampled_from([10000.0, 750.0])),
    )


@hsettings(max_examples=250, deadline=None)
@given(data=st.data())
def test_any_snapshot_gives_a_consistent_topology(make, data):
    snap = data.draw(snapshots(make))
    opts = data.draw(options())
    try:
        topo = make.build(snap, **opts)
    except TopologyError as exc:
        # The only way out: a root_site that is not among the (non-excluded) nodes.
        excluded = set(name.lower() for name in opts["exclude_sites"])
        known = set(n.name for n in snap.nodes.values() if n.name.lower() not in excluded)
        assert opts["root_site"] not in known, exc
        return
    tree = topo.tree

    # Every kept node is reachable from the top, exactly once.
    items = list(tree.items())
    assert len(items) == len(tree.by_id) == len(set(id(item) for item in items))
    assert tree.root_id not in tree.by_id

    # Names are unique across the whole tree, so network.json is valid and flattens back.
    nodes = network_json.parse(network_json.render(tree))
    assert sorted(nodes) == sorted(item.name for item in items)

    # Parent caps: a child is never above its parent; every rate is a positive number.
    for item in items:
        assert item.download_mbps > 0 and item.upload_mbps > 0
        if item.parent is not None:
            assert item.download_mbps <= item.parent.download_mbps
            assert item.upload_mbps <= item.parent.upload_mbps
            assert nodes[item.name][0] == item.parent.name

    # Every circuit's parent is a node of network.json, or empty; its id matches that node.
    for row in topo.rows:
        assert row.parent_node == "" or row.parent_node in nodes
        assert row.parent_node_id == (nodes[row.parent_node][4] if row.parent_node else "")
        assert 0.1 <= row.download_min <= row.download_max
        assert 0.1 <= row.upload_min <= row.upload_max
        assert row.ipv4 or row.ipv6

    # One IP, one circuit; one circuit, one parent.
    owners = {}
    parents = {}
    for row in topo.rows:
        for ip in [ip for ip in (row.ipv4 + ", " + row.ipv6).split(", ") if ip]:
            assert owners.setdefault(ip, row.circuit_id) == row.circuit_id
        assert parents.setdefault(row.circuit_id, row.parent_node) == row.parent_node

    # Both layouts read back to the same circuits.
    for layout in ("legacy", "extended"):
        back = shaped_devices.parse(shaped_devices.render(topo.rows, layout))
        assert [(r.circuit_id, r.device_id, r.parent_node, r.ipv4, r.ipv6) for r in back] == \
            [(r.circuit_id, r.device_id, r.parent_node, r.ipv4, r.ipv6) for r in topo.rows]

    # With keep_top_level, only the named nodes stay at the top.
    if opts["keep_top_level"]:
        assert set(item.node.name for item in tree.top) <= set(opts["keep_top_level"])
    if opts["strategy"] == "flat":
        assert nodes == {}


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12).map(str.strip)
CELL = st.one_of(st.just(""), TEXT)


@st.composite
def device_rows(draw):
    rate = st.integers(min_value=1, max_value=10 ** 7).map(lambda cents: cents / 100.0)
    return shaped_devices.DeviceRow(
        draw(TEXT.filter(lambda t: t and not t.startswith("#"))), draw(CELL), draw(CELL), draw(CELL), draw(CELL),
        draw(CELL), draw(CELL), draw(CELL), draw(CELL), draw(CELL), draw(rate), draw(rate), draw(rate),
        draw(rate), draw(CELL), "")


@hsettings(max_examples=300, deadline=None)
@given(rows=st.lists(device_rows(), max_size=6), layout=st.sampled_from(["legacy", "extended"]))
def test_shaped_devices_round_trip(rows, layout):
    if layout == "legacy":
        rows = [r._replace(parent_node_id="", anchor_node_id="") for r in rows]
    assert shaped_devices.parse(shaped_devices.render(rows, layout)) == rows


ADDRESS = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))


@hsettings(max_examples=300, deadline=None)
@given(address=ADDRESS, data=st.data())
def test_normalize_agrees_with_ipaddress(address, data):
    # Compared by value: "::ffff:0:0" and "::ffff:0.0.0.0" are the same address.
    version, text = addresses.normalize(str(address))
    assert version == address.version and "/" not in text
    assert ipaddress.ip_address(text) == address
    prefix = data.draw(st.integers(min_value=0, max_value=address.max_prefixlen))
    interface = ipaddress.ip_interface("%s/%d" % (address, prefix))
    version, text = addresses.normalize("%s/%d" % (address, prefix))
    assert version == address.version
    if interface.ip == interface.network.network_address and prefix != address.max_prefixlen:
        assert ipaddress.ip_network(text) == interface.network and "/" in text  # a network keeps its prefix
    else:
        assert ipaddress.ip_address(text) == interface.ip  # a host with its mask is the host
    assert addresses.normalize(text) == (version, text)  # idempotent
