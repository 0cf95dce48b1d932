# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure helpers of shaping.bridge (plan, ethtool parsing): no kernel, no root."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.shaping import bridge as bm

VETH_K = """Features for to_internet:
rx-checksumming: on
tx-checksumming: on
\ttx-checksum-ipv4: off [fixed]
\ttx-checksum-ip-generic: on
scatter-gather: on
\ttx-scatter-gather: on
tcp-segmentation-offload: on
\ttx-tcp-segmentation: on
\ttx-tcp-ecn-segmentation: on
\ttx-tcp-mangleid-segmentation: on
\ttx-tcp6-segmentation: on
\ttx-tcp-accecn-segmentation: on
generic-segmentation-offload: on
generic-receive-offload: off
large-receive-offload: off [fixed]
rx-vlan-offload: on
"""

NIC_K = """Features for eth1:
tcp-segmentation-offload: on
\ttx-tcp-segmentation: off
\ttx-tcp-ecn-segmentation: on [fixed]
\ttx-tcp6-segmentation: off
generic-segmentation-offload: off
generic-receive-offload: on [requested off]
large-receive-offload: on [fixed]
"""


def link(kind="veth", mtu=1500, up=False, master=None, master_kind=None, **extra):
    out = {"index": 1, "kind": kind, "mtu": mtu, "up": up, "master": master, "master_kind": master_kind}
    out.update(extra)
    return out


def bridge_link(stp=0, delay=0.0, mtu=1500, up=True):
    return link(kind="bridge", mtu=mtu, up=up, stp_state=stp, forward_delay=delay)


PORTS = {"to_internet": "eth1", "to_network": "eth2"}


# -- ethtool -----------------------------------------------------------------------------------
def test_parse_features_groups_members_and_notes():
    features = bm.parse_features(NIC_K)
    tso = features["tcp-segmentation-offload"]
    members = {"tx-tcp-segmentation", "tx-tcp-ecn-segmentation", "tx-tcp6-segmentation"}
    assert tso["on"] is True and set(tso["members"]) == members
    assert tso["members"]["tx-tcp-ecn-segmentation"]["fixed"] is True
    assert features["generic-receive-offload"]["requested"] == "off"
    assert features["large-receive-offload"] == {"on": True, "fixed": True, "requested": None, "members": {}}
    assert "Features for eth1" not in features


def test_offload_plan_veth_turns_off_gso_and_tso():
    status, off = bm.offload_plan(bm.parse_features(VETH_K))
    assert status == {"gro": bm.OFF, "gso": bm.ON, "tso": bm.ON, "lro": bm.OFF_FIXED}
    assert off == ["gso", "tso"]
    assert bm.offload_args(off) == ["gso", "off", "tso", "off"]


def test_offload_plan_fixed_and_refused_are_not_changed():
    status, off = bm.offload_plan(bm.parse_features(NIC_K))
    assert status == {"gro": bm.ON_REFUSED, "gso": bm.OFF, "tso": bm.ON_FIXED, "lro": bm.ON_FIXED}
    assert off == []


def test_offload_plan_unsupported_and_all_off():
    status, off = bm.offload_plan(bm.parse_features("generic-receive-offload: off\n"))
    assert status == {"gro": bm.OFF, "gso": bm.UNSUPPORTED, "tso": bm.UNSUPPORTED, "lro": bm.UNSUPPORTED}
    assert off == []


def test_ethtool_command_is_an_argument_list_in_the_netns():
    assert bm.ethtool_command("/usr/sbin/ethtool", "eth1", ["-k"]) == ["/usr/sbin/ethtool", "-k", "eth1"]
    assert bm.ethtool_command("/usr/sbin/ethtool", "eth1", ["-K", "gro", "off"], netns="lab", ip="/usr/sbin/ip") == [
        "/usr/sbin/ip", "netns", "exec", "lab", "/usr/sbin/ethtool", "-K", "eth1", "gro", "off"]


# -- plan --------------------------------------------------------------------------------------
def test_plan_new_bridge_in_order():
    links = {"eth1": link(), "eth2": link(up=True)}
    steps, mtu, warnings = bm.plan_present(links, "br-shaper", PORTS)
    assert mtu == 1500 and warnings == []
    assert steps == [("create", "br-shaper"), ("enslave", "eth1", "br-shaper"), ("enslave", "eth2", "br-shaper"),
                     ("up", "eth1"), ("up", "br-shaper")]
    after = bm.predict(links, steps, mtu)
    described = bm.describe(after, "br-shaper", PORTS.values())
    assert described == {"name": "br-shaper", "state": "present", "stp_state": 0, "forward_delay": 0.0, "mtu": 1500,
                         "up": True, "ports": ["eth1", "eth2"],
                         "interfaces": {"eth1": {"mtu": 1500, "up": True, "master": "br-shaper"},
                                        "eth2": {"mtu": 1500, "up": True, "master": "br-shaper"}}}


