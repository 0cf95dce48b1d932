# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ubapi wrapper of the ubilling_cron role against the Ubilling emulator in its own process.

The wrapper is rendered from the role's template as the role renders it, runs as a real
process (sh, curl, logger, flock), and logs to a syslog stand-in socket (this machine has
no syslog daemon), so each test checks exit status, stderr and the syslog line together.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time

import jinja2
import pytest
import yaml

from tests.emulators.syslog_sink import SyslogSink
from tests.integration.ubilling_seed import ROOT, seed_jobs

ROLE = os.path.join(ROOT, "roles", "ubilling_cron")
SERIAL = "UB0f3c9e1d7a5b4c2e8f6a1d3b5c7e9f2a"  # distinctive, so a leak is easy to spot


def role_default_jobs():
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["ubilling_cron_jobs"]


class Wrapper(object):
    """The rendered wrapper, its config and serial files, and the syslog sink it writes to."""

    def __init__(self, tmp_path, server, sink):
        self.tmp_path, self.server, self.sink = tmp_path, server, sink
        self.config = tmp_path / "etc" / "ubapi.conf"
        self.serial_file = tmp_path / "etc" / "ubapi.serial"
        self.path = tmp_path / "bin" / "ubapi"
        for directory in (self.config.parent, self.path.parent, tmp_path / "lock"):
            directory.mkdir(parents=True, exist_ok=True)
        with open(os.path.join(ROLE, "templates", "ubapi.j2"), encoding="utf-8") as handle:
            template = jinja2.Template(handle.read(), keep_trailing_newline=True)
        self.path.write_text(template.render(ubilling_cron_config_path=str(self.config)))
        self.path.chmod(0o755)
        self.write_serial(SERIAL)
        self.configure(server.url + "/billing/")

    def configure(self, url, timeout=30):
        settings = (url, self.serial_file, timeout, self.tmp_path / "lock")
        self.config.write_text(
            "# test config\nUBAPI_URL=%s\nUBAPI_SERIAL_FILE=%s\nUBAPI_TIMEOUT=%d\nUBAPI_CONNECT_TIMEOUT=5\n"
            "UBAPI_LOCK_DIR=%s\nUBAPI_SYSLOG_FACILITY=local3\n" % settings)

    def write_serial(self, serial, mode=0o600):
        self.serial_file.write_text(serial + "\n")
        self.serial_file.chmod(mode)

    def start(self, *args):
        env = dict(os.environ, UBAPI_SYSLOG_SOCKET=self.sink.path)
        return subprocess.Popen([str(self.path)] + list(args), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def run(self, *args):
        """(exit status, stdout, stderr, syslog messages of this call)."""
        process = self.start(*args)
        out, err = process.communicate(timeout=60)
        messages = self.wait_for_syslog(1)
        for text in (out, err) + tuple(m["raw"] for m in messages):
            assert SERIAL not in text
        return process.returncode, out, err, messages

    def wait_for_syslog(self, count):
        """The datagrams logged so far, waiting (bounded) until there are ``count``."""
        deadline = time.monotonic() + 5
        while len(self.sink.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.sink.take()


@pytest.fixture
def ubilling(emulator):
    return emulator("--source", "ubilling", "--subscribers", "20", "--serial", SERIAL, "--timeout-delay", "3")


@pytest.fixture
def wrapper(tmp_path, ubilling):
    with SyslogSink(str(tmp_path / "log.sock")) as sink:
        yield Wrapper(tmp_path, ubilling, sink)


def state(server, **members):
    server.control("POST", "/_emulator/state", members)


def fault(server, kind):
    server.control("POST", "/_emulator/faults", {"kind": kind, "count": 1})


def called(server):
    return [entry["action"] for entry in server.control("GET", "/_emulator/log")]


def only(messages):
    assert len(messages) == 1, messages
    message = messages[0]
    assert (message["tag"], message["facility"]) == ("ubapi", "local3")
    return message


def test_role_defaults_are_the_seeds_crontab():
    jobs = role_default_jobs()
    assert [(job["schedule"], job["action"]) for job in jobs] == seed_jobs()
    assert len({job["name"] for job in jobs}) == 19
    locked = {job["name"] for job in jobs if job["lock"]}
    assert "multigen" in locked and "backupdb" not in locked


def test_shellcheck_clean(wrapper):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed")
    done = subprocess.run(["shellcheck", "-s", "sh", str(wrapper.path)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("schedule, action", seed_jobs(), ids=[job[1].split("&")[0] for job in seed_jobs()])
def test_every_seed_action_succeeds(wrapper, schedule, action):
    rc, out, err, messages = wrapper.run(action)
    assert (rc, out, err) == (0, "", "")
    message = only(messages)
    assert message["severity"] == "info"
    assert message["message"].startswith("action=%s result=ok exit=0 reply=" % action)
    assert called(wrapper.server) == [action.split("&")[0]]
    query = wrapper.server.control("GET", "/_emulator/log")[0]["query"]
    if action.startswith("fullhostscan"):
        assert (query["param"], query["nn"]) == (["traffdiff"], ["1"])


def test_progress_lines_then_ok(wrapper):
    rc, out, err, messages = wrapper.run("swpoll")
    assert rc == 0
    assert only(messages)["message"] == 'action=swpoll result=ok exit=0 reply="OK:SWPOLL"'


def test_error_reply_fails_with_3(wrapper):
    state(wrapper.server, profile="stock")  # stock alter.ini switches multigen off
    rc, out, err, messages = wrapper.run("multigen")
    assert rc == 3
    message = only(messages)
    assert message["severity"] == "err"
    assert message["message"] == 'action=multigen result=error exit=3 reply="ERROR: MULTIGEN DISABLED"'
    assert err == "ubapi: " + message["message"] + "\n"


@pytest.mark.parametrize("change, reply", [
    ({"enabled": False}, "ERROR:API_DISABLED"),
    ({"serial": None}, "ERROR:NO_UBSERIAL_EXISTS"),
])
def test_documented_errors(wrapper, change, reply):
    state(wrapper.server, **change)
    rc, out, err, messages = wrapper.run("backupdb")
    assert rc == 3
    assert only(messages)["message"].endswith('reply="%s"' % reply)


def test_wrong_serial_is_an_error_and_never_shown(wrapper):
    wrong = "UB" + "9" * 32
    wrapper.write_serial(wrong)
    rc, out, err, messages = wrapper.run("backupdb")
    assert rc == 3
    assert only(messages)["message"].endswith('reply="ERROR:GET_WRONG_KEY"')
    assert wrong not in err + messages[0]["raw"]


def test_unknown_action_html_fails_with_4(wrapper):
    rc, out, err, messages = wrapper.run("nosuchaction")
    assert rc == 4
    assert "result=html exit=4" in only(messages)["message"]
    assert called(wrapper.server) == ["nosuchaction"]


@pytest.mark.parametrize("change, result", [({"maintenance": True}, "maintenance"),
                                            ({"stargazer": False}, "unexpected-reply")])
def test_maintenance_and_stargazer_fail_with_6(wrapper, change, result):
    state(wrapper.server, **change)
    rc, out, err, messages = wrapper.run("multigen")
    assert rc == 6
    assert "result=%s exit=6" % result in only(messages)["message"]


def test_json_cut_short_fails_with_6(wrapper):
    fault(wrapper.server, "truncated")
    rc, out, err, messages = wrapper.run("--print", "userside&request=get_tariff_list")
    assert (rc, out) == (6, "")
    assert only(messages)["message"].endswith('result=unexpected-reply exit=6 reason="the JSON reply is cut short"')


def test_unreachable_server_fails_with_7(wrapper):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wrapper.configure("http://127.0.0.1:%d/billing/" % port)
    rc, out, err, messages = wrapper.run("multigen")
    assert rc == 7
    assert "result=unreachable exit=7" in only(messages)["message"]


@pytest.mark.parametrize("kind, rc, message", [
    ("html", 4, 'result=html exit=4 reason="HTML reply: unknown action, or http://127.0.0.1:'),
    ("empty", 5, 'result=empty-reply exit=5 reason="the reply is empty"'),
    ("reset", 7, 'result=unreachable exit=7 reason="the server closed the connection (curl '),
    ("timeout", 7, 'result=unreachable exit=7 reason="no reply within the timeout"'),
    ("500", 8, 'result=http-error exit=8 reason="HTTP status 500"'),
])
def test_faults_map_to_exit_codes(wrapper, kind, rc, message):
    wrapper.configure(wrapper.server.url + "/billing/", timeout=1)  # a "timeout" fault stalls 3 s
    fault(wrapper.server, kind)
    done = wrapper.run("multigen")
    assert done[0] == rc
    logged = only(done[3])
    assert logged["severity"] == "err"
    assert logged["message"].startswith("action=multigen " + message)


def test_json_and_undefined(wrapper):
    rc, out, err, messages = wrapper.run("--print", "userside&request=get_tariff_list")
    assert rc == 0
    assert "Home 25" in json.loads(out)
    assert "reply=JSON bytes=" in only(messages)["message"]
    rc, out, err, messages = wrapper.run("userside&request=get_user_list&customer_id=nobody")
    assert (rc, out) == (0, "")
    assert only(messages)["message"] == "action=userside&request=get_user_list&customer_id=nobody result=ok exit=0 reply=undefined"


def processes():
    """{pid: (command name, parent pid)} of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % entry, encoding="ascii", errors="replace") as handle:
                head, tail = handle.read().rsplit(")", 1)
            table[int(entry)] = (head.split("(", 1)[1], int(tail.split()[1]))
        except (OSError, ValueError, IndexError):
            continue
    return table


def wait_for_curl(process):
    """Wait (bounded) until the wrapper's curl runs: by then the wrapper holds its lock, if any."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        table = processes()
        for name, parent in table.values():
            while name == "curl" and parent > 1:  # curl runs in a subshell of the wrapper
                if parent == process.pid:
                    return
                parent = table.get(parent, ("", 0))[1]
        assert process.poll() is None, "the first run ended before its request"
        time.sleep(0.02)
    raise AssertionError("the first run never started curl")


def test_lock_overlap_skips_with_75(wrapper):
    state(wrapper.server, delays={"multigen": 3})
    first = wrapper.start("--lock", "multigen")
    wait_for_curl(first)
    rc, out, err, messages = wrapper.run("--lock", "multigen")
    assert (rc, err) == (75, "")
    message = only(messages)
    assert message["severity"] == "notice"
    assert message["message"] == ('action=multigen result=locked exit=75 '
                                  'reason="a previous multigen still runs; skipped"')
    assert first.wait(timeout=30) == 0
    assert "result=ok" in only(wrapper.wait_for_syslog(1))["message"]
    assert called(wrapper.server) == ["multigen"]  # the skipped run sent nothing


def test_without_lock_ubillings_own_lock_answers_skip(wrapper):
    state(wrapper.server, delays={"multigen": 3})
    first = wrapper.start("multigen")
    wait_for_curl(first)
    second = wrapper.start("multigen")
    assert (first.wait(timeout=30), second.wait(timeout=30)) == (0, 0)
    results = sorted(m["message"] for m in wrapper.wait_for_syslog(2))
    assert results == ['action=multigen result=ok exit=0 reply="OK: MULTIGEN"',
                       'action=multigen result=skip exit=0 reply="SKIP: MULTIGEN ALREADY RUNNING"']
    assert called(wrapper.server) == ["multigen", "multigen"]


@pytest.mark.parametrize("args", [(), ("multigen", "swping"), ("multigen&key=x",), ("multi gen",),
                                  ('multigen&param="x"',), ("&param=x",), ("--bogus", "multigen")])
def test_usage_errors_send_nothing(wrapper, args):
    rc, out, err, messages = wrapper.run(*args)
    assert rc == 64
    assert err.startswith("Usage: ubapi")
    assert "result=usage-error exit=64 reason=" in only(messages)["message"]
    assert called(wrapper.server) == []


def test_config_errors_fail_with_78(wrapper):
    wrapper.serial_file.unlink()
    rc, out, err, messages = wrapper.run("multigen")
    assert rc == 78
    assert "cannot read the serial file" in only(messages)["message"]
    wrapper.write_serial("not a serial!")
    rc, out, err, messages = wrapper.run("multigen")
    assert rc == 78
    assert "does not hold a serial" in only(messages)["message"]
    wrapper.write_serial(SERIAL)
    wrapper.config.write_text(wrapper.config.read_text() + "UBAPI_BOGUS=1\n")
    rc, out, err, messages = wrapper.run("multigen")
    assert rc == 78
    assert "unknown setting UBAPI_BOGUS" in only(messages)["message"]
    assert called(wrapper.server) == []


def test_readable_serial_file_is_reported(wrapper):
    wrapper.write_serial(SERIAL, mode=0o644)
    process = wrapper.start("multigen")
    assert process.wait(timeout=60) == 0
    messages = wrapper.wait_for_syslog(2)
    assert [m["severity"] for m in messages] == ["warning", "info"]
    assert "should be mode 0600" in messages[0]["message"]
