# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/ubilling: URLs, every reply form, error messages, masking, classification, transport."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest

from ansible_collections.isp.ops.plugins.module_utils import ubilling
from tests.emulators import labnet
from tests.emulators.ubilling import UbillingEmulator, make_serial

SERIAL = make_serial("module_utils test")


# --- URLs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("given, base", [
    ("http://127.0.0.1/billing", "http://127.0.0.1/billing/"),
    ("http://127.0.0.1/billing/", "http://127.0.0.1/billing/"),
    ("https://billing.example.net", "https://billing.example.net/"),
    ("http://h:8080/billing/index.php?module=x", "http://h:8080/billing/index.php"),
])
def test_base_url_gets_its_directory_slash(given, base):
    assert ubilling.base_url(given) == base


@pytest.mark.parametrize("bad", ["", "billing.example.net/billing", "ftp://h/", "http:///x"])
def test_base_url_must_be_http(bad):
    with pytest.raises(ubilling.UbillingError, match="http"):
        ubilling.base_url(bad)


def test_url_encodes_every_value_and_keeps_the_order():
    real, shown = ubilling.build_url("http://h/billing", SERIAL, "usercash", extra={
        "summ": 2.5, "login": "a b&c=d", "note": "оплата/1", "op": "add"})
    query = urlsplit(real).query
    assert query.startswith("module=remoteapi&key=%s&action=usercash&" % SERIAL)
    assert "login=a%20b%26c%3Dd" in query and "note=%D0%BE%D0%BF%D0%BB%D0%B0%D1%82%D0%B0%2F1" in query
    assert dict(parse_qsl(query)) == {"module": "remoteapi", "key": SERIAL, "action": "usercash", "summ": "2.5",
                                      "login": "a b&c=d", "note": "оплата/1", "op": "add"}
    assert shown == real.replace("key=" + SERIAL, "key=***") and SERIAL not in shown


def test_ubapi_action_string_is_split_into_parameters():
    real, shown = ubilling.build_url("http://h/billing/", SERIAL, "fullhostscan&param=traffdiff&nn=1")
    assert shown == "http://h/billing/?module=remoteapi&key=***&action=fullhostscan&param=traffdiff&nn=1"
    assert ubilling.split_action("herd&oltid=3") == ("herd", [("oltid", "3")])


def test_param_and_extra_params():
    dummy, shown = ubilling.build_url("http://h/", SERIAL, "vserviceschargefee", "nofrozen", {"period": 30})
    assert shown.endswith("action=vserviceschargefee&param=nofrozen&period=30")
    dummy, shown = ubilling.build_url("http://h/", SERIAL, "swping", extra={"flag": True, "empty": None})
    assert shown.endswith("action=swping&empty=&flag=true")


def test_identify_is_sent_without_the_key():
    real, shown = ubilling.build_url("http://h/billing/", SERIAL, "identify", "save")
    assert real == shown == "http://h/billing/?module=remoteapi&action=identify&param=save"


@pytest.mark.parametrize("action, param, extra, message", [
    ("multi gen", None, None, "not an action name"),
    ("", None, None, "not an action name"),
    ("swping", None, {"key": "x"}, "set by the module"),
    ("swping", None, {"action": "x"}, "set by the module"),
    ("fullhostscan&param=traffdiff", "other", None, "given twice"),
    ("fullhostscan&nn=1", None, {"nn": 2}, "given twice"),
])
def test_bad_calls_are_refused_before_sending(action, param, extra, message):
    with pytest.raises(ubilling.UbillingError, match=message) as caught:
        ubilling.build_url("http://h/", SERIAL, action, param, extra)
    assert SERIAL not in str(caught.value)


def test_mask_hides_serial_and_any_key_value():
    text = "GET http://h/?module=remoteapi&key=%s&action=x failed; serial %s" % (SERIAL, SERIAL)
    masked = ubilling.mask(text, SERIAL)
    assert SERIAL not in masked and "key=***&action=x" in masked
    assert ubilling.mask("http://h/?KEY=abc", None) == "http://h/?KEY=***"


