# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's two Asterisk 22 peers (PBX and OMniLeads) for `make demo`, left running until `down`.

    python scripts/lab_telephony.py up --state lab-output/.demo     # writes telephony.json
    python scripts/lab_telephony.py status --state lab-output/.demo # trunk status on both sides
    python scripts/lab_telephony.py down --state lab-output/.demo

It is the test suite's AsteriskLab (tests/integration/asterisk_lab.py), started by a process that
exits: the lab's ownership (its owner.pid and its share of the chroot's /proc and /dev mounts) is
handed to the PBX's Asterisk process, so other labs see it as live while Asterisk runs.
`up` writes the extra variables that point roles pbx_trunk and omnileads_trunk at the two peers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from plugins.module_utils.asterisk.status import parse_pjsip_contacts  # noqa: E402
from tests.integration import asterisk_lab  # noqa: E402
from tests.integration.netns_lab import LabError, _remove_netns, run  # noqa: E402

STATE_FILE = "telephony.json"


def extra_vars(lab, api_url):
    """Role variables for the lab's PBX and OML hosts (passed with -e @telephony.json)."""
    return {
        "pbx_trunk_config_dir": lab.pbx.etc,
        "pbx_trunk_asterisk_cli": lab.pbx.cli,
        "omnileads_trunk_config_dir": lab.oml.etc,
        "omnileads_trunk_ami_host": lab.oml.ami_host,
        "omnileads_trunk_ami_username": lab.oml.ami_username,
        "omnileads_trunk_ami_secret": lab.oml.ami_secret,
        "omnileads_trunk_api_url": api_url,
    }


def hand_over(lab):
    """Make the PBX's Asterisk the owner of the lab, so it outlives this process."""
    pid = lab.pbx.process.pid
    with open(os.path.join(lab.chroot, asterisk_lab.LAB_SUBDIR, lab.lab_id, "owner.pid"), "w") as owner:
        owner.write("%d\n" % pid)
    token = os.path.join(lab.mounts.users, "%d-demo" % pid)
    os.replace(lab.mounts.token, token)
    return token


def up(args):
    reason = asterisk_lab.skip_reason(build=args.build)
    if reason:
        print("lab_telephony: skipped: %s" % reason)
        return 3
    lab = asterisk_lab.AsteriskLab(prefix=args.prefix)
    try:
        lab.start()
        token = hand_over(lab)
    except BaseException:
        lab.stop()
        raise
    state = {"prefix": args.prefix, "chroot": lab.chroot, "token": token, "lab_id": lab.lab_id,
             "namespaces": [lab.pbx.ns, lab.oml.ns], "host_links": lab._host_links,
             "cli": {"pbx": lab.pbx.cli, "oml": lab.oml.cli},
             "vars": extra_vars(lab, args.api_url)}
    os.makedirs(args.state, exist_ok=True)
    with open(os.path.join(args.state, STATE_FILE + ".tmp"), "w") as handle:
        json.dump(state, handle, indent=1)
    os.replace(os.path.join(args.state, STATE_FILE + ".tmp"), os.path.join(args.state, STATE_FILE))
    with open(os.path.join(args.state, "telephony-vars.json"), "w") as handle:
        json.dump(state["vars"], handle, indent=1)
    print("lab_telephony: PBX %s and OML %s running (namespaces %s)" % (
        lab.pbx.address, lab.oml.address, ", ".join(state["namespaces"])))
    return 0


def read_state(args):
    try:
        with open(os.path.join(args.state, STATE_FILE)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def status(args):
    state = read_state(args)
    if state is None:
        print("lab_telephony: not running")
        return 3
    for side, label in (("pbx", "PBX -> OML"), ("oml", "OML -> PBX")):
        shown = run(state["cli"][side] + ["-rx", "pjsip show contacts"], check=False).stdout
        contacts = parse_pjsip_contacts(shown)
        if not contacts:
            print("  trunk %-13s no contact (pjsip show contacts is empty)" % label)
        for contact in contacts:
            rtt = "" if contact["rtt_ms"] is None else ", rtt %.1f ms" % contact["rtt_ms"]
            print("  trunk %-13s %s %s%s" % (label, contact["aor"], contact["status"], rtt))
    return 0


def down(args):
    state = read_state(args)
    if state is None:
        return 0
    for cli in state["cli"].values():
        run(cli + ["-rx", "core stop now"], check=False, timeout=10)
    for link in state["host_links"]:
        run(["ip", "link", "delete", link], check=False)
    for ns in state["namespaces"]:
        _remove_netns(ns)
    mounts = asterisk_lab.ChrootMounts(state["chroot"])
    mounts.token = state["token"]
    mounts.release()
    subprocess.run(["rm", "-rf", os.path.join(state["chroot"], asterisk_lab.LAB_SUBDIR, state["lab_id"])], check=False)
    for name in (STATE_FILE, "telephony-vars.json"):
        if os.path.exists(os.path.join(args.state, name)):
            os.unlink(os.path.join(args.state, name))
    print("lab_telephony: stopped")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "status", "down"))
    parser.add_argument("--state", required=True, help="directory for telephony.json")
    parser.add_argument("--prefix", default="isplabtel", help="namespace prefix")
    parser.add_argument("--api-url", default="http://127.0.0.1:18782", help="the OML API emulator")
    parser.add_argument("--build", action="store_true", help="build the Asterisk chroot if it is missing")
    args = parser.parse_args(argv)
    try:
        return {"up": up, "status": status, "down": down}[args.command](args)
    except LabError as exc:
        print("lab_telephony: %s" % exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
