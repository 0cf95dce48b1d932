# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small blocking client for the Asterisk Manager Interface (AMI).

Plain sockets, one connection per client, every read bounded by a deadline. The secret is sent
only inside the Login action and never appears in an error message.
"""

from __future__ import annotations

import itertools
import socket
import time

from ansible_collections.isp.ops.plugins.module_utils.asterisk.errors import AsteriskError
from ansible_collections.isp.ops.plugins.module_utils.asterisk.status import (
    AmiMessage,
    command_reply_output,
    parse_ami_message,
)

# The pre-14 Command reply carries raw text up to this marker instead of Key: Value lines.
END_COMMAND = b"--END COMMAND--"
MAX_MESSAGE = 16 * 1024 * 1024


class AmiClient(object):
    """Connect, log in, send actions and collect their replies."""

    def __init__(self, host, port=5038, username=None, secret=None, timeout=10.0):
        self.host = host
        self.port = int(port)
        self.username = username
        self._secret = secret
        self.timeout = float(timeout)
        self.banner = None
        self._sock = None
        self._buffer = b""
        self._ids = itertools.count(1)

    @property
    def where(self):
        return "AMI %s:%d" % (self.host, self.port)

    def __enter__(self):
        self.connect()
        self.login()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def connect(self):
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise AsteriskError("%s: cannot connect: %s" % (self.where, exc.strerror or exc))
        line = self._read_until(b"\r\n", time.monotonic() + self.timeout)
        self.banner = line.decode("utf-8", "replace").strip()
        if not self.banner.startswith("Asterisk Call Manager"):
            self.close()
            raise AsteriskError("%s: not an AMI server (banner %r)" % (self.where, self.banner[:80]))

    def login(self):
        if not self.username or self._secret is None:
            raise AsteriskError("%s: ami_username and ami_secret are required" % self.where)
        reply = self.action("Login", Username=self.username, Secret=self._secret, Events="off")
        if reply.get("Response", "").lower() != "success":
            raise AsteriskError(
                "%s: login as %r refused: %s" % (self.where, self.username, reply.get("Message", "no message"))
            )

    def logoff(self):
        try:
            self.action("Logoff")
        except AsteriskError:
            pass  # Asterisk closes the socket after Goodbye; a lost reply is harmless here.

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def action(self, name, **fields):
        """Send one action and return its response (events of other actions are skipped)."""
        action_id = "isp-ops-%d" % next(self._ids)
        self._send(name, action_id, fields)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._read_message(deadline)
            if message.get("ActionID") == action_id and "Response" in message:
                return message

    def list_action(self, name, **fields):
        """Send an action whose reply is an event list; return the list events (without the closing one)."""
        action_id = "isp-ops-%d" % next(self._ids)
        self._send(name, action_id, fields)
        deadline = time.monotonic() + self.timeout
        events = []
        while True:
            message = self._read_message(deadline)
            if message.get("ActionID") != action_id:
                continue
            if "Response" in message:
                if message.get("Response", "").lower() != "success":
                    raise AsteriskError("%s: %s failed: %s" % (self.where, name, message.get("Message", "")))
                # Some actions answer "no items" with a plain Success and no list at all.
                if message.get("EventList", "").lower() != "start":
                    return events
                continue
            if message.get("EventList", "").lower() == "complete":
                return events
            events.append(message)

    def command(self, text):
        """Run a CLI command through AMI and return its output, whichever reply format Asterisk uses."""
        reply = self.action("Command", Command=text)
        ok, output = command_reply_output(reply)
        if not ok:
            raise AsteriskError("%s: command %r failed: %s" % (self.where, text, output.strip() or reply.get("Message", "")))
        return output

    # -- wire level ---------------------------------------------------------

    def _send(self, name, action_id, fields):
        if self._sock is None:
            raise AsteriskError("%s: not connected" % self.where)
        lines = ["Action: %s" % name, "ActionID: %s" % action_id]
        for key, value in fields.items():
            value = str(value)
            if "\r" in value or "\n" in value:
                raise AsteriskError("%s: %s %s must be one line" % (self.where, name, key))
            lines.append("%s: %s" % (key, value))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise AsteriskError("%s: sending %s failed: %s" % (self.where, name, exc.strerror or exc))

    def _read_message(self, deadline):
        head = self._peek_until(b"\r\n\r\n", deadline)
        if head.startswith(b"Response: Follows"):
            # Old Command format: the raw output may itself contain blank lines.
            end = self._peek_until(END_COMMAND, deadline)
            self._read_until(END_COMMAND, deadline)
            tail = self._read_until(b"\r\n\r\n", deadline)
            raw = end + tail
        else:
            raw = self._read_until(b"\r\n\r\n", deadline)
        return parse_ami_message(raw.decode("utf-8", "replace"))

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AsteriskError("%s: no complete reply within %gs" % (self.where, self.timeout))
        self._sock.settimeout(remaining)
        try:
            chunk = self._sock.recv(65536)
        except socket.timeout:
            raise AsteriskError("%s: no complete reply within %gs" % (self.where, self.timeout))
        except OSError as exc:
            raise AsteriskError("%s: read failed: %s" % (self.where, exc.strerror or exc))
        if not chunk:
            raise AsteriskError("%s: connection closed by Asterisk" % self.where)
        self._buffer += chunk
        if len(self._buffer) > MAX_MESSAGE:
            raise AsteriskError("%s: reply larger than %d bytes" % (self.where, MAX_MESSAGE))

    def _peek_until(self, marker, deadline):
        """Return the buffered data up to and including marker, reading more as needed."""
        while True:
            index = self._buffer.find(marker)
            if index >= 0:
                return self._buffer[: index + len(marker)]
            self._fill(deadline)

    def _read_until(self, marker, deadline):
        data = self._peek_until(marker, deadline)
        self._buffer = self._buffer[len(data):]
        return data


__all__ = ["AmiClient", "AmiMessage"]
