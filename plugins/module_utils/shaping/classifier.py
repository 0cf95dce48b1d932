# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load bpf/classifier.c on one interface and keep its prefix maps in sync.

Plain Python, no Ansible imports. bcc, pyroute2 and libbpf are imported under guards: importing
this module never raises; ``missing_requirements()`` says what is absent.

    with Classifier("to_network", DOWNLOAD, netns="shaper", default_classid=0x10002) as cls:
        cls.attach()                     # "loaded", "replaced" or "reused"
        cls.sync({"100.64.1.0/29": (0x10003, 1), "fd00:64:1::/64": (0x10003, 1)})
        cls.counters()                   # {circuit index: Counter(bytes, packets)}

Maps live pinned in bpffs (see ``Classifier.pin_dir``). A later run whose program is already
attached with the same source and whose maps are pinned reuses both: it neither compiles nor
re-attaches, so updating prefixes never detaches the classifier.

Run it in the host's mount namespace and pass ``netns=`` for an interface inside a network
namespace. Under ``ip netns exec`` /sys is remounted without bpffs, so pins would land in a
private bpffs and vanish with the process; ``ensure_bpffs()`` refuses that case.
"""

from __future__ import annotations

import collections
import hashlib
import ipaddress
import os
import struct
import subprocess
from pathlib import Path

from .bpfmap import HAS_LIBBPF, LIBBPF_IMPORT_ERROR, MAP_TYPE_ARRAY, MAP_TYPE_LPM_TRIE, MAP_TYPE_PERCPU_ARRAY, BpfMap

BCC_IMPORT_ERROR = None
try:
    from bcc import BPF
    HAS_BCC = True
except Exception as exc:  # ImportError, or bcc failing to find libbcc
    BPF = None
    HAS_BCC = False
    BCC_IMPORT_ERROR = exc

from .pyroute2_guard import HAS_PYROUTE2, PYROUTE2_IMPORT_ERROR, IPRoute

DOWNLOAD = "download"  # egress towards the access network: match the destination address
UPLOAD = "upload"      # egress towards the Internet: match the source address
DIRECTIONS = {DOWNLOAD: 0, UPLOAD: 1}
PIN_ROOT = "/sys/fs/bpf/isp_ops"
DEFAULT_SOURCE = Path(__file__).resolve().parents[3] / "bpf" / "classifier.c"
FILTER_PRIO = 1
FILTER_PREFIX = "isp_ops_"
CLSACT_EGRESS = "ffff:fff3"
MAX_PREFIXES = 131072
MAX_CIRCUITS = 65536
# pin file -> (map type, key size, value size); max_entries is checked separately
_MAPS = {"v4": (MAP_TYPE_LPM_TRIE, 8, 8), "v6": (MAP_TYPE_LPM_TRIE, 20, 8),
         "stats": (MAP_TYPE_PERCPU_ARRAY, 4, 16), "default": (MAP_TYPE_ARRAY, 4, 4)}

SyncResult = collections.namedtuple("SyncResult", "added changed removed")
Counter = collections.namedtuple("Counter", "bytes packets")


class ClassifierError(Exception):
    pass


def classid(major, minor):
    """HTB class id as an integer, e.g. classid(1, 0x14) for tc's "1:14"."""
    if not (0 <= major <= 0xFFFF and 0 <= minor <= 0xFFFF):
        raise ValueError("class id %r:%r out of range" % (major, minor))
    return major << 16 | minor


def parse_classid(text):
    """tc notation "major:minor" (both hexadecimal, as tc reads them) to an integer."""
    major, sep, minor = str(text).partition(":")
    if not sep:
        raise ValueError("class id %r is not major:minor" % (text,))
    return classid(int(major or "0", 16), int(minor or "0", 16))


def format_classid(value):
    return "%x:%x" % (value >> 16, value & 0xFFFF)


def missing_requirements():
    """Human-readable list of what is missing to load the classifier (empty when all is there)."""
    missing = []
    if not HAS_BCC:
        missing.append("bcc (Debian package python3-bpfcc; use Debian's python3): %s" % BCC_IMPORT_ERROR)
    if not HAS_PYROUTE2:
        missing.append("pyroute2: %s" % PYROUTE2_IMPORT_ERROR)
    if not HAS_LIBBPF:
        missing.append("libbpf (Debian package libbpf1): %s" % LIBBPF_IMPORT_ERROR)
    build = "/lib/modules/%s/build" % os.uname().release
    if not os.path.exists(build) and not os.path.exists("/sys/kernel/kheaders.tar.xz"):
        missing.append("kernel headers for bcc (%s; see scripts/kernel-deps.sh)" % build)
    return missing


