# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""omnileads_route against the OML REST API emulator running in its own process."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.omnileads.api import OmlClient
from ansible_collections.isp.ops.plugins.modules import omnileads_route

WRITES = ("POST", "PUT", "DELETE")


@pytest.fixture
def oml(emulator):
    return emulator("--source", "omnileads", "--password", "s3cret", "--trunks", "issabel,pstn",
                    "--timeout-delay", "3")


def args(oml, **options):
    return dict(url=oml.url, username="admin", password="s3cret", timeout=2, **options)


def state(oml):
    return oml.control("GET", "/_emulator/state")


def writes(oml):
    return [(r["method"], r["path"]) for r in oml.control("GET", "/_emulator/log")
            if r["method"] in WRITES and r["path"] != "/api/v1/login"]


INBOUND = dict(type="inbound", name="pbx_098098", did="098098", destination="Ventas")
OUTBOUND = dict(type="outbound", name="to_pbx", patterns=["XXXX", {"match_pattern": "X.", "prefix": "0"}],
                trunks=["issabel"])


def test_inbound_create_noop_update_delete(oml, run_module):
    created = run_module(omnileads_route.main, args(oml, **INBOUND), diff=True)
    assert created["changed"] and created["diff"]["before"] == {}
    assert [(r["nombre"], r["telefono"], r["destino"]["nombre"], r["idioma"]) for r in state(oml)["inbound"]] == [
        ("pbx_098098", "098098", "Ventas", 2)]

    oml.control("DELETE", "/_emulator/log")
    again = run_module(omnileads_route.main, args(oml, **INBOUND))
    assert not again["changed"] and writes(oml) == []

    moved = run_module(omnileads_route.main, args(oml, type="inbound", name="pbx_098098", destination="Soporte",
                                                  caller_id_prefix="PBX"), diff=True)
    assert moved["changed"]
    assert moved["diff"]["before"]["destination"]["name"] == "Ventas"
    assert moved["diff"]["after"]["destination"]["name"] == "Soporte"
    route = state(oml)["inbound"][0]
    assert (route["telefono"], route["destino"]["nombre"], route["prefijo_caller_id"]) == ("098098", "Soporte", "PBX")
    assert writes(oml) == [("PUT", "/api/v1/inbound_routes/%d/update/" % route["id"])]

    gone = run_module(omnileads_route.main, args(oml, type="inbound", name="pbx_098098", state="absent"))
    assert gone["changed"] and state(oml)["inbound"] == []
    assert not run_module(omnileads_route.main, args(oml, type="inbound", name="pbx_098098", state="absent"))["changed"]


def test_outbound_create_noop_update_keeps_row_ids(oml, run_module):
    assert run_module(omnileads_route.main, args(oml, **OUTBOUND))["changed"]
    route = state(oml)["outbound"][0]
    assert [(p["match_pattern"], p["prefix"]) for p in route["patrones_de_discado"]] == [("XXXX", None), ("X.", "0")]
    assert [t["troncal"] for t in route["troncales"]] == [1]
    first_pattern_id = route["patrones_de_discado"][0]["id"]

    assert not run_module(omnileads_route.main, args(oml, **OUTBOUND))["changed"]

    wanted = dict(OUTBOUND)
    wanted.update(trunks=["issabel", "pstn"], ring_time=40)
    changed = run_module(omnileads_route.main, args(oml, **wanted), diff=True)
    assert changed["changed"] and changed["diff"]["after"]["trunk_ids"] == [1, 2]
    route = state(oml)["outbound"][0]
    assert route["ring_time"] == 40 and [t["troncal"] for t in route["troncales"]] == [1, 2]
    assert route["patrones_de_discado"][0]["id"] == first_pattern_id


def test_check_mode_calls_no_write_endpoint(oml, run_module):
    run_module(omnileads_route.main, args(oml, **INBOUND))
    oml.control("DELETE", "/_emulator/log")
    removal = dict(type="inbound", name="pbx_098098", state="absent")
    for options in (dict(INBOUND, destination="Soporte"), OUTBOUND, removal):
        result = run_module(omnileads_route.main, args(oml, **options), check_mode=True, diff=True)
        assert result["changed"]
    assert writes(oml) == []
    assert state(oml)["inbound"][0]["destino"]["nombre"] == "Ventas" and state(oml)["outbound"] == []


