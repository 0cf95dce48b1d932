# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller-less sync CLI (module_utils/crm/sync.py) as the crm_sync timer runs it: the
collection's module_utils importable as `ispops_utils`, the UISP emulator on loopback, and the
shaper applied into a throw-away netns lab."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading

import pytest

from tests.integration import netns_lab as nl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "uisp-sync-token-3c9e41d07b"
# The systemd unit's ExecStart runs exactly this (roles/crm_sync/templates/isp-ops-crm-sync.service.j2).
ENTRY = "import sys; from ispops_utils.crm import sync; sys.exit(sync.main(sys.argv[1:]))"


class Sync(object):
    """A config, a root-only credentials file, an output dir and a library dir holding ispops_utils."""

    def __init__(self, tmp_path, url, shaper_config=None, **crm):
        self.tmp = tmp_path
        self.out = tmp_path / "out"
        self.out.mkdir()
        library = tmp_path / "lib"
        library.mkdir()
        (library / "ispops_utils").symlink_to(os.path.join(ROOT, "plugins", "module_utils"))
        self.library = library
        self.lock = tmp_path / "crm_sync.lock"
        self.credentials = tmp_path / "credentials.json"
        self.credentials.write_text(json.dumps({"token": TOKEN}))
        self.credentials.chmod(0o600)
        self.config = tmp_path / "crm_sync.json"
        self.write_config(url, shaper_config, **crm)

    def write_config(self, url, shaper_config=None, lock_wait_seconds=0, **crm):
        options = dict(source="uisp", url=url, root_site="Core", strategy="full", output_dir=str(self.out),
                       retries=1, retry_backoff=0.1, timeout=10)
        options.update(crm)
        self.config.write_text(json.dumps({"crm": options, "shaper_config": shaper_config,
                                           "lock_file": str(self.lock), "lock_wait_seconds": lock_wait_seconds}))

    def run(self, env=None):
        environment = dict(os.environ, PYTHONPATH=str(self.library))
        environment.pop("CREDENTIALS_DIRECTORY", None)
        environment.update(env or {})
        # cwd outside the checkout: nothing but PYTHONPATH makes ispops_utils importable
        return subprocess.run([sys.executable, "-c", ENTRY, "--config", str(self.config),
                               "--credentials", str(self.credentials)],
                              cwd=str(self.tmp), env=environment, capture_output=True, text=True, timeout=300,
                              check=False)

    def files(self):
        return dict((name, (self.out / name).read_bytes()) for name in sorted(os.listdir(self.out)))


def lines(proc):
    return proc.stdout + proc.stderr


def test_sync_without_shaper_then_fault_then_bad_secrets(emulator, tmp_path):
    crm = emulator("--source", "uisp", "--subscribers", "60", "--token", TOKEN)
    sync = Sync(tmp_path, crm.url)

    first = sync.run()
    assert first.returncode == 0, lines(first)
    assert "wrote " in first.stdout and "ShapedDevices.csv" in first.stdout
    rows = (sync.out / "ShapedDevices.csv").read_text().splitlines()
    assert len(rows) > 40 and rows[0].startswith("Circuit ID")
    assert json.loads((sync.out / "network.json").read_text())
    before = sync.files()

    crm.control("DELETE", "/_emulator/log")
    crm.control("POST", "/_emulator/faults", {"path": None, "kind": "500"})
    failed = sync.run()
    assert failed.returncode == 1, lines(failed)
    assert "CRM failed, nothing written, shaper untouched: UISP" in failed.stdout
    assert "HTTP 500" in failed.stdout
    assert sync.files() == before
    assert TOKEN not in lines(failed)
    assert [entry["status"] for entry in crm.control("GET", "/_emulator/log")][:1] == [500]
    crm.control("DELETE", "/_emulator/faults")

    # a secret in the world-readable config is refused, and not echoed
    sync.write_config(crm.url, token=TOKEN)
    refused = sync.run()
    assert refused.returncode == 2, lines(refused)
    assert "secret option(s) token" in refused.stdout and TOKEN not in lines(refused)
    assert sync.files() == before


def test_systemd_credential_wins_over_the_file(emulator, tmp_path):
    crm = emulator("--source", "uisp", "--subscribers", "30", "--token", TOKEN)
    sync = Sync(tmp_path, crm.url)
    sync.credentials.write_text(json.dumps({"token": "a-stale-token"}))
    credentials_dir = tmp_path / "credentials"
    credentials_dir.mkdir()
    (credentials_dir / "crm_sync").write_text(json.dumps({"token": TOKEN}))
    done = sync.run(env={"CREDENTIALS_DIRECTORY": str(credentials_dir)})
    assert done.returncode == 0, lines(done)
    assert (sync.out / "ShapedDevices.csv").exists()


def test_overlapping_run_skips_or_waits(emulator, tmp_path):
    crm = emulator("--source", "uisp", "--subscribers", "30", "--token", TOKEN)
    sync = Sync(tmp_path, crm.url)
    with open(sync.lock, "a") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # a run in progress
        crm.control("DELETE", "/_emulator/log")
        skipped = sync.run()
        assert skipped.returncode == 75, lines(skipped)
        assert "skipped: another run holds %s" % sync.lock in skipped.stdout
        assert crm.control("GET", "/_emulator/log") == []
        assert not (sync.out / "ShapedDevices.csv").exists()

        # with a wait, the second start runs once the first releases the lock
        sync.write_config(crm.url, lock_wait_seconds=60)
        waiter = {}
        thread = threading.Thread(target=lambda: waiter.update(proc=sync.run()))
        thread.start()
        fcntl.flock(holder.fileno(), fcntl.LOCK_UN)
        thread.join(120)
    assert waiter["proc"].returncode == 0, lines(waiter["proc"])
    assert (sync.out / "ShapedDevices.csv").exists()


