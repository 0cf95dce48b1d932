# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm/sync.py in-process against the UISP emulator: config and credential checks, the lock,
secret scrubbing, and what each failure leaves behind (tests/integration/test_crm_sync.py runs it
as the timer does, with the shaper)."""

from __future__ import annotations

import fcntl
import json
import os

import pytest

from ansible_collections.isp.ops.plugins.module_utils.crm import sync


class Run(object):
    def __init__(self, tmp_path, server, token):
        self.out = tmp_path / "out"
        self.out.mkdir()
        self.config = tmp_path / "crm_sync.json"
        self.credentials = tmp_path / "credentials.json"
        self.lock = tmp_path / "lock"
        self.credentials.write_text(json.dumps({"token": token}))
        self.credentials.chmod(0o600)
        self.write(crm=dict(source="uisp", url=server.url, root_site="Core", output_dir=str(self.out), retries=0,
                            timeout=5))

    def write(self, **config):
        config.setdefault("lock_file", str(self.lock))
        self.config.write_text(json.dumps(config))
        self.settings = config

    def __call__(self, capsys):
        status = sync.main(["--config", str(self.config), "--credentials", str(self.credentials)])
        return status, capsys.readouterr().out

    def files(self):
        return dict((name, (self.out / name).read_bytes()) for name in sorted(os.listdir(self.out)))


@pytest.fixture
def run(tmp_path, uisp, crm, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    return Run(tmp_path, uisp, crm.TOKEN)


def test_import_then_nothing_to_change(run, capsys):
    status, out = run(capsys)
    assert status == sync.EXIT_OK, out
    assert sorted(run.files()) == ["ShapedDevices.csv", "graph.dot", "network.json"]
    before = run.files()
    status, out = run(capsys)
    assert status == sync.EXIT_OK and "files unchanged in %s" % run.out in out
    assert run.files() == before


def test_failed_apply_keeps_the_written_files_and_exits_3(run, capsys, tmp_path):
    run.write(crm=run.settings["crm"], shaper_config=str(tmp_path / "missing-shaper.json"))
    status, out = run(capsys)
    assert status == sync.EXIT_APPLY, out
    assert "isp-ops-shaper: cannot read" in out and "the next run applies again" in out
    assert (run.out / "ShapedDevices.csv").exists()


@pytest.mark.parametrize("kind", ["401", "500", "reset", "html"])
def test_crm_failure_writes_nothing(run, capsys, uisp, crm, kind):
    assert run(capsys)[0] == sync.EXIT_OK
    before = run.files()
    uisp.set_fault(None, kind)
    status, out = run(capsys)
    assert status == sync.EXIT_CRM, out
    assert "CRM failed, nothing written, shaper untouched: UISP" in out
    assert run.files() == before and crm.TOKEN not in out


def test_lock_held_elsewhere_skips_without_calling_the_crm(run, capsys, uisp):
    with open(run.lock, "a") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        status, out = run(capsys)
    assert status == sync.EXIT_LOCKED
    assert "skipped: another run holds %s (waited 0 s)" % run.lock in out
    assert uisp.requests == [] and run.files() == {}


def test_acquire_waits_then_gives_up(tmp_path):
    path = tmp_path / "lock"
    with open(path, "a") as holder, open(path, "a") as other:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        assert sync.acquire(other, 0.2) is False
        fcntl.flock(holder.fileno(), fcntl.LOCK_UN)
        assert sync.acquire(other, 0) is True


@pytest.mark.parametrize("config, message", [
    ({"crm": {"source": "uisp", "url": "http://127.0.0.1:9", "output_dir": "/nonexistent-dir"}},
     "output_dir /nonexistent-dir does not exist"),
    ({"crm": {"source": "uisp", "output_dir": "."}}, "source=uisp needs the options: url"),
    ({"crm": "uisp"}, "'crm' must be an object"),
    ({"crm": {}, "schedule": 5}, "unknown key(s) schedule"),
    ({"crm": {"source": "uisp", "url": "http://127.0.0.1:9", "output_dir": ".", "colour": 1}},
     "unknown option(s): colour"),
    ({"crm": {"source": "uisp", "url": "http://127.0.0.1:9", "output_dir": "."}, "lock_wait_seconds": "x"},
     "lock_wait_seconds must be a number"),
])
def test_bad_config_does_nothing(run, capsys, config, message):
    run.write(**config)
    status, out = run(capsys)
    assert status == sync.EXIT_CONFIG
    assert "bad configuration, nothing done" in out and message in out


def test_secrets_stay_out_of_the_config_and_the_log(run, capsys, crm):
    run.write(crm=dict(run.settings["crm"], token=crm.TOKEN))
    status, out = run(capsys)
    assert status == sync.EXIT_CONFIG and "secret option(s) token" in out and crm.TOKEN not in out

    run.credentials.write_text(json.dumps({"token": crm.TOKEN, "url": "http://elsewhere"}))
    run.write(crm=dict(run.settings["crm"], token=None))
    status, out = run(capsys)
    assert status == sync.EXIT_CONFIG and "options that are not secrets: url" in out

    log = sync.Log()
    log.secrets = [crm.TOKEN]
    log("reason: %s rejected" % crm.TOKEN)
    assert capsys.readouterr().out == "isp-ops-crm-sync: reason: ******** rejected\n"


def test_world_readable_credentials_warn(run, capsys):
    run.credentials.chmod(0o644)
    status, out = run(capsys)
    assert status == sync.EXIT_OK
    assert "is accessible to group or others (mode 0644); make it 0600" in out


def test_systemd_credential_is_preferred(run, capsys, tmp_path, monkeypatch, crm):
    run.credentials.write_text(json.dumps({"token": "stale"}))
    directory = tmp_path / "creds"
    directory.mkdir()
    (directory / "crm_sync").write_text(json.dumps({"token": crm.TOKEN}))
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(directory))
    status, out = run(capsys)
    assert status == sync.EXIT_OK, out


def test_the_log_names_the_crm_host_only():
    assert sync._host_of("https://user:pw@crm.example.net:8443/api/v1?key=abc") == "https://crm.example.net:8443"
    assert sync._host_of("http://[::1]:8080/x") == "http://[::1]:8080"
