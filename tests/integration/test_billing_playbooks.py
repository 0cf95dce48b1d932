# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/billing.yml and billing_action.yml on the lab inventory, against the Ubilling emulator.

The lab's billing host is this machine: the role writes everything under ISP_OPS_LAB_DIR (here a
temporary directory), its cron entries go to a cron file there, which no cron daemon reads.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from tests.integration.ubilling_seed import ROOT, managed_entries, seed_jobs

pytestmark = pytest.mark.playbook

with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "billing.yml"), encoding="utf-8") as _handle:
    LAB_SERIAL = yaml.safe_load(_handle)["ubilling_serial"]


@pytest.fixture
def lab(emulator, tmp_path):
    """The emulator with the lab serial, and the environment that points the lab inventory at it."""
    server = emulator("--source", "ubilling", "--subscribers", "20", "--serial", LAB_SERIAL)
    server.env = {"ISP_OPS_LAB_DIR": str(tmp_path / "lab"), "ISP_OPS_LAB_UBILLING_URL": server.url + "/billing/"}
    server.dir = tmp_path / "lab" / "ubilling"
    return server


def called(server):
    return [entry["action"] for entry in server.control("GET", "/_emulator/log")]


def run(playbook, server, name, *args):
    done = playbook(name, *args, env=server.env)
    assert LAB_SERIAL not in done.stdout + done.stderr
    return done


def test_billing_playbook_installs_the_seed_crontab_idempotently(playbook, recap, lab):
    first = run(playbook, lab, "billing.yml")
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first.stdout)["changed"] > 0
    second = run(playbook, lab, "billing.yml")
    assert second.returncode == 0, second.stdout[-3000:]
    assert recap(second.stdout)["changed"] == 0
    checked = run(playbook, lab, "billing.yml", "--check", "--diff")
    assert recap(checked.stdout)["changed"] == 0

    entries = managed_entries((lab.dir / "isp-ops-ubilling").read_text())
    assert [(schedule, action) for name, schedule, action, locked in entries] == seed_jobs()
    assert ("multigen", "*/2 * * * *", "multigen", True) in entries
    serial_file = lab.dir / "etc" / "ubapi.serial"
    assert (serial_file.stat().st_mode & 0o777, serial_file.read_text()) == (0o600, LAB_SERIAL + "\n")
    # the installed wrapper works against the lab's Ubilling
    lab.control("DELETE", "/_emulator/log")
    done = subprocess.run([str(lab.dir / "ubapi"), "fullhostscan&param=traffdiff&nn=1"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert called(lab) == ["fullhostscan"]


def test_dropped_entry_is_removed_and_foreign_lines_stay(playbook, recap, lab):
    assert run(playbook, lab, "billing.yml").returncode == 0
    cron_file = lab.dir / "isp-ops-ubilling"
    cron_file.write_text(cron_file.read_text() + "17 5 * * * root /usr/bin/env true # hand-written\n")
    with open(os.path.join(ROOT, "roles", "ubilling_cron", "defaults", "main.yml"), encoding="utf-8") as handle:
        jobs = [job for job in yaml.safe_load(handle)["ubilling_cron_jobs"] if job["name"] != "multigen"]
    done = run(playbook, lab, "billing.yml", "-e", yaml.safe_dump({"ubilling_cron_jobs": jobs}, default_flow_style=True))
    assert done.returncode == 0, done.stdout[-3000:]
    assert recap(done.stdout)["changed"] == 1
    text = cron_file.read_text()
    assert [entry[0] for entry in managed_entries(text)] == [job["name"] for job in jobs]
    assert "17 5 * * * root /usr/bin/env true # hand-written\n" in text


@pytest.mark.parametrize("job", [
    {"name": "short", "schedule": "*/2 * *", "action": "multigen"},
    {"name": "keyed", "schedule": "*/2 * * * *", "action": "multigen&key=UB1"},
    {"name": "spaced", "schedule": "*/2 * * * *", "action": "multi gen"},
    {"name": "multigen", "schedule": "*/5 * * * *", "action": "multigen"},  # the name is taken
])
def test_a_bad_job_is_refused_before_anything_changes(playbook, lab, job):
    extra = yaml.safe_dump({"ubilling_cron_extra_jobs": [job]}, default_flow_style=True)
    done = run(playbook, lab, "billing.yml", "-e", extra)
    assert done.returncode != 0
    assert "ubilling_cron_jobs/ubilling_cron_extra_jobs entry %s needs a unique name" % job["name"] in done.stdout
    assert not lab.dir.exists()
    assert called(lab) == []


def test_a_serial_of_another_ubilling_is_refused_before_it_is_written(playbook, lab):
    assert run(playbook, lab, "billing.yml").returncode == 0
    wrong = "UB" + "0" * 28 + "1234"
    done = run(playbook, lab, "billing.yml", "-e", "ubilling_serial=" + wrong)
    assert done.returncode != 0
    assert "ends in 1234, but the server at" in done.stdout
    assert wrong not in done.stdout + done.stderr
    assert (lab.dir / "etc" / "ubapi.serial").read_text() == LAB_SERIAL + "\n"


def test_billing_action_needs_an_action(playbook, lab):
    done = run(playbook, lab, "billing_action.yml")
    assert done.returncode != 0
    assert "No action: give it as an extra var, e.g. -e ubilling_action=multigen" in done.stdout + done.stderr
    assert called(lab) == []


def test_billing_action_runs_one_action_with_its_parameters(playbook, recap, lab):
    done = run(playbook, lab, "billing_action.yml", "-e", "ubilling_action=fullhostscan", "-e",
               "ubilling_param=traffdiff", "-e", '{"ubilling_extra_params": {"nn": 1}}')
    assert done.returncode == 0, done.stdout[-3000:]
    assert recap(done.stdout)["changed"] == 1
    assert "key=***&action=fullhostscan&param=traffdiff&nn=1" in done.stdout
    log = lab.control("GET", "/_emulator/log")
    assert [(entry["action"], entry["query"]["param"], entry["query"]["nn"]) for entry in log] == [
        ("fullhostscan", ["traffdiff"], ["1"])]


def test_billing_action_check_mode_does_not_call_side_effects(playbook, recap, lab):
    done = run(playbook, lab, "billing_action.yml", "--check", "-e", "ubilling_action=multigen")
    assert done.returncode == 0, done.stdout[-3000:]
    assert '"called": false' in done.stdout
    assert called(lab) == []


def test_billing_action_fails_on_an_error_reply(playbook, lab):
    lab.control("POST", "/_emulator/state", {"alter": {"MULTIGEN_ENABLED": 0}})
    done = run(playbook, lab, "billing_action.yml", "-e", "ubilling_action=multigen")
    assert done.returncode != 0
    assert "MULTIGEN DISABLED" in done.stdout
    assert called(lab) == ["multigen"]
