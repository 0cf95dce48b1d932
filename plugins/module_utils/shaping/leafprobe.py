# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which leaf qdiscs this kernel offers, asked of the kernel itself.

Kernels differ: Debian and Ubuntu ship cake and fq_codel (built in or as modules the kernel
loads on demand), a minimal lab kernel may have neither. Reading /proc/config.gz misses
modules, so the probe creates each kind on a veth in a throw-away namespace: the kernel
answers ENOENT for a kind it does not know.
"""

from __future__ import annotations

import errno
import os

from .pyroute2_guard import NetlinkError, NetNS, netns

CANDIDATES = ("cake", "fq_codel", "pfifo")
PROBE_HANDLE = 0x10000


def available_leaf_kinds(candidates=CANDIDATES):
    """The subset of `candidates` the running kernel can create, in the same order."""
    name = "isp-ops-probe-%d" % os.getpid()
    netns.create(name)
    try:
        with NetNS(name) as ns:
            ns.link("add", ifname="probe0", kind="veth", peer="probe1")
            index = ns.link_lookup(ifname="probe0")[0]
            return tuple(kind for kind in candidates if _creatable(ns, index, kind))
    finally:
        netns.remove(name)


def _creatable(ns, index, kind):
    try:
        ns.tc("add", kind, index, PROBE_HANDLE)
    except NetlinkError as exc:
        if exc.code in (errno.ENOENT, errno.EOPNOTSUPP, errno.EINVAL):
            return False
        raise
    ns.tc("del", kind, index, PROBE_HANDLE)
    return True
