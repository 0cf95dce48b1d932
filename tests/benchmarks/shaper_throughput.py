# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Forwarding cost of the shaping data path (eBPF classifier + HTB) on the namespace lab.

(a) overhead: download TCP throughput through the lab's bridge as shaper.run shapes it
    (classifier on both ports, mq root with one HTB per queue, pfifo leaves) with every rate far
    above what the lab can carry (link 100 Gbit both ways, circuits min 10 / max 100 Gbit, so
    HTB neither throttles nor borrows), versus the plain bridge of an identical lab (veth
    default: noqueue, no clsact, no classifier). Goal >= 0.90.
(b) lpm: the same shaped lab with 100,000 entries in each classifier's IPv4 LPM trie versus 10
    (the circuits' own prefixes plus fillers); HTB trees, programs and interfaces unchanged, only
    the maps are rewritten (Classifier.sync, off the clock). Goal >= 0.95.

Data path. shaper.run() reads a hand-written network.json and ShapedDevices.csv (temp dir: one
site -> AP per queue, one circuit per lab subscriber with its /29 and /64), so the trees, class
ids, leaves and both classifiers are exactly what a production run installs. As on a real
2-core shaper (auto_queues: min(TX queues, CPUs)) each bridge port gets one real TX queue per
CPU (veth takes `ethtool -L`) and queues=CPUs: an mq root, one HTB per queue, the classifier
steering each packet to its circuit's queue. --queues 1 measures a single HTB root instead.
Only (b)'s fillers go straight into the maps through shaping.classifier.Classifier, since
100,000 circuits would also change the HTB trees. Fillers are 7 in 8 a /32 and 1 in 8 a /29,
one per /29 block of 100.64.0.0/10 from the bottom up, packed around the subscribers' /29s, so
the trie walk to a measured address is as deep as in a full map; they point at the default
class and no packet is addressed to them. The IPv6 tries hold the circuits' /64s in both cases.
The script prints what share of the bytes the classifier matched to a circuit (should be ~100 %).

Traffic. One iperf3 TCP stream per subscriber (4 by default), all at once, -R so the "Internet"
namespace sends (download: egress on to_network), cubic on both ends, -t 2 -O 1 (<= 5 s per
run). Both ends of subscriber k's stream are pinned to the CPU of its circuit's queue, as
RSS/XPS keep a flow on one CPU of a real shaper; unpinned, the scheduler moves the 8 iperf3
processes around and a sample can also land in a bad spot. A sample is the sum of the
receivers' goodput. Sides alternate ABBA (the pair order flips every round) and the best of N
per side is compared, since noise only ever costs throughput; before each sample the script
waits (bounded) for the CPUs to be nearly idle. (a) runs two identical labs side by side
(fresh namespaces, the plain one never shaped), (b) one lab whose maps are swapped.

What the numbers mean on veth. There is no wire: each frame costs CPU in the sending TCP stack,
two bridges (shaper and access switch), the receiving TCP stack, and on the shaped path the
classifier and HTB, all on the same 2 shared cores. Absolute Gbit/s are the CPU's packet
budget, not a link rate; a ratio says what share of that budget shaping takes. The whole path
costs more than forwarding alone, which dilutes the ratio: on a real shaper, whose CPU only
forwards, the relative cost of the classifier and HTB is higher than shown here. netns_lab
sets gso_max_segs=1 on the end hosts' eth0 (offloads=False): TCP hands veth one MSS per skb, so
every skb the classifier and HTB see is one 1514-byte frame, as on a shaper with GRO/GSO/TSO
off (what shaper_bridge sets); with veth's default GSO a 64 KB skb would pass them once per ~44
frames and the overhead would all but vanish. The mean bytes per skb sent on to_network is
printed as a check (~1510 = MTU-sized). Leaves are pfifo (this kernel has no cake/fq_codel);
cake, the production default, costs more per packet and is not measured.

Noise. Even with the pinning, samples of one setup spread by 2-3x on this 2-core VM: the
forwarding runs in softirq, sometimes inline in the sender's context and sometimes deferred to
ksoftirqd (measured: Mbit/s per CPU-second, not only Mbit/s, swings with the ksoftirqd share),
and other jobs on the same cores shift it too. Best of N keeps the inline-regime samples; the
per-round ratio range and median are printed next to each result so a run's reliability shows.
An effect below ~10 % is not resolved by one run; compare several.

Needs root, iperf3, ethtool, bcc + kernel headers (scripts/kernel-deps.sh). About 3.5 minutes
(longer while other jobs run: up to --quiet-wait per sample); --quick about 50 s. Namespaces
are always deleted.

    .venv/bin/python tests/benchmarks/shaper_throughput.py [--quick] [--repeat N] [--queues N]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import ipaddress
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, ".venv", "collections"))

