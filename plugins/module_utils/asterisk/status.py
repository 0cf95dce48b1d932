# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers for AMI messages and for the trunk status commands of the Asterisk CLI."""

from __future__ import annotations

import re

# Header keys of the pre-14 `Response: Follows` Command reply; everything after them is raw text.
FOLLOWS_HEADERS = ("response", "privilege", "actionid")
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
        body = "\n".join(lines[index:])
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