def test_bad_password_is_one_clear_error(oml, run_module):
    result = run_module(omnileads_route.main, dict(args(oml, **INBOUND), password="wrong"))
    assert result["failed"] and "/api/v1/login" in result["msg"] and "login refused for user 'admin'" in result["msg"]
    assert "wrong" not in result["msg"] and state(oml)["inbound"] == []


@pytest.mark.parametrize("options, expected", [
    (dict(OUTBOUND, name="to-pbx"), "/api/v1/outbound_routes/create/: HTTP 400: nombre: Enter a valid value."),
    (dict(OUTBOUND, patterns=["12 34"]),
     "HTTP 400: patrones_de_discado[0].match_pattern: Enter a valid value."),
    (dict(OUTBOUND, ring_time=5000), "ring_time: Ensure this value is less than or equal to 3600."),
    (dict(INBOUND, did="098 098"), "/api/v1/inbound_routes/create/: HTTP 400: telefono: Enter a valid value."),
    (dict(INBOUND, name="a" * 31), "nombre: Ensure this field has no more than 30 characters."),
    (dict(OUTBOUND, trunks=["nowhere"]), "no SIP trunk 'nowhere' in OML (known: 'issabel', 'pstn')"),
    (dict(INBOUND, destination="Nadie"), "no inbound destination campaign 'Nadie' in OML"),
    (dict(type="inbound", name="new_route", destination="Ventas"), "creating it needs did"),
])
def test_validation_errors_name_the_endpoint_and_field(oml, run_module, options, expected):
    result = run_module(omnileads_route.main, args(oml, **options))
    assert result["failed"] and expected in result["msg"], result["msg"]
    assert state(oml)["inbound"] == [] and state(oml)["outbound"] == []


def test_duplicate_did_under_another_name_is_refused_by_oml(oml, run_module):
    run_module(omnileads_route.main, args(oml, **INBOUND))
    other = dict(INBOUND)
    other.update(name="other")
    result = run_module(omnileads_route.main, args(oml, **other))
    assert result["failed"] and "telefono: ruta entrante with this telefono already exists." in result["msg"]
    assert len(state(oml)["inbound"]) == 1


@pytest.mark.parametrize("kind, expected", [
    ("500", "HTTP 500"),
    ("timeout", "no answer within 2 s (timeout)"),
    ("reset", "connection failed"),
    ("html", "answered with an HTML page, not JSON"),
    ("truncated", "answered with invalid JSON"),
])
def test_faults_fail_clearly_and_write_nothing(oml, run_module, kind, expected):
    oml.control("POST", "/_emulator/faults", {"path": "/api/v1/inbound_routes/", "kind": kind})
    result = run_module(omnileads_route.main, args(oml, **INBOUND))
    assert result["failed"] and result["msg"].startswith("OMniLeads /api/v1/inbound_routes/: ") and expected in \
        result["msg"], result["msg"]
    oml.control("DELETE", "/_emulator/faults")
    assert writes(oml) == [] and state(oml)["inbound"] == []


def test_a_failed_write_is_reported_with_the_endpoint(oml, run_module):
    oml.control("POST", "/_emulator/faults", {"path": "/api/v1/outbound_routes/create/", "kind": "500"})
    result = run_module(omnileads_route.main, args(oml, **OUTBOUND))
    assert result["failed"] and "/api/v1/outbound_routes/create/: HTTP 500" in result["msg"]


def test_agents_dial_numbers(oml, run_module):
    result = run_module(omnileads_route.main, args(oml, list_agents=True))
    assert [(a["username"], a["sip_extension"], a["dial_number"]) for a in result["agents"]] == [
        ("abelew", "1006", "10061"), ("mackerfeldt", "1007", "10072")]
    one = run_module(omnileads_route.main, args(oml, list_agents=True, agents=["2"]))
    assert [a["dial_number"] for a in one["agents"]] == ["10072"]
    unknown = run_module(omnileads_route.main, args(oml, list_agents=True, agents=["ghost"]))
    assert unknown["failed"] and "no active agent ghost" in unknown["msg"]


def test_an_expired_token_gets_one_fresh_login(oml):
    client = OmlClient(oml.url, "admin", "s3cret", timeout=5)
    client.login()
    first = client.token
    oml.control("POST", "/_emulator/expire_tokens")
    assert client.get("/api/v1/outbound_routes/sip_trunks/")["sipTrunks"][0]["nombre"] == "issabel"
    assert client.token != first
    logins = [r for r in oml.control("GET", "/_emulator/log") if r["path"] == "/api/v1/login"]
    assert len(logins) == 2