import netns_lab as nl  # noqa: E402
from ansible_collections.isp.ops.plugins.module_utils.shaping import classifier as cm  # noqa: E402
from ansible_collections.isp.ops.plugins.module_utils.shaping import shaper  # noqa: E402
from ansible_collections.isp.ops.plugins.module_utils.shaping.spec import DEFAULT_MINOR, classid  # noqa: E402

LINK_MBPS = 100000                 # 100 Gbit: far above what veth on 2 cores carries
CIRCUIT_MAX_MBPS = 100000
CIRCUIT_MIN_MBPS = 10000           # 10 Gbit each, their sum below the node's rate: no class ever borrows
OVERHEAD_GOAL, LPM_GOAL = 0.90, 0.95
LPM_BIG, LPM_SMALL = 100000, 10
CONGESTION = "cubic"
FIRST_PORT = 5400
QUIET_BUSY = 0.15                  # a sample waits until less than this share of the CPU is busy
FILLER_CIRCUIT = 1000              # circuit indexes of fillers start here (the stats array has 65536)
HEADER = ["Circuit ID", "Circuit Name", "Device ID", "Device Name", "Parent Node", "MAC", "IPv4", "IPv6",
          "Download Min Mbps", "Upload Min Mbps", "Download Max Mbps", "Upload Max Mbps", "Comment"]


class Bench(object):
    """A lab and how its streams are placed: subscriber k's circuit hangs under site
    ((k-1) mod queues) + 1, which the planner puts on HTB queue (major) of the same number; both
    iperf3 ends of subscriber k's stream run on the CPU of that queue."""

    def __init__(self, lab, queues, min_mbps):
        self.lab, self.queues, self.min_mbps = lab, queues, min_mbps
        cpus = sorted(os.sched_getaffinity(0))
        self.queue = dict((sub.index, (sub.index - 1) % queues + 1) for sub in lab.subscribers)
        self.cpu = dict((index, cpus[(queue - 1) % len(cpus)]) for index, queue in self.queue.items())

    def set_tx_queues(self):
        """`queues` real transmit queues on both bridge ports (veth takes ethtool -L), no XPS map."""
        for dev in (self.lab.to_internet, self.lab.to_network):
            nl.run(["ethtool", "-L", dev, "tx", str(self.queues)], ns=self.lab.shaper)
            found = nl.run(["ls", "/sys/class/net/%s/queues" % dev], ns=self.lab.shaper).stdout.split()
            if sum(1 for q in found if q.startswith("tx-")) != self.queues:
                raise RuntimeError("%s: could not get %d transmit queues" % (dev, self.queues))

    def write_inputs(self, work):
        network = {}
        for number in range(1, self.queues + 1):
            network["Site %d" % number] = {
                "downloadBandwidthMbps": LINK_MBPS, "uploadBandwidthMbps": LINK_MBPS, "type": "site",
                "children": {"AP %d" % number: {"downloadBandwidthMbps": LINK_MBPS, "uploadBandwidthMbps": LINK_MBPS,
                                                "type": "ap"}}}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for sub in self.lab.subscribers:
            cid = str(100 + sub.index)
            writer.writerow([cid, "Circuit " + cid, "dev-" + cid, "cpe-" + cid, "AP %d" % self.queue[sub.index], "",
                             sub.v4_block, sub.ipv6_prefix, self.min_mbps, self.min_mbps, CIRCUIT_MAX_MBPS,
                             CIRCUIT_MAX_MBPS, ""])
        paths = {"network_json": os.path.join(work, "network.json"),
                 "shaped_devices": os.path.join(work, "ShapedDevices.csv")}
        with open(paths["network_json"], "w") as handle:
            json.dump(network, handle, indent=2)
        with open(paths["shaped_devices"], "w") as handle:
            handle.write(out.getvalue())
        return paths

    def shape(self, work):
        """shaper.run on the lab's bridge ports; returns the RunResult. Checks that each
        subscriber's circuit sits on the queue its CPU was chosen for."""
        config = shaper.ShaperConfig(to_internet=self.lab.to_internet, to_network=self.lab.to_network,
                                     downlink_mbps=LINK_MBPS, uplink_mbps=LINK_MBPS, netns=self.lab.shaper,
                                     queues=self.queues, state_dir=os.path.join(work, "state"),
                                     lock_path=os.path.join(work, "tc.lock"), **self.write_inputs(work))
        result = shaper.run(config)
        planned = dict((ipaddress.ip_network(k), v) for k, v in result.plan.prefixes.items())
        for sub in self.lab.subscribers:
            major = planned[ipaddress.ip_network(sub.v4_block)][0] >> 16
            if major != self.queue[sub.index]:
                raise RuntimeError("circuit of subscriber %d landed on queue %d" % (sub.index, major))
        return result


