# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CrmSession against the real emulators with injected faults, and the lazy JsonArray decoder."""

from __future__ import annotations

import json
import socket
import time

import pytest

from ansible_collections.isp.ops.plugins.module_utils.crm import http
from ansible_collections.isp.ops.plugins.module_utils.crm import splynx as splynx_client
from ansible_collections.isp.ops.plugins.module_utils.crm.http import CrmError, CrmSession, JsonArray, decode_body
from tests.emulators.httpbase import FAULT_KINDS
from tests.emulators.splynx import SERVICES, SplynxEmulator
from tests.emulators.uisp import SITES, UispEmulator

CLIENT_TIMEOUT = 0.5

# Fault kind -> words the message must hold: what went wrong, as an operator reads it.
EXPECTED = {
    "401": ("HTTP 401", "credentials were rejected"),
    "403": ("HTTP 403", "credentials were rejected"),
    "500": ("HTTP 500", "Internal Server Error"),
    "503": ("HTTP 503", "Service Unavailable"),
    "429": ("HTTP 429", "Too Many Requests"),
    "timeout": ("no answer within 0.5 s", "timeout"),
    "reset": ("connection failed", "connection reset"),
    "truncated": ("invalid JSON", "truncated"),
    "wrong_shape": ("JSON object where a list was expected",),
    "html": ("HTML page, not JSON", "login or web page"),
}
ERROR_KINDS = tuple(kind for kind in FAULT_KINDS if kind != "empty")

# Per CRM: the emulator fixture, the display name, the path the session asks for (relative to its
# base URL, as the client sends it) and the endpoint a message must name (no query string).
CRMS = {
    "uisp": ("uisp", "UISP", "/sites", SITES),
    "splynx": ("splynx", "Splynx", "customers/customer/0/internet-services?main_attributes%5Bstatus%5D=active",
               SERVICES),
}


def session(crm, server, retries=0):
    return crm.session(server, retries=retries, timeout=CLIENT_TIMEOUT, backoff=0)


def get(crm, server, which, retries=0):
    """request_json, iterated to the end (a list decodes lazily, so errors surface there)."""
    path = CRMS[which][2]
    if which == "splynx":
        path = splynx_client.API + path
    result = session(crm, server, retries=retries).request_json("GET", path)
    return list(result) if isinstance(result, JsonArray) else result


def logged(server, path):
    return [(entry["status"], entry["fault"]) for entry in server.requests if entry["path"] == path]


@pytest.fixture(params=sorted(CRMS))
def any_crm(request):
    """(which, server) for both emulators."""
    which = request.param
    return which, request.getfixturevalue(CRMS[which][0])


# --- every fault kind: one CrmError naming CRM, endpoint and cause, never a secret --------------
@pytest.mark.parametrize("kind", ERROR_KINDS)
def test_fault_becomes_one_clear_crm_error(any_crm, kind, crm):
    which, server = any_crm
    fixture, name, dummy, endpoint = CRMS[which]
    server.set_fault(endpoint, kind)
    started = time.monotonic()
    with pytest.raises(CrmError) as caught:
        get(crm, server, which)
    assert time.monotonic() - started < 2
    exc = caught.value
    assert (exc.source, exc.endpoint) == (name, endpoint)
    message = str(exc)
    assert message.startswith("%s %s: " % (name, endpoint))
    for words in EXPECTED[kind]:
        assert words in message
    assert "?" not in message.split(":", 1)[0]  # the endpoint, never the query string
    crm.assert_no_secret(exc)
    # retries=0 fails at once: exactly one request reached the server.
    assert len(logged(server, endpoint)) == 1


def test_empty_fault_is_a_valid_empty_list_not_an_error(any_crm, crm):
    """The "empty" fault answers `[]` with HTTP 200: valid JSON, and legitimately empty for
    endpoints such as data-links or customers-online. The session returns it; deciding that a whole
    CRM answering nothing is suspicious is the module's safety valve, not the HTTP layer's."""
    which, server = any_crm
    endpoint = CRMS[which][3]
    server.set_fault(endpoint, "empty")
    assert get(crm, server, which) == []
    assert logged(server, endpoint) == [(200, "empty")]


