# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run Asterisk CLI commands and reloads through `asterisk -rx` or AMI, whichever the host has.

Modules use the options of the `isp.ops.asterisk` doc fragment:

    argument_spec.update(control_options())
    ...
    control = AsteriskControl.from_module(module)
    control.reload("pjsip")
"""

from __future__ import annotations

from ansible_collections.isp.ops.plugins.module_utils.asterisk.ami import AmiClient
from ansible_collections.isp.ops.plugins.module_utils.asterisk.errors import AsteriskError

# What reload(what) runs. Whole-module reloads report failures in their output, unlike
# `pjsip reload`, which always says "Module reloaded" style text from the sorcery layer.
RELOAD_COMMANDS = {
    None: "core reload",
    "core": "core reload",
    "pjsip": "module reload res_pjsip.so",
    "sip": "sip reload",
    "dialplan": "dialplan reload",
}

# Lines Asterisk prints (with exit status 0 or a Success AMI reply) when a command did not run.
FAILURE_MARKERS = (
    "No such command",
    "Unable to connect to remote asterisk",
    "was not found",
    "reported a reload failure",
    "does not support reloads",
    "was not properly initialized",
    "is not loaded",
    "Unable to reload",
    "Permission denied",
    "No such module",
)

__all__ = ["AsteriskControl", "AsteriskError", "control_options", "RELOAD_COMMANDS"]


def control_options():
    """The argument_spec entries documented by the isp.ops.asterisk doc fragment."""
    return dict(
        asterisk_cli=dict(type="list", elements="str", default=["asterisk"]),
        ami_host=dict(type="str"),
        ami_port=dict(type="int", default=5038),
        ami_username=dict(type="str"),
        ami_secret=dict(type="str", no_log=True),
        ami_timeout=dict(type="float", default=10.0),
    )


def failure_in(output):
    """The first line of output if it says the command did not run, else None.

    Only the first line counts: these messages are the whole answer, while a long status listing
    may quote the same words (a SIP history, a dialplan) without anything having failed.
    """
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if lines and any(marker in lines[0] for marker in FAILURE_MARKERS):
        return lines[0]
    return None


class AsteriskControl(object):
    """One way to talk to one Asterisk: `runner(argv) -> (rc, out, err)` for the CLI, or AMI settings."""

    def __init__(self, cli=None, runner=None, ami=None, timeout=10.0, timeout_bin=None):
        self.cli = list(cli or ["asterisk"])
        self.runner = runner
        self.ami = dict(ami) if ami else None
        self.timeout = float(timeout)
        self.timeout_bin = timeout_bin

    @classmethod
    def from_module(cls, module):
        params = module.params
        ami = None
        if params.get("ami_host"):
            missing = [key for key in ("ami_username", "ami_secret") if not params.get(key)]
            if missing:
                raise AsteriskError("ami_host is set, so %s must be set too" % " and ".join(missing))
            ami = dict(
                host=params["ami_host"],
                port=params.get("ami_port") or 5038,
                username=params["ami_username"],
                secret=params["ami_secret"],
            )
        elif not params.get("asterisk_cli"):
            raise AsteriskError("asterisk_cli must name the command that runs the Asterisk CLI")

        def runner(argv):
            return module.run_command(argv, check_rc=False)

        timeout = params.get("ami_timeout") or 10.0
        return cls(
            cli=params.get("asterisk_cli"), runner=runner, ami=ami, timeout=timeout,
            timeout_bin=None if ami else module.get_bin_path("timeout"),
        )

    @property
    def via(self):
        if self.ami:
            return "AMI %s:%s" % (self.ami["host"], self.ami["port"])
        return "CLI %s" % " ".join(self.cli)

    def command(self, text):
        """Run one CLI command and return its output text. Raise AsteriskError if it did not run."""
        text = text.strip()
        if not text or "\n" in text or "\r" in text:
            raise AsteriskError("an Asterisk command must be one non-empty line, got %r" % text)
        output = self._ami_command(text) if self.ami else self._cli_command(text)
        failed = failure_in(output)
        if failed:
            raise AsteriskError("Asterisk command %r failed (%s): %s" % (text, self.via, failed))
        return output

    def reload(self, what=None):
        """Reload a part of Asterisk: None/'core', 'pjsip', 'sip' or 'dialplan'. Return the output."""
        if what not in RELOAD_COMMANDS:
            raise AsteriskError(
                "cannot reload %r; choose one of core, pjsip, sip, dialplan" % (what,)
            )
        return self.command(RELOAD_COMMANDS[what])

    def _cli_command(self, text):
        if self.runner is None:
            raise AsteriskError("no command runner to run %r" % text)
        argv = self.cli + ["-rx", text]
        if self.timeout_bin:
            # `asterisk -rx` can hang on a wedged daemon; bound it like the AMI reads are bounded.
            argv = [self.timeout_bin, "--kill-after=2", "%g" % self.timeout] + argv
        rc, out, err = self.runner(argv)
        if rc == 124 and self.timeout_bin:
            raise AsteriskError("Asterisk command %r (%s) gave no answer within %gs" % (text, self.via, self.timeout))
        if rc != 0:
            detail = (err or out or "").strip() or "exit status %d" % rc
            raise AsteriskError("Asterisk command %r failed (%s, rc=%d): %s" % (text, self.via, rc, detail))
        return out

    def _ami_command(self, text):
        client = AmiClient(timeout=self.timeout, **self.ami)
        try:
            client.connect()
            client.login()
            output = client.command(text)
            client.logoff()
            return output
        finally:
            client.close()