def tc_classes(lab):
    return "".join(nl.run(["tc", "class", "show", "dev", dev], ns=lab.shaper).stdout
                   for dev in (lab.to_internet, lab.to_network))


@pytest.mark.netns
def test_sync_applies_the_shaper_incrementally(emulator, tmp_path):
    reason = nl.skip_reason(classifier=True)
    if reason:
        pytest.skip(reason)
    crm = emulator("--source", "uisp", "--subscribers", "60", "--token", TOKEN)
    with nl.NetnsLab(subscribers=1) as lab:
        state = tmp_path / "state"
        shaper_config = tmp_path / "shaper.json"
        sync = Sync(tmp_path, crm.url, shaper_config=str(shaper_config))
        shaper_config.write_text(json.dumps({
            "bridge": lab.bridge, "to_internet": lab.to_internet, "to_network": lab.to_network, "netns": lab.shaper,
            "downlink_mbps": 1000.0, "uplink_mbps": 1000.0, "sqm": "cake diffserv4", "queues": 0,
            "network_json": str(sync.out / "network.json"), "shaped_devices": str(sync.out / "ShapedDevices.csv"),
            "state_dir": str(state), "bpf_source": os.path.join(ROOT, "bpf", "classifier.c")}))

        first = sync.run()
        assert first.returncode == 0, lines(first)
        assert "isp-ops-shaper: changed:" in first.stdout
        circuits = len((sync.out / "ShapedDevices.csv").read_text().splitlines()) - 1
        classes = tc_classes(lab)
        assert classes.count("class htb") > circuits  # a class per circuit and per node, both ways
        before = sync.files()

        second = sync.run()
        assert second.returncode == 0, lines(second)
        assert "files unchanged in %s" % sync.out in second.stdout
        assert "isp-ops-shaper: no change:" in second.stdout
        assert sync.files() == before and tc_classes(lab) == classes

        crm.control("POST", "/_emulator/faults", {"path": None, "kind": "500"})
        failed = sync.run()
        assert failed.returncode == 1, lines(failed)
        assert "isp-ops-shaper" not in failed.stdout  # no apply after a failed import
        assert sync.files() == before and tc_classes(lab) == classes
        assert TOKEN not in lines(failed)


@pytest.mark.netns
@pytest.mark.playbook
def test_awx_playbook_behaves_like_the_timer(emulator, playbook, recap, tmp_path):
    """playbooks/crm_sync.yml on the lab inventory, its shaper pointed at a throw-away netns lab."""
    reason = nl.skip_reason(classifier=True)
    if reason:
        pytest.skip(reason)
    crm = emulator("--source", "uisp", "--subscribers", "60", "--token", TOKEN)
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    with nl.NetnsLab(subscribers=1) as lab:
        extra = []
        for name, value in (("crm_url", crm.url), ("crm_token", TOKEN), ("crm_retries", 0),
                            ("shaper_netns", lab.shaper), ("shaper_lib_dir", tmp_path / "lib"),
                            ("shaper_config_file", tmp_path / "etc" / "shaper.json")):
            extra += ["-e", "%s=%s" % (name, value)]
        env = {"ISP_OPS_LAB_DIR": str(lab_dir)}

        first = playbook("crm_sync.yml", *extra, env=env)
        assert first.returncode == 0, first.stdout[-3000:]
        assert "isp-ops-shaper: changed:" in first.stdout and recap(first.stdout)["changed"] >= 1
        config = json.loads((lab_dir / "etc" / "crm_sync.json").read_text())
        assert config["crm"]["source"] == "uisp" and "token" not in config["crm"]
        assert oct((lab_dir / "etc" / "crm_sync.credentials.json").stat().st_mode & 0o777) == "0o600"
        classes = tc_classes(lab)
        before = dict((name, (lab_dir / name).read_bytes()) for name in ("ShapedDevices.csv", "network.json"))

        second = playbook("crm_sync.yml", *extra, env=env)
        assert second.returncode == 0, second.stdout[-3000:]
        assert recap(second.stdout)["changed"] == 0
        assert "isp-ops-shaper: no change:" in second.stdout

        with open(lab_dir / "crm_sync.lock", "a") as holder:
            fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
            skipped = playbook("crm_sync.yml", *extra, env=env)
        assert skipped.returncode == 0 and recap(skipped.stdout)["changed"] == 0
        assert "skipped: another run holds" in skipped.stdout

        crm.control("POST", "/_emulator/faults", {"path": None, "kind": "500"})
        failed = playbook("crm_sync.yml", *extra, env=env)
        assert failed.returncode == 2
        assert "CRM failed, nothing written, shaper untouched" in failed.stdout
        assert TOKEN not in failed.stdout + failed.stderr
        assert dict((name, (lab_dir / name).read_bytes()) for name in before) == before
        assert tc_classes(lab) == classes
