# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the tc applier (shaping.tc_apply) against LibreQoS's way of loading a tree.

(a) full apply of N circuits (HTB class + pfifo leaf each, under N/500 nodes) into a fresh
    namespace: tc_apply.sync() (lock, read, diff, netlink) versus the same tree as a
    `tc -force -batch` file (`tc -n NS`, so no `ip netns exec` is counted against tc).
    Goal: ratio <= 1.0.
(b) incremental run changing 1 % of the circuits (0.5 % new rates, 0.25 % added, 0.25 %
    removed; sync() reads, diffs and applies) versus our own full apply. Goal: ratio <= 0.05.

Both sides run in the same process run, alternating which goes first, best of N (the machine
is noisy). Trees are removed off the clock and namespaces are always deleted. Needs root.

    .venv/bin/python tests/benchmarks/shaper_apply.py [--quick] [--sizes 1000,10000] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, ".venv", "collections"))

import tc_plans as tp  # noqa: E402
from ansible_collections.isp.ops.plugins.module_utils.shaping import tc_apply as ta  # noqa: E402


TC_TIMEOUT = 900


def _repeat(n, override):
    if override:
        return override
    return 5 if n <= 2000 else 3


def _tc_batch(ns, path):
    # wait() without a timeout returns the moment tc exits (with a timeout, Python polls in
    # sleeps of up to 50 ms); a timer bounds the run instead
    started = time.perf_counter()
    proc = subprocess.Popen(["tc", "-n", ns, "-force", "-batch", path], stdout=subprocess.DEVNULL)
    watchdog = threading.Timer(TC_TIMEOUT, proc.kill)
    watchdog.start()
    try:
        code = proc.wait()
    finally:
        watchdog.cancel()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise RuntimeError("tc -batch failed (%d) in %s" % (code, ns))
    return elapsed


def _ours(ns, plan, lock):
    started = time.perf_counter()
    ta.sync(plan, netns=ns, lock_path=lock)
    return time.perf_counter() - started


def _fresh(queues):
    return tp.VethNamespace(txqueues=queues)


def _clear(ns):
    # a big tree is removed here, off the clock, so the namespace's teardown costs nothing later
    ns.tc("qdisc", "del", "dev", ns.ifname, "root", check=False)


def full_apply(plan, repeat, lock, batch_path):
    """{"ours": [s...], "tc": [s...]}. Each run has the machine to itself: every tc block
    (one per HTB class) sits on a kernel-wide list that each new class searches, so a tree
    left alive elsewhere would slow down whichever run comes next."""
    times = {"ours": [], "tc": []}
    for rep in range(repeat):
        for side in (("ours", "tc") if rep % 2 == 0 else ("tc", "ours")):
            with _fresh(plan.queues) as ns:
                try:
                    if side == "tc":
                        times[side].append(_tc_batch(ns.name, batch_path))
                    else:
                        times[side].append(_ours(ns.name, plan, lock))
                finally:
                    _clear(ns)
    return times


def incremental(plan, repeat, lock):
    """Seconds of sync() runs that each move 1 % of the circuits (there and back again), the
    number of circuits touched per run, and the seconds of a run with nothing to do."""
    n = len(tp.circuit_ids(plan))
    share = max(1, n // 400)  # 0.25 %
    changed, picked = tp.mutate(plan, change=2 * share / n, add=share, delete=share, seed=7)
    # the way back re-adds the deleted circuits and removes the added ones: also 1 %
    times = []
    with _fresh(plan.queues) as ns:
        try:
            ta.sync(plan, netns=ns.name, lock_path=lock)
            for _rep in range(repeat):
                for target in (changed, plan):
                    started = time.perf_counter()
                    result = ta.sync(target, netns=ns.name, lock_path=lock)
                    times.append(time.perf_counter() - started)
                    assert result.requests > 0, "the incremental run changed nothing"
            started = time.perf_counter()
            noop = ta.sync(plan, netns=ns.name, lock_path=lock)
            idle = time.perf_counter() - started
            assert noop.requests == 0
        finally:
            _clear(ns)
    return times, len(picked["changed"]) + len(picked["added"]) + len(picked["deleted"]), idle


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer repeats")
    parser.add_argument("--sizes", default=None, help="comma-separated circuit counts (default 1000,10000,20000)")
    parser.add_argument("--repeat", type=int, default=0, help="best of N (default 5 up to 2000 circuits, else 3)")
    parser.add_argument("--queues", type=int, default=1, help="HTB queues (1: htb root; more: mq)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("shaper_apply benchmark needs root (network namespaces, tc)")
        return 2
    sizes = [int(s) for s in (args.sizes or ("200,1000" if args.quick else "1000,10000,20000")).split(",")]
    repeat_override = args.repeat or (2 if args.quick else 0)
    print("tc applier benchmark: %d queue(s), HTB class + pfifo leaf per circuit" % args.queues)
    print("ratio = best of N ours / best of N tc; paired = median of per-repetition ratios")
    print("%8s %3s %9s %10s %6s %7s | %9s %7s %7s | %8s" % (
        "circuits", "N", "ours s", "tc-batch s", "ratio", "paired", "1%-incr s", "touched", "ratio", "no-op s"))
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        lock = os.path.join(tmp, "tc.lock")
        for n in sizes:
            repeat = _repeat(n, repeat_override)
            plan = tp.make_plan(n, nodes=max(4, n // 500), queues=args.queues)
            batch_path = os.path.join(tmp, "tree.batch")
            with open(batch_path, "w") as handle:
                handle.write(tp.tc_batch(plan))
            times = full_apply(plan, repeat, lock, batch_path)
            incr, touched, idle = incremental(plan, repeat, lock)
            full, base = min(times["ours"]), min(times["tc"])
            ratio_full, ratio_incr = full / base, min(incr) / full
            # paired: ours/tc within each repetition (the two ran back to back), median over them
            paired = sorted(o / t for o, t in zip(times["ours"], times["tc"]))[(repeat - 1) // 2]
            print("%8d %3d %9.3f %10.3f %6.3f %7.3f | %9.4f %7d %7.4f | %8.4f" % (
                n, repeat, full, base, ratio_full, paired, min(incr), touched, ratio_incr, idle))
            print("         all runs: ours %s; tc %s" % (" ".join("%.3f" % t for t in times["ours"]),
                                                         " ".join("%.3f" % t for t in times["tc"])))
            if ratio_full > 1.0:
                failed.append("full apply of %d: ratio %.3f > 1.0" % (n, ratio_full))
            if ratio_incr > 0.05:
                failed.append("1%% change of %d: ratio %.4f > 0.05" % (n, ratio_incr))
    print("goals: full apply ratio <= 1.0, 1%% incremental ratio <= 0.05: %s"
          % ("met" if not failed else "NOT met: " + "; ".join(failed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
