# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MikroTik RouterOS API server on 127.0.0.1 (the binary API of port 8728), for DHCPv6 tests.

The wire protocol as RouterOS speaks it: words prefixed with a variable-length length
(1 to 5 bytes), sentences ended by an empty word; replies ``!re`` (one row), ``!done``,
``!trap`` (an error, followed by ``!done``) and ``!fatal`` (then the connection closes).
Login is the post-6.43 plaintext ``/login =name= =password=``. Commands: ``print`` of
/ip/arp, /ip/dhcp-server/lease, /ipv6/dhcp-server/binding, /ipv6/neighbor and
/system/identity, with ``=.proplist=``, ``?attr=value`` queries and ``.tag``; ``/quit``.

Data from the lab network: each router serves a share of the subscribers. Every IPv6 prefix
of a device is a DHCPv6 binding. The binding names its client in one of three ways, by device
id: a DUID-LL or a DUID-LLT (the MAC is inside), or a DUID-EN whose link-local client address
the neighbour table maps to the MAC. Static devices are in the ARP table, dynamic ones in the
DHCPv4 leases. Each router also has a disabled binding and one for a client no CRM knows.

Faults (attribute ``fault``): ``bad_password`` rejects every login, ``drop`` closes the
connection at the first command after login, ``stall`` accepts the connection and never
answers.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading

from tests.emulators.httpbase import require_loopback, serve_in_thread, shut_down
from tests.emulators.labnet import LabNetwork, Subscriber

FAULTS = (None, "bad_password", "drop", "stall")
STRAY_MAC = "02:EE:00:00:00:%02X"
MAX_WORD = 1 << 20  # refuse absurd lengths instead of allocating them


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    if length < 0x10000000:
        return (length | 0xE0000000).to_bytes(4, "big")
    return b"\xf0" + length.to_bytes(4, "big")


def encode_word(word: str) -> bytes:
    data = word.encode("utf-8")
    return encode_length(len(data)) + data


def encode_sentence(words) -> bytes:
    return b"".join(encode_word(word) for word in words) + b"\x00"


def read_length(read) -> int:
    """Decode one length prefix; ``read(n)`` returns exactly n bytes or raises EOFError."""
    first = read(1)[0]
    if first < 0x80:
        return first
    if first < 0xC0:
        return ((first & 0x3F) << 8) | read(1)[0]
    if first < 0xE0:
        return int.from_bytes(bytes((first & 0x1F,)) + read(2), "big")
    if first < 0xF0:
        return int.from_bytes(bytes((first & 0x0F,)) + read(3), "big")
    if first == 0xF0:
        return int.from_bytes(read(4), "big")
    raise ValueError("control byte 0x%02x is not a length" % first)


def read_sentence(read) -> list[str]:
    words = []
    while True:
        length = read_length(read)
        if length == 0:
            return words
        if length > MAX_WORD:
            raise ValueError("word of %d bytes" % length)
        words.append(read(length).decode("utf-8", "replace"))


def _word(value) -> str:
    """A value as queries compare it: RouterOS takes yes/no and true/false alike."""
    return {"yes": "true", "no": "false"}.get(str(value), str(value))


def _mac_hex(mac: str) -> str:
    return mac.replace(":", "").lower()