# --- replies -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, kind, status, tag, detail, lines", [
    ("OK:RESET", "status", "OK", "RESET", None, []),
    ("OK: MULTIGEN", "status", "OK", "MULTIGEN", None, []),
    ("OK:BACKUPDB content/backups/sql/ub.sql", "status", "OK", "BACKUPDB", "content/backups/sql/ub.sql", []),
    ("OK:TRANSACTIONS_PROCESSED 4", "status", "OK", "TRANSACTIONS_PROCESSED", "4", []),
    ("OK:SENDDOG SMS `0` TLG `2` EML `0`", "status", "OK", "SENDDOG", "SMS `0` TLG `2` EML `0`", []),
    ("SKIP:AUTOCREDIT", "status", "SKIP", "AUTOCREDIT", None, []),
    ("SKIP: MULTIGEN ALREADY RUNNING", "status", "SKIP", "MULTIGEN", "ALREADY RUNNING", []),
    ("SKIPPED:REBUILDGLSCACHE", "status", "SKIPPED", "REBUILDGLSCACHE", None, []),
    ("WARNING:FEES_HARVESTER_ALREADY_RUNING", "status", "WARNING", "FEES_HARVESTER_ALREADY_RUNING", None, []),
    ("2026-11-27 08:00:00 10.0.0.1 [OK]\n2026-11-27 08:00:01 10.0.0.2 [FAIL] SWITCH DEAD\nOK:SWPOLL",
     "status", "OK", "SWPOLL", None,
     ["2026-11-27 08:00:00 10.0.0.1 [OK]", "2026-11-27 08:00:01 10.0.0.2 [FAIL] SWITCH DEAD"]),
    ("10.0.0.0/24 :2026-11-27 08:00:00:SCANNED\r\nOK:FULLHOSTSCAN\n", "status", "OK", "FULLHOSTSCAN", None,
     ["10.0.0.0/24 :2026-11-27 08:00:00:SCANNED"]),
    ("OK:USERBUILDCACHEOK:FULLHOSTSCAN", "status", "OK", "FULLHOSTSCAN", None, ["OK:USERBUILDCACHE"]),
    ("OK:BACKUPDB content/OK:x.sql", "status", "OK", "BACKUPDB", "content/OK:x.sql", []),
    ("CACHEDOG:CACHE_OK", "text", "OK", "CACHEDOG", "CACHE_OK", []),
    ("ONUSIGCOMPRESSOR:OK", "text", "OK", "ONUSIGCOMPRESSOR", "OK", []),
    ("94a8", "text", "OK", None, "94a8", []),
    ("undefined", "undefined", "OK", None, None, []),
])
def test_every_text_reply_form(body, kind, status, tag, detail, lines):
    reply = ubilling.parse_reply(200, body.encode())
    assert (reply.kind, reply.status, reply.tag, reply.detail, reply.lines) == (kind, status, tag, detail, lines)


def test_json_replies():
    reply = ubilling.parse_reply(200, b'{"result":1,"userdata":{"login":"u1","ip_net":"10.0.0.0\\/24"}}')
    assert reply.kind == "json" and reply.json["userdata"]["ip_net"] == "10.0.0.0/24"
    assert ubilling.parse_reply(200, b"[1,2]", expect="json").json == [1, 2]
    assert ubilling.parse_reply(200, b"undefined", expect="json").json is None


