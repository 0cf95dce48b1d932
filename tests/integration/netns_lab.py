# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A throw-away shaping-bridge lab made of network namespaces (needs root and iproute2).

    <prefix>-inet     "the Internet": eth0, 100.64.0.1/10 and fd00:64::1/48, iperf3 servers
         | veth
    <prefix>-shaper   br0 = to_internet + to_network (the bridge that the shaper shapes)
         | veth
    <prefix>-switch   sw0 = uplink + sub1..subN (the access network)
         | veth (one per subscriber)
    <prefix>-subK     eth0: 100.64.K.1-3/10 (inside 100.64.K.0/29) and fd00:64:0:K::1/48
                      (inside its prefix fd00:64:0:K::/64)

Everything is one L2 segment, so no routing is involved: the shaper is a transparent bridge.
All addresses (100.64.0.0/10 shared space, fd00::/8 ULA) exist only inside these namespaces.
The name prefix is unique per lab; the lab is removed on exit, also after a failure, and
``cleanup_stale(prefix)`` removes what a killed run left behind. Every command is an argument
list (no shell) and every wait is bounded.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

STALE_PREFIX = "ispt"              # every lab name starts with this
INET_V4 = "100.64.0.1"
INET_V6 = "fd00:64::1"
V4_LEN, V6_LEN = 10, 48            # on-link prefix lengths: one flat L2 segment
PIN_ROOT = "/sys/fs/bpf/isp_ops"   # Classifier pins of netns-bound programs: PIN_ROOT/netns/<ns>
CMD_TIMEOUT = 20


class LabError(RuntimeError):
    pass


