# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Route diffing and OML answer decoding (pure functions, no server)."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.omnileads import routes
from ansible_collections.isp.ops.plugins.module_utils.omnileads.api import OmlError, decode, field_errors

CURRENT_OUT = {"id": 4, "nombre": "to_pbx", "ring_time": 25, "dial_options": "Tt",
               "patrones_de_discado": [{"id": 11, "prepend": None, "prefix": None, "match_pattern": "XXXX"}],
               "troncales": [{"id": 21, "troncal": 1}]}
CURRENT_IN = {"id": 2, "nombre": "pbx_098098", "telefono": "098098", "prefijo_caller_id": None, "idioma": 2,
              "destino": {"id": 1, "nombre": "Ventas", "tipo": 1}}


def test_unset_fields_keep_the_current_values():
    body = routes.merged("outbound", CURRENT_OUT, {"nombre": "to_pbx"})
    assert routes.comparable("outbound", body) == routes.comparable("outbound", CURRENT_OUT)


def test_a_changed_pattern_keeps_its_row_id_and_a_new_one_has_none():
    wanted = {"nombre": "to_pbx", "patrones_de_discado": [routes._pattern("XXX"), routes._pattern(
        {"match_pattern": "X.", "prefix": "0"})]}
    body = routes.merged("outbound", CURRENT_OUT, wanted)
    assert [(p["id"], p["match_pattern"], p["prefix"]) for p in body["patrones_de_discado"]] == [
        (11, "XXX", None), (None, "X.", "0")]
    assert body["troncales"] == [{"id": 21, "troncal": 1}]
    assert routes.comparable("outbound", body)["patterns"] != routes.comparable("outbound", CURRENT_OUT)["patterns"]


def test_inbound_diff_in_user_terms_and_wire_body_by_destination_id():
    wanted = {"nombre": "pbx_098098", "destino": {"id": 2, "nombre": "Soporte", "tipo": 1}}
    body = routes.merged("inbound", CURRENT_IN, wanted)
    before, after = routes.comparable("inbound", CURRENT_IN), routes.comparable("inbound", body)
    assert before["destination"] == {"id": 1, "name": "Ventas", "type": "campaign"}
    assert after["destination"] == {"id": 2, "name": "Soporte", "type": "campaign"}
    assert dict(before, destination=None) == dict(after, destination=None)
    assert routes.wire(body)["destino"] == {"id": 2} and "id" not in routes.wire(body)


def test_a_new_route_needs_its_required_fields():
    with pytest.raises(OmlError, match="creating it needs patterns and trunks"):
        routes.fresh("outbound", {"nombre": "x"})
    assert routes.fresh("inbound", {"nombre": "x", "telefono": "1", "destino": {"id": 1}})["idioma"] == 2


def test_drf_field_errors_flatten_nested_items():
    errors = {"nombre": ["Enter a valid value."],
              "troncales": [{}, {"troncal": ['Invalid pk "9" - object does not exist.']}]}
    assert field_errors(errors) == ["nombre: Enter a valid value.",
                                    'troncales[1].troncal: Invalid pk "9" - object does not exist.']


@pytest.mark.parametrize("status, content_type, body, expected", [
    (400, "application/json", b'{"status":"ERROR","message":"[...]","errors":{"telefono":["Enter a valid value."]}}',
     "HTTP 400: telefono: Enter a valid value."),
    (500, "application/json", b'{"status":"ERROR","message":"No existe la ruta entrante"}',
     "HTTP 500: No existe la ruta entrante"),
    (200, "application/json", b'{"status":"ERROR","message":"Error al obtener las rutas"}', "HTTP 200: Error al"),
    (403, "application/json", b'{"detail":"Invalid Token"}', "HTTP 403: Invalid Token"),
    (200, "text/html", b"<html>login</html>", "answered with an HTML page"),
    (200, "application/json", b'{"status":"SUCC', "answered with invalid JSON, 15 bytes, maybe truncated"),
    (200, "application/json", b"", "answered with an empty body"),
    (502, "text/plain", b"Bad Gateway", "HTTP 502: Bad Gateway"),
])
def test_decode_turns_every_bad_answer_into_one_clear_error(status, content_type, body, expected):
    with pytest.raises(OmlError) as caught:
        decode("/api/v1/x/", status, content_type, body)
    assert str(caught.value).startswith("OMniLeads /api/v1/x/: ") and expected in str(caught.value)


def test_decode_returns_the_json():
    assert decode("/p", 200, "application/json", b'{"status":"SUCCESS","sipTrunks":[]}')["sipTrunks"] == []
