# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm_topology's code path for every CRM source, against plain json.loads of the same bytes.

First the CRM's answers are rendered to files once. UISP and Splynx (100,000 subscribers by
default) render theirs in memory (the emulator's payloads()); the other sources (20,000 by
default) are served by their emulator on 127.0.0.1 and fetched once through sources.fetch (as
crm_topology calls it), recording each answer's bytes: one per GET, one per form action
(Powercode), one per page of each GraphQL query (Sonar), Ubilling's text/html JSON as it comes.

Then, each in a fresh process so peak RSS is its own, (a) json.loads of every recorded answer
(the baseline) and (b) the module's path from the same bytes: sources.fetch on a session
that replays the recorded answers instead of sending requests (so it decodes, checks and wraps
them exactly as on the wire: JsonArray, Rows, pages, Ubilling's reply parser), map to the model,
build the topology, render and write ShapedDevices.csv, network.json and graph.dot. Each is run
REPEAT times alternately; the best time of each is compared. Prints the ratio and the peak RSS
of (b).

Measured on a noisy 2-core VM, 2026-11 (ratio of best times, peak RSS of (b)). One run at
100,000 subscribers: uisp 0.46, 600 MiB; splynx 3.25, 536 MiB. Three runs at 20,000: netzur
7.6-8.5, 84 MiB; wispgate 4.2-6.1, 116 MiB; powercode 2.6-2.8, 116 MiB; sonar 5.6, 251 MiB;
ubilling 0.99, 306 MiB (both with the collector paused during the fetch). Details in
docs/crm.md, Performance.
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

ALL_SOURCES = ("uisp", "splynx", "netzur", "wispgate", "powercode", "sonar", "ubilling")
IN_MEMORY = ("uisp", "splynx")  # their emulators render every answer without a server
DEFAULT_SUBSCRIBERS = {"uisp": 100000, "splynx": 100000}
OTHER_SUBSCRIBERS = 20000
SETTINGS = {"uisp": {"strategy": "full", "root_site": "Core"}, "splynx": {"strategy": "ap_site"}}
SECRET = "bench"
REPLAY_URL = "http://127.0.0.1:9"  # never contacted: the replaying session sends nothing
INDEX = "index.json"


def request_key(method, url, kwargs):
    """One recorded answer per request: method, URL and the form or JSON body it sent."""
    return json.dumps([method, url, kwargs.get("data"), kwargs.get("json")], sort_keys=True)


def settings_for(source):
    from ansible_collections.isp.ops.plugins.module_utils.crm import sources
    from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings
    return Settings(**SETTINGS.get(source, {"strategy": sources.default_strategy(source)}))


def emulator_and_params(source, network):
    """The emulator of a source and the crm_topology options pointing at it."""
    if source == "netzur":
        from tests.emulators.netzur import PATH, NetzurEmulator
        emulator = NetzurEmulator(network, SECRET).start()
        return emulator, {"url": emulator.url + PATH, "api_key": SECRET}
    if source == "wispgate":
        from tests.emulators.wispgate import WispGateEmulator
        emulator = WispGateEmulator(network, SECRET).start()
        return emulator, {"url": emulator.url, "token": SECRET}
    if source == "powercode":
        from tests.emulators.powercode import PowercodeEmulator
        emulator = PowercodeEmulator(network, SECRET).start()
        return emulator, {"url": emulator.url, "api_key": SECRET}
    if source == "sonar":
        from tests.emulators.sonar import AIRMAX_AP_MODEL_IDS, LTU_AP_MODEL_IDS, SonarEmulator
        emulator = SonarEmulator(network, SECRET).start()
        return emulator, {"url": emulator.url, "token": SECRET, "sonar_airmax_ap_model_ids": list(AIRMAX_AP_MODEL_IDS),
                          "sonar_ltu_ap_model_ids": list(LTU_AP_MODEL_IDS)}
    if source == "ubilling":
        from tests.emulators.ubilling import UbillingEmulator
        emulator = UbillingEmulator(network).start()
        return emulator, {"url": emulator.url, "serial": emulator.serial}
    raise ValueError("no emulator for %s" % source)


def full_params(source, params):
    from ansible_collections.isp.ops.plugins.module_utils.crm import options
    return options.with_defaults(dict(params, source=source, output_dir="/nonexistent"))


class Recording(object):
    """Answers on disk: one file per request, and index.json (request key -> file, status, type)."""

    def __init__(self, directory):
        self.directory = directory
        self.index = {}

    def add(self, key, status, content_type, body):
        name = "%04d.json" % len(self.index)
        with open(os.path.join(self.directory, name), "wb") as out:
            out.write(body)
        self.index[key] = {"file": name, "status": status, "content_type": content_type}

    def save(self, params):
        with open(os.path.join(self.directory, INDEX), "w", encoding="utf-8") as out:
            json.dump({"params": params, "answers": self.index}, out)

    def sizes(self):
        return [os.path.getsize(os.path.join(self.directory, entry["file"])) for entry in self.index.values()]


def generate(source, subscribers, directory):
    """Render the source's answers to files once; returns their sizes."""
    from tests.emulators.labnet import generate as generate_network
    network = generate_network(subscribers, seed=7)
    recording = Recording(directory)
    if source in IN_MEMORY:
        if source == "uisp":
            from tests.emulators.uisp import UispEmulator
            emulator = UispEmulator(network, SECRET)
            params = {"url": REPLAY_URL, "token": SECRET}
        else:
            from tests.emulators.splynx import SplynxEmulator
            emulator = SplynxEmulator(network, SECRET, SECRET)
            params = {"url": REPLAY_URL, "api_key": SECRET, "api_secret": SECRET}
        for target, body in emulator.payloads().items():
            recording.add(request_key("GET", REPLAY_URL + target, {}), 200, emulator.json_content_type, body)
    else:
        from ansible_collections.isp.ops.plugins.module_utils.crm import sources
        emulator, params = emulator_and_params(source, network)
        try:
            session = sources.open_session(source, full_params(source, params))
            send = session.request

            def record(method, path, endpoint=None, **kwargs):
                response = send(method, path, endpoint, **kwargs)
                url = path if path.startswith(("http://", "https://")) else session.base_url + path
                recording.add(request_key(method, url, kwargs), response.status_code,
                              response.headers.get("Content-Type", ""), response.content)
                return response

            session.request = record
            sources.fetch(source, full_params(source, params), settings_for(source), session)
        finally:
            emulator.stop()
    recording.save(params)
    return recording.sizes()


class ReplayedResponse(object):
    """What CrmSession.request returns, as far as the sources read it."""

    def __init__(self, status_code, content_type, content):
        self.status_code = status_code
        self.headers = {"Content-Type": content_type}
        self.content = content


def _read_recording(directory):
    with open(os.path.join(directory, INDEX), encoding="utf-8") as handle:
        recorded = json.load(handle)
    bodies = {}
    for key, entry in recorded["answers"].items():
        with open(os.path.join(directory, entry["file"]), "rb") as handle:
            bodies[key] = handle.read()
    return recorded, bodies


def baseline(directory):
    dummy, bodies = _read_recording(directory)
    start = time.perf_counter()
    for body in bodies.values():
        json.loads(body)
    return time.perf_counter() - start


def module_path(source, directory, out_dir):
    from ansible_collections.isp.ops.plugins.module_utils.crm import sources
    from ansible_collections.isp.ops.plugins.module_utils.topology import publish
    recorded, bodies = _read_recording(directory)
    params = full_params(source, recorded["params"])
    session = sources.open_session(source, params)

    def replay(method, path, endpoint=None, **kwargs):
        url = path if path.startswith(("http://", "https://")) else session.base_url + path
        key = request_key(method, url, kwargs)
        if key not in bodies:
            raise RuntimeError("no recorded answer for %s" % key)
        entry = recorded["answers"][key]
        return ReplayedResponse(entry["status"], entry["content_type"], bodies.pop(key))  # served once, then freed

    session.request = replay
    start = time.perf_counter()
    settings = settings_for(source)
    payloads = sources.fetch(source, params, settings, session)
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


def parse_sources(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ALL_SOURCES]
    if unknown or not names:
        raise argparse.ArgumentTypeError("unknown source(s) %s; choose from %s"
                                         % (", ".join(unknown) or "none", ",".join(ALL_SOURCES)))
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=None,
                        help="generated subscribers (default: 100000 for uisp and splynx, %d for the others)"
                        % OTHER_SUBSCRIBERS)
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of each; the best counts")
    parser.add_argument("--sources", type=parse_sources, default=list(ALL_SOURCES),
                        help="comma separated, of %s (default: all)" % ",".join(ALL_SOURCES))
    parser.add_argument("--child", choices=("baseline", "module"), help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    for source in args.sources:
        subscribers = args.subscribers or DEFAULT_SUBSCRIBERS.get(source, OTHER_SUBSCRIBERS)
        with tempfile.TemporaryDirectory() as directory:
            sizes = generate(source, subscribers, directory)
            base, mine = [], []
            for dummy in range(args.repeat):
                base.append(run_child("baseline", source, directory))
                mine.append(run_child("module", source, directory))
            best_base = min(r["seconds"] for r in base)
            best = min(mine, key=lambda r: r["seconds"])
            print("%-9s %d subscribers, %d answers, %.1f MB of JSON: module path %.2f s, json.loads %.2f s, "
                  "ratio %.2f (goal <= 3); peak RSS %.0f MiB (goal <= 1024); %s"
                  % (source, subscribers, len(sizes), sum(sizes) / 1e6, best["seconds"], best_base,
                     best["seconds"] / best_base, max(r["peak_rss_mib"] for r in mine), best["stats"]))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
