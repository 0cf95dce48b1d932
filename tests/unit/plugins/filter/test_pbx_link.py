# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pbx_link filters: both sides of one link, errors as AnsibleFilterError with the field path."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.isp.ops.plugins.filter.pbx_link import FilterModule

LINK = {"scenario": "cloud", "pbx": {"address": "192.0.2.10"}, "oml": {"address": "192.0.2.20"},
        "credentials": {"username": "issabel", "secret": "s3cret"}}


def test_filters_return_the_two_sides():
    filters = FilterModule().filters()
    pbx = filters["pbx_link_pbx"](LINK)
    oml = filters["pbx_link_oml"](LINK)
    assert (pbx["host"], pbx["port"]) == ("192.0.2.20", 5162)
    assert oml["transport"] == "trunk-nat-transport"
    assert oml["inbound_auth"]["password"] == pbx["secret"]


def test_bad_link_is_a_filter_error_naming_the_field():
    bad = dict(LINK, oml={"address": "192.0.2.20", "port": 0})
    with pytest.raises(AnsibleFilterError, match=r"pbx_link\.oml\.port: 0 is outside"):
        FilterModule().filters()["pbx_link_oml"](bad)