@pytest.mark.parametrize("body, meaning", [
    ("ERROR:API_DISABLED", "REMOTEAPI_ENABLED=0 in alter.ini"),
    ("ERROR:GET_WRONG_KEY", "the serial is wrong"),
    ("ERROR:NO_UBSERIAL_EXISTS", "has no serial yet"),
    ("ERROR:GET_NO_KEY", "no serial was sent"),
    ("ERROR:GET_NO_ACTION", "no action was given"),
    ("ERROR:GET_NO_PARAM", "the action needs param"),
    ("ERROR: NASMON DISABLED", "switched off in alter.ini (NASMON_DISABLED)"),
    ("ERROR:PON_DISABLED", "switched off in alter.ini (PON_DISABLED)"),
    ("ERROR:NO_WATCHDOG_ENABLED", "switched off in alter.ini"),
    ("ERROR:DIRTY_MONEY", "Ubilling answered ERROR:DIRTY_MONEY"),
    ("FAIL:NO_CONTENT_DN_EXISTS", "Ubilling answered FAIL:NO_CONTENT_DN_EXISTS"),
])
def test_documented_errors_have_clear_messages(body, meaning):
    with pytest.raises(ubilling.UbillingError) as caught:
        ubilling.parse_reply(200, body.encode(), shown_url="http://h/?module=remoteapi&key=***&action=x")
    error = caught.value
    assert meaning in error.message and error.kind == "error" and error.reply.status in ("ERROR", "FAIL")
    assert error.message.startswith("Ubilling http://h/?module=remoteapi&key=***&action=x: ")
    assert body.split(":", 1)[1].strip() in error.message


@pytest.mark.parametrize("status, body, kind, words", [
    (200, "<!DOCTYPE html><html><title>Ubilling</title></html>", "html", "unknown to this Ubilling"),
    (200, "\n  <html><body>It works!</body></html>", "html", "the url is not Ubilling's"),
    (200, "", "empty", "empty reply"),
    (200, "  \n", "empty", "empty reply"),
    (200, "Ubilling maintance in progress", "maintenance", "maintenance"),
    (200, "Stargazer currently not running. Sorry.", "stargazer", "Stargazer is not running"),
    (400, "", "http", "userside needs a known request"),
    (500, "<html>500</html>", "http", "HTTP 500"),
    (200, '{"Basic":{"id":', "json", "invalid JSON, maybe truncated"),
])
def test_failures_that_are_not_error_lines(status, body, kind, words):
    with pytest.raises(ubilling.UbillingError) as caught:
        ubilling.parse_reply(status, body.encode(), action="userside")
    assert caught.value.kind == kind and words in caught.value.message


@pytest.mark.parametrize("expect, body, ok", [
    ("status", "OK:SWPING", True), ("status", "SKIP:AUTOCREDIT", True), ("status", "{}", False),
    ("status", "CACHEDOG:CACHE_OK", False), ("json", "{}", True), ("json", "undefined", True),
    ("json", "OK:SWPING", False), ("text", "94a8", True), ("text", "OK:SWPING", True), ("text", "[]", False),
    ("auto", "94a8", True), ("auto", "[]", True),
])
def test_expected_reply_kind(expect, body, ok):
    if ok:
        ubilling.parse_reply(200, body.encode(), expect=expect)
    else:
        with pytest.raises(ubilling.UbillingError, match="expected a %s reply" % expect):
            ubilling.parse_reply(200, body.encode(), expect=expect)


# --- classification ------------------------------------------------------------------------------------
@pytest.mark.parametrize("action, param, extra, read_only", [
    ("identify", None, None, True), ("identify", "save", None, False),
    ("userbyip", None, {"ip": "10.0.0.1"}, True), ("userbynum", None, {"number": "380"}, True),
    ("getagentdata", "u1", None, True),
    ("userside", None, {"request": "get_user_list"}, True), ("userside&request=get_tariff_list", None, None, True),
    ("userside", None, {"request": "change_user_data"}, False), ("userside", None, None, False),
    ("asterisk", "getuserdatabymobile", {"number": "380"}, True), ("asterisk", "setcredit", None, False),
    ("multigen", None, None, False), ("backupdb", None, None, False), ("reset", "u1", None, False),
    ("fullhostscan&param=traffdiff&nn=1", None, None, False),
])
def test_read_only_classification(action, param, extra, read_only):
    assert ubilling.is_read_only(action, param, extra) is read_only


