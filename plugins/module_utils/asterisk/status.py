# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers for AMI messages and for the trunk status commands of the Asterisk CLI."""

from __future__ import annotations

import math
import re

# Header keys of the pre-14 `Response: Follows` Command reply; everything after them is raw text.
FOLLOWS_HEADERS = ("response", "privilege", "actionid", "message")
# Some 11-13 builds put `Output: ` before the first raw line of a `Follows` reply.
OUTPUT_PREFIX = "Output: "
END_COMMAND = "--END COMMAND--"


class AmiMessage(object):
    """One AMI message: ordered Key: Value fields (keys may repeat), plus raw text for `Follows` replies."""

    def __init__(self, fields, output=None):
        self.fields = list(fields)
        self.output = output

    def get(self, key, default=None):
        key = key.lower()
        for name, value in self.fields:
            if name.lower() == key:
                return value
        return default

    def getall(self, key):
        key = key.lower()
        return [value for name, value in self.fields if name.lower() == key]

    def __contains__(self, key):
        return self.get(key) is not None

    def as_dict(self):
        """Fields as a dict (the last value of a repeated key wins)."""
        return dict(self.fields)

    def __repr__(self):
        return "AmiMessage(%r, output=%r)" % (self.fields, self.output)


def parse_ami_message(text):
    """Parse one AMI message (the text up to and including its blank line)."""
    lines = text.split("\n")
    fields = []
    if lines and lines[0].rstrip("\r").startswith("Response: Follows"):
        index = 0
        while index < len(lines):
            name, sep, value = lines[index].rstrip("\r").partition(":")
            if not sep or name.strip().lower() not in FOLLOWS_HEADERS:
                break
            fields.append((name.strip(), value.strip()))
            index += 1
        body = "\n".join(line[len(OUTPUT_PREFIX):] if line.startswith(OUTPUT_PREFIX) else line
                         for line in lines[index:])
        end = body.find(END_COMMAND)
        output = body[:end] if end >= 0 else body
        return AmiMessage(fields, output=output.replace("\r\n", "\n"))
    for line in lines:
        line = line.rstrip("\r")
        if not line:
            continue
        name, sep, value = line.partition(":")
        if sep:
            fields.append((name.strip(), value[1:] if value.startswith(" ") else value))
    return AmiMessage(fields)


def command_reply_output(message):
    """(ok, text) of an AMI Command reply, in either format (§D.2 of the telephony reference).

    Asterisk 13 and earlier: `Response: Follows`, raw text, `--END COMMAND--`.
    Asterisk 14 and later: `Response: Success` and one `Output:` field per line.
    """
    if message.output is not None:
        return True, message.output
    lines = message.getall("Output")
    text = "\n".join(lines) + ("\n" if lines else "")
    ok = (message.get("Response") or "").lower() == "success"
    if not ok and not text:
        text = message.get("Message", "")
    return ok, text


# -- chan_sip ---------------------------------------------------------------

# `sip show peers` Status column (chan_sip peer_status()): OK/LAGGED carry the qualify RTT.
_SIP_STATUS = re.compile(r"(?:^|\s)(\d+)\s+(OK|LAGGED) \((\d+) ms\)|(?:^|\s)(\d+)\s+(UNREACHABLE|UNKNOWN|Unmonitored)(?=\s|$)")
_SIP_FOOTER = re.compile(r"^\d+ sip peers \[")


def parse_sip_peers(text):
    """Rows of chan_sip `sip show peers` (Asterisk 1.8 to 20, with or without the Comedia column)."""
    peers = []
    dyn_at = None
    for line in text.splitlines():
        if line.startswith("Name/username"):
            dyn_at = line.find(" Dyn ")
            continue
        if not line.strip() or _SIP_FOOTER.match(line.strip()) or line.lstrip().startswith("--"):
            continue
        match = _SIP_STATUS.search(line)
        tokens = line.split()
        if not match or len(tokens) < 3:
            continue
        name, sep, username = tokens[0].partition("/")
        port = match.group(1) or match.group(4)
        status = match.group(2) or match.group(5)
        rtt = match.group(3)
        host = tokens[1]
        dynamic = dyn_at is not None and line[dyn_at:dyn_at + 5].strip() == "D"
        peers.append(dict(
            name=name,
            username=username if sep else None,
            host=None if host == "(Unspecified)" else host,
            port=int(port),
            dynamic=dynamic,
            status=status,
            rtt_ms=float(rtt) if rtt is not None else None,
            description=line[match.end():].strip() or None,
        ))
    return peers


# -- PJSIP ------------------------------------------------------------------

_CONTACT = re.compile(
    r"^\s*Contact:\s+(?P<aor>[^/\s]+)/(?P<uri>\S+)\s+(?P<hash>[0-9a-f]+)\s+(?P<status>\S+)\s+(?P<rtt>\S+)\s*$")
_ENDPOINT = re.compile(r"^\s*Endpoint:\s+(?P<name>\S+)\s+(?P<state>.+?)\s+(?P<channels>\d+) of (?P<max>\S+)\s*$")
_AOR = re.compile(r"^\s*Aor:\s+(?P<name>\S+)\s+(?P<max>\d+)\s*$")
_TRANSPORT = re.compile(r"^\s*Transport:\s+(?P<name>\S+)\s+(?P<type>\S+)\s+\d+\s+\d+\s+(?P<bind>\S+)\s*$")
_AUTH = re.compile(r"^\s*(?P<kind>InAuth|OutAuth):\s+(?P<auth>[^/\s]+)/(?P<user>\S*)\s*$")
_IDENTIFY = re.compile(r"^\s*Identify:\s+(?P<name>[^/\s]+)/(?P<endpoint>\S+)\s*$")
_MATCH = re.compile(r"^\s*Match:\s+(?P<match>\S+)\s*$")
_HOST_PORT = re.compile(r"^(?:sips?:)?(?:[^@;]*@)?(?P<host>\[[^\]]+\]|[^:;>]+)(?::(?P<port>\d+))?")


