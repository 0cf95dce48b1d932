# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A syslog daemon stand-in: a Unix datagram socket that `logger -u PATH` writes to.

The test machine runs neither rsyslog nor journald (no /dev/log), so tests point a program's
logger at this socket and read back what a syslog daemon would have received: facility, severity,
tag and message of each datagram (RFC 3164 or RFC 5424, as util-linux logger sends them).

Run standalone (molecule) it appends each message to a JSON-lines file until SIGTERM:
    python tests/emulators/syslog_sink.py --socket /tmp/x/log.sock --out /tmp/x/syslog.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import sys
import threading

SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
FACILITIES = {0: "kern", 1: "user", 2: "mail", 3: "daemon", 4: "auth", 5: "syslog", 6: "lpr", 7: "news",
              8: "uucp", 9: "cron", 10: "authpriv", 11: "ftp", **{16 + n: f"local{n}" for n in range(8)}}
# <PRI>Mmm dd hh:mm:ss TAG[pid]: MSG  (RFC 3164; the hostname is left out on local sockets)
RFC3164 = re.compile(r"^<(?P<pri>\d{1,3})>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (?:\S+ )?(?P<tag>[^:\[\s]+)(?:\[\d+\])?: ?(?P<msg>.*)$",
                     re.S)
# <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG  (RFC 5424)
RFC5424 = re.compile(r"^<(?P<pri>\d{1,3})>1 \S+ \S+ (?P<tag>\S+) \S+ \S+ (?:-|\[.*?\]) ?(?P<msg>.*)$", re.S)


def parse(datagram: bytes) -> dict:
    """One received datagram as {facility, severity, tag, message, raw}."""
    raw = datagram.decode("utf-8", "replace").rstrip("\n")
    match = RFC5424.match(raw) or RFC3164.match(raw)
    if not match:
        return {"facility": None, "severity": None, "tag": None, "message": raw, "raw": raw}
    pri = int(match.group("pri"))
    return {"facility": FACILITIES.get(pri >> 3, str(pri >> 3)), "severity": SEVERITIES[pri & 7],
            "tag": match.group("tag"), "message": match.group("msg"), "raw": raw}


class SyslogSink(object):
    """Receive datagrams on ``path`` in a thread; ``messages`` lists them, oldest first."""

    def __init__(self, path: str, out: str | None = None) -> None:
        self.path, self.out = path, out
        self.messages: list[dict] = []
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._thread: threading.Thread | None = None

    def start(self) -> "SyslogSink":
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._socket.bind(self.path)
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="syslog-sink", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                datagram = self._socket.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            entry = parse(datagram)
            with self._lock:
                self.messages.append(entry)
                if self.out:
                    with open(self.out, "a", encoding="utf-8") as handle:
                        handle.write(json.dumps(entry) + "\n")

    def take(self) -> list[dict]:
        """The messages received so far, clearing the list."""
        with self._lock:
            taken, self.messages = self.messages, []
        return taken

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._thread = None
        self._socket.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def __enter__(self) -> "SyslogSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, help="the Unix datagram socket to create")
    parser.add_argument("--out", required=True, help="append each message here as a JSON line")
    parser.add_argument("--max-seconds", type=float, default=900, help="exit after this long (safety net)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with SyslogSink(args.socket, args.out):
        print(args.socket, flush=True)
        stop.wait(args.max_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