def skip_reason(tools=("ip", "tc", "iperf3", "ss"), classifier=False):
    """Why a namespace test cannot run on this machine, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, bridges, tc, bpf)"
    from ansible_collections.isp.ops.plugins.module_utils.shaping import classifier as cm
    if not cm.HAS_PYROUTE2:
        return "pyroute2 is missing: %s" % cm.PYROUTE2_IMPORT_ERROR
    missing = cm.missing_requirements() if classifier else []
    if missing:
        return "the classifier needs %s; run scripts/kernel-deps.sh" % "; ".join(missing)
    absent = [tool for tool in tools if not shutil.which(tool)]
    if absent:
        return "missing tools: %s" % ", ".join(absent)
    return None


def netns_marks(**requirements):
    """pytestmark for a namespace test module: marked netns, skipped with the reason if needed."""
    import pytest
    reason = skip_reason(**requirements)
    return [pytest.mark.netns] + ([pytest.mark.skip(reason=reason)] if reason else [])


def run(args, timeout=CMD_TIMEOUT, check=True, ns=None):
    """Run an argument list (inside `ns` if given); return CompletedProcess with text output."""
    if ns:
        args = ["ip", "netns", "exec", ns] + list(args)
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise LabError("%s failed (%d): %s" % (" ".join(args), proc.returncode, proc.stderr.strip()))
    return proc


def list_netns():
    out = run(["ip", "-j", "netns", "list"], check=False).stdout.strip()
    return [n["name"] for n in json.loads(out)] if out else []


def _kill_netns_pids(ns):
    """Terminate the processes left inside a namespace that a lab created (bounded wait)."""
    pids = [int(p) for p in run(["ip", "netns", "pids", ns], check=False).stdout.split()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        for _poll in range(20):
            pids = [p for p in pids if os.path.exists("/proc/%d" % p)]
            if not pids:
                return
            time.sleep(0.05)


def _remove_netns(ns, pin_root=PIN_ROOT):
    _kill_netns_pids(ns)
    run(["ip", "netns", "delete", ns], check=False)
    shutil.rmtree(os.path.join(pin_root, "netns", ns), ignore_errors=True)


def cleanup_stale(prefix=STALE_PREFIX, min_age=0, pin_root=PIN_ROOT):
    """Delete every namespace whose name starts with `prefix` (and its pinned maps).

    min_age (seconds) spares younger namespaces, e.g. those of a test run still going on.
    """
    def age(ns):
        try:
            return time.time() - os.stat(os.path.join("/run/netns", ns)).st_mtime
        except OSError:
            return float("inf")
    removed = [ns for ns in list_netns() if ns.startswith(prefix) and age(ns) >= min_age]
    for ns in removed:
        _remove_netns(ns, pin_root)
    return removed


@dataclasses.dataclass
class Subscriber:
    index: int
    ns: str
    ipv4: list                 # host addresses, all inside v4_block
    v4_block: str              # e.g. 100.64.1.0/29
    ipv6: str                  # host address inside ipv6_prefix
    ipv6_prefix: str           # e.g. fd00:64:0:1::/64


@dataclasses.dataclass
class IperfResult:
    c2s_mbps: float            # client -> server, as received by the server
    s2c_mbps: float            # server -> client, as received by the client (0 if not measured)
    raw: dict


class NetnsLab:
    """Context manager building the lab above; attributes name the namespaces and interfaces."""

    to_internet = "to_internet"
    to_network = "to_network"
    bridge = "br0"

    def __init__(self, subscribers=2, prefix=None, v4_per_subscriber=3, pin_root=PIN_ROOT,
                 offloads=False):
        if not 1 <= subscribers <= 200 or not 1 <= v4_per_subscriber <= 6:
            raise ValueError("1..200 subscribers with 1..6 IPv4 addresses each (one /29)")
        self.prefix = prefix or "%s%s" % (STALE_PREFIX, secrets.token_hex(3))
        self.inet = self.prefix + "-inet"
        self.shaper = self.prefix + "-shaper"
        self.switch = self.prefix + "-switch"
        self.pin_root = pin_root
        self.offloads = offloads
        self.subscribers = [
            Subscriber(k, "%s-sub%d" % (self.prefix, k),
                       ["100.64.%d.%d" % (k, h) for h in range(1, v4_per_subscriber + 1)],
                       "100.64.%d.0/29" % k, "fd00:64:0:%x::1" % k, "fd00:64:0:%x::/64" % k)
            for k in range(1, subscribers + 1)]
        self.namespaces = [self.inet, self.shaper, self.switch] + [s.ns for s in self.subscribers]
        self._procs = []
        self._created = []     # only what this lab made is removed

    # -- build / destroy ---------------------------------------------------------------------
    def __enter__(self):
        try:
            self.build()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc):
        self.destroy()

    def _veth(self, ns_a, name_a, ns_b, name_b):
        run(["ip", "-n", ns_a, "link", "add", name_a, "type", "veth", "peer", "name", name_b, "netns", ns_b])

    def _up(self, ns, *links):
        for link in links:
            run(["ip", "-n", ns, "link", "set", link, "up"])

    def _l2_only(self, ns):
        for key in ("all", "default"):
            run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % key], ns=ns)

    def build(self):
        for ns in self.namespaces:
            run(["ip", "netns", "add", ns])
            self._created.append(ns)
            self._up(ns, "lo")
        for ns in (self.shaper, self.switch):
            self._l2_only(ns)
        self._veth(self.shaper, self.to_internet, self.inet, "eth0")
        self._veth(self.shaper, self.to_network, self.switch, "uplink")
        for ns, br, ports in ((self.shaper, self.bridge, [self.to_internet, self.to_network]),
                              (self.switch, "sw0", ["uplink"])):
            run(["ip", "-n", ns, "link", "add", br, "type", "bridge", "forward_delay", "0", "stp_state", "0"])
            for port in ports:
                run(["ip", "-n", ns, "link", "set", port, "master", br])
            self._up(ns, br, *ports)
        self._address(self.inet, INET_V4, INET_V6)
        for sub in self.subscribers:
            port = "sub%d" % sub.index
            self._veth(self.switch, port, sub.ns, "eth0")
            run(["ip", "-n", self.switch, "link", "set", port, "master", "sw0"])
            self._up(self.switch, port)
            self._address(sub.ns, *(sub.ipv4 + [sub.ipv6]))

    def _address(self, ns, *addresses):
        if not self.offloads:
            # one MSS per skb: HTB and pfifo then see wire-sized packets, as on a shaper whose
            # NICs have GRO/GSO/TSO turned off (no ethtool needed)
            run(["ip", "-n", ns, "link", "set", "eth0", "gso_max_segs", "1"])
        self._up(ns, "eth0")
        for addr in addresses:
            self.add_address(ns, addr)

    def add_address(self, ns, addr):
        """Add a host address on eth0 of `ns` with the lab's on-link prefix length."""
        if ":" in addr:
            run(["ip", "-n", ns, "-6", "addr", "add", "%s/%d" % (addr, V6_LEN), "dev", "eth0", "nodad"])
        else:
            run(["ip", "-n", ns, "addr", "add", "%s/%d" % (addr, V4_LEN), "dev", "eth0"])

    def destroy(self):
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=5)
        self._procs = []
        while self._created:
            _remove_netns(self._created.pop(), self.pin_root)

    # -- traffic -----------------------------------------------------------------------------
    def iperf3_server(self, port, ns=None):
        """Start a one-shot iperf3 server (-1) in `ns` (default: inet); wait until it listens."""
        ns = ns or self.inet
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "iperf3", "-s", "-1", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._procs.append(proc)
        for _poll in range(100):  # <= 5 s
            out = run(["ss", "-Htln", "sport = :%d" % port], ns=ns, check=False).stdout
            if out.strip():
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        raise LabError("iperf3 server on port %d in %s did not start" % (port, ns))

    def iperf3_client(self, ns, server, port, seconds=3, omit=1, bidir=False, reverse=False,
                      bind=None, congestion=None, start=True):
        """Run (start=True) or return a Popen of (start=False) a bounded iperf3 TCP client.

        congestion: TCP congestion control of both ends (iperf3 -C), e.g. "cubic".
        """
        args = ["ip", "netns", "exec", ns, "iperf3", "-J", "-c", server, "-p", str(port),
                "-t", str(int(seconds)), "-O", str(int(omit)), "--connect-timeout", "3000"]
        if bidir:
            args.append("--bidir")
        if reverse:
            args.append("-R")
        if bind:
            args += ["-B", bind]
        if congestion:
            args += ["-C", congestion]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._procs.append(proc)
        return self.iperf3_result(proc, seconds + omit) if start else proc

    @staticmethod
    def iperf3_result(proc, seconds):
        out, err = proc.communicate(timeout=seconds + 20)
        return parse_iperf3(out, err)

    def send_udp(self, ns, src, dst, count=20, size=200, port=9):
        """Send `count` UDP datagrams from address `src` to `dst` inside `ns` (bounded)."""
        code = ("import socket,sys,time\n"
                "f=socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n"
                "s=socket.socket(f,socket.SOCK_DGRAM); s.bind((sys.argv[1],0))\n"
                "for i in range(int(sys.argv[3])):\n"
                "    s.sendto(b'x'*int(sys.argv[4]),(sys.argv[2],int(sys.argv[5]))); time.sleep(0.01)\n")
        run([sys.executable, "-c", code, src, dst, str(int(count)), str(int(size)), str(int(port))], ns=ns)

    def send_frames(self, ns, ifname, frames, repeat=10):
        """Transmit raw Ethernet frames (bytes) on `ifname` inside `ns` through AF_PACKET.

        They enter the interface's egress path (clsact, then the root qdisc) as they are,
        e.g. with an 802.1Q tag still in the data.
        """
        code = ("import socket,sys\n"
                "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW); s.bind((sys.argv[1],0))\n"
                "for _ in range(int(sys.argv[2])):\n"
                "    for f in sys.argv[3:]: s.send(bytes.fromhex(f))\n")
        run([sys.executable, "-c", code, ifname, str(int(repeat))] + [f.hex() for f in frames], ns=ns)


def parse_iperf3(out, err=""):
    """Parse iperf3 -J output into an IperfResult (Mbit/s on the receiving side)."""
    try:
        data = json.loads(out)
    except ValueError:
        raise LabError("iperf3 gave no JSON: %s %s" % (out[-300:], err[-300:]))
    if data.get("error"):
        raise LabError("iperf3: %s" % data["error"])
    end = data["end"]
    reverse = data["start"]["test_start"].get("reverse", 0)
    fwd = end["sum_received"]["bits_per_second"] / 1e6
    back = end.get("sum_received_bidir_reverse", {}).get("bits_per_second", 0.0) / 1e6
    if reverse:  # -R: the server sent, the client received
        return IperfResult(0.0, fwd, data)
    return IperfResult(fwd, back, data)
