# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start and stop one background process by pid file (molecule create/destroy, labs).

    background.py start --pid-file F [--wait-file W] [--log L] [--timeout S] -- ARGV...
    background.py stop --pid-file F

`start` detaches ARGV in its own session, writes its pid, and returns once W exists (the
process writes it when ready), failing with the log's tail if the process exits first or the
timeout passes. `stop` sends SIGTERM to that pid only, waits (bounded), then SIGKILL, and
removes the pid file; a missing pid file or a gone process is not an error, so a destroy step
can always call it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time


def start(args):
    if args.wait_file and os.path.exists(args.wait_file):
        os.remove(args.wait_file)
    with open(args.log or os.devnull, "ab") as log:
        proc = subprocess.Popen(args.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
    with open(args.pid_file, "w", encoding="ascii") as handle:
        handle.write("%d\n" % proc.pid)
    deadline = time.monotonic() + args.timeout
    while args.wait_file and not os.path.exists(args.wait_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = ""
            if args.log and os.path.exists(args.log):
                with open(args.log, encoding="utf-8", errors="replace") as handle:
                    tail = handle.read()[-2000:]
            stop(args)
            print("%s did not get ready (exit %s): %s" % (args.argv[0], proc.poll(), tail), file=sys.stderr)
            return 1
        time.sleep(0.05)
    print("started %s (pid %d)" % (" ".join(args.argv[:3]), proc.pid))
    return 0


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; its parent (not us) may be slow to reap it
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop(args):
    try:
        with open(args.pid_file, encoding="ascii") as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        print("no process to stop (%s)" % args.pid_file)
        return 0
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        if not _alive(pid):
            break
        os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    os.remove(args.pid_file)
    print("stopped pid %d" % pid)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=("start", "stop"))
    parser.add_argument("--pid-file", required=True)
    parser.add_argument("--wait-file")
    parser.add_argument("--log")
    parser.add_argument("--timeout", type=float, default=30.0)
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    args.argv = command
    if args.command == "start" and not args.argv:
        parser.error("start needs the command after --")
    return start(args) if args.command == "start" else stop(args)


if __name__ == "__main__":
    sys.exit(main())
