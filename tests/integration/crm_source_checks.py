# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks every CRM source's end-to-end tests share: crm_topology against an emulator process.

The module runs in-process (as Ansible runs main()); the emulator is tests/emulators/serve.py in
its own process (fixture `emulator`), driven over its /_emulator control endpoints.
"""

from __future__ import annotations

import csv
import io
import json
import os

from ansible_collections.isp.ops.plugins.module_utils.crm import sources
from ansible_collections.isp.ops.plugins.modules import crm_topology
from tests.module_runner import run_module

FAULTS = ("401", "500", "timeout", "reset", "truncated", "wrong_shape", "html", "empty")
TIMEOUT_DELAY = "2"  # seconds a "timeout" fault stalls; the module waits 1 s


def start_crm(emulator, source, subscribers, *credentials):
    """The source's emulator process (fixture `emulator`) with `subscribers` lab subscribers, seed 1."""
    return emulator("--source", source, "--subscribers", str(subscribers), *credentials,
                    "--timeout-delay", TIMEOUT_DELAY)


def files(directory):
    return dict((name, (directory / name).read_bytes()) for name in sorted(os.listdir(str(directory))))


def rows(directory):
    """ShapedDevices.csv as dicts keyed by its header."""
    return list(csv.DictReader(io.StringIO((directory / "ShapedDevices.csv").read_text())))


def run(source, url, out, check_mode=False, diff=False, **options):
    args = dict(source=source, url=url, output_dir=str(out), timeout=1, retries=0, graph=False, **options)
    return run_module(crm_topology.main, args, check_mode=check_mode, diff=diff)


def assert_idempotent(source, url, out, **options):
    """A first run writes, a second identical one changes nothing, a check run writes nothing."""
    first = run(source, url, out, **options)
    assert first.get("failed") is None and first["changed"], first
    written = files(out)
    second = run(source, url, out, **options)
    assert second["changed"] is False and second["written"] == []
    check = run(source, url, out, check_mode=True, diff=True, **options)
    assert check["changed"] is False and files(out) == written
    return first


def assert_every_fault_fails_cleanly(crm, source, url, out, path, endpoint, secret, **options):
    """After a good first run (assert_idempotent), each fault kind: one failed result naming the source
    and the endpoint; files byte-identical."""
    assert_idempotent(source, url, out, **options)
    before = files(out)
    for kind in FAULTS:
        # Only the first request to `path` fails (Powercode posts twice to one path).
        crm.control("POST", "/_emulator/faults", {"path": path, "kind": kind, "count": 1})
        try:
            result = run(source, url, out, **options)
        finally:
            crm.control("DELETE", "/_emulator/faults")
        assert result.get("failed") is True, (kind, result)
        assert result["msg"].startswith("%s %s" % (sources.SOURCES[source].SOURCE, endpoint)), (kind, result["msg"])
        assert files(out) == before, kind
        assert secret not in json.dumps(result), kind
        if kind != "empty":  # the empty answer is refused by the guard, not the HTTP layer
            assert result["crm_error"]["endpoint"] == endpoint, kind
    log = crm.control("GET", "/_emulator/log")
    assert sorted(set(entry["fault"] for entry in log if entry["fault"])) == sorted(FAULTS)
