# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`main(["apply", "--config", "/etc/isp-ops/shaper.json"])`, with the collection's module_utils
importable as `ispops_utils` (see the shaper role's systemd unit): what the role runs at boot
(and the crm_sync timer after each import), with no Ansible controller on the box.

It does what isp.ops.shaper_bridge and isp.ops.shaper_queues do, from the same code, and logs
one line per step to stdout (the journal). Exit status: 0 applied or nothing to do, 1 failed
(the running shaper is left as it was), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys

from . import bridge, shaper, validate
from .tc_netlink import TcError


def log(message):
    sys.stdout.write("isp-ops-shaper: %s\n" % message)
    sys.stdout.flush()


def ensure_bridge(config):
    """The bridge with STP off, forward delay 0 and both ports up; offloads off when ethtool is there."""
    ports = {"to_internet": config["to_internet"], "to_network": config["to_network"]}
    name, netns = config.get("bridge") or "br-shaper", config.get("netns")
    ipr = bridge.open_ipr(netns)
    try:
        steps, dummy, warnings = bridge.plan_present(bridge.read_links(ipr), name, ports, netns=netns)
        done = bridge.apply_steps(ipr, steps)
    finally:
        ipr.close()
    for warning in warnings:
        log("warning: " + warning)
    if done:
        log("bridge %s: %s" % (name, "; ".join(bridge.step_text(step) for step in done)))
    ethtool = shutil.which("ethtool")
    if ethtool is None:
        log("warning: ethtool is missing; offloads left as they are")
        return
    for ifname in ports.values():
        shown = subprocess.run(bridge.ethtool_command(ethtool, ifname, ["-k"], netns), capture_output=True,
                               text=True, check=False)
        dummy, to_turn_off = bridge.offload_plan(bridge.parse_features(shown.stdout))
        if to_turn_off:
            subprocess.run(bridge.ethtool_command(ethtool, ifname, ["-K"] + bridge.offload_args(to_turn_off), netns),
                           capture_output=True, text=True, check=False)
            log("%s: offloads turned off: %s" % (ifname, ", ".join(to_turn_off)))


def apply(config_path, check=False):
    try:
        with open(config_path, encoding="utf-8") as handle:
            config = json.load(handle)
        settings = dict((k, config.get(k)) for k in shaper.ShaperConfig.FIELDS)
        shaper_config = shaper.ShaperConfig(**settings)
    except (OSError, ValueError, shaper.ShaperError) as exc:
        log("cannot read %s: %s" % (config_path, exc))
        return 2
    try:
        if not check:
            ensure_bridge(config)
        result = shaper.run(shaper_config, check=check)
    except validate.ShapingInputError as exc:
        log("invalid input, nothing applied: %s" % exc)
        return 1
    except (shaper.ShaperError, bridge.BridgeError, TcError, OSError) as exc:
        log("failed, the running shaper is as it was: %s" % exc)
        return 1
    for warning in result.warnings:
        log("warning: " + warning)
    items = result.per_item()
    log("%s: circuits %s, nodes %s, %s" % (
        "would change" if check and result.changed else "changed" if result.changed else "no change",
        dict((k, len(v)) for k, v in items["circuits"].items()), dict((k, len(v)) for k, v in items["nodes"].items()),
        json.dumps(result.summary(), sort_keys=True)))
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="isp-ops-shaper", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=("apply", "check"))
    parser.add_argument("--config", default="/etc/isp-ops/shaper.json")
    args = parser.parse_args(argv)
    return apply(args.config, check=args.command == "check")