def test_empty_list_where_an_object_is_expected_is_an_error(uisp, crm):
    uisp.set_fault(SITES, "empty")
    with pytest.raises(CrmError) as caught:
        session(crm, uisp).request_json("GET", "/sites", expect=dict)
    assert "JSON list where" in str(caught.value) and "object was expected" in str(caught.value)


def test_unknown_endpoint_names_the_http_status(uisp, crm):
    with pytest.raises(CrmError) as caught:
        session(crm, uisp).request_json("GET", "/no-such-endpoint")
    assert str(caught.value).startswith("UISP /nms/api/v2.1/no-such-endpoint: HTTP 404 Not Found")


def test_nothing_listening_is_a_connection_failure(crm):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CrmSession("UISP", "http://127.0.0.1:%d/nms/api/v2.1" % port, timeout=CLIENT_TIMEOUT, retries=0,
                        backoff=0, headers={"X-Auth-Token": crm.TOKEN})
    with pytest.raises(CrmError) as caught:
        client.request_json("GET", "/sites")
    assert str(caught.value) == "UISP /nms/api/v2.1/sites: connection failed (connection refused)"
    crm.assert_no_secret(caught.value)


def test_wrong_credentials_without_injection(network, crm):
    """The emulator's own 401 (not an injected one) for a wrong token and a wrong secret."""
    with UispEmulator(network, "another-token") as server:
        with pytest.raises(CrmError) as caught:
            get(crm, server, "uisp")
        assert "HTTP 401" in str(caught.value) and "credentials were rejected" in str(caught.value)
        crm.assert_no_secret(caught.value)
    with SplynxEmulator(network, crm.API_KEY, "another-secret") as server:
        with pytest.raises(CrmError) as caught:
            get(crm, server, "splynx")
        assert str(caught.value).startswith("Splynx %s: HTTP 401" % SERVICES)
        crm.assert_no_secret(caught.value)


# --- retries ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["429", "500", "503", "reset", "timeout"])
def test_one_transient_failure_is_retried(any_crm, kind, crm):
    which, server = any_crm
    endpoint = CRMS[which][3]
    server.set_fault(endpoint, kind, count=1)
    items = get(crm, server, which, retries=1)
    assert len(items) > 0
    requests = logged(server, endpoint)
    assert len(requests) == 2
    assert requests[1] == (200, None)


@pytest.mark.parametrize("kind", ["429", "500"])
def test_no_retries_fails_at_once(uisp, kind, crm):
    uisp.set_fault(SITES, kind, count=1)
    with pytest.raises(CrmError) as caught:
        get(crm, uisp, "uisp", retries=0)
    assert "HTTP %s" % kind in str(caught.value)
    assert logged(uisp, SITES) == [(int(kind), kind)]


def test_retries_give_up_with_the_last_answer(uisp, crm):
    uisp.set_fault(SITES, "503")  # until cleared
    with pytest.raises(CrmError) as caught:
        get(crm, uisp, "uisp", retries=2)
    assert "HTTP 503 Service Unavailable" in str(caught.value)
    assert logged(uisp, SITES) == [(503, "503")] * 3


def test_timeout_after_retries_says_timeout(uisp, crm):
    uisp.set_fault(SITES, "timeout")
    started = time.monotonic()
    with pytest.raises(CrmError) as caught:
        get(crm, uisp, "uisp", retries=1)
    assert time.monotonic() - started < 2
    assert str(caught.value) == "UISP %s: no answer within 0.5 s (timeout)" % SITES
    assert len(logged(uisp, SITES)) == 2


def test_client_errors_are_not_retried(uisp, crm):
    uisp.set_fault(SITES, "401")
    with pytest.raises(CrmError):
        get(crm, uisp, "uisp", retries=3)
    assert len(logged(uisp, SITES)) == 1


# --- decode_body ----------------------------------------------------------------------------------
def decode(body, expect=list, status=200, content_type="application/json"):
    return decode_body("UISP", "/nms/api/v2.1/sites", status, content_type, body, expect)


@pytest.mark.parametrize("body, words", [
    (b"", "empty body"),
    (b"  \n", "empty body"),
    (b"\xff\xfe[]", "not UTF-8"),
    (b"<html><body>Sign in</body></html>", "HTML page"),
    (b'{"data": []}', "JSON object where a list was expected"),
    (b'{"data": [', "invalid JSON"),
    (b"42", "JSON int where a list was expected"),
])
def test_decode_body_rejects(body, words):
    with pytest.raises(CrmError) as caught:
        decode(body)
    assert str(caught.value).startswith("UISP /nms/api/v2.1/sites: ")
    assert words in str(caught.value)


