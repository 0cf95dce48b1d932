# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Raw rtnetlink for the tc reader and applier.

Plain Python, no Ansible imports. pyroute2 (guarded import) opens the socket inside a named
network namespace, the same way ``IPRoute(netns=..., flags=0)`` does; everything else is
struct packing, because pyroute2's message objects cost more than the kernel work at 20k classes:

* ``dump()`` yields (tcmsg, attributes) of a qdisc or class dump, parsed lazily by type.
* ``transact()`` sends pre-encoded requests many per sendmsg() (the kernel handles each message
  of a buffer in turn and acks each one), then reads the acks and maps every error back to its
  request by sequence number.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import threading

from .pyroute2_guard import HAS_PYROUTE2, PYROUTE2_IMPORT_ERROR
from .pyroute2_guard import netns as pyroute2_netns

NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_CAP_ACK, NETLINK_EXT_ACK = 10, 11
SO_SNDBUFFORCE, SO_RCVBUFFORCE = 32, 33
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_GETLINK = 16, 18
RTM_NEWQDISC, RTM_DELQDISC, RTM_GETQDISC = 36, 37, 38
RTM_NEWTCLASS, RTM_DELTCLASS, RTM_GETTCLASS = 40, 41, 42
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP_INTR = 0x1, 0x2, 0x4, 0x10
NLM_F_DUMP = 0x300
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200
NLMSGERR_ATTR_MSG = 1
IFLA_IFNAME, IFLA_NUM_TX_QUEUES = 3, 31
TCA_KIND, TCA_OPTIONS, TCA_STATS2 = 1, 2, 7
TCA_STATS_BASIC = 1
TC_H_ROOT = 0xFFFFFFFF

HDR = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, seq, port id
TCMSG = struct.Struct("=BxxxiIII")  # family, ifindex, handle, parent, info
IFINFO = struct.Struct("=BxHiII")
NLA = struct.Struct("=HH")
U32 = struct.Struct("=I")
I32 = struct.Struct("=i")
U64 = struct.Struct("=Q")
BASIC = struct.Struct("=QI")  # gnet_stats_basic: bytes, packets
WINDOW = 256  # requests per sendmsg(); their acks must fit the receive buffer (~1 KiB each)
RCVBUF = 8 << 20
RECV_SIZE = 1 << 20
DUMP_RETRIES = 3
TIMEOUT = 300.0  # seconds without any answer from the kernel
MAX_RECVS = 1 << 20  # receive calls per dump or ack batch: with TIMEOUT, bounds every loop


class TcError(Exception):
    """A tc operation failed; ``errno`` is the kernel's error number when there is one."""

    def __init__(self, message, errno_value=None):
        super(TcError, self).__init__(message)
        self.errno = errno_value


def nla(attr_type, payload):
    """One netlink attribute, padded to 4 bytes."""
    length = 4 + len(payload)
    return NLA.pack(length, attr_type) + payload + b"\0" * (-length & 3)


def parse_attrs(data, start=0, end=None):
    """{attribute type: payload bytes} of the attributes in data[start:end] (nested flag dropped)."""
    end = len(data) if end is None else end
    out = {}
    unpack = NLA.unpack_from  # hot: every dumped object has a dozen attributes
    while start + 4 <= end:
        length, attr_type = unpack(data, start)
        if length < 4:
            break
        out[attr_type & 0x3FFF] = data[start + 4:start + length]
        start += (length + 3) & ~3
    return out


def basic_stats(attrs):
    """(bytes, packets) from TCA_STATS2/TCA_STATS_BASIC, (0, 0) when absent."""
    stats = attrs.get(TCA_STATS2)
    basic = parse_attrs(stats).get(TCA_STATS_BASIC) if stats else None
    return BASIC.unpack_from(basic) if basic and len(basic) >= 12 else (0, 0)