def qdisc_list(lab):
    return json.loads(nl.run(["tc", "-n", lab.shaper, "-j", "qdisc", "show", "dev", lab.to_network]).stdout or "[]")


def qdiscs(lab):
    """E.g. "noqueue" or "mq root, 2 htb, clsact"."""
    shown = qdisc_list(lab)
    root = [q["kind"] for q in shown if q.get("root")]
    htb = sum(1 for q in shown if q["kind"] == "htb")
    hooks = [q["kind"] for q in shown if q["kind"] == "clsact"]
    return ", ".join(["%s root" % "/".join(root)] + (["%d htb" % htb] if htb else []) + hooks)


def leaf_kinds(lab):
    return sorted({q["kind"] for q in qdisc_list(lab) if not q.get("root") and q["kind"] not in ("clsact", "htb")})


def filler_prefixes(count, skip):
    """`count` prefixes in 100.64.0.0/10, one per /29 block in order, none overlapping `skip`
    (networks): 7 of 8 a /32 (the block's .1), 1 of 8 the whole /29."""
    base = int(ipaddress.IPv4Address("100.64.0.0"))
    out, block = [], 0
    while len(out) < count:
        net = ipaddress.IPv4Network((base + block * 8, 29))
        block += 1
        if any(net.overlaps(s) for s in skip):
            continue
        if len(out) % 8 == 0:
            out.append(str(net))
        else:
            out.append(str(net.network_address + 1) + "/32")
        if block >= 1 << 19:
            raise ValueError("100.64.0.0/10 has no room for %d fillers" % count)
    return out


def lpm_maps(plan_prefixes, v4_total, lab):
    """{prefix: (classid, index)}: the plan's prefixes plus fillers up to `v4_total` IPv4 entries."""
    wanted = dict((str(k), tuple(v)) for k, v in plan_prefixes.items())
    own = [ipaddress.ip_network(p) for p in wanted if ipaddress.ip_network(p).version == 4]
    skip = own + [ipaddress.ip_network(nl.INET_V4 + "/29", strict=False)]
    skip += [ipaddress.ip_network(a + "/29", strict=False) for s in lab.subscribers for a in s.ipv4]
    default = classid(1, DEFAULT_MINOR)
    for number, prefix in enumerate(filler_prefixes(v4_total - len(own), skip)):
        wanted[prefix] = (default, FILLER_CIRCUIT + number % 60000)
    return wanted


def sync_maps(lab, wanted):
    """Write `wanted` into both classifiers (download and upload), as shaper.run does."""
    started = time.monotonic()
    counts = {}
    for ifname, direction in ((lab.to_network, cm.DOWNLOAD), (lab.to_internet, cm.UPLOAD)):
        with cm.Classifier(ifname, direction, netns=lab.shaper) as classifier:
            classifier.sync(wanted)
            counts[direction] = sum(1 for n in classifier.entries() if n.version == 4)
    return counts, time.monotonic() - started


def classified(lab, plan_prefixes):
    """Share of the bytes the download classifier saw that hit one of the lab's circuits."""
    indexes = sorted({int(v[1]) for v in plan_prefixes.values()})
    with cm.Classifier(lab.to_network, cm.DOWNLOAD, netns=lab.shaper) as classifier:
        counted = classifier.counters([0] + indexes)
    total = sum(c.bytes for c in counted.values())
    return sum(counted[i].bytes for i in indexes) / float(total) if total else 0.0


# -- traffic -----------------------------------------------------------------------------------
class Ports(object):
    """A fresh port for every one-shot iperf3 server of the run."""

    def __init__(self, first=FIRST_PORT):
        self.next = first

    def take(self, count):
        ports = list(range(self.next, self.next + count))
        self.next += count
        return ports


def tx_counters(lab):
    shown = json.loads(nl.run(["ip", "-n", lab.shaper, "-s", "-j", "link", "show", "dev", lab.to_network]).stdout)
    tx = shown[0]["stats64"]["tx"]
    return tx["bytes"], tx["packets"]


