# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Trunk health: collect chan_sip peers and PJSIP endpoints, and say why a trunk is not up.

`diagnose(facts)` is plain logic over facts that any caller can gather (asterisk_info does it
from one Asterisk; a role may add what it knows). Facts:

    name             trunk (chan_sip peer or PJSIP endpoint) name
    technology       "sip" or "pjsip"
    found            the peer/endpoint exists in the running Asterisk
    status           OK / LAGGED / UNREACHABLE / UNKNOWN / Unmonitored (sip),
                     Avail / Unavail / NonQual / Unknown / Created (pjsip contact), None without contact
    host, port       where the qualify goes (contact or peer address)
    rejected_by_peer True when the peer refused our credentials twice in a row (401/407 after the
                     authenticated retry, or 403); None when unknown (no SIP history)
    rejected_here    the same for the peer's requests that this Asterisk refused
    seen_ports       ports the peer's host has sent SIP from (SIP history); [] when nothing came from
                     it, None when unknown (history off)
    port_open        optional outside knowledge: False if the port is known to be closed
"""

from __future__ import annotations

import time

from ansible_collections.isp.ops.plugins.module_utils.asterisk.errors import AsteriskError
from ansible_collections.isp.ops.plugins.module_utils.asterisk.status import (
    parse_pjsip_contacts,
    parse_pjsip_endpoints,
    parse_pjsip_history,
    parse_sip_peers,
)

REACHABLE = ("OK", "LAGGED", "Avail")
CHALLENGES = (401, 407)
NO_SUCH_COMMAND = "No such command"


def diagnose(facts):
    """dict(cause, message) explaining why the trunk is not up, or None when it is up.

    cause is one of: not_configured, wrong_secret, wrong_port, unreachable_host, unreachable,
    not_qualified, lagged.
    """
    name = facts.get("name") or "trunk"
    kind = "chan_sip peer" if facts.get("technology") == "sip" else "PJSIP endpoint"
    where = "%s:%s" % (facts.get("host"), facts.get("port")) if facts.get("host") else "its contact"
    if not facts.get("found"):
        return dict(cause="not_configured",
                    message="%s %s does not exist in the running Asterisk (not written, not included or "
                            "not reloaded)" % (kind, name))
    if facts.get("rejected_by_peer"):
        return dict(cause="wrong_secret",
                    message="%s answers at %s but rejects our credentials (401/403 after the authenticated "
                            "retry): wrong secret or username" % (name, where))
    if facts.get("rejected_here"):
        return dict(cause="wrong_secret",
                    message="requests from %s are rejected here (401/403 after its authenticated retry): "
                            "the two sides have different secrets or usernames" % name)
    status = facts.get("status")
    if status in ("OK", "Avail"):
        return None
    if status == "LAGGED":
        return dict(cause="lagged", message="%s answers at %s but slower than qualifymaxtime" % (name, where))
    if status in (None, "Unmonitored", "NonQual", "Unknown", "UNKNOWN", "Created"):
        return dict(cause="not_qualified",
                    message="%s has no qualify result (status %s): enable qualify (qualify=yes / "
                            "qualify_frequency) or wait for the first one" % (name, status or "no contact"))
    seen = facts.get("seen_ports")
    if seen and facts.get("port") not in seen:
        ports = ", ".join(str(port) for port in seen)
        return dict(cause="wrong_port",
                    message="%s does not answer at %s, but its host sends SIP from port %s: wrong port "
                            "(do both sides use the same scenario ports?)" % (name, where, ports))
    if seen:
        return dict(cause="unreachable",
                    message="%s sends SIP from %s but does not answer our qualify there: a firewall or NAT "
                            "drops the answers" % (name, where))
    if facts.get("port_open") is False:
        return dict(cause="wrong_port",
                    message="%s does not answer at %s: nothing listens on that port (wrong port)" % (name, where))
    if seen is not None:
        return dict(cause="unreachable_host",
                    message="%s does not answer at %s and nothing was ever received from that host: "
                            "unreachable host (address, routing or firewall), or nothing listening on that port"
                            % (name, where))
    return dict(cause="unreachable",
                message="%s does not answer at %s (status %s): unreachable host or wrong port" % (name, where, status))


def auth_rejections(entries, host):
    """(rejected_by_peer, rejected_here) from SIP history entries exchanged with host.

    An authenticated retry answered by another challenge, or a 403, is a rejection; 1xx and the
    first challenge of each exchange are normal.
    """
    received = [e["code"] for e in entries if e["host"] == host and e["direction"] == "in"
                and e["code"] is not None and e["code"] >= 200]
    sent = [e["code"] for e in entries if e["host"] == host and e["direction"] == "out"
            and e["code"] is not None and e["code"] >= 200]

    def rejected(codes):
        if not codes:
            return None
        if codes[-1] == 403:
            return True
        return len(codes) >= 2 and codes[-1] in CHALLENGES and codes[-2] in CHALLENGES

    return rejected(received), rejected(sent)


def seen_ports(entries, host):
    """Source ports of packets received from host."""
    return set(e["port"] for e in entries if e["host"] == host and e["direction"] == "in" and e["port"])


class TrunkHealth(object):
    """Read peers/endpoints from one Asterisk through an AsteriskControl."""

    def __init__(self, control, sleep=time.sleep, clock=time.monotonic):
        self.control = control
        self.sleep = sleep
        self.clock = clock

    def _optional(self, command):
        """Output of a status command, or None when the module behind it is not loaded."""
        try:
            return self.control.command(command)
        except AsteriskError as exc:
            if NO_SUCH_COMMAND in str(exc):
                return None
            raise

    def collect(self, name=None, technology="auto", probe=False, probe_wait=5.0):
        result = dict(peers=[], endpoints=[], contacts=[], technologies=[])
        if technology in ("auto", "sip"):
            text = self._optional("sip show peers")
            if text is not None:
                result["technologies"].append("sip")
                result["peers"] = parse_sip_peers(text)
            elif technology == "sip":
                raise AsteriskError("chan_sip is not loaded: `sip show peers` is not a command here")
        if technology in ("auto", "pjsip"):
            text = self._optional("pjsip show endpoints")
            if text is not None:
                result["technologies"].append("pjsip")
                history = None
                if probe and name and any(ep["name"] == name for ep in parse_pjsip_endpoints(text)):
                    history = self.probe(name, probe_wait)
                    text = self.control.command("pjsip show endpoints")
                result["endpoints"] = parse_pjsip_endpoints(text)
                result["contacts"] = parse_pjsip_contacts(self.control.command("pjsip show contacts"))
                if name and history is None:
                    history = self.history()
                result["_history"] = history or []
            elif technology == "pjsip":
                raise AsteriskError("res_pjsip is not loaded: `pjsip show endpoints` is not a command here")
        if not result["technologies"]:
            raise AsteriskError("neither chan_sip nor res_pjsip is loaded in this Asterisk")
        history = result.pop("_history", [])
        if name:
            result = self.only(result, name)
            result["trunk"] = self.trunk(result, name, history)
            result["diagnosis"] = diagnose(result["trunk"])
            result["trunk"]["up"] = result["diagnosis"] is None
        return result

    @staticmethod
    def only(result, name):
        endpoints = [ep for ep in result["endpoints"] if ep["name"] == name]
        aors = set([name] + [aor for ep in endpoints for aor in ep["aors"]])
        return dict(result, peers=[p for p in result["peers"] if p["name"] == name], endpoints=endpoints,
                    contacts=[c for c in result["contacts"] if c["aor"] in aors])

    @staticmethod
    def trunk(result, name, history):
        facts = dict(name=name, found=False, technology=None, status=None, rtt_ms=None, host=None, port=None,
                     rejected_by_peer=None, rejected_here=None, seen_ports=None, history=bool(history))
        if result["peers"]:
            peer = result["peers"][0]
            facts.update(found=True, technology="sip", status=peer["status"], rtt_ms=peer["rtt_ms"],
                         host=peer["host"], port=peer["port"])
            return facts
        if not result["endpoints"]:
            facts["technology"] = "pjsip" if "pjsip" in result["technologies"] else "sip"
            return facts
        facts.update(found=True, technology="pjsip")
        contacts = result["endpoints"][0]["contacts"] or result["contacts"]
        if contacts:
            # The best contact decides: one reachable contact is enough for a trunk.
            contact = sorted(contacts, key=lambda c: c["status"] not in REACHABLE)[0]
            facts.update(status=contact["status"], rtt_ms=contact["rtt_ms"], host=contact["host"],
                         port=contact["port"])
        if history and facts["host"]:
            facts["rejected_by_peer"], facts["rejected_here"] = auth_rejections(history, facts["host"])
            facts["seen_ports"] = sorted(seen_ports(history, facts["host"]))
        return facts

    def history(self):
        text = self._optional("pjsip show history")
        return parse_pjsip_history(text) if text else []

    def probe(self, name, wait):
        """Qualify `name` once with the SIP history on; wait (bounded) for its final answer.

        Returns only the history entries recorded since the probe began, so older exchanges (an
        earlier configuration) do not count. The history is an in-memory debug buffer; when the
        probe switched it on, it switches it off and clears it again.
        """
        before = self.history()
        was_on = bool(before)
        if not was_on:
            self.control.command("pjsip set history on")
        try:
            start = max([e["number"] for e in before] or [-1])
            self.control.command("pjsip qualify %s" % name)
            deadline = self.clock() + wait
            while True:
                new = [e for e in self.history() if e["number"] > start]
                answered = [e for e in new if e["direction"] == "in" and (e["code"] or 0) >= 200]
                # A challenge is answered by a retry; wait for the retry's own final answer.
                if answered and (answered[-1]["code"] not in CHALLENGES or len(answered) >= 2):
                    break
                if self.clock() >= deadline:
                    break
                self.sleep(0.2)
            # The contact status changes once Asterisk has processed the answer.
            self.sleep(0.2)
            return new
        finally:
            if not was_on:
                self.control.command("pjsip set history off")
                self.control.command("pjsip set history clear")
