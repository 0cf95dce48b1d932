# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TCA_OPTIONS of HTB qdiscs and classes and of leaf qdiscs, in both directions.

Plain Python, no Ansible and no kernel access. HTB classes are encoded as tc 6.x does
(burst = rate/HZ + 1600 bytes, in psched ticks) but with linklayer "ethernet" and without the
2 KiB rate tables, which the kernel ignores for such classes.

Leaf options are tc words (spec.Leaf.options). ``leaf_params()`` turns words into a dict of
named kernel values with the kind's defaults filled in, and ``decode_leaf()`` turns a dump into
the same names, so a planned leaf and a kernel leaf compare as dicts. A default of None means
"depends on the device": compared only when the plan names it.
"""

from __future__ import annotations

import re
import struct

from .tc_netlink import U32, TcError, nla, parse_attrs

RATESPEC_HTB = struct.Struct("=BBHhHI BBHhHI IIIII")  # tc_htb_opt
HTB_GLOB = struct.Struct("=IIIII")  # version, rate2quantum, defcls, debug, direct_pkts
TCA_HTB_PARMS, TCA_HTB_INIT, TCA_HTB_RATE64, TCA_HTB_CEIL64 = 1, 2, 6, 7
LINKLAYER_ETHERNET = 1
HTB_MTU = 1600  # tc's default for the burst computation
U32_MAX = 0xFFFFFFFF


def _psched():
    """(ticks per microsecond, HZ as tc's get_hz() sees it) from /proc/net/psched."""
    try:
        with open("/proc/net/psched") as handle:
            t2us, us2t, clock_res, hz = [int(f, 16) for f in handle.read().split()[:4]]
        return float(t2us) / us2t * (clock_res / 1e6), hz if clock_res == 1000000 else 1000
    except (OSError, ValueError):
        return 15.625, 1000000000  # what a high-resolution-timer kernel reports


TICK_IN_USEC, HZ = _psched()


def _xmittime(rate_bytes, size):
    """tc_calc_xmittime(): time to send `size` bytes at `rate_bytes`/s, in psched ticks."""
    usec = min(U32_MAX, int(1000000.0 * size / max(1, rate_bytes)))
    return min(U32_MAX, int(usec * TICK_IN_USEC))


def htb_class_options(rate_bps, ceil_bps, quantum, prio):
    rate, ceil = rate_bps // 8, ceil_bps // 8
    buffer = _xmittime(rate, rate // HZ + HTB_MTU)
    cbuffer = _xmittime(ceil, ceil // HZ + HTB_MTU)
    parms = RATESPEC_HTB.pack(0, LINKLAYER_ETHERNET, 0, 0, 0, min(rate, U32_MAX),
                              0, LINKLAYER_ETHERNET, 0, 0, 0, min(ceil, U32_MAX),
                              buffer, cbuffer, quantum, 0, prio)
    out = nla(TCA_HTB_PARMS, parms)
    if rate > U32_MAX:
        out += nla(TCA_HTB_RATE64, struct.pack("=Q", rate))
    if ceil > U32_MAX:
        out += nla(TCA_HTB_CEIL64, struct.pack("=Q", ceil))
    return out


def decode_htb_class(options):
    """dict(rate, ceil (bit/s), quantum, prio, level, buffer, cbuffer) of a class dump."""
    attrs = parse_attrs(options)
    fields = RATESPEC_HTB.unpack_from(attrs[TCA_HTB_PARMS])
    rate, ceil = fields[5], fields[11]
    if TCA_HTB_RATE64 in attrs:
        rate = struct.unpack_from("=Q", attrs[TCA_HTB_RATE64])[0]
    if TCA_HTB_CEIL64 in attrs:
        ceil = struct.unpack_from("=Q", attrs[TCA_HTB_CEIL64])[0]
    return dict(rate=rate * 8, ceil=ceil * 8, buffer=fields[12], cbuffer=fields[13],
                quantum=fields[14], level=fields[15], prio=fields[16])


def htb_qdisc_options(default_minor, r2q):
    return nla(TCA_HTB_INIT, HTB_GLOB.pack(3, r2q, default_minor, 0, 0))


def htb_qdisc_resend(options):
    """Dumped HTB qdisc options made acceptable again: the kernel dumps its own version
    (0x30011) in TCA_HTB_INIT but accepts only 3 there."""
    attrs = parse_attrs(options)
    glob = attrs.get(TCA_HTB_INIT)
    out = b""
    for attr_type, payload in attrs.items():
        if attr_type == TCA_HTB_INIT and len(glob) >= HTB_GLOB.size:
            payload = U32.pack(3) + payload[4:]
        out += nla(attr_type, payload)
    return out


def decode_htb_qdisc(options):
    """dict(default, r2q) of an HTB qdisc dump."""
    glob = parse_attrs(options).get(TCA_HTB_INIT)
    if not glob:
        return dict(default=0, r2q=0)
    r2q, default = HTB_GLOB.unpack_from(glob)[1:3]
    return dict(default=default, r2q=r2q)


# -- leaf qdiscs ---------------------------------------------------------------------------------
# kind -> {name: (attribute number, struct format, default)}; pfifo/bfifo options are one raw u32.
LEAF_ATTRS = {
    "pfifo": {"limit": (None, "I", None)},
    "bfifo": {"limit": (None, "I", None)},
    "fq_codel": {"target": (1, "I", 5000), "limit": (2, "I", 10240), "interval": (3, "I", 100000),
                 "ecn": (4, "I", 1), "flows": (5, "I", 1024), "quantum": (6, "I", None),
                 "ce_threshold": (7, "I", None), "drop_batch": (8, "I", 64),
                 "memory_limit": (9, "I", 32 << 20)},
    "cake": {"bandwidth": (2, "Q", 0), "diffserv": (3, "I", 0), "atm": (4, "I", 0), "flowmode": (5, "I", 7),
             "overhead": (6, "i", 0), "rtt": (7, "I", 100000), "autorate": (9, "I", 0),
             "memlimit": (10, "I", 0), "nat": (11, "I", 0), "wash": (13, "I", 0), "mpu": (14, "I", 0),
             "ingress": (15, "I", 0), "ack_filter": (16, "I", 0), "split_gso": (17, "I", 1),
             "fwmark": (18, "I", 0)},
}
FIFOS = ("pfifo", "bfifo")
# options the kernel refuses to change on a live qdisc: a new value means a new qdisc
FIXED = {"fq_codel": frozenset(["flows"])}
_CAKE_WORDS = {
    "diffserv3": ("diffserv", 0), "diffserv4": ("diffserv", 1), "diffserv8": ("diffserv", 2),
    "besteffort": ("diffserv", 3), "precedence": ("diffserv", 4),
    "flowblind": ("flowmode", 0), "srchost": ("flowmode", 1), "dsthost": ("flowmode", 2),
    "hosts": ("flowmode", 3), "flows": ("flowmode", 4), "dual-srchost": ("flowmode", 5),
    "dual-dsthost": ("flowmode", 6), "triple-isolate": ("flowmode", 7),
    "nat": ("nat", 1), "nonat": ("nat", 0), "wash": ("wash", 1), "nowash": ("wash", 0),
    "no-ack-filter": ("ack_filter", 0), "ack-filter": ("ack_filter", 1), "ack-filter-aggressive": ("ack_filter", 2),
    "split-gso": ("split_gso", 1), "no-split-gso": ("split_gso", 0), "raw": ("overhead", 0),
    "noatm": ("atm", 0), "atm": ("atm", 1), "ptm": ("atm", 2), "unlimited": ("bandwidth", 0),
    "egress": ("ingress", 0), "ingress": ("ingress", 1), "autorate-ingress": ("autorate", 1),
    "datacentre": ("rtt", 100), "lan": ("rtt", 1000), "metro": ("rtt", 10000), "regional": ("rtt", 30000),
    "internet": ("rtt", 100000), "oceanic": ("rtt", 300000), "satellite": ("rtt", 1000000),
    "interplanetary": ("rtt", 1000000000),
}
_FQ_CODEL_FLAGS = {"ecn": ("ecn", 1), "noecn": ("ecn", 0)}
_VALUE_PARSERS = {"bandwidth": "rate", "rtt": "time", "target": "time", "interval": "time",
                  "ce_threshold": "time", "memlimit": "size", "memory_limit": "size"}
_NUMBER = re.compile(r"^(-?[0-9]+(?:\.[0-9]+)?)([a-z]*)$")
_RATE_UNITS = {"bit": 0.125, "kbit": 125.0, "mbit": 125e3, "gbit": 125e6, "tbit": 125e9,
               "bps": 1.0, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9, "": 0.125}
_TIME_UNITS = {"": 1.0, "us": 1.0, "usec": 1.0, "ms": 1e3, "msec": 1e3, "s": 1e6, "sec": 1e6}
_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30}


def _value(name, text, kind):
    """Integer kernel value of option `name` written as `text` (rates in bytes/s, times in us)."""
    match = _NUMBER.match(text.lower())
    units = {"rate": _RATE_UNITS, "time": _TIME_UNITS, "size": _SIZE_UNITS}.get(_VALUE_PARSERS.get(name))
    if name == "fwmark" and text.lower().startswith("0x"):
        return int(text, 16)
    if not match or (units is None and match.group(2)) or (units and match.group(2) not in units):
        raise TcError("%s: bad value %r for %s" % (kind, text, name))
    number = float(match.group(1))
    return int(round(number * units[match.group(2)])) if units else int(number)


def leaf_params(kind, options):
    """{name: kernel value} wanted for a leaf of `kind` with tc option words, defaults included."""
    table = LEAF_ATTRS.get(kind)
    if table is None:
        raise TcError("leaf qdisc kind %r is not supported (known: %s)" % (kind, ", ".join(sorted(LEAF_ATTRS))))
    words = {"cake": _CAKE_WORDS, "fq_codel": _FQ_CODEL_FLAGS}.get(kind, {})
    params = dict((name, spec[2]) for name, spec in table.items())
    options = list(options)
    pos = 0
    while pos < len(options):
        word = options[pos]
        name = word.replace("-", "_")
        if word in words:
            params[words[word][0]] = words[word][1]
            pos += 1
        elif name in table and pos + 1 < len(options):
            params[name] = _value(name, options[pos + 1], kind)
            pos += 2
        else:
            raise TcError("%s: unsupported option %r in %r" % (kind, word, " ".join(options)))
    return params


def encode_leaf(kind, params):
    """TCA_OPTIONS bytes for a new or changed leaf (None: no options, the kernel's defaults);
    names whose value is None are left out."""
    table = LEAF_ATTRS[kind]
    if kind in FIFOS:
        limit = params.get("limit")
        return None if limit is None else U32.pack(limit)  # a fifo's options are one raw u32
    out = b""
    for name, spec in sorted(table.items(), key=lambda item: item[1][0]):
        if params.get(name) is not None:
            out += nla(spec[0], struct.pack("=" + spec[1], params[name]))
    return out


def decode_leaf(kind, options):
    """{name: value} of a dumped leaf qdisc, None for a kind this module does not know."""
    table = LEAF_ATTRS.get(kind)
    if table is None or options is None:
        return None
    if kind in FIFOS:
        return {"limit": U32.unpack_from(options)[0]} if len(options) >= 4 else None
    attrs = parse_attrs(options)
    out = {}
    for name, spec in table.items():
        raw = attrs.get(spec[0])
        if raw is not None and len(raw) >= struct.calcsize("=" + spec[1]):
            out[name] = struct.unpack_from("=" + spec[1], raw)[0]
    return out


def leaf_differs(wanted, have):
    """Names whose kernel value differs from the wanted params (None wanted: not compared)."""
    return sorted(name for name, value in wanted.items()
                  if value is not None and (have or {}).get(name) != value)