def cpu_busy(window=0.5):
    """Share of both cores not idle over `window` seconds (from /proc/stat)."""
    def read():
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:9]]
        return sum(fields), fields[3] + fields[4]
    total, idle = read()
    time.sleep(window)
    total2, idle2 = read()
    return 1.0 - (idle2 - idle) / float(max(1, total2 - total))


def wait_quiet(limit):
    """Wait (at most `limit` s) until the machine is nearly idle; returns the last busy share."""
    deadline = time.monotonic() + limit
    busy = cpu_busy()
    while busy > QUIET_BUSY and time.monotonic() < deadline:
        busy = cpu_busy()
    return busy


def download(bench, ports, seconds):
    """One sample: one iperf3 -R client per subscriber, all at once, both ends of each pinned to
    the CPU of its circuit's queue. Returns (sum of goodput in Mbit/s, mean bytes per skb sent
    on to_network)."""
    lab = bench.lab
    chosen = dict(zip(ports.take(len(lab.subscribers)), lab.subscribers))
    for port, sub in chosen.items():
        os.sched_setaffinity(lab.iperf3_server(port).pid, {bench.cpu[sub.index]})
    before = tx_counters(lab)
    procs = []
    for port, sub in chosen.items():
        # `ip netns exec` execs iperf3 in place: the pid is iperf3's, and so is the affinity
        proc = lab.iperf3_client(sub.ns, nl.INET_V4, port, seconds=seconds, omit=1, reverse=True,
                                 congestion=CONGESTION, start=False)
        os.sched_setaffinity(proc.pid, {bench.cpu[sub.index]})
        procs.append(proc)
    total = sum(lab.iperf3_result(proc, seconds + 1).s2c_mbps for proc in procs)
    after = tx_counters(lab)
    packets = after[1] - before[1]
    return total, (after[0] - before[0]) / packets if packets else 0.0


def alternate(rounds, sides, quiet_wait):
    """ABBA: run each side once per round, the order flipping every round; before each sample
    wait (bounded) for the machine to be nearly idle, so other jobs cost fewer samples.

    sides: [(name, prepare() or None, sample() -> (mbps, bytes per skb))].
    Returns {name: [(mbps, bytes per skb, busy share before), ...]}."""
    out = dict((side[0], []) for side in sides)
    current = None
    for number in range(rounds):
        for name, prepare, sample in (sides if number % 2 == 0 else list(reversed(sides))):
            if prepare and current != name:
                prepare()
            current = name
            busy = wait_quiet(quiet_wait)
            mbps, skb = sample()
            out[name].append((mbps, skb, busy))
            print("  round %d %-6s %8.0f Mbit/s  %5.0f B/skb  (CPU %2.0f %% busy before%s)"
                  % (number + 1, name, mbps, skb, busy * 100, ", noisy" if busy > QUIET_BUSY else ""))
            sys.stdout.flush()
    return out


def report(name, base_name, runs, mine_name, goal, extra=""):
    """Best of N per side (noise only ever costs throughput); the median of the per-round ratios
    is printed too, as a check on the spread."""
    base = max(runs[base_name], key=lambda s: s[0])
    mine = max(runs[mine_name], key=lambda s: s[0])
    ratio = mine[0] / base[0] if base[0] else 0.0
    paired = sorted(m[0] / b[0] for m, b in zip(runs[mine_name], runs[base_name]) if b[0])
    noisy = sum(1 for side in runs.values() for s in side if s[2] > QUIET_BUSY)
    print("%s: %s %.0f Mbit/s (%.0f kpps of %.0f B/skb), %s %.0f Mbit/s (%.0f kpps of %.0f B/skb), best of %d each; "
          "per-round ratios %.2f..%.2f, median %.2f; %d of %d samples started on a busy machine%s"
          % (name, mine_name, mine[0], mine[0] * 1e3 / 8 / 1448, mine[1], base_name, base[0],
             base[0] * 1e3 / 8 / 1448, base[1], len(runs[mine_name]), paired[0], paired[-1],
             statistics.median(paired),
             noisy, sum(len(side) for side in runs.values()), extra))
    return "%s: ratio %.2f (goal >= %.2f)" % (name, ratio, goal)


# -- benchmarks --------------------------------------------------------------------------------
def new_lab(stack, args):
    lab = stack.enter_context(nl.NetnsLab(subscribers=args.streams, v4_per_subscriber=1))
    bench = Bench(lab, args.queues, args.circuit_min)
    bench.set_tx_queues()
    return bench