def test_decode_body_objects_and_lists():
    assert decode(b'{"a": [1, 2]}', expect=dict) == {"a": [1, 2]}
    assert isinstance(decode(b" [1, 2]"), JsonArray)
    assert decode(b"[1, 2]", expect=None) == [1, 2]
    assert list(decode(b"\n[1, 2]\n")) == [1, 2]


# --- JsonArray ------------------------------------------------------------------------------------
def array(text):
    return JsonArray("UISP", "/nms/api/v2.1/sites", text)


NESTED = [{"id": "a", "identification": {"parent": None, "tags": ["x", "]", "[", ","]},
           "qos": {"downloadSpeed": 100000000, "ratio": 0.5, "enabled": True}},
          [], {}, [[1, [2, [3]]], {"k": {"k": {"k": []}}}], "Peña, \"Núñez\" \\ ]", -1.5e-3, None, False]


@pytest.mark.parametrize("text", [
    "[]", "[ ]", " \n[\n]\n ", "[1]", "[1,2,3]", "[ 1 , 2 ,\n\t3 ]\r\n", '["a","b"]',
    json.dumps(NESTED), json.dumps(NESTED, indent=2), json.dumps(NESTED, separators=(",", ":")),
    json.dumps(NESTED, ensure_ascii=False, indent="\t"),
])
def test_valid_arrays_decode_like_json_loads(text):
    assert list(array(text)) == json.loads(text)


def test_real_emulator_answers_decode_like_json_loads(network, crm):
    """The emulators' full canonical answers, compact and re-indented."""
    bodies = list(SplynxEmulator(network, crm.API_KEY, crm.API_SECRET).payloads().values())
    bodies += list(UispEmulator(network, crm.TOKEN).payloads().values())
    for body in bodies:
        expected = json.loads(body)
        assert list(decode(body)) == expected
        assert list(array(json.dumps(expected, indent=1))) == expected


def test_iterating_twice_gives_the_same_items():
    items = array(json.dumps(NESTED, indent=2))
    first = list(items)
    assert list(items) == first == NESTED
    partial = iter(items)
    assert next(partial) == NESTED[0]
    assert list(items) == NESTED  # a fresh iteration starts over, whatever another one did


@pytest.mark.parametrize("text, count, words", [
    ("[", 0, "no JSON value"),
    ("[1", 1, "expected ',' or ']'"),
    ("[1,", 1, "no JSON value"),
    ("[1,]", 1, "no JSON value"),
    ("[1, ]", 1, "no JSON value"),
    ("[,1]", 0, "no JSON value"),
    ("[1 2]", 1, "expected ',' or ']'"),
    ('[{"a": 1}, {"b": ', 1, ""),
    ('[{"a": 1}, {"b": 2}', 2, "expected ',' or ']'"),
    ('[{"a": "unterminated', 0, "Unterminated string"),
    ("[tru]", 0, ""),
    ("[1]x", 1, "text after the closing ]"),
    ("[1]]", 1, "text after the closing ]"),
    ("[1] [2]", 1, "text after the closing ]"),
    ("[] ,", 0, "text after the closing ]"),
])
def test_invalid_arrays_raise_crm_error_naming_the_endpoint(text, count, words):
    with pytest.raises(CrmError) as caught:
        list(array(text))
    message = str(caught.value)
    assert message.startswith("UISP /nms/api/v2.1/sites: answered with invalid JSON after %d items" % count)
    assert words in message
    with pytest.raises(ValueError):
        json.loads(text)  # the same verdict as the json module


def test_items_before_a_syntax_error_are_still_yielded(monkeypatch):
    monkeypatch.setattr(http, "WHOLE_DECODE_LIMIT", 0)  # a list too large to decode at once
    items = iter(array('[{"a": 1}, {"b": 2}, {"c": '))
    assert next(items) == {"a": 1}
    assert next(items) == {"b": 2}
    with pytest.raises(CrmError, match="after 2 items"):
        next(items)


def test_a_small_list_with_a_syntax_error_names_the_item():
    with pytest.raises(CrmError, match="after 2 items"):
        list(array('[{"a": 1}, {"b": 2}, {"c": '))
