# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""omnileads_route's main(): option checks that fail before any API call, and check/diff mode
against the OML emulator in-process."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.modules import omnileads_route
from tests.emulators.omnileads import OmniLeadsEmulator

# Port 9 (discard) on loopback: nothing listens, so a call that slipped through would fail loudly.
OFFLINE = dict(url="http://127.0.0.1:9", username="admin", password="pw", timeout=1)


@pytest.mark.parametrize("options, message", [
    ({}, "set name (a route to manage) or list_agents=true"),
    (dict(name="r"), "type (inbound or outbound) is required with name"),
    (dict(type="inbound", name="r", trunks=["x"]), "trunks only apply to outbound routes"),
    (dict(type="outbound", name="r", did="1"), "did only apply to inbound routes"),
    (dict(type="outbound", name="r", patterns=[{"prefix": "0"}]), "patterns[0] must be a match pattern string"),
    (dict(type="outbound", name="r", patterns=[{"match_pattern": "X.", "strip": 1}]),
     "patterns[0] has unknown keys: strip"),
    (dict(list_agents=True, url="oml.example.com"), "url 'oml.example.com' must start with http:// or https://"),
])
def test_bad_options_fail_before_any_call(run_module, options, message):
    result = run_module(omnileads_route.main, dict(OFFLINE, **options))
    assert result["failed"] and message in result["msg"]


@pytest.fixture
def oml():
    with OmniLeadsEmulator(password="pw") as server:
        yield server


def test_check_mode_diff_of_a_new_outbound_route(run_module, oml):
    result = run_module(omnileads_route.main, dict(OFFLINE, url=oml.url, type="outbound", name="to_pbx",
                                                   patterns=["XXXX"], trunks=["issabel"]), check_mode=True, diff=True)
    assert result["changed"] and result["diff"]["before"] == {}
    assert result["diff"]["after"] == {"name": "to_pbx", "patterns": [{"prepend": "", "prefix": "", "match_pattern":
                                                                       "XXXX"}], "trunk_ids": [1]}
    assert oml.routes_by_kind["/api/v1/outbound_routes/"] == {}
    assert [r["method"] for r in oml.requests] == ["POST", "GET", "GET"]  # login, list, trunks