def bench_overhead(args, ports):
    with contextlib.ExitStack() as stack:
        work = stack.enter_context(tempfile.TemporaryDirectory())
        plain, shaped = new_lab(stack, args), new_lab(stack, args)
        started = time.monotonic()
        result = shaped.shape(work)
        print("overhead: shaper.run %.1f s; to_network: plain %s, shaped %s (leaves %s); warnings: %s"
              % (time.monotonic() - started, qdiscs(plain.lab), qdiscs(shaped.lab), ",".join(leaf_kinds(shaped.lab)),
                 "; ".join(result.warnings) or "none"))
        runs = alternate(args.repeat, [("plain", None, lambda: download(plain, ports, args.seconds)),
                                       ("shaped", None, lambda: download(shaped, ports, args.seconds))],
                         args.quiet_wait)
        share = classified(shaped.lab, result.plan.prefixes)
        return report("overhead", "plain", runs, "shaped", OVERHEAD_GOAL,
                      "; %.1f %% of the shaped bytes hit a circuit" % (100 * share))


def bench_lpm(args, ports):
    with contextlib.ExitStack() as stack:
        work = stack.enter_context(tempfile.TemporaryDirectory())
        bench = new_lab(stack, args)
        result = bench.shape(work)
        small = lpm_maps(result.plan.prefixes, LPM_SMALL, bench.lab)
        big = lpm_maps(result.plan.prefixes, LPM_BIG, bench.lab)
        syncs = []

        def prepare(wanted, expected):
            def run_sync():
                counts, seconds = sync_maps(bench.lab, wanted)
                if set(counts.values()) != {expected}:
                    raise RuntimeError("IPv4 maps hold %s entries, expected %d" % (counts, expected))
                syncs.append(seconds)
            return run_sync

        def sample():
            return download(bench, ports, args.seconds)

        runs = alternate(args.repeat, [("10", prepare(small, LPM_SMALL), sample),
                                       ("100k", prepare(big, LPM_BIG), sample)], args.quiet_wait)
        return report("lpm", "10", runs, "100k", LPM_GOAL,
                      "; %.1f %% of the bytes hit a circuit; map swaps (both directions) %.1f-%.1f s"
                      % (100 * classified(bench.lab, result.plan.prefixes), min(syncs), max(syncs)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 rounds, shorter waits for an idle machine")
    parser.add_argument("--repeat", type=int, help="rounds per benchmark (default 10, --quick 3)")
    parser.add_argument("--seconds", type=int, default=2, help="iperf3 -t per sample, 1..4 (default 2; +1 s -O)")
    parser.add_argument("--streams", type=int, default=4, help="parallel iperf3 streams, one per subscriber")
    parser.add_argument("--queues", type=int, help="HTB queues (mq), one per CPU by default; 1: one HTB root")
    parser.add_argument("--circuit-min", type=float, default=CIRCUIT_MIN_MBPS,
                        help="circuits' min Mbps (default %(default)s: no borrowing; e.g. 100 to make them borrow)")
    parser.add_argument("--quiet-wait", type=float, help="longest wait for an idle machine before a sample, s "
                        "(default 10, --quick 2)")
    parser.add_argument("--only", choices=("overhead", "lpm"))
    args = parser.parse_args()
    args.repeat = max(1, args.repeat or (3 if args.quick else 10))
    args.quiet_wait = args.quiet_wait if args.quiet_wait is not None else (2.0 if args.quick else 10.0)
    args.seconds = min(4, max(1, args.seconds))  # + 1 s omitted: <= 5 s per iperf3 run
    args.queues = max(1, min(args.queues or len(os.sched_getaffinity(0)), args.streams))
    reason = nl.skip_reason(tools=("ip", "tc", "iperf3", "ss", "ethtool"), classifier=True)
    if reason:
        print("cannot run: %s" % reason)
        return 2
    started = time.monotonic()
    ports = Ports()
    summary = []
    print("%d streams over %d HTB queue(s)/CPU(s), circuits min %g / max %d Mbps, %d rounds of %d s (+1 s omitted) "
          "per side, %s, MTU 1500, gso_max_segs=1 on the end hosts; load average %.2f (other jobs make samples noisy)"
          % (args.streams, args.queues, args.circuit_min, CIRCUIT_MAX_MBPS, args.repeat, args.seconds, CONGESTION,
             os.getloadavg()[0]))
    if args.only in (None, "overhead"):
        summary.append(bench_overhead(args, ports))
    if args.only in (None, "lpm"):
        summary.append(bench_lpm(args, ports))
    print("total %.0f s" % (time.monotonic() - started))
    for line in summary:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