def _link_local(mac: str) -> str:
    """fe80:: address with the modified EUI-64 interface id of ``mac``."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    groups = ["%x" % ((eui[i] << 8) | eui[i + 1]) for i in range(0, 8, 2)]
    return "fe80::" + ":".join(groups)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.server.emulator.serve_connection(self.request)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class RouterOSEmulator:
    """One MikroTik router: its tables, its login and its faults."""

    def __init__(self, name: str, username: str, password: str, tables: dict, host: str = "127.0.0.1",
                 port: int = 0, fault: str | None = None) -> None:
        require_loopback(host)
        self.name, self.username, self.password = name, username, password
        self.tables = tables  # menu path ("/ip/arp") -> list of row dicts
        self.host, self.port = host, port
        self.fault = fault
        self.commands: list[str] = []  # every command word received (login included), for tests
        self.logins = {"ok": 0, "failed": 0}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = None
        self._thread = None

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> "RouterOSEmulator":
        if self.fault not in FAULTS:
            raise ValueError("unknown fault %r" % (self.fault,))
        self._stopping.clear()
        self._server = _Server((self.host, self.port), _Handler)
        self._server.emulator = self
        self._thread = serve_in_thread(self._server, "routeros-%s" % self.name)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            shut_down(server, self._thread, self._stopping)

    def __enter__(self) -> "RouterOSEmulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def bound_port(self) -> int:
        return self._server.server_address[1]

    # --- protocol ------------------------------------------------------------------------
    def serve_connection(self, sock: socket.socket) -> None:
        sock.settimeout(30)
        logged_in = False

        def read(count: int) -> bytes:
            data = b""
            while len(data) < count:
                chunk = sock.recv(count - len(data))
                if not chunk:
                    raise EOFError
                data += chunk
            return data

        try:
            while not self._stopping.is_set():
                words = read_sentence(read)
                if not words:
                    continue
                command, arguments, queries, tag = self._split(words)
                with self._lock:
                    self.commands.append(command)
                if self.fault == "stall":
                    self._stopping.wait(30)
                    return
                if command == "/login":
                    logged_in = self._login(sock, arguments, tag)
                    continue
                if not logged_in:
                    self._send(sock, [["!trap", "=message=not logged in"], ["!done"]], tag)
                    continue
                if self.fault == "drop":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()  # linger 0: the close sends an RST, as a router that reboots
                    return
                if command == "/quit":
                    self._send(sock, [["!fatal", "session terminated on request"]], None)
                    return
                self._send(sock, self._run(command, arguments, queries), tag)
        except (EOFError, OSError, ValueError):
            return

    @staticmethod
    def _split(words):
        command, arguments, queries, tag = words[0], {}, [], None
        for word in words[1:]:
            if word.startswith("="):
                key, value = word[1:].partition("=")[::2]
                arguments[key] = value
            elif word.startswith("?") and not word.startswith("?#"):  # "?#&" stack operations: all AND here
                queries.append(tuple(word[1:].lstrip("=").partition("=")[::2]))
            elif word.startswith(".tag="):
                tag = word[5:]
        return command, arguments, queries, tag

    def _login(self, sock, arguments, tag) -> bool:
        good = (self.fault != "bad_password" and arguments.get("name") == self.username
                and arguments.get("password") == self.password)
        with self._lock:
            self.logins["ok" if good else "failed"] += 1
        if good:
            self._send(sock, [["!done"]], tag)
        else:
            self._send(sock, [["!trap", "=message=invalid user name or password (6)"], ["!done"]], tag)
        return good

    def _run(self, command, arguments, queries):
        menu, verb = command.rpartition("/")[::2]
        rows = self.tables.get(menu)
        if rows is None or verb != "print":
            return [["!trap", "=category=0", "=message=no such command prefix"], ["!done"]]
        proplist = [key for key in arguments.get(".proplist", "").split(",") if key]
        replies = []
        for row in rows:
            if any(_word(row.get(key, "")) != _word(value) for key, value in queries):
                continue
            keys = proplist or list(row)
            replies.append(["!re"] + ["=%s=%s" % (key, row[key]) for key in keys if key in row])
        return replies + [["!done"]]

    @staticmethod
    def _send(sock, sentences, tag) -> None:
        tagged = [".tag=%s" % tag] if tag is not None else []
        sock.sendall(b"".join(encode_sentence(words if words[0] == "!fatal" else words + tagged)
                              for words in sentences))


def router_tables(network: LabNetwork, subscribers: list[Subscriber], router_number: int) -> dict:
    """The /ip/arp, /ip/dhcp-server/lease, /ipv6/dhcp-server/binding and /ipv6/neighbor tables."""
    arp, leases, bindings, neighbors = [], [], [], []
    for subscriber in subscribers:
        for device in subscriber.devices:
            host = device.ipv4[0].split("/", 1)[0]
            entry = {".id": "*%X" % (len(arp) + len(leases) + 1), "address": host, "mac-address": device.mac,
                     "interface": "bridge-customers", "dynamic": "true", "disabled": "false"}
            if device.dynamic:
                entry.update({"server": "dhcp-customers", "status": "bound", "active-address": host})
                leases.append(entry)
            else:
                entry.update({"complete": "true"})
                arp.append(entry)
            for prefix in device.ipv6:
                bindings.append(_binding(len(bindings) + 1, prefix, device.id, device.mac, neighbors))
    stray = STRAY_MAC % router_number
    bindings.append(_binding(len(bindings) + 1, "2001:db8:ffff:%x00::/56" % router_number, 0, stray, neighbors))
    disabled = _binding(len(bindings) + 1, "2001:db8:fffe:%x00::/56" % router_number, 3, stray, neighbors)
    disabled["disabled"] = "true"
    bindings.append(disabled)
    identity = [{"name": "router-%d" % router_number}]
    return {"/ip/arp": arp, "/ip/dhcp-server/lease": leases, "/ipv6/dhcp-server/binding": bindings,
            "/ipv6/neighbor": neighbors, "/system/identity": identity}


def _binding(number: int, prefix: str, device_id: int, mac: str, neighbors: list) -> dict:
    """A DHCPv6 binding naming its client by DUID-LL, DUID-LLT or (DUID-EN) link-local address."""
    style = device_id % 3
    link_local = _link_local(mac)
    if style == 0:
        duid = "0x00030001" + _mac_hex(mac)
    elif style == 1:
        duid = "0x000100012c7a1b00" + _mac_hex(mac)
    else:
        duid = "0x000200003a8c%08x" % device_id
        if not any(n["address"] == link_local for n in neighbors):
            neighbors.append({".id": "*%X" % (len(neighbors) + 1), "address": link_local, "mac-address": mac,
                              "interface": "bridge-customers", "status": "reachable", "router": "false"})
    return {".id": "*%X" % number, "address": prefix, "duid": duid, "iaid": str(device_id & 0xFFFF),
            "server": "dhcp6-customers", "client-address": link_local, "status": "bound",
            "life-time": "3d", "last-seen": "2m14s", "dynamic": "true", "disabled": "false"}


def lab_routers(network: LabNetwork, count: int, username: str, password: str) -> list[RouterOSEmulator]:
    """``count`` routers; subscriber n is served by router n % count (numbered from 1)."""
    routers = []
    for number in range(1, count + 1):
        served = [s for s in network.subscribers if s.id % count == number % count]
        routers.append(RouterOSEmulator("core-%d" % number, username, password,
                                        router_tables(network, served, number)))
    return routers
