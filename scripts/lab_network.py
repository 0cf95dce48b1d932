# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's network, for `make demo` and the molecule scenarios (root, iproute2, iperf3).

    lab_network.py up --prefix isplab --subscribers 3     namespaces, bridge br0, subscribers
    lab_network.py adopt --prefix isplab --csv FILE       give sub1..N the addresses of N circuits
    lab_network.py measure --prefix isplab --subscriber 1 download rate of one subscriber
    lab_network.py down --prefix isplab                   remove everything with that prefix

The shaper namespace is <prefix>-shaper with to_internet, to_network and bridge br0; see
tests/integration/netns_lab.py for the layout. All addresses live only in these namespaces.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "integration"))

from netns_lab import INET_V4, NetnsLab, cleanup_stale, list_netns, run  # noqa: E402


def lab_for(args):
    lab = NetnsLab(subscribers=args.subscribers, prefix=args.prefix)
    return lab


def up(args):
    if any(ns.startswith(args.prefix + "-") for ns in list_netns()):
        print("lab %s is already up" % args.prefix)
        return 0
    lab_for(args).build()
    print("lab %s up: shaper namespace %s-shaper, %d subscribers" % (args.prefix, args.prefix, args.subscribers))
    return 0


def adopt(args):
    """Give subscriber K the first IPv4 address of the K-th suitable circuit of the CSV."""
    chosen = []
    with open(args.csv, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            ips = [ip.strip() for ip in row["IPv4"].split(",") if ip.strip()]
            # a plain single address, a parent node, and a real plan (not a suspended 0.1 Mbps one)
            if (len(ips) == 1 and "/" not in ips[0] and ips[0] != INET_V4 and row["Parent Node"]
                    and float(row["Download Max Mbps"]) >= 5):
                chosen.append(row)
            if len(chosen) == args.subscribers:
                break
    result = []
    lab = lab_for(args)
    for index, row in enumerate(chosen, 1):
        ns = "%s-sub%d" % (args.prefix, index)
        address = row["IPv4"].strip()
        _drop_adopted(ns, keep=set(lab.subscribers[index - 1].ipv4) | {address})
        existing = run(["ip", "-n", ns, "-j", "addr", "show", "dev", "eth0"]).stdout
        if '"%s"' % address not in existing:
            run(["ip", "-n", ns, "addr", "add", address + "/10", "dev", "eth0"])
        result.append({"subscriber": index, "namespace": ns, "address": address, "circuit": row["Circuit ID"],
                       "name": row["Circuit Name"], "parent": row["Parent Node"],
                       "download_max_mbps": float(row["Download Max Mbps"])})
    run(["ip", "-n", lab.inet, "neigh", "flush", "all"])  # forget where moved addresses used to live
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    print("adopted %d circuits into the subscriber namespaces (%s)" % (len(result), args.out))
    return 0


def _drop_adopted(ns, keep):
    """Remove IPv4 addresses an earlier adopt gave this namespace (a re-run may pick others)."""
    shown = json.loads(run(["ip", "-n", ns, "-j", "-4", "addr", "show", "dev", "eth0"]).stdout or "[]")
    for link in shown:
        for info in link.get("addr_info", []):
            if info["local"] not in keep:
                run(["ip", "-n", ns, "addr", "del", "%s/%s" % (info["local"], info["prefixlen"]), "dev", "eth0"])


def measure(args):
    """Download rate of one subscriber (iperf3 -R, bounded), as JSON on stdout."""
    lab = lab_for(args)
    ns = "%s-sub%d" % (args.prefix, args.subscriber)
    server = lab.iperf3_server(args.port, ns=lab.inet)
    try:
        result = lab.iperf3_client(ns, INET_V4, args.port, seconds=args.seconds, reverse=True,
                                   bind=args.address)
    finally:
        server.kill()
        server.wait(timeout=5)
    print(json.dumps({"subscriber": args.subscriber, "download_mbps": round(result.s2c_mbps, 2)}))
    return 0


def down(args):
    cleanup_stale(args.prefix)
    print("lab %s removed" % args.prefix)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=("up", "adopt", "measure", "down"))
    parser.add_argument("--prefix", default="isplab")
    parser.add_argument("--subscribers", type=int, default=3)
    parser.add_argument("--csv", help="ShapedDevices.csv (adopt)")
    parser.add_argument("--out", default="lab-subscribers.json", help="where adopt writes what it chose")
    parser.add_argument("--subscriber", type=int, default=1)
    parser.add_argument("--address", help="source address of the measurement")
    parser.add_argument("--port", type=int, default=5299)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args(argv)
    return {"up": up, "adopt": adopt, "measure": measure, "down": down}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
