# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end test of bpf/classifier.c + shaping.classifier on a namespace lab (netns_lab.py).

The HTB tree here is test scaffolding built with plain `tc` (the real planner comes later):
root 1: htb default 2 -> 1:1 (1 Gbit) -> 1:2 default class, 1:10 circuit 1 (20 Mbit),
1:11 circuit 2 (50 Mbit), each with a pfifo leaf; the same tree on to_network (download) and
to_internet (upload). Needs root, bcc and kernel headers (scripts/kernel-deps.sh); ~20 s.

Rates: a class is checked on the wire against its ceiling: the median of six half-second rates
(bytes HTB sent) in the middle of the run. iperf3 reports TCP goodput, which is lower by construction: per
1514-byte frame only 1448 bytes are payload (IPv4, TCP timestamps; 1428 for IPv6), and in a
bidirectional run the ACKs of the opposite flow (66-byte frames, about one per data segment
here) share the class. So goodput is checked against the ceiling turned into goodput:
ceil * 1448/1514 * 1514/(1514+66) (bidirectional IPv4), ceil * 1428/1514 (one-way IPv6).

Tolerances. One-way (the IPv6 test) is +-5 %: measured 18.86 Mbit/s for an expected 18.86.
Two-way (both subscribers, both directions at once) is -8 %/+5 %: with pfifo leaves the ACKs of
one direction queue behind the data of the other in the same FIFO, and the sender's ACK clock
suffers (the classic two-way-traffic effect; fq_codel/cake would isolate them, but this kernel
has neither). Measured over ~30 runs on this 2-core VM: 20 Mbit classes 19.6-20.0 on the wire,
50 Mbit classes 47.0-48.6 (-6.0 % at worst), goodput -3.2 %..+1.7 % of the expected value.
One-way runs hit 20.0/50.0 on the wire exactly. Both ends use BBR (this kernel's default, pinned
with iperf3 -C where available): with cubic the two-way loss is larger (50 Mbit class 45.9-48.3).
"""

from __future__ import annotations

import collections
import re
import socket
import statistics
import struct
import time

import pytest

import netns_lab as nl
from ansible_collections.isp.ops.plugins.module_utils.shaping import classifier as cm


pytestmark = nl.netns_marks(classifier=True)

DEFAULT_CLASS = "1:2"
CIRCUITS = {1: ("1:10", 20), 2: ("1:11", 50)}   # circuit index: (class, Mbit/s both ways)
LPM_HOST = "100.64.1.6"      # inside circuit 1's 100.64.1.0/29, but a /32 of circuit 2 (in sub2)
UNKNOWN_V4 = "100.64.9.9"    # in no map (on sub1)
TOLERANCE = 0.05                  # one-way
TWO_WAY = (-0.08, 0.05)           # both directions at once through pfifo leaves (see above)
WINDOWS = 6                       # half-second wire-rate samples in the two-way test
GOODPUT_V4_BIDIR = 1448 / 1514 * 1514 / (1514 + 66)
GOODPUT_V6 = 1428 / 1514
Shaper = collections.namedtuple("Shaper", "lab classifiers wanted first")


def _congestion():
    try:
        with open("/proc/sys/net/ipv4/tcp_available_congestion_control") as f:
            return "bbr" if "bbr" in f.read().split() else None
    except OSError:
        return None


CONGESTION = _congestion()


def tc(lab, *args):
    return nl.run(["tc"] + list(args), ns=lab.shaper).stdout


def build_htb(lab, dev):
    tc(lab, "qdisc", "replace", "dev", dev, "root", "handle", "1:", "htb", "default", "2")
    tc(lab, "class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb",
       "rate", "1gbit", "ceil", "1gbit", "quantum", "60000")
    classes = [(DEFAULT_CLASS, "5mbit", "1gbit")] + [(c, "%dmbit" % r, "%dmbit" % r) for c, r in CIRCUITS.values()]
    for cls, rate, ceil in classes:
        tc(lab, "class", "add", "dev", dev, "parent", "1:1", "classid", cls, "htb",
           "rate", rate, "ceil", ceil, "quantum", "1514")
        tc(lab, "qdisc", "add", "dev", dev, "parent", cls, "pfifo", "limit", "100")


def class_stats(lab, dev):
    """{classid: (bytes, packets)} from `tc -s class show` (tc 6.1 has no JSON for classes)."""
    text = tc(lab, "-s", "class", "show", "dev", dev)
    return {m.group(1): (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r"class htb (\S+) .*\n\s*Sent (\d+) bytes (\d+) pkt", text)}


def filter_prog_id(lab, dev):
    m = re.search(r"\bid (\d+)", tc(lab, "filter", "show", "dev", dev, "egress"))
    return int(m.group(1)) if m else None


@pytest.fixture(scope="module")
def shaper():
    nl.cleanup_stale(min_age=900)  # leftovers of killed runs; spares runs still going on
    with nl.NetnsLab(subscribers=2) as lab:
        s1, s2 = lab.subscribers
        lab.add_address(s2.ns, LPM_HOST)
        lab.add_address(s1.ns, UNKNOWN_V4)
        wanted = {LPM_HOST + "/32": (CIRCUITS[2][0], 2)}
        for sub in (s1, s2):
            cls = CIRCUITS[sub.index][0]
            wanted[sub.v4_block] = (cls, sub.index)
            wanted[sub.ipv6_prefix] = (cls, sub.index)
        classifiers, first = {}, {}
        try:
            for dev, direction in ((lab.to_network, cm.DOWNLOAD), (lab.to_internet, cm.UPLOAD)):
                build_htb(lab, dev)
                c = cm.Classifier(dev, direction, netns=lab.shaper,
                                  default_classid=cm.parse_classid(DEFAULT_CLASS))
                first[direction] = (c.attach(), c.sync(wanted))
                classifiers[direction] = c
            yield Shaper(lab, classifiers, wanted, first)
        finally:
            for c in classifiers.values():
                c.close()


def _devices(lab):
    return {cm.DOWNLOAD: lab.to_network, cm.UPLOAD: lab.to_internet}


def _sample(shaper):
    lab = shaper.lab
    t = time.monotonic()
    out = {d: (class_stats(lab, dev), shaper.classifiers[d].counters()) for d, dev in _devices(lab).items()}
    return (t + time.monotonic()) / 2, out


def test_first_attach_loads_and_fills_maps(shaper):
    for direction, (how, result) in shaper.first.items():
        assert how == "loaded", direction
        assert result == cm.SyncResult(len(shaper.wanted), 0, 0), direction
        entries = shaper.classifiers[direction].entries()
        assert {str(n) for n in entries} == set(shaper.wanted)


@pytest.mark.flaky(reruns=1)  # a rate measurement on a shared 2-core VM gets one more try
def test_two_subscribers_both_directions_at_ceiling(shaper):
    lab = shaper.lab
    ports = {1: 5201, 2: 5202}
    for port in ports.values():
        lab.iperf3_server(port)
    procs = {s.index: lab.iperf3_client(s.ns, nl.INET_V4, ports[s.index], seconds=4, omit=1,
                                        bidir=True, bind=s.ipv4[0], congestion=CONGESTION, start=False)
             for s in lab.subscribers}
    time.sleep(1.25)             # past connection set-up, slow start and the omitted second
    samples = [_sample(shaper)]
    for _window in range(WINDOWS):     # WINDOWS x 0.5 s, ends ~1 s before the clients do
        time.sleep(0.5)
        samples.append(_sample(shaper))
    results = {i: lab.iperf3_result(p, 5) for i, p in procs.items()}

    report, failures = [], []
    for direction in (cm.DOWNLOAD, cm.UPLOAD):
        for circuit, (cls, ceil) in CIRCUITS.items():
            # median of the half-second wire rates: one stalled half second on this shared
            # 2-core VM (another job, a late timer) does not decide the result
            wire = statistics.median(
                (b[direction][0][cls][0] - a[direction][0][cls][0]) * 8 / (tb - ta) / 1e6
                for (ta, a), (tb, b) in zip(samples, samples[1:]))
            first, last = samples[0][1], samples[-1][1]
            bpf_bytes = last[direction][1][circuit].bytes - first[direction][1][circuit].bytes
            tc_bytes = last[direction][0][cls][0] - first[direction][0][cls][0]
            r = results[circuit]
            goodput = r.s2c_mbps if direction == cm.DOWNLOAD else r.c2s_mbps
            expected = ceil * GOODPUT_V4_BIDIR
            report.append("%s circuit %d (%s, ceil %d): wire %.2f Mbit/s, goodput %.2f (expected %.2f)"
                          % (direction, circuit, cls, ceil, wire, goodput, expected))
            if not TWO_WAY[0] <= wire / ceil - 1 <= TWO_WAY[1]:
                failures.append("%s circuit %d wire rate %.2f not within -8/+5%% of %d" % (direction, circuit, wire, ceil))
            if not TWO_WAY[0] <= goodput / expected - 1 <= TWO_WAY[1]:
                failures.append("%s circuit %d goodput %.2f not within -8/+5%% of %.2f"
                                % (direction, circuit, goodput, expected))
            # the circuit's bytes went through its class; the classifier also counts what the
            # pfifo then drops (it runs before the qdisc), so the class may send a bit less
            if not 0.9 <= tc_bytes / bpf_bytes <= 1.01:
                failures.append("%s circuit %d: classifier counted %d bytes, class %s sent %d"
                                % (direction, circuit, bpf_bytes, cls, tc_bytes))
    print("\n" + "\n".join(report))
    assert not failures, failures


def test_ipv6_is_classified(shaper):
    lab = shaper.lab
    s1 = lab.subscribers[0]
    cls, ceil = CIRCUITS[1]
    before = _sample(shaper)[1]
    lab.iperf3_server(5203)
    r = lab.iperf3_client(s1.ns, nl.INET_V6, 5203, seconds=2, omit=1, reverse=True, bind=s1.ipv6,
                          congestion=CONGESTION)
    after = _sample(shaper)[1]
    expected = ceil * GOODPUT_V6
    print("\nIPv6 download circuit 1 (%s, ceil %d): goodput %.2f Mbit/s (expected %.2f)"
          % (cls, ceil, r.s2c_mbps, expected))
    assert abs(r.s2c_mbps / expected - 1) <= TOLERANCE
    down_bytes = after[cm.DOWNLOAD][1][1].bytes - before[cm.DOWNLOAD][1][1].bytes
    class_bytes = after[cm.DOWNLOAD][0][cls][0] - before[cm.DOWNLOAD][0][cls][0]
    print("IPv6 download: classifier counted %d bytes on circuit 1, class %s sent %d" % (down_bytes, cls, class_bytes))
    assert down_bytes >= 0.9 * ceil * 1e6 / 8 * 2     # >= 2 s of the ceiling on circuit 1
    assert 0.9 * down_bytes <= class_bytes <= 1.01 * down_bytes
    assert after[cm.UPLOAD][1][1].packets > before[cm.UPLOAD][1][1].packets  # the ACKs


def test_longest_prefix_wins(shaper):
    lab = shaper.lab
    s2 = lab.subscribers[1]
    up = shaper.classifiers[cm.UPLOAD]
    before = up.counters([1, 2])
    lab.send_udp(s2.ns, LPM_HOST, nl.INET_V4, count=20)
    after = up.counters([1, 2])
    assert after[2].packets - before[2].packets >= 20
    assert after[1].packets == before[1].packets


def test_unknown_source_lands_in_default_class(shaper):
    lab = shaper.lab
    s1 = lab.subscribers[0]
    up = shaper.classifiers[cm.UPLOAD]
    c_before, tc_before = up.counters([0, 1]), class_stats(lab, lab.to_internet)
    lab.send_udp(s1.ns, UNKNOWN_V4, nl.INET_V4, count=20, size=200)
    c_after, tc_after = up.counters([0, 1]), class_stats(lab, lab.to_internet)
    assert c_after[0].packets - c_before[0].packets >= 20
    assert c_after[1].packets == c_before[1].packets
    sent, pkts = (tc_after[DEFAULT_CLASS][i] - tc_before[DEFAULT_CLASS][i] for i in (0, 1))
    assert pkts >= 20 and sent >= 20 * 200
    for cls, _rate in CIRCUITS.values():
        assert tc_after[cls][1] == tc_before[cls][1]


def _udp_frame(src, dst, vlan=None):
    """Ethernet (optionally 802.1Q-tagged) + IPv4/IPv6 + UDP frame, broadcast destination MAC."""
    payload = struct.pack("!HHHH", 9, 9, 8 + 32, 0) + b"v" * 32
    if ":" in src:
        ethertype = 0x86DD
        l3 = struct.pack("!IHBB", 6 << 28, len(payload), 17, 64) + \
            socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
    else:
        ethertype = 0x0800
        l3 = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(payload), 0, 0, 64, 17, 0) + \
            socket.inet_aton(src) + socket.inet_aton(dst)
    eth = b"\xff" * 6 + bytes.fromhex("020000000001")
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    return eth + tag + struct.pack("!H", ethertype) + l3 + payload


def test_vlan_tagged_frames_are_classified(shaper):
    lab = shaper.lab
    s1, s2 = lab.subscribers
    up = shaper.classifiers[cm.UPLOAD]
    frames = [_udp_frame(s2.ipv4[1], nl.INET_V4, vlan=100), _udp_frame(s1.ipv6, nl.INET_V6, vlan=100)]
    # tag still in the data: frames sent straight into to_internet's egress path
    before = up.counters([0, 1, 2])
    lab.send_frames(lab.shaper, lab.to_internet, frames, repeat=10)
    after = up.counters([0, 1, 2])
    assert after[2].packets - before[2].packets == 10
    assert after[1].packets - before[1].packets == 10
    # tag moved to skb metadata by the receiving bridge port (the usual path on a bridge)
    before = after
    lab.send_frames(s2.ns, "eth0", frames[:1], repeat=10)
    after = up.counters([0, 1, 2])
    assert after[2].packets - before[2].packets == 10


def test_second_sync_changes_nothing_and_reattach_reuses(shaper):
    lab = shaper.lab
    for direction, dev in _devices(lab).items():
        c = shaper.classifiers[direction]
        assert c.sync(shaper.wanted) == cm.SyncResult(0, 0, 0)
        prog = filter_prog_id(lab, dev)
        with cm.Classifier(dev, direction, netns=lab.shaper,
                           default_classid=cm.parse_classid(DEFAULT_CLASS)) as again:
            assert again.attach() == "reused"
            assert again.sync(shaper.wanted) == cm.SyncResult(0, 0, 0)
            moved = dict(shaper.wanted, **{LPM_HOST + "/32": (CIRCUITS[1][0], 1)})
            assert again.sync(moved) == cm.SyncResult(0, 1, 0)
            fewer = {k: v for k, v in shaper.wanted.items() if k != LPM_HOST + "/32"}
            assert again.sync(fewer) == cm.SyncResult(0, 0, 1)
            assert again.sync(shaper.wanted) == cm.SyncResult(1, 0, 0)
        assert filter_prog_id(lab, dev) == prog


def test_changed_program_is_replaced_keeping_maps(shaper, tmp_path):
    lab = shaper.lab
    dev = lab.to_network
    src = tmp_path / "classifier.c"
    src.write_text(cm.DEFAULT_SOURCE.read_text() + "\n/* changed */\n")
    prog = filter_prog_id(lab, dev)
    with cm.Classifier(dev, cm.DOWNLOAD, netns=lab.shaper, src_file=src,
                       default_classid=cm.parse_classid(DEFAULT_CLASS)) as changed:
        assert changed.attach() == "replaced"
        assert changed.sync(shaper.wanted) == cm.SyncResult(0, 0, 0)   # pinned maps kept
    assert filter_prog_id(lab, dev) not in (None, prog)
    with cm.Classifier(dev, cm.DOWNLOAD, netns=lab.shaper,
                       default_classid=cm.parse_classid(DEFAULT_CLASS)) as back:
        assert back.attach() == "replaced"
    filters = tc(lab, "filter", "show", "dev", dev, "egress")
    assert filters.count("direct-action") == 1