def ensure_bpffs(path=PIN_ROOT):
    """Make sure `path` lies on a bpf filesystem; mount /sys/fs/bpf if nothing is mounted there."""
    with open("/proc/mounts") as mounts:
        bpf_mounts = [f[1] for f in (line.split() for line in mounts) if f[2] == "bpf"]
    if any(path == m or path.startswith(m.rstrip("/") + "/") for m in bpf_mounts):
        return
    if not path.startswith("/sys/fs/bpf/"):
        raise ClassifierError("%s is not on a bpf filesystem" % path)
    try:
        private = os.readlink("/proc/self/ns/mnt") != os.readlink("/proc/1/ns/mnt")
    except OSError:
        private = False
    if private:
        raise ClassifierError("no bpffs at /sys/fs/bpf in this mount namespace (ip netns exec?): "
                              "pins would not outlive this process; run on the host with netns=")
    subprocess.run(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"], check=True, capture_output=True)


def _pack_key(net):
    return struct.pack("=I", net.prefixlen) + net.network_address.packed


def _unpack_key(raw):
    (plen,) = struct.unpack_from("=I", raw)
    return ipaddress.ip_network((raw[4:], plen), strict=False)


class Classifier:
    """The classifier program of one interface and direction, optionally inside a netns."""

    def __init__(self, ifname, direction, netns=None, default_classid=0, pin_root=PIN_ROOT,
                 src_file=None, max_prefixes=MAX_PREFIXES, max_circuits=MAX_CIRCUITS):
        if direction not in DIRECTIONS:
            raise ValueError("direction must be %r or %r" % (DOWNLOAD, UPLOAD))
        self.ifname, self.direction, self.netns = ifname, direction, netns
        self.default_classid = int(default_classid)
        self.src_file = str(src_file or DEFAULT_SOURCE)
        self.max_prefixes, self.max_circuits = int(max_prefixes), int(max_circuits)
        sub = Path(pin_root) / ("netns/%s/%s" % (netns, ifname) if netns else ifname)
        self.pin_dir = str(sub)
        self.maps = {}

    # -- loading -----------------------------------------------------------------------------
    def _cflags(self):
        return ["-DISP_DIRECTION=%d" % DIRECTIONS[self.direction],
                "-DISP_MAX_PREFIXES=%d" % self.max_prefixes,
                "-DISP_MAX_CIRCUITS=%d" % self.max_circuits]

    def _filter_name(self):
        """Name of the tc filter: direction, hash of source+flags, id of the v4 map it uses."""
        digest = hashlib.sha256(Path(self.src_file).read_bytes())
        digest.update(" ".join(self._cflags()).encode())
        return "%s%s_%s_%d" % (FILTER_PREFIX, self.direction, digest.hexdigest()[:10], self.maps["v4"].id)

    def _ipr(self):
        if not HAS_PYROUTE2:
            raise ClassifierError("pyroute2 is missing: %s" % PYROUTE2_IMPORT_ERROR)
        return IPRoute(netns=self.netns, flags=0) if self.netns else IPRoute()

    def _ifindex(self, ipr):
        found = ipr.link_lookup(ifname=self.ifname)
        if not found:
            raise ClassifierError("no interface %s%s" % (self.ifname, " in netns %s" % self.netns if self.netns else ""))
        return found[0]

    def _our_filter(self, ipr, ifindex):
        """Name of our filter on the clsact egress hook, or None."""
        try:
            filters = ipr.get_filters(ifindex, parent=0xFFFFFFF3)
        except Exception:  # NetlinkError: no clsact qdisc yet
            return None
        for msg in filters:
            opts = msg.get_attr("TCA_OPTIONS")
            name = opts.get_attr("TCA_BPF_NAME") if opts else None
            if msg["info"] >> 16 == FILTER_PRIO and name and name.startswith(FILTER_PREFIX):
                return name
        return None

    def _pins_ok(self):
        """Open the pinned maps; True if all exist with the expected layout.

        A pin with another layout (other sizes after an upgrade) is removed, so the next load
        creates that map afresh (empty: the caller syncs again).
        """
        self.close()
        sizes = {"v4": self.max_prefixes, "v6": self.max_prefixes, "stats": self.max_circuits, "default": 1}
        maps = {}
        for name, layout in _MAPS.items():
            path = os.path.join(self.pin_dir, name)
            if not os.path.exists(path):
                continue
            m = BpfMap.open(path)
            if (m.type, m.key_size, m.value_size) == layout and m.max_entries == sizes[name]:
                maps[name] = m
            else:
                m.close()
                os.unlink(path)
        if len(maps) == len(_MAPS):
            self.maps = maps
            return True
        for m in maps.values():
            m.close()
        return False

    def attach(self):
        """Load and attach the program unless the same one is attached with the pinned maps.

        Returns "reused" (nothing touched), "replaced" (program swapped atomically, pinned maps
        kept) or "loaded" (first attach on this interface).
        """
        ensure_bpffs(str(Path(self.pin_dir).parent))
        os.makedirs(self.pin_dir, exist_ok=True)
        with self._ipr() as ipr:
            ifindex = self._ifindex(ipr)
            current = self._our_filter(ipr, ifindex)
            if self._pins_ok() and current == self._filter_name():
                self.set_default_classid(self.default_classid)
                return "reused"
            if not HAS_BCC:
                raise ClassifierError("bcc is missing: %s" % BCC_IMPORT_ERROR)
            # ISP_PIN_DIR: bcc opens the maps pinned there, or creates and pins them
            bpf = BPF(src_file=os.fsencode(self.src_file),
                      cflags=self._cflags() + ['-DISP_PIN_DIR="%s"' % self.pin_dir])
            try:
                prog = bpf.load_func(b"isp_classify", BPF.SCHED_CLS)
                if not self._pins_ok():
                    raise ClassifierError("bcc did not pin the maps under %s" % self.pin_dir)
                self.set_default_classid(self.default_classid)  # before the first packet
                if not any(q.get_attr("TCA_KIND") == "clsact" for q in ipr.get_qdiscs(ifindex)):
                    ipr.tc("add", "clsact", ifindex)
                ipr.tc("replace-filter" if current else "add-filter", "bpf", ifindex, ":1",
                       fd=prog.fd, name=self._filter_name(), parent=CLSACT_EGRESS, classid=1,
                       direct_action=True, prio=FILTER_PRIO)
            finally:
                bpf.cleanup()  # the tc filter holds the program, bpffs holds the maps
        return "replaced" if current else "loaded"

    def detach(self, unpin=True):
        """Remove our tc filter (clsact stays) and, by default, the pinned maps."""
        with self._ipr() as ipr:
            ifindex = self._ifindex(ipr)
            if self._our_filter(ipr, ifindex):
                ipr.tc("del-filter", "bpf", ifindex, ":1", parent=CLSACT_EGRESS, prio=FILTER_PRIO)
        self.close()
        if unpin:
            for name in _MAPS:
                path = os.path.join(self.pin_dir, name)
                if os.path.exists(path):
                    os.unlink(path)
            for d in (self.pin_dir, str(Path(self.pin_dir).parent)):
                try:
                    os.rmdir(d)
                except OSError:
                    break

    def close(self):
        """Close the map descriptors. Never detaches: the program and pinned maps stay."""
        for m in self.maps.values():
            m.close()
        self.maps = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _map(self, name):
        if not self.maps and not self._pins_ok():
            raise ClassifierError("no pinned maps under %s: call attach() first" % self.pin_dir)
        return self.maps[name]

    # -- maps --------------------------------------------------------------------------------
    def set_default_classid(self, value):
        """Class id for packets whose address matches no prefix (0: HTB's own `default`)."""
        self.default_classid = int(value)
        self._map("default").update(struct.pack("=I", 0), struct.pack("=I", self.default_classid))

    def entries(self):
        """What the maps hold now: {ip_network: (classid, circuit index)}."""
        out = {}
        for name in ("v4", "v6"):
            m = self._map(name)
            for raw in m.keys():
                value = m.lookup(raw)
                if value is not None:
                    out[_unpack_key(raw)] = struct.unpack("=II", value)
        return out

    def _normalise(self, wanted):
        want = {}
        for prefix, (cid, circuit) in wanted.items():
            net = ipaddress.ip_network(prefix)  # strict: host bits set is an error
            cid = parse_classid(cid) if isinstance(cid, str) else int(cid)
            if not 0 <= cid <= 0xFFFFFFFF:
                raise ValueError("%s: class id %r out of range" % (prefix, cid))
            if not 1 <= int(circuit) < self.max_circuits:
                raise ValueError("%s: circuit index %r not in 1..%d (0 counts misses)"
                                 % (prefix, circuit, self.max_circuits - 1))
            want[net] = (cid, int(circuit))
        for version in (4, 6):
            if sum(1 for n in want if n.version == version) > self.max_prefixes:
                raise ValueError("more than %d IPv%d prefixes" % (self.max_prefixes, version))
        return want

    def sync(self, wanted):
        """Make the maps hold exactly `wanted` ({prefix: (classid, circuit index)}).

        Only differing entries are written: new and changed ones first, then stale ones are
        deleted, so a prefix that moves between circuits is never unclassified. Returns
        SyncResult(added, changed, removed).
        """
        want = self._normalise(wanted)
        have = self.entries()
        added = changed = 0
        for net, value in want.items():
            if have.get(net) == value:
                continue
            self._map("v%d" % net.version).update(_pack_key(net), struct.pack("=II", *value))
            if net in have:
                changed += 1
            else:
                added += 1
        removed = 0
        for net in set(have) - set(want):
            removed += self._map("v%d" % net.version).delete(_pack_key(net))
        return SyncResult(added, changed, removed)

    def counters(self, circuits=None):
        """{circuit index: Counter(bytes, packets)} summed over CPUs. Index 0 holds misses.

        Default: every circuit index found in the maps, plus 0.
        """
        if circuits is None:
            circuits = sorted({value[1] for value in self.entries().values()} | {0})
        stats = self._map("stats")
        out = {}
        for index in circuits:
            slots = stats.lookup_percpu(struct.pack("=I", index)) or []
            pairs = [struct.unpack("=QQ", s) for s in slots]
            out[index] = Counter(sum(p[0] for p in pairs), sum(p[1] for p in pairs))
        return out
