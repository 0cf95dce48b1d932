# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for end-to-end runs: an emulator in its own process, and ansible-playbook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")


class EmulatorProcess(object):
    """tests/emulators/serve.py in a subprocess, controlled over its /_emulator endpoints."""

    def __init__(self, tmp_path, *args):
        port_file = tmp_path / "emulator.port"
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "emulators", "serve.py"), "--port", "0",
             "--port-file", str(port_file), "--max-seconds", "600"] + list(args),
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("emulator did not start: %s" % self.process.stderr.read())
            time.sleep(0.05)
        self.url = "http://127.0.0.1:%s" % port_file.read_text().strip()

    def control(self, method, path, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def emulator(tmp_path):
    started = []

    def start(*args):
        process = EmulatorProcess(tmp_path, *args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def out(tmp_path):
    """An empty output directory for crm_topology runs (tmp_path itself holds the emulator's files)."""
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


@pytest.fixture
def playbook():
    """Run a playbook of this checkout with its ansible.cfg; returns CompletedProcess."""

    def run(name, *args, inventory="inventories/lab/hosts.yml", env=None):
        environment = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
                           ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
                           PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
        environment.update(env or {})
        command = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory,
                   os.path.join("playbooks", name)] + list(args)
        return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True,
                              timeout=600, stdin=subprocess.DEVNULL, check=False)

    return run


@pytest.fixture
def recap():
    return play_recap


def play_recap(output):
    """The PLAY RECAP counters of the first host: {'ok': 3, 'changed': 1, ...}."""
    for line in output.splitlines():
        if " : ok=" in line:
            return dict((k, int(v)) for k, v in (pair.split("=") for pair in line.split(":", 1)[1].split()))
    raise AssertionError("no PLAY RECAP in output:\n" + output[-3000:])
