# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm_topology's code path on 100,000 subscribers, against plain json.loads of the same bytes.

For UISP and for Splynx: the emulator renders its API answers to files once; then, each in a
fresh process so peak RSS is its own, (a) json.loads of every answer (the baseline) and (b) the
module's path from the same bytes: decode, map to the model, build the topology, render and
write ShapedDevices.csv, network.json and graph.dot. Each is run REPEAT times alternately;
the best time of each is compared. Prints the ratio and the peak RSS of (b).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(ROOT, ".venv", "collections"), ROOT]

SETTINGS = {"uisp": {"strategy": "full", "root_site": "Core"}, "splynx": {"strategy": "ap_site"}}


def _file_name(target):
    return target.strip("/").split("?", 1)[0].replace("/", "_") + ".json"


def generate(source, subscribers, directory):
    from tests.emulators.labnet import generate as generate_network
    network = generate_network(subscribers, seed=7)
    if source == "uisp":
        from tests.emulators.uisp import UispEmulator
        emulator = UispEmulator(network, "bench")
    else:
        from tests.emulators.splynx import SplynxEmulator
        emulator = SplynxEmulator(network, "bench", "bench")
    sizes = {}
    for target, body in emulator.payloads().items():
        with open(os.path.join(directory, _file_name(target)), "wb") as out:
            out.write(body)
        sizes[target] = len(body)
    return sizes


def _read_all(directory):
    result = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json"):
            with open(os.path.join(directory, name), "rb") as handle:
                result[name] = handle.read()
    return result


def baseline(directory):
    bodies = _read_all(directory)
    start = time.perf_counter()
    for body in bodies.values():
        json.loads(body)
    return time.perf_counter() - start


def module_path(source, directory, out_dir):
    from ansible_collections.isp.ops.plugins.module_utils.crm import http, sources
    from ansible_collections.isp.ops.plugins.module_utils.topology import publish
    from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings
    client = sources.SOURCES[source]
    bodies = _read_all(directory)
    start = time.perf_counter()
    settings = Settings(**SETTINGS[source])
    payloads = {}
    for key, path in client.ENDPOINTS.items():
        full = (getattr(client, "API", "") + path) if not path.startswith(client.API) else path
        name = _file_name(full)
        if name in bodies:
            payloads[key] = http.decode_body(client.SOURCE, path, 200, "application/json", bodies.pop(name), list)
    topology, plan = sources.build_outputs(source, payloads, settings, out_dir, overwrite_network_json=True)
    publish.write_outputs(plan)
    elapsed = time.perf_counter() - start
    return elapsed, topology.stats()


def child(args):
    if args.child == "baseline":
        elapsed, stats = baseline(args.dir), {}
    else:
        with tempfile.TemporaryDirectory() as out_dir:
            elapsed, stats = module_path(args.source, args.dir, out_dir)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "peak_rss_mib": peak_kib / 1024.0, "stats": stats}))


def run_child(kind, source, directory):
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--source", source, "--dir", directory],
                         check=True, capture_output=True, text=True, timeout=900).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--sources", default="uisp,splynx")
    parser.add_argument("--child", choices=("baseline", "module"))
    parser.add_argument("--source")
    parser.add_argument("--dir")
    args = parser.parse_args()
    if args.child:
        return child(args)
    for source in args.sources.split(","):
        with tempfile.TemporaryDirectory() as directory:
            sizes = generate(source, args.subscribers, directory)
            base, mine = [], []
            for dummy in range(args.repeat):
                base.append(run_child("baseline", source, directory))
                mine.append(run_child("module", source, directory))
            best_base = min(r["seconds"] for r in base)
            best = min(mine, key=lambda r: r["seconds"])
            print("%-6s %d subscribers, %.0f MB of JSON: module path %.2f s, json.loads %.2f s, "
                  "ratio %.2f (goal <= 3); peak RSS %.0f MiB (goal <= 1024); %s"
                  % (source, args.subscribers, sum(sizes.values()) / 1e6, best["seconds"], best_base,
                     best["seconds"] / best_base, max(r["peak_rss_mib"] for r in mine), best["stats"]))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