def tc_body(ifindex, handle, parent, kind=None, options=None):
    """tcmsg plus TCA_KIND and TCA_OPTIONS (raw option bytes, as the kernel dumps them)."""
    body = TCMSG.pack(0, ifindex, handle, parent, 0)
    if kind:
        body += nla(TCA_KIND, kind.encode() + b"\0")
    if options is not None:
        body += nla(TCA_OPTIONS, options)
    return body


def _socket_in_netns(netns):
    """A netlink socket created inside `netns`. setns() moves only the calling thread, so a
    short-lived thread enters the namespace, makes the socket and ends: the process stays where
    it is, and this costs far less than pyroute2's create_socket(), which forks."""
    box = {}

    def enter():
        try:
            pyroute2_netns.setns(netns, flags=0)  # flags=0: never create the namespace
            box["sock"] = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        except Exception as exc:  # reported by the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=enter, name="tc-netns")
    worker.start()
    worker.join(TIMEOUT)
    if "sock" not in box:
        exc = box.get("error")
        raise TcError("cannot open netlink in netns %s: %s" % (netns, exc or "timed out"),
                      getattr(exc, "errno", None))
    return box["sock"]


def open_socket(netns=None):
    """A bound NETLINK_ROUTE socket, inside `netns` (a name under /run/netns) when given."""
    if netns:
        if not HAS_PYROUTE2:
            raise TcError("pyroute2 is needed for netns=%s: %s" % (netns, PYROUTE2_IMPORT_ERROR))
        sock = _socket_in_netns(netns)
    else:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    return TcSocket(sock)


