# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Options that steer the topology engine, named like the /etc/lqos.conf keys."""

from __future__ import annotations

STRATEGIES = ("flat", "ap_only", "ap_site", "full")
SUSPENDED_STRATEGIES = ("none", "ignore", "slow")
DEFAULT_HOP_COST = 10
SLOW_MBPS = 0.1
MIN_RATE_MBPS = 0.1


class TopologyError(Exception):
    """Input the engine cannot turn into a topology (bad option, unknown root...)."""


class Settings(object):
    __slots__ = ("strategy", "root_site", "promote_to_root", "exclude_sites", "exception_cpes",
                 "suspended_strategy", "airmax_capacity", "ltu_capacity",
                 "bandwidth_overhead_factor", "commit_bandwidth_multiplier",
                 "use_ptmp_as_parent", "bandwidth_overrides", "route_overrides",
                 "default_node_mbps", "fail_on_duplicate_ip", "keep_top_level")

    def __init__(self, strategy="full", root_site=None, promote_to_root=(), exclude_sites=(),
                 exception_cpes=None, suspended_strategy="none", airmax_capacity=0.65,
                 ltu_capacity=0.95, bandwidth_overhead_factor=1.15,
                 commit_bandwidth_multiplier=0.98, use_ptmp_as_parent=False,
                 bandwidth_overrides=None, route_overrides=None, default_node_mbps=10000.0,
                 fail_on_duplicate_ip=False, keep_top_level=()):
        if strategy not in STRATEGIES:
            raise TopologyError("strategy must be one of %s, got %r" % (", ".join(STRATEGIES), strategy))
        if suspended_strategy not in SUSPENDED_STRATEGIES:
            raise TopologyError("suspended_strategy must be one of %s, got %r"
                                % (", ".join(SUSPENDED_STRATEGIES), suspended_strategy))
        for name, value in (("airmax_capacity", airmax_capacity), ("ltu_capacity", ltu_capacity),
                            ("bandwidth_overhead_factor", bandwidth_overhead_factor),
                            ("commit_bandwidth_multiplier", commit_bandwidth_multiplier)):
            if not value or value <= 0:
                raise TopologyError("%s must be a positive number, got %r" % (name, value))
        self.strategy = strategy
        self.root_site = root_site or None
        self.promote_to_root = list(promote_to_root or ())
        self.exclude_sites = list(exclude_sites or ())
        self.exception_cpes = dict(exception_cpes or {})  # cpe name -> parent node name
        self.suspended_strategy = suspended_strategy
        self.airmax_capacity = float(airmax_capacity)
        self.ltu_capacity = float(ltu_capacity)
        self.bandwidth_overhead_factor = float(bandwidth_overhead_factor)
        self.commit_bandwidth_multiplier = float(commit_bandwidth_multiplier)
        self.use_ptmp_as_parent = bool(use_ptmp_as_parent)
        self.bandwidth_overrides = dict(bandwidth_overrides or {})  # name -> (down, up)
        self.route_overrides = dict(route_overrides or {})  # (from name, to name) -> cost
        self.default_node_mbps = float(default_node_mbps)
        self.fail_on_duplicate_ip = bool(fail_on_duplicate_ip)
        self.keep_top_level = list(keep_top_level or ())


def parse_exception_cpes(entries):
    """`["cpe:parent", ...]` (or a dict) -> {cpe: parent}. Raises TopologyError on bad entries."""
    if isinstance(entries, dict):
        return dict((str(k), str(v)) for k, v in entries.items())
    result = {}
    for entry in entries or ():
        if isinstance(entry, dict):
            cpe, sep, parent = str(entry.get("cpe", "")), ":", str(entry.get("parent", ""))
        else:
            cpe, sep, parent = str(entry).rpartition(":")
        if not sep or not cpe.strip() or not parent.strip():
            raise TopologyError("exception_cpes entry %r is not in the form 'cpe:parent'" % (entry,))
        result[cpe.strip()] = parent.strip()
    return result