def test_plan_converged_is_empty():
    links = {"br-shaper": bridge_link(), "eth1": link(up=True, master="br-shaper", master_kind="bridge"),
             "eth2": link(up=True, master="br-shaper", master_kind="bridge")}
    assert bm.plan_present(links, "br-shaper", PORTS) == ([], 1500, [])


def test_plan_stp_before_forward_delay_and_mtus_before_enslave():
    links = {"br-shaper": bridge_link(stp=1, delay=15.0, mtu=1500, up=False),
             "eth1": link(mtu=1500, up=True), "eth2": link(mtu=1500, up=True, master="br-shaper", master_kind="bridge")}
    steps, mtu, _warnings = bm.plan_present(links, "br-shaper", PORTS, mtu=9000)
    assert mtu == 9000
    assert steps == [("stp_off", "br-shaper"), ("forward_delay_0", "br-shaper"), ("mtu", "eth1", 9000),
                     ("mtu", "eth2", 9000), ("enslave", "eth1", "br-shaper"), ("mtu", "br-shaper", 9000),
                     ("up", "br-shaper")]
    assert [bm.step_text(s) for s in steps[:3]] == ["turn STP off on br-shaper", "set forward delay of br-shaper to 0",
                                                    "set MTU of eth1 to 9000"]


def test_plan_mtu_disagreement_names_both_ports():
    links = {"eth1": link(mtu=1500), "eth2": link(mtu=9000)}
    with pytest.raises(bm.BridgeError, match="to_internet eth1 has 1500, to_network eth2 has 9000; set mtu"):
        bm.plan_present(links, "br-shaper", PORTS)
    with pytest.raises(bm.BridgeError, match="out of range"):
        bm.plan_present(links, "br-shaper", PORTS, mtu=20)


@pytest.mark.parametrize("links, message", [
    ({"eth1": link()}, "to_network: interface eth2 does not exist in netns lab"),
    ({"eth1": link(master="br0", master_kind="bridge"), "eth2": link(), "br0": bridge_link()},
     "to_internet: interface eth1 already belongs to bridge br0 in netns lab; release it first"),
    ({"eth1": link(master="bond0", master_kind="bond"), "eth2": link(), "bond0": link(kind="bond")},
     "to_internet: interface eth1 already belongs to bond0 (bond) in netns lab"),
    ({"eth1": link(), "eth2": link(), "br-shaper": link(kind="veth")}, "br-shaper exists in netns lab and is not a bridge"),
    ({"eth1": link(), "eth2": bridge_link()}, "to_network: interface eth2 is itself a bridge"),
])
def test_plan_errors_name_the_interface(links, message):
    with pytest.raises(bm.BridgeError) as err:
        bm.plan_present(links, "br-shaper", PORTS, netns="lab")
    assert message in str(err.value)


def test_plan_rejects_bad_names():
    with pytest.raises(bm.BridgeError, match="same interface"):
        bm.plan_present({}, "br-shaper", {"to_internet": "eth1", "to_network": "eth1"})
    with pytest.raises(bm.BridgeError, match="is the bridge itself"):
        bm.plan_present({}, "eth1", PORTS)
    with pytest.raises(bm.BridgeError, match="not a valid interface name"):
        bm.plan_present({}, "br-shaper-too-long", PORTS)
    assert not bm.valid_ifname("a/b") and not bm.valid_ifname("") and bm.valid_ifname("br-shaper")


def test_extra_ports_warn():
    links = {"br-shaper": bridge_link(), "eth1": link(up=True, master="br-shaper", master_kind="bridge"),
             "eth2": link(up=True, master="br-shaper", master_kind="bridge"),
             "mirror0": link(up=True, master="br-shaper", master_kind="bridge")}
    steps, _mtu, warnings = bm.plan_present(links, "br-shaper", PORTS)
    assert steps == [] and "mirror0" in warnings[0] and "bypasses the shaper" in warnings[0]


def test_plan_absent():
    assert bm.plan_absent({}, "br-shaper") == []
    assert bm.plan_absent({"br-shaper": bridge_link()}, "br-shaper") == [("delete", "br-shaper")]
    with pytest.raises(bm.BridgeError, match="not a bridge"):
        bm.plan_absent({"br-shaper": link()}, "br-shaper")
