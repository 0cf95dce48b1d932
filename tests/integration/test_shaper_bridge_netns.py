# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""shaper_bridge and shaper_stats run in-process against real interfaces in network namespaces.

shaper_bridge: a namespace with two veth pairs (ti/tip, tn/tnp); the module bridges ti and tn.
Covers create, idempotence, check mode, diff, drift repair, MTU handling, error messages, absent.

shaper_stats: the netns lab (netns_lab.py) with a small HTB tree made with plain `tc` on both
bridge ports: 1:1 root (1 Gbit) -> 1:2 default, 1:3 node "Tower" (100 Mbit) -> 1:10 circuit 101
(20 Mbit, subscriber 1) and 1:11 circuit 102 (50 Mbit, subscriber 2); u32 filters classify by
address. Counts are checked against UDP datagrams sent, the rate against an iperf3 run at the
class ceiling. With bcc and kernel headers, the eBPF classifier's per-circuit counters too.

Needs root, iproute2 and iperf3; ethtool for the offload checks (skipped without it).
"""

from __future__ import annotations

import json
import secrets
import shutil
import time

import pytest

import netns_lab as nl
from ansible_collections.isp.ops.plugins.modules import shaper_bridge, shaper_stats
from ansible_collections.isp.ops.plugins.module_utils.shaping import bridge as bm
from ansible_collections.isp.ops.plugins.module_utils.shaping import classifier as cm


pytestmark = nl.netns_marks()
HAS_ETHTOOL = bool(shutil.which("ethtool"))
needs_ethtool = pytest.mark.skipif(not HAS_ETHTOOL, reason="ethtool is not installed (apt-get install ethtool)")
OFFLOADS = "off" if HAS_ETHTOOL else "keep"
BRIDGE = "br-shaper"


def link(ns, name):
    found = json.loads(nl.run(["ip", "-j", "-d", "link", "show"], ns=ns).stdout)
    return next((item for item in found if item["ifname"] == name), None)


def offloads(ns, dev):
    return bm.offload_plan(bm.parse_features(nl.run(["ethtool", "-k", dev], ns=ns).stdout))[0]


@pytest.fixture
def ports():
    """A namespace with ti and tn (their peers tip and tnp up), ti with GSO/TSO on (the veth default)."""
    nl.cleanup_stale(min_age=900)
    ns = "%s%s-br" % (nl.STALE_PREFIX, secrets.token_hex(3))
    nl.run(["ip", "netns", "add", ns])
    try:
        for port in ("ti", "tn"):
            nl.run(["ip", "-n", ns, "link", "add", port, "type", "veth", "peer", "name", port + "p"])
            nl.run(["ip", "-n", ns, "link", "set", port + "p", "up"])
        yield ns
    finally:
        nl.run(["ip", "netns", "delete", ns], check=False)


def args_for(ns, **extra):
    args = dict(netns=ns, to_internet="ti", to_network="tn", offloads=OFFLOADS)
    args.update(extra)
    return args


def warnings_of(result):
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


# -- shaper_bridge ---------------------------------------------------------------------------
def test_check_mode_creates_nothing_and_predicts(run_module, ports):
    result = run_module(shaper_bridge.main, args_for(ports), check_mode=True, diff=True)
    assert result["changed"] is True
    assert link(ports, BRIDGE) is None
    assert link(ports, "ti")["operstate"] == "DOWN" and "master" not in link(ports, "ti")
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["state"] == "absent"
    assert before["interfaces"]["ti"] == {"mtu": 1500, "up": False, "master": None}
    assert after == dict(result["bridge"], offloads=result["offloads"])
    assert after["state"] == "present" and after["ports"] == ["ti", "tn"]
    assert after["stp_state"] == 0 and after["forward_delay"] == 0 and after["up"] is True and after["mtu"] == 1500
    assert after["interfaces"]["tn"] == {"mtu": 1500, "up": True, "master": BRIDGE}
    assert "create bridge %s (stp off, forward delay 0)" % BRIDGE in result["actions"]


def test_create_then_idempotent(run_module, ports):
    first = run_module(shaper_bridge.main, args_for(ports), diff=True)
    assert first["changed"] is True, first
    info = link(ports, BRIDGE)
    assert info["linkinfo"]["info_kind"] == "bridge"
    data = info["linkinfo"]["info_data"]
    assert data["stp_state"] == 0 and data["forward_delay"] == 0
    assert "UP" in info["flags"] and info["mtu"] == 1500
    for port in ("ti", "tn"):
        assert link(ports, port)["master"] == BRIDGE
        assert "UP" in link(ports, port)["flags"]
    assert first["diff"]["after"] == dict(first["bridge"], offloads=first["offloads"])
    second = run_module(shaper_bridge.main, args_for(ports), diff=True)
    assert second["changed"] is False, second["actions"]
    assert second["actions"] == []
    assert second["diff"]["before"] == second["diff"]["after"]
    check = run_module(shaper_bridge.main, args_for(ports), check_mode=True)
    assert check["changed"] is False


@needs_ethtool
def test_offloads_turned_off_and_fixed_ones_reported(run_module, ports):
    assert offloads(ports, "ti")["tso"] == bm.ON  # veth default
    result = run_module(shaper_bridge.main, args_for(ports, offloads="off"), diff=True)
    for port in ("ti", "tn"):
        now = offloads(ports, port)
        assert now == result["offloads"][port]
        assert now["gso"] == now["tso"] == now["gro"] == bm.OFF
        assert now["lro"] == bm.OFF_FIXED  # veth: LRO is [fixed] off, which is fine
        assert result["diff"]["before"]["offloads"][port]["tso"] == bm.ON
    assert "turn off gso tso on ti" in result["actions"]
    again = run_module(shaper_bridge.main, args_for(ports, offloads="off"))
    assert again["changed"] is False


@needs_ethtool
def test_offloads_keep_leaves_them(run_module, ports):
    result = run_module(shaper_bridge.main, args_for(ports, offloads="keep"))
    assert result["changed"] is True
    assert offloads(ports, "ti")["tso"] == bm.ON
    assert result["offloads"]["ti"]["tso"] == bm.ON
    assert not any("turn off" in a for a in result["actions"])


def test_without_ethtool_fails_unless_keep(run_module, ports, monkeypatch):
    real = shaper_bridge.AnsibleModule.get_bin_path

    def no_ethtool(self, arg, required=False, opt_dirs=None):
        return None if arg == "ethtool" else real(self, arg, required, opt_dirs)

    monkeypatch.setattr(shaper_bridge.AnsibleModule, "get_bin_path", no_ethtool)
    failed = run_module(shaper_bridge.main, args_for(ports, offloads="off"))
    assert failed["failed"] is True
    assert "ethtool is not installed" in failed["msg"] and "ti" in failed["msg"] and "offloads=keep" in failed["msg"]
    assert link(ports, BRIDGE) is None  # nothing was done
    kept = run_module(shaper_bridge.main, args_for(ports, offloads="keep"))
    assert kept["changed"] is True and kept["offloads"] == {}
    assert link(ports, "ti")["master"] == BRIDGE


def test_drift_is_repaired(run_module, ports):
    run_module(shaper_bridge.main, args_for(ports))
    nl.run(["ip", "-n", ports, "link", "set", BRIDGE, "type", "bridge", "stp_state", "1"])
    nl.run(["ip", "-n", ports, "link", "set", BRIDGE, "type", "bridge", "forward_delay", "1500"])
    nl.run(["ip", "-n", ports, "link", "set", "tn", "down"])
    predicted = run_module(shaper_bridge.main, args_for(ports), check_mode=True, diff=True)
    assert predicted["changed"] is True
    assert predicted["diff"]["before"]["stp_state"] == 1 and predicted["diff"]["before"]["forward_delay"] == 15.0
    assert predicted["actions"] == ["turn STP off on %s" % BRIDGE, "set forward delay of %s to 0" % BRIDGE, "set tn up"]
    assert link(ports, BRIDGE)["linkinfo"]["info_data"]["stp_state"] == 1  # check mode changed nothing
    done = run_module(shaper_bridge.main, args_for(ports), diff=True)
    assert done["changed"] is True and done["actions"] == predicted["actions"]
    assert done["diff"]["after"] == predicted["diff"]["after"]
    data = link(ports, BRIDGE)["linkinfo"]["info_data"]
    assert data["stp_state"] == 0 and data["forward_delay"] == 0
    assert "UP" in link(ports, "tn")["flags"]
    assert run_module(shaper_bridge.main, args_for(ports))["changed"] is False


def test_mtu_mismatch_fails_then_mtu_option_sets_all(run_module, ports):
    nl.run(["ip", "-n", ports, "link", "set", "tn", "mtu", "9000"])
    failed = run_module(shaper_bridge.main, args_for(ports))
    assert failed["failed"] is True
    assert "disagree on the MTU" in failed["msg"]
    assert "to_internet ti has 1500" in failed["msg"] and "to_network tn has 9000" in failed["msg"]
    assert link(ports, BRIDGE) is None
    result = run_module(shaper_bridge.main, args_for(ports, mtu=9000))
    assert result["changed"] is True and result["mtu"] == 9000
    assert [link(ports, n)["mtu"] for n in ("ti", "tn", BRIDGE)] == [9000, 9000, 9000]
    assert run_module(shaper_bridge.main, args_for(ports))["changed"] is False  # they agree now
    lower = run_module(shaper_bridge.main, args_for(ports, mtu=1500), check_mode=True, diff=True)
    assert lower["changed"] is True and lower["diff"]["after"]["mtu"] == 1500
    assert link(ports, BRIDGE)["mtu"] == 9000


def test_missing_port_is_named(run_module, ports):
    failed = run_module(shaper_bridge.main, args_for(ports, to_network="nope0"))
    assert failed["failed"] is True
    assert failed["msg"] == "to_network: interface nope0 does not exist in netns %s" % ports
    assert link(ports, BRIDGE) is None
    checked = run_module(shaper_bridge.main, args_for(ports, to_network="nope0"), check_mode=True)
    assert checked["failed"] is True and "nope0" in checked["msg"]


def test_port_of_another_bridge_is_named(run_module, ports):
    nl.run(["ip", "-n", ports, "link", "add", "br-other", "type", "bridge"])
    nl.run(["ip", "-n", ports, "link", "set", "ti", "master", "br-other"])
    failed = run_module(shaper_bridge.main, args_for(ports))
    assert failed["failed"] is True
    assert "to_internet: interface ti already belongs to bridge br-other" in failed["msg"]
    assert link(ports, BRIDGE) is None and link(ports, "ti")["master"] == "br-other"


def test_bad_names_and_missing_netns(run_module, ports):
    same = run_module(shaper_bridge.main, args_for(ports, to_network="ti"))
    assert same["failed"] is True and "same interface (ti)" in same["msg"]
    long_name = run_module(shaper_bridge.main, args_for(ports, name="a-much-too-long-name"))
    assert long_name["failed"] is True and "not a valid interface name" in long_name["msg"]
    nons = run_module(shaper_bridge.main, args_for(ports + "-gone"))
    assert nons["failed"] is True and "network namespace %s-gone does not exist" % ports in nons["msg"]
    needs_ports = run_module(shaper_bridge.main, {"netns": ports})
    assert needs_ports["failed"] is True and "to_internet" in needs_ports["msg"]


def test_absent_removes_bridge_keeps_ports(run_module, ports):
    run_module(shaper_bridge.main, args_for(ports, mtu=1400))
    checked = run_module(shaper_bridge.main, {"netns": ports, "state": "absent"}, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["state"] == "present" and checked["diff"]["after"]["state"] == "absent"
    assert link(ports, BRIDGE) is not None
    removed = run_module(shaper_bridge.main, {"netns": ports, "state": "absent"})
    assert removed["changed"] is True and removed["actions"] == ["delete bridge %s" % BRIDGE]
    assert link(ports, BRIDGE) is None
    for port in ("ti", "tn"):
        assert "master" not in link(ports, port) and link(ports, port)["mtu"] == 1400
    assert run_module(shaper_bridge.main, {"netns": ports, "state": "absent"})["changed"] is False
    nl.run(["ip", "-n", ports, "link", "add", BRIDGE, "type", "veth", "peer", "name", "xp"])
    refused = run_module(shaper_bridge.main, {"netns": ports, "state": "absent"})
    assert refused["failed"] is True and "is not a bridge (kind veth)" in refused["msg"]


# -- shaper_stats ----------------------------------------------------------------------------
CIRCUITS = {1: ("1:10", "101", 20), 2: ("1:11", "102", 50)}   # subscriber: (class, circuit id, Mbit/s)
UNKNOWN_V4 = "100.64.9.9"  # in no circuit's prefix
STATE = {"classes": {"1:1": {"kind": "root", "key": "root"}, "1:2": {"kind": "default", "key": "default"},
                     "1:3": {"kind": "node", "key": "node:Tower"},
                     "1:10": {"kind": "circuit", "key": "circuit:101"},
                     "1:11": {"kind": "circuit", "key": "circuit:102"},
                     "1:99": {"kind": "circuit", "key": "circuit:999"}}}


def tc(lab, *args):
    return nl.run(["tc"] + list(args), ns=lab.shaper).stdout


def build_htb(lab, dev, match):
    tc(lab, "qdisc", "replace", "dev", dev, "root", "handle", "1:", "htb", "default", "2")
    tc(lab, "class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", "1gbit", "quantum", "60000")
    tc(lab, "class", "add", "dev", dev, "parent", "1:1", "classid", "1:2", "htb", "rate", "5mbit", "ceil", "1gbit",
       "quantum", "1514")
    tc(lab, "qdisc", "add", "dev", dev, "parent", "1:2", "pfifo", "limit", "100")
    tc(lab, "class", "add", "dev", dev, "parent", "1:1", "classid", "1:3", "htb", "rate", "100mbit", "quantum", "1514")
    for sub in lab.subscribers:
        cls, _circuit, mbit = CIRCUITS[sub.index]
        tc(lab, "class", "add", "dev", dev, "parent", "1:3", "classid", cls, "htb", "rate", "%dmbit" % mbit,
           "ceil", "%dmbit" % mbit, "quantum", "1514")
        tc(lab, "qdisc", "add", "dev", dev, "parent", cls, "pfifo", "limit", "100")
        tc(lab, "filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", "1", "u32",
           "match", "ip", match, sub.v4_block, "flowid", cls)


@pytest.fixture(scope="module")
def lab():
    nl.cleanup_stale(min_age=900)
    with nl.NetnsLab(subscribers=2) as built:
        build_htb(built, built.to_network, "dst")
        build_htb(built, built.to_internet, "src")
        yield built


@pytest.fixture
def state_file(tmp_path):
    path = tmp_path / "shaper_state.json"
    path.write_text(json.dumps(STATE))
    return str(path)


def stats_args(lab, **extra):
    args = dict(netns=lab.shaper, to_internet=lab.to_internet, to_network=lab.to_network, sample_seconds=0)
    args.update(extra)
    return args


def test_stats_count_packets_per_circuit(run_module, lab, state_file):
    before = run_module(shaper_stats.main, stats_args(lab, state_file=state_file), check_mode=True)
    assert before["changed"] is False and before["state_file_used"] is True
    s1, s2 = lab.subscribers
    lab.send_udp(s1.ns, s1.ipv4[0], nl.INET_V4, count=40, size=200)     # upload, circuit 101
    lab.send_udp(lab.inet, nl.INET_V4, s2.ipv4[0], count=25, size=300)  # download, circuit 102
    after = run_module(shaper_stats.main, stats_args(lab, state_file=state_file))
    assert [c["id"] for c in after["circuits"]] == ["101", "102"]
    assert [n["name"] for n in after["nodes"]] == ["Tower"]
    assert after["missing_classes"] == {"download": ["1:99"], "upload": ["1:99"]}
    assert after["unmapped_classes"] == []

    def delta(entry_list, key, direction, field):
        old = next(e for e in before[entry_list] if e.get("id", e.get("name")) == key)[direction][field]
        new = next(e for e in after[entry_list] if e.get("id", e.get("name")) == key)[direction][field]
        return new - old

    # UDP payload + 8 UDP + 20 IPv4 + 14 Ethernet, as HTB counts it on the wire
    assert delta("circuits", "101", "upload", "packets") >= 40
    assert delta("circuits", "101", "upload", "bytes") >= 40 * 242
    assert delta("circuits", "102", "download", "packets") >= 25
    assert delta("circuits", "102", "download", "bytes") >= 25 * 342
    assert delta("circuits", "102", "upload", "packets") < 25  # at most ICMP errors and ARP-free return traffic
    assert delta("nodes", "Tower", "download", "packets") >= delta("circuits", "102", "download", "packets")
    circuit = after["circuits"][0]
    assert circuit["classids"] == {"download": ["1:10"], "upload": ["1:10"]}
    assert circuit["upload"]["rate_bps"] is None  # sample_seconds=0: one sample, no rate
    assert circuit["upload"]["classified_bytes"] is None  # no classifier on this lab (yet)
    for direction in ("download", "upload"):
        assert after["default_class"][direction]["classids"] == ["1:2"]
        assert after["totals"][direction]["packets"] >= sum(
            c[direction]["packets"] for c in after["circuits"]) + after["default_class"][direction]["packets"]
        assert after["sources"][direction]["classes"] == 5
        assert after["sources"][direction]["classifier"] == "not loaded"
    # ARP and IPv6 neighbour discovery match no u32 filter: the default class saw them
    assert after["default_class"]["download"]["packets"] > 0


def test_stats_without_state_file_reports_class_ids(run_module, lab, tmp_path):
    result = run_module(shaper_stats.main, stats_args(lab, state_file=str(tmp_path / "absent.json")))
    assert result["state_file_used"] is False
    assert [c["id"] for c in result["circuits"]] == ["1:10", "1:11"]
    assert [n["name"] for n in result["nodes"]] == ["1:3"]
    assert result["default_class"]["upload"]["classids"] == ["1:2"]
    assert result["missing_classes"] == {}


def test_stats_rate_matches_ceiling(run_module, lab, state_file):
    s2 = lab.subscribers[1]
    lab.iperf3_server(5301)
    proc = lab.iperf3_client(s2.ns, nl.INET_V4, 5301, seconds=4, omit=1, reverse=True, start=False)
    time.sleep(1.5)  # past slow start
    result = run_module(shaper_stats.main, stats_args(lab, state_file=state_file, sample_seconds=1.5))
    lab.iperf3_result(proc, 5)
    circuit = next(c for c in result["circuits"] if c["id"] == "102")
    ceil = CIRCUITS[2][2] * 1e6
    rate = circuit["download"]["rate_bps"]
    assert 0.85 * ceil <= rate <= 1.05 * ceil, rate
    assert circuit["download"]["rate_pps"] > rate / 8 / 1514 * 0.95  # full-size frames
    assert 1.4 <= result["sources"]["download"]["seconds"] <= 2.5
    tower = result["nodes"][0]["download"]["rate_bps"]
    assert tower >= 0.98 * rate  # the node carries its circuits
    assert result["totals"]["download"]["rate_bps"] >= 0.98 * tower
    idle = next(c for c in result["circuits"] if c["id"] == "101")
    assert idle["download"]["rate_bps"] < 0.01 * ceil


def test_stats_errors(run_module, lab, tmp_path):
    missing = run_module(shaper_stats.main, stats_args(lab, to_network="nope0"))
    assert missing["failed"] is True and "to_network: interface nope0 does not exist" in missing["msg"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"classes": {"1:zz": {"kind": "circuit", "key": "circuit:1"}}}')
    broken = run_module(shaper_stats.main, stats_args(lab, state_file=str(bad)))
    assert broken["failed"] is True and "1:zz" in broken["msg"]
    neither = run_module(shaper_stats.main, {"netns": lab.shaper})
    assert neither["failed"] is True and "to_internet" in neither["msg"]


def test_stats_classifier_counters(run_module, lab, state_file):
    missing = cm.missing_requirements()
    if missing:
        pytest.skip("classifier counters need bcc and kernel headers: %s" % "; ".join(missing))
    s1, s2 = lab.subscribers
    wanted = {s1.v4_block: ("1:10", 1), s2.v4_block: ("1:11", 2)}
    classifiers = []
    try:
        for dev, direction in ((lab.to_network, cm.DOWNLOAD), (lab.to_internet, cm.UPLOAD)):
            c = cm.Classifier(dev, direction, netns=lab.shaper, default_classid=cm.parse_classid("1:2"))
            c.attach()
            c.sync(wanted)
            classifiers.append(c)
        lab.add_address(s1.ns, UNKNOWN_V4)
        before = run_module(shaper_stats.main, stats_args(lab, state_file=state_file))
        lab.send_udp(s1.ns, s1.ipv4[1], nl.INET_V4, count=30, size=100)
        lab.send_udp(s1.ns, UNKNOWN_V4, nl.INET_V4, count=5, size=100)  # in no prefix: a miss
        after = run_module(shaper_stats.main, stats_args(lab, state_file=state_file, sample_seconds=0.2))
        for direction in ("download", "upload"):
            assert after["sources"][direction]["classifier"] == "read"
        old = before["circuits"][0]["upload"]
        new = after["circuits"][0]["upload"]
        assert new["classified_packets"] - old["classified_packets"] >= 30
        assert new["classified_bytes"] - old["classified_bytes"] >= 30 * 142
        assert new["classified_rate_bps"] is not None
        misses = [r["default_class"]["upload"]["classifier_misses"]["packets"] for r in (before, after)]
        assert misses[1] - misses[0] >= 5
        # the module read the pinned maps and left them exactly as they were
        assert {str(n): v for n, v in classifiers[0].entries().items()} == {
            k: (cm.parse_classid(v[0]), v[1]) for k, v in wanted.items()}
    finally:
        for c in classifiers:
            c.detach()
