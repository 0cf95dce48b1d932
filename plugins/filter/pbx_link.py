# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters pbx_link_pbx and pbx_link_oml: the two sides of one pbx_link (docs in the .yml files beside)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.isp.ops.plugins.module_utils.telephony.link import LinkError, derive


def _side(pbx_link, side):
    try:
        return derive(pbx_link)[side]
    except LinkError as exc:
        raise AnsibleFilterError(str(exc))


def pbx_link_pbx(pbx_link):
    return _side(pbx_link, "pbx")


def pbx_link_oml(pbx_link):
    return _side(pbx_link, "oml")


class FilterModule(object):
    def filters(self):
        return {"pbx_link_pbx": pbx_link_pbx, "pbx_link_oml": pbx_link_oml}
