# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a Splynx, UISP, Ubilling or OMniLeads emulator on 127.0.0.1 until SIGTERM/SIGINT.

Example:
    python tests/emulators/serve.py --source uisp --token T --subscribers 500 --port-file /tmp/port
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make "tests.emulators" importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.emulators.httpbase import LOOPBACK_HOST  # noqa: E402
from tests.emulators.labnet import generate  # noqa: E402
from tests.emulators.netzur import NetzurEmulator  # noqa: E402
from tests.emulators.powercode import PowercodeEmulator  # noqa: E402
from tests.emulators.sonar import SonarEmulator  # noqa: E402
from tests.emulators.wispgate import WispGateEmulator  # noqa: E402
from tests.emulators.omnileads import OmniLeadsEmulator  # noqa: E402
from tests.emulators.splynx import SplynxEmulator  # noqa: E402
from tests.emulators.ubilling import UbillingEmulator  # noqa: E402
from tests.emulators.uisp import UispEmulator  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("splynx", "uisp", "ubilling", "omnileads", "netzur", "wispgate", "powercode", "sonar"), required=True)
    parser.add_argument("--host", default=LOOPBACK_HOST, help="only 127.0.0.1 is accepted")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port-file", help="write the bound port here")
    parser.add_argument("--api-key", default="lab-key")
    parser.add_argument("--api-secret", default="lab-secret")
    parser.add_argument("--token", default="lab-token")
    parser.add_argument("--username", default="admin", help="omnileads: API user")
    parser.add_argument("--password", default="admin-pass", help="omnileads: API password")
    parser.add_argument("--trunks", default="issabel", help="omnileads: comma-separated SIP trunk names")
    parser.add_argument("--serial", default=None, help="ubilling: the serial (default: a fixed lab serial; "
                        "'' = no serial exists yet)")
    parser.add_argument("--exports-dir", default=None, help="ubilling: where identify&param=save writes ubserial")
    parser.add_argument("--log-file", default=None, help="ubilling: append each request here as a JSON line")
    parser.add_argument("--profile", choices=("lab", "stock"), default="lab", help="ubilling: alter.ini switches")
    parser.add_argument("--timeout-delay", type=float, default=5.0, help="seconds a 'timeout' fault stalls")
    parser.add_argument("--max-seconds", type=float, default=None, help="exit after this long (safety net)")
    return parser.parse_args(argv)


def write_port_file(path: str, port: int) -> None:
    """Write atomically so a poller never reads a half-written file."""
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="ascii") as handle:
        handle.write(f"{port}\n")
    os.replace(temporary, path)


def build(args: argparse.Namespace):
    options = {"host": args.host, "port": args.port, "timeout_delay": args.timeout_delay}
    if args.source == "omnileads":
        trunks = [name for name in args.trunks.split(",") if name]
        return OmniLeadsEmulator(args.username, args.password, trunks, **options)
    network = generate(args.subscribers, args.seed)
    if args.source == "ubilling":
        return UbillingEmulator(network, args.serial, exports_dir=args.exports_dir, log_file=args.log_file,
                                profile=args.profile, **options)
    if args.source == "splynx":
        return SplynxEmulator(network, args.api_key, args.api_secret, **options)
    if args.source == "sonar":
        return SonarEmulator(network, args.token, **options)
    if args.source in ("netzur", "powercode"):  # --api-key is the Bearer token / the apiKey form field
        emulator = NetzurEmulator if args.source == "netzur" else PowercodeEmulator
        return emulator(network, args.api_key, **options)
    if args.source == "wispgate":
        return WispGateEmulator(network, args.token, **options)
    return UispEmulator(network, args.token, **options)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.host not in (LOOPBACK_HOST, "localhost"):
        print(f"refusing to bind to {args.host!r}: emulators listen on {LOOPBACK_HOST} only", file=sys.stderr)
        return 2
    args.host = LOOPBACK_HOST
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    emulator = build(args).start()
    try:
        if args.port_file:
            write_port_file(args.port_file, emulator.bound_port)
        print(emulator.url, flush=True)
        stop.wait(args.max_seconds)
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