@pytest.mark.parametrize("body, read_only, changed", [
    ("OK: MULTIGEN", False, True), ("OK:AUTOFREEZE", False, True), ("CACHEDOG:CACHE_CLEANED", False, True),
    ("SKIP: MULTIGEN ALREADY RUNNING", False, False), ("SKIPPED:REBUILDGLSCACHE", False, False),
    ("WARNING:FEES_HARVESTER_ALREADY_RUNING", False, False), ('{"result":1}', True, False), ("94a8", True, False),
])
def test_changed(body, read_only, changed):
    assert ubilling.changed(ubilling.parse_reply(200, body.encode()), read_only) is changed


# --- transport against the emulator ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def emulator():
    with UbillingEmulator(labnet.generate(12, seed=2), SERIAL, timeout_delay=2.0) as server:
        yield server


@pytest.fixture(autouse=False)
def clean(emulator):
    emulator.clear_faults()
    emulator.clear_log()
    yield emulator
    emulator.clear_faults()


def test_call_parses_a_real_answer(clean):
    reply, shown = ubilling.call(clean.url + "/billing", SERIAL, "fullhostscan&param=traffdiff&nn=1")
    assert (reply.status, reply.tag) == ("OK", "FULLHOSTSCAN") and "key=***" in shown
    assert [entry["query"]["nn"] for entry in clean.requests] == [["1"]]


def test_retries_a_reset_connection(clean):
    clean.set_fault(None, "reset", count=1)
    reply, dummy = ubilling.call(clean.url, SERIAL, "swping", retries=1, retry_delay=0)
    assert reply.tag == "SWPING" and [entry["fault"] for entry in clean.requests] == ["reset", None]


def test_timeout_after_retries_names_the_masked_url(clean):
    clean.set_fault(None, "timeout")
    with pytest.raises(ubilling.UbillingError) as caught:
        ubilling.call(clean.url, SERIAL, "swping", timeout=0.5, retries=1, retry_delay=0)
    assert caught.value.kind == "connection" and "timeout" in caught.value.message
    assert "after 2 attempts" in caught.value.message and "key=***" in caught.value.message
    assert SERIAL not in caught.value.message


def test_connection_refused():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ubilling.UbillingError, match="connection failed") as caught:
        ubilling.call("http://127.0.0.1:%d/billing/" % port, SERIAL, "swping", retries=0)
    assert "after 1 attempt" in caught.value.message and SERIAL not in caught.value.message


def test_errors_from_a_real_answer_are_masked(clean):
    with pytest.raises(ubilling.UbillingError, match="REMOTEAPI_ENABLED=0") as caught:
        clean.update_state({"enabled": False})
        try:
            ubilling.call(clean.url, SERIAL, "swping")
        finally:
            clean.reset_state()
    assert SERIAL not in caught.value.message and SERIAL not in caught.value.reason


def test_503_is_retried_then_reported(clean):
    clean.set_fault(None, "503", count=5)
    with pytest.raises(ubilling.UbillingError, match="HTTP 503, after 3 attempts"):
        ubilling.call(clean.url, SERIAL, "swping", retries=2, retry_delay=0)


def test_concurrent_calls_do_not_share_state(clean):
    results = []
    threads = [threading.Thread(target=lambda: results.append(ubilling.call(clean.url, SERIAL, "swping")[0].tag))
               for dummy in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["SWPING"] * 8


# --- TLS -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    """The emulator behind TLS with a self-signed certificate for 127.0.0.1."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    with UbillingEmulator(labnet.generate(12, seed=2), SERIAL) as server:
        server._httpd.socket = context.wrap_socket(server._httpd.socket, server_side=True)
        yield "https://127.0.0.1:%d/billing/" % server.bound_port


def test_untrusted_certificate_fails_unless_validate_certs_is_off(tls_emulator):
    with pytest.raises(ubilling.UbillingError) as caught:
        ubilling.call(tls_emulator, SERIAL, "swping", retries=0)
    assert caught.value.kind == "tls" and "validate_certs=false" in caught.value.message
    assert SERIAL not in caught.value.message
    reply, dummy = ubilling.call(tls_emulator, SERIAL, "swping", retries=0, validate_certs=False)
    assert reply.tag == "SWPING"
