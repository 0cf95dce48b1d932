# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pyroute2, imported once under a guard for every shaping module.

Without it the modules still load, so that they can report `missing_required_lib("pyroute2")`
(HAS_PYROUTE2, PYROUTE2_IMPORT_ERROR) instead of a traceback.
"""

from __future__ import annotations

__all__ = ["HAS_PYROUTE2", "PYROUTE2_IMPORT_ERROR", "IPRoute", "NetNS", "NetlinkError", "netns"]

PYROUTE2_IMPORT_ERROR = None
try:
    from pyroute2 import IPRoute, NetNS, netns
    from pyroute2.netlink.exceptions import NetlinkError
    HAS_PYROUTE2 = True
except Exception as exc:  # ImportError, or a broken install
    IPRoute = NetNS = netns = None
    NetlinkError = OSError  # never raised without pyroute2; keeps `except NetlinkError` valid
    HAS_PYROUTE2 = False
    PYROUTE2_IMPORT_ERROR = exc
