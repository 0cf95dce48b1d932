# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module options from a derived pbx_link, as the roles pass them (shared by the test layers)."""

from __future__ import annotations

ISSABEL_TRUNK_KEYS = ("technology", "host", "port", "username", "peer_username", "secret", "codecs", "dtmf_mode",
                      "context", "qualify_frequency")


def issabel_trunk_args(pbx, **extra):
    """isp.ops.issabel_trunk options for the `pbx` side of link.derive(); the transport only when
    the link names one (role pbx_trunk omits it otherwise)."""
    args = dict((key, pbx[key]) for key in ISSABEL_TRUNK_KEYS)
    args["name"] = pbx["trunk_name"]
    if pbx.get("transport"):
        args["transport"] = pbx["transport"]
    args.update(extra)
    return args
