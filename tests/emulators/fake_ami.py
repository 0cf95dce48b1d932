# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small Asterisk Manager Interface server on 127.0.0.1 for unit tests of the AMI client.

It speaks the AMI wire format: banner, `Key: Value` lines ending with a blank line, ActionID
echoed, Login with a secret, Logoff, `Command` replied in the Asterisk 14+ format (`Output:`
lines) or the Asterisk 13 one (`Response: Follows` ... `--END COMMAND--`), and unsolicited
events between replies. It records every command. Faults: `silent` (never answers an action),
`close_after_banner`, `no_banner` (speaks something else).
"""

from __future__ import annotations

import socket
import socketserver
import threading

NO_SUCH = "No such command '%s' (type 'core show help %s' for other possible commands)\n"


class FakeAmi(object):
    def __init__(self, username="isptest", secret="t0p-s3cret", outputs=None, reply_format="output",
                 fault=None, banner="Asterisk Call Manager/11.0.0"):
        self.username = username
        self.secret = secret
        self.outputs = dict(outputs or {})   # command -> CLI text; unknown commands fail like Asterisk
        self.reply_format = reply_format     # "output" (14+) or "follows" (13 and earlier)
        self.fault = fault
        self.banner = banner
        self.commands = []
        self.logins = []
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                fake._serve(self.rfile, self.wfile)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs=dict(poll_interval=0.02), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False

    def _serve(self, rfile, wfile):
        if self.fault == "no_banner":
            wfile.write(b"SSH-2.0-OpenSSH_9.2\r\n")
            return
        wfile.write(("%s\r\n" % self.banner).encode())
        if self.fault == "close_after_banner":
            return
        logged_in = False
        while True:
            fields = self._read_action(rfile)
            if fields is None:
                return
            if self.fault == "silent":
                continue
            action = fields.get("action", "").lower()
            reply = {"ActionID": fields.get("actionid", "")}
            # An unsolicited event first, as a real AMI interleaves them with replies.
            wfile.write(b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")
            if action == "login":
                self.logins.append(fields.get("username"))
                if fields.get("username") == self.username and fields.get("secret") == self.secret:
                    logged_in = True
                    self._send(wfile, "Success", reply, Message="Authentication accepted")
                else:
                    self._send(wfile, "Error", reply, Message="Authentication failed")
            elif not logged_in:
                self._send(wfile, "Error", reply, Message="Permission denied")
            elif action == "logoff":
                self._send(wfile, "Goodbye", reply, Message="Thanks for all the fish.")
                return
            elif action == "command":
                self._command(wfile, fields.get("command", ""), reply)
            else:
                self._send(wfile, "Error", reply, Message="Invalid/unknown command: %s" % fields.get("action"))

    @staticmethod
    def _read_action(rfile):
        fields = {}
        while True:
            line = rfile.readline()
            if not line:
                return None
            line = line.decode().rstrip("\r\n")
            if not line:
                if fields:
                    return fields
                continue
            key, _sep, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()

    @staticmethod
    def _send(wfile, response, reply, **extra):
        lines = ["Response: %s" % response] + ["%s: %s" % item for item in list(reply.items()) + list(extra.items())]
        wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _command(self, wfile, command, reply):
        self.commands.append(command)
        known = command in self.outputs
        text = self.outputs[command] if known else NO_SUCH % (command, command)
        if self.reply_format == "follows":
            wfile.write(("Response: Follows\r\nPrivilege: Command\r\nActionID: %s\r\n%s--END COMMAND--\r\n\r\n"
                         % (reply["ActionID"], text)).encode())
            return
        lines = ["Response: %s" % ("Success" if known else "Error"), "ActionID: %s" % reply["ActionID"],
                 "Message: Command output follows"]
        lines += ["Output: %s" % line for line in text.split("\n")[:-1]]
        wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode())


def free_port():
    """A loopback port with nothing listening (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
