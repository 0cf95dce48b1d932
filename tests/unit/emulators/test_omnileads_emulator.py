# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The OMniLeads API emulator answers like ominicontacto's api_app (auth, shapes, DRF errors)."""

from __future__ import annotations

import pytest
import requests

from tests.emulators.omnileads import OmniLeadsEmulator

API = "/api/v1/"


@pytest.fixture
def oml():
    with OmniLeadsEmulator(password="pw", trunks=("issabel", "pstn")) as server:
        yield server


def login(oml):
    answer = requests.post(oml.url + API + "login", json={"username": "admin", "password": "pw"}, timeout=5)
    assert answer.status_code == 200 and set(answer.json()) == {"user", "expires_in", "token"}
    return {"Authorization": "Bearer " + answer.json()["token"]}


def test_login_failures_are_drf_shaped(oml):
    wrong = requests.post(oml.url + API + "login", json={"username": "admin", "password": "x"}, timeout=5)
    assert (wrong.status_code, wrong.json()) == (404, {"detail": "Invalid Credentials or activate account"})
    blank = requests.post(oml.url + API + "login", json={"username": "admin", "password": ""}, timeout=5)
    assert (blank.status_code, blank.json()) == (400, {"password": ["This field may not be blank."]})
    assert requests.get(oml.url + API + "login", timeout=5).status_code == 405


@pytest.mark.parametrize("headers, detail", [
    ({}, "Authentication credentials were not provided."),
    ({"Authorization": "Token abc"}, "Authentication credentials were not provided."),
    ({"Authorization": "Bearer not-a-token"}, "Invalid Token"),
])
def test_missing_or_unknown_token_is_403_as_with_session_auth_first(oml, headers, detail):
    answer = requests.get(oml.url + API + "inbound_routes/", headers=headers, timeout=5)
    assert (answer.status_code, answer.json()) == (403, {"detail": detail})


def test_expired_tokens_are_refused(oml):
    headers = login(oml)
    oml.expire_tokens()
    assert requests.get(oml.url + API + "outbound_routes/", headers=headers, timeout=5).status_code == 403


def test_route_crud_shapes(oml):
    headers = login(oml)
    body = {"nombre": "r1", "telefono": "098098", "idioma": 2, "destino": {"id": 1}}
    created = requests.post(oml.url + API + "inbound_routes/create/", json=body, headers=headers, timeout=5)
    assert created.json() == {"status": "SUCCESS", "errors": {}, "message": "Se creo la ruta entrante de forma exitosa"}
    listed = requests.get(oml.url + API + "inbound_routes/", headers=headers, timeout=5).json()["inboundRoutes"]
    assert listed == [{"nombre": "r1", "telefono": "098098", "prefijo_caller_id": None, "idioma": 2,
                       "destino": {"id": 1, "nombre": "Ventas", "tipo": 1}, "id": 1}]
    partial = requests.put(oml.url + API + "inbound_routes/1/update/", json={"nombre": "r1"}, headers=headers, timeout=5)
    assert partial.status_code == 400 and partial.json()["errors"] == {
        "telefono": ["This field is required."], "idioma": ["This field is required."],
        "destino": ["This field is required."]}
    assert requests.delete(oml.url + API + "inbound_routes/1/update/", headers=headers, timeout=5).status_code == 405
    assert requests.delete(oml.url + API + "inbound_routes/1/delete/", headers=headers, timeout=5).status_code == 200
    missing = requests.delete(oml.url + API + "inbound_routes/1/delete/", headers=headers, timeout=5)
    assert (missing.status_code, missing.json()["message"]) == (500, "No existe la ruta entrante")


def test_unknown_destination_is_the_views_500(oml):
    body = {"nombre": "r1", "telefono": "1", "idioma": 1, "destino": {"id": 99}}
    answer = requests.post(oml.url + API + "inbound_routes/create/", json=body, headers=login(oml), timeout=5)
    assert (answer.status_code, answer.json()["message"]) == (500, "Error al crear la ruta entrante")


def test_outbound_validation_order_and_nested_errors(oml):
    headers = login(oml)
    url = oml.url + API + "outbound_routes/create/"
    bad_trunk = requests.post(url, json={"nombre": "o", "patrones_de_discado": [{"match_pattern": "X."}],
                                         "troncales": [{"troncal": 1}, {"troncal": 9}]}, headers=headers, timeout=5)
    assert bad_trunk.json()["errors"] == {"troncales": [{}, {"troncal": ['Invalid pk "9" - object does not exist.']}]}
    assert isinstance(bad_trunk.json()["message"], list)
    same = requests.post(url, json={"nombre": "o", "patrones_de_discado": [{"match_pattern": "X."}],
                                    "troncales": [{"troncal": 1}, {"troncal": 1}]}, headers=headers, timeout=5)
    assert same.json()["errors"] == {"troncales": ["Las troncales deben ser diferentes"]}
    trunks = requests.get(oml.url + API + "outbound_routes/sip_trunks/", headers=headers, timeout=5).json()
    assert trunks["sipTrunks"] == [{"id": 1, "nombre": "issabel"}, {"id": 2, "nombre": "pstn"}]


def test_agents_carry_sip_extension_and_id(oml):
    headers = login(oml)
    active = requests.get(oml.url + API + "active_agents/", headers=headers, timeout=5).json()["activeAgents"]
    assert [(a["agent_id"], a["agent_sip_id"]) for a in active] == [(1, "SIP/1006"), (2, "SIP/1007")]
    listed = requests.get(oml.url + API + "agent/list", headers=headers, timeout=5).json()
    assert [a["username"] for a in listed] == ["abelew", "mackerfeldt"]


def test_truncated_fault_cuts_the_current_list(oml):
    headers = login(oml)
    oml.set_fault(API + "inbound_routes/", "truncated", count=1)
    cut = requests.get(oml.url + API + "inbound_routes/", headers=headers, timeout=5)
    whole = requests.get(oml.url + API + "inbound_routes/", headers=headers, timeout=5)
    assert cut.status_code == 200 and whole.text.startswith(cut.text) and len(cut.text) < len(whole.text)