def _rtt(text):
    """Contact RTT in ms; None when never measured (Asterisk prints nan or -nan)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) else value


def split_uri(uri):
    """(host, port) of a SIP URI such as sip:user@10.0.0.2:5161;transport=udp (port None if absent)."""
    match = _HOST_PORT.match(uri)
    if not match:
        return None, None
    port = match.group("port")
    return match.group("host").strip("[]"), int(port) if port else None


def _is_header(line):
    """The column legend lines of the pjsip show commands: `Endpoint:  <Endpoint/CID...>`."""
    value = line.partition(":")[2].strip()
    return value.startswith("<")


def _contact(match):
    host, port = split_uri(match.group("uri"))
    return dict(aor=match.group("aor"), uri=match.group("uri"), hash=match.group("hash"),
                status=match.group("status"), rtt_ms=_rtt(match.group("rtt")), host=host, port=port)


def parse_pjsip_contacts(text):
    """Contact lines of `pjsip show contacts`, `pjsip show aors` or `pjsip show endpoints`."""
    contacts = []
    for line in text.splitlines():
        if _is_header(line):
            continue
        match = _CONTACT.match(line)
        if match:
            contacts.append(_contact(match))
    return contacts


def parse_pjsip_aors(text):
    """`pjsip show aors`: each AOR with its max_contacts and contacts."""
    aors = []
    for line in text.splitlines():
        if _is_header(line):
            continue
        match = _AOR.match(line)
        if match:
            aors.append(dict(name=match.group("name"), max_contacts=int(match.group("max")), contacts=[]))
            continue
        match = _CONTACT.match(line)
        if match and aors:
            aors[-1]["contacts"].append(_contact(match))
    return aors


def parse_pjsip_endpoints(text):
    """`pjsip show endpoints` (or `pjsip show endpoint <name>`): endpoints with auths, AORs, contacts,
    transport and identify matches. The parameter table of `pjsip show endpoint` is ignored."""
    endpoints = []
    current = None
    for line in text.splitlines():
        if _is_header(line) or not line.strip():
            continue
        if line.lstrip().startswith("ParameterName"):
            current = None  # the per-parameter table of `pjsip show endpoint <name>` follows
            continue
        match = _ENDPOINT.match(line)
        if match:
            maximum = match.group("max")
            current = dict(name=match.group("name").split("/", 1)[0], state=match.group("state"),
                           channels=int(match.group("channels")),
                           max_channels=None if maximum == "inf" else int(maximum),
                           in_auths=[], out_auths=[], aors=[], contacts=[], transport=None,
                           identifies=[], matches=[])
            endpoints.append(current)
            continue
        if current is None:
            continue
        _endpoint_line(current, line)
    return endpoints


def _endpoint_line(endpoint, line):
    """Add one detail line of `pjsip show endpoints` to its endpoint."""
    match = _CONTACT.match(line)
    if match:
        endpoint["contacts"].append(_contact(match))
        return
    match = _AOR.match(line)
    if match:
        endpoint["aors"].append(match.group("name"))
        return
    match = _AUTH.match(line)
    if match:
        key = "in_auths" if match.group("kind") == "InAuth" else "out_auths"
        endpoint[key].append(dict(name=match.group("auth"), username=match.group("user")))
        return
    match = _TRANSPORT.match(line)
    if match:
        endpoint["transport"] = dict(name=match.group("name"), type=match.group("type"), bind=match.group("bind"))
        return
    match = _IDENTIFY.match(line)
    if match:
        endpoint["identifies"].append(match.group("name"))
        return
    match = _MATCH.match(line)
    if match:
        endpoint["matches"].append(match.group("match"))


def parse_pjsip_transports(text):
    """`pjsip show transports`: name, type and bind address of each transport."""
    transports = []
    for line in text.splitlines():
        if _is_header(line):
            continue
        match = _TRANSPORT.match(line)
        if match:
            transports.append(dict(name=match.group("name"), type=match.group("type"), bind=match.group("bind")))
    return transports


# `pjsip show history` summary lines: number, timestamp, direction, address, first SIP line.
_HISTORY = re.compile(
    r"^(?P<no>\d+)\s+(?P<ts>\d+)\s+\*\s+(?P<dir><==|==>)\s+(?P<addr>\S+)\s+(?P<first>.+?)\s*$")
_RESPONSE = re.compile(r"^SIP/2\.0 (?P<code>\d{3})")


def parse_pjsip_history(text):
    """`pjsip show history` entries: direction `in`/`out`, host, port, and request method or response code."""
    entries = []
    for line in text.splitlines():
        match = _HISTORY.match(line.strip())
        if not match:
            continue
        host, port = split_uri(match.group("addr"))
        first = match.group("first")
        response = _RESPONSE.match(first)
        entries.append(dict(
            number=int(match.group("no")), timestamp=int(match.group("ts")),
            direction="in" if match.group("dir") == "<==" else "out",
            host=host, port=port,
            code=int(response.group("code")) if response else None,
            method=None if response else first.split(" ", 1)[0],
            line=first,
        ))
    return entries