class TcSocket(object):
    """One netlink socket; use as a context manager."""

    def __init__(self, sock):
        self.sock = sock
        self.seq = 0
        self.sent = 0  # change requests sent (dumps and link lookups are not counted)
        for option in (NETLINK_EXT_ACK, NETLINK_CAP_ACK):  # kernel messages, small error acks
            try:
                sock.setsockopt(SOL_NETLINK, option, 1)
            except OSError:
                pass
        for force, plain in ((SO_RCVBUFFORCE, socket.SO_RCVBUF), (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
            try:
                sock.setsockopt(socket.SOL_SOCKET, force, RCVBUF)
            except OSError:  # not root: up to rmem_max/wmem_max
                sock.setsockopt(socket.SOL_SOCKET, plain, RCVBUF)
        sock.bind((0, 0))
        sock.settimeout(TIMEOUT)
        self.buf = bytearray(RECV_SIZE)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _next_seq(self, count=1):
        first = self.seq + 1
        self.seq += count
        return first

    def _messages(self):
        """Messages of one recv(): (type, flags, seq, message bytes)."""
        try:
            size = self.sock.recv_into(self.buf)
        except socket.timeout:
            raise TcError("no answer from the kernel within %d s" % TIMEOUT, errno.ETIMEDOUT)
        data = bytes(self.buf[:size])
        pos = 0
        while pos + 16 <= size:
            length, msg_type, flags, seq = HDR.unpack_from(data, pos)[:4]
            if length < 16:
                break
            yield msg_type, flags, seq, data[pos:pos + length]
            pos += (length + 3) & ~3

    # -- reading -----------------------------------------------------------------------------
    def link(self, ifname):
        """(ifindex, tx queue count) of `ifname`; TcError when it does not exist."""
        seq = self._next_seq()
        body = IFINFO.pack(0, 0, 0, 0, 0) + nla(IFLA_IFNAME, ifname.encode() + b"\0")
        self.sock.send(HDR.pack(16 + len(body), RTM_GETLINK, NLM_F_REQUEST, seq, 0) + body)
        for _attempt in range(100):  # bounded: the answer is one message
            for msg_type, flags, got, msg in self._messages():
                if got != seq:
                    continue
                if msg_type == NLMSG_ERROR:
                    code = -I32.unpack_from(msg, 16)[0]
                    raise TcError("interface %s: %s" % (ifname, os.strerror(code)), code)
                if msg_type == RTM_NEWLINK:
                    ifindex = IFINFO.unpack_from(msg, 16)[2]
                    attrs = parse_attrs(msg, 16 + IFINFO.size)
                    txq = attrs.get(IFLA_NUM_TX_QUEUES)
                    return ifindex, U32.unpack(txq[:4])[0] if txq else 1
        raise TcError("interface %s: no answer from the kernel" % ifname)

    def dump(self, msg_type, ifindex):
        """[(tcmsg tuple (ifindex, handle, parent, info), {attr: bytes})] of one interface.

        A dump the kernel flags as interrupted (the tree changed meanwhile) is repeated.
        """
        for _attempt in range(DUMP_RETRIES):
            rows, interrupted = self._dump_once(msg_type, ifindex)
            if not interrupted:
                return rows
        raise TcError("the tc dump kept being interrupted by concurrent changes")

    def _dump_once(self, msg_type, ifindex):
        seq = self._next_seq()
        body = TCMSG.pack(0, ifindex, 0, 0, 0)
        self.sock.send(HDR.pack(16 + len(body), msg_type, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body)
        rows, interrupted, answer = [], False, msg_type - 2  # RTM_GET* -> RTM_NEW*
        for _recv in range(MAX_RECVS):
            for kind, flags, got, msg in self._messages():
                if got != seq:
                    continue
                interrupted = interrupted or bool(flags & NLM_F_DUMP_INTR)
                if kind == NLMSG_DONE:
                    return rows, interrupted
                if kind == NLMSG_ERROR:
                    code = -I32.unpack_from(msg, 16)[0]
                    raise TcError("tc dump failed: %s" % os.strerror(code), code)
                if kind == answer:
                    tcm = TCMSG.unpack_from(msg, 16)
                    if tcm[1] == ifindex:
                        rows.append((tcm[1:], parse_attrs(msg, 16 + TCMSG.size)))
        raise TcError("the tc dump did not end")

    # -- changing ----------------------------------------------------------------------------
    def transact(self, requests, window=WINDOW, stop_on_error=True):
        """Send requests [(msg type, flags, body)], `window` per sendmsg(), each with an ack.

        Returns (number sent, {request index: TcError}). After a window with an error no further
        window is sent when stop_on_error (the requests of that window have all been handled).
        """
        failed, index, total = {}, 0, len(requests)
        while index < total and not (failed and stop_on_error):
            chunk = requests[index:index + window]
            first = self._next_seq(len(chunk))
            parts = [HDR.pack(16 + len(body), msg_type, flags | NLM_F_REQUEST | NLM_F_ACK, first + k, 0) + body
                     for k, (msg_type, flags, body) in enumerate(chunk)]
            self.sock.sendall(b"".join(parts))
            self.sent += len(chunk)
            for seq, error in self._acks(first, len(chunk)):
                failed[index + seq - first] = error
            index += len(chunk)
        return index, failed

    def _acks(self, first, count):
        """Errors among the acks of sequence numbers first..first+count-1: [(seq, TcError)]."""
        pending, errors = count, []
        for _recv in range(MAX_RECVS):
            if not pending:
                break
            for msg_type, flags, seq, msg in self._messages():
                if msg_type != NLMSG_ERROR or not first <= seq < first + count:
                    continue
                pending -= 1
                code = -I32.unpack_from(msg, 16)[0]
                if code:
                    errors.append((seq, TcError(_ack_text(msg, flags, code), code)))
        if pending:
            raise TcError("%d request(s) were never acknowledged" % pending)
        return errors


def _ack_text(msg, flags, code):
    """The kernel's extended-ack message if it sent one, else strerror."""
    text = os.strerror(code) if code > 0 else "error %d" % code
    if flags & NLM_F_ACK_TLVS:
        inner = HDR.unpack_from(msg, 20)[0]
        start = 36 if flags & NLM_F_CAPPED else 20 + inner
        extra = parse_attrs(msg, start).get(NLMSGERR_ATTR_MSG)
        if extra:
            text = "%s (%s)" % (extra.rstrip(b"\0").decode("utf-8", "replace"), text)
    return text
