# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The syslog stand-in: what util-linux logger sends to it, parsed as a syslog daemon would."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.emulators.syslog_sink import SyslogSink, parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.mark.parametrize("raw, expected", [
    (b'<14>Nov 27 08:05:21 ubapi: action=multigen result=ok exit=0 reply="OK: MULTIGEN"',
     ("user", "info", "ubapi", 'action=multigen result=ok exit=0 reply="OK: MULTIGEN"')),
    (b"<155>Nov  7 08:05:21 host ubapi[123]: x: y\n", ("local3", "err", "ubapi", "x: y")),
    (b'<12>1 2026-11-27T08:05:21.187325+00:00 vm ubapi - - [timeQuality tzKnown="1"] hello 5424',
     ("user", "warning", "ubapi", "hello 5424")),
    (b"<13>1 2026-11-27T08:05:21Z vm ubapi 42 - - no structured data", ("user", "notice", "ubapi", "no structured data")),
    (b"not syslog at all", (None, None, None, "not syslog at all")),
])
def test_parse(raw, expected):
    entry = parse(raw)
    assert (entry["facility"], entry["severity"], entry["tag"], entry["message"]) == expected


@pytest.mark.skipif(not shutil.which("logger"), reason="util-linux logger is not installed")
@pytest.mark.parametrize("form", ["--rfc3164", "--rfc5424"])
def test_logger_lines_arrive_parsed(tmp_path, form):
    with SyslogSink(str(tmp_path / "log.sock")) as sink:
        for priority, text in (("local3.notice", "first: line"), ("user.err", "second")):
            subprocess.run(["logger", form, "-u", sink.path, "-t", "ubapi", "-p", priority, "--", text], check=True)
        deadline = time.monotonic() + 5
        while len(sink.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        taken = sink.take()
    assert [(m["facility"], m["severity"], m["tag"], m["message"]) for m in taken] == [
        ("local3", "notice", "ubapi", "first: line"), ("user", "err", "ubapi", "second")]
    assert sink.take() == []
    assert not os.path.exists(sink.path)


@pytest.mark.skipif(not shutil.which("logger"), reason="util-linux logger is not installed")
def test_standalone_writes_json_lines_until_sigterm(tmp_path):
    sock, out = tmp_path / "log.sock", tmp_path / "syslog.jsonl"
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "emulators", "syslog_sink.py"),
                                "--socket", str(sock), "--out", str(out), "--max-seconds", "60"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == str(sock)
        subprocess.run(["logger", "-u", str(sock), "-t", "ubapi", "hello"], check=True)
        deadline = time.monotonic() + 5
        while not (out.exists() and out.read_text()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [json.loads(line)["message"] for line in out.read_text().splitlines()] == ["hello"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert not sock.exists()
