# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ubilling's remote API: URLs, replies, error messages and which actions only read.

``GET <url>?module=remoteapi&key=<serial>&action=<action>[&param=..][&k=v..]``. Every answer is
HTTP 200 text/html, so the body says what happened: ``OK:``/``ERROR:``/``SKIP:``/``SKIPPED:``
(also ``WARNING:``/``FAIL:``) with loose spacing and progress lines before the last line, JSON,
the literal ``undefined``, another ``WORD:WORD`` text (``CACHEDOG:CACHE_OK``), or an HTML page
(an unknown action, or not the API at all). Plain Python (standard library only), shared by the
module isp.ops.ubilling_remoteapi and the Ubilling CRM source.

The serial is the only credential. It never appears in a message: every URL shown has
``key=***`` and every message is scrubbed of the serial.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import time

from urllib.error import HTTPError, URLError
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from urllib.request import HTTPSHandler, build_opener

MASK = "***"
RESERVED = ("module", "key", "action")
ACTION_NAME = re.compile(r"^[A-Za-z0-9_]+$")
STATUS_LINE = re.compile(r"^(OK|ERROR|SKIPPED|SKIP|WARNING|FAIL)\s*:\s*(.*)$", re.S)
GLUED = re.compile(r"(?<=[A-Za-z0-9_])(?=(?:OK|ERROR|SKIPPED|SKIP|WARNING|FAIL)\s*:)")  # print() then die()
WORD_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)\s*:\s*(\S.*)$", re.S)  # CACHEDOG:CACHE_OK
MAINTENANCE = "maintance in progress"  # sic, Ubilling's spelling
STARGAZER_DOWN = "Stargazer currently not running"
EXPECT = ("auto", "status", "json", "text")
NOT_CHANGED = ("SKIP", "SKIPPED", "WARNING")
RETRY_STATUSES = (502, 503, 504)

# Documented errors (the remoteapi page) and what to do about them.
ERROR_MESSAGES = {
    "API_DISABLED": "the remote API is switched off: REMOTEAPI_ENABLED=0 in alter.ini; set REMOTEAPI_ENABLED=1",
    "GET_WRONG_KEY": "the serial is wrong: it is not this Ubilling's serial (ubstats key 'ubid', shown by "
                     "?module=licensekeys; action=identify shows its last 4 characters)",
    "NO_UBSERIAL_EXISTS": "this Ubilling has no serial yet (no 'ubid' row in ubstats); create it with "
                          "action=identify&param=save or open the System status page once",
    "GET_NO_KEY": "no serial was sent (key is missing); give the serial",
    "GET_NO_ACTION": "no action was given",
    "GET_NO_PARAM": "the action needs param (reset needs param=<login>)",
    "NO_PARAMS": "the action needs more parameters (usercash needs login and summ)",
    "NO_LOGIN_PARAM": "the action needs a login parameter",
    "PARAMS_MISSED": "the action needs more parameters",
    "WRONG_LOGIN": "no such login in Ubilling",
}

# Actions that only read. Everything else is treated as having side effects: it is not called
# in check mode and answers "changed" when it says OK.
READ_ONLY_ACTIONS = frozenset((
    "identify", "userbyip", "userbynum", "getagentdata", "getbgpstats", "goose", "remotedhcp",
    "switchescoverage", "askozianum", "visorchans", "megogoui", "ptvui", "olltvui", "trinitytvui",
))
# userside: request=get_* reads (change_user_data writes); asterisk: these params read.
ASTERISK_READ_PARAMS = frozenset((
    "login", "realname", "swstatus", "userstatus", "getuserdatabylogin", "getuserdatabymobile",
    "getcontractsbymobile", "getvservicescount", "getonlinedaysleft", "getcontragentdata", "getuserspends",
))


class UbillingError(Exception):
    """A failed call; `reply` is the parsed Reply when Ubilling did answer."""

    def __init__(self, reason, url=None, reply=None, kind="error"):
        self.reason = reason
        self.message = "Ubilling %s: %s" % (url, reason) if url else reason
        self.url = url
        self.reply = reply
        self.kind = kind
        super(UbillingError, self).__init__(self.message)

    def masked(self, serial):
        """The same error with the serial scrubbed from every text."""
        self.reason, self.message = mask(self.reason, serial), mask(self.message, serial)
        self.args = (self.message,)
        return self


class Reply(object):
    """One parsed answer. `kind` is status, json, undefined or text."""

    def __init__(self, kind, status=None, tag=None, detail=None, data=None, text="", lines=()):
        self.kind = kind
        self.status = status
        self.tag = tag
        self.detail = detail
        self.json = data
        self.text = text
        self.lines = list(lines)

    def as_dict(self):
        return dict(kind=self.kind, status=self.status, tag=self.tag, detail=self.detail, json=self.json,
                    output_lines=self.lines)


# --- URLs -------------------------------------------------------------------------------------
def split_action(action):
    """``"fullhostscan&param=traffdiff&nn=1"`` (the ubapi form) -> ("fullhostscan", [("param", ...), ...])."""
    name, dummy, rest = (action or "").strip().partition("&")
    return name, parse_qsl(rest, keep_blank_values=True)


def check_action(action):
    if not action or not ACTION_NAME.match(action):
        raise UbillingError("action %r is not an action name (letters, digits and _ only)" % (action,))


def base_url(url):
    """The URL without query; a bare host or directory gets its trailing slash."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UbillingError("url %r is not an http(s) URL such as http://127.0.0.1/billing/" % (url,))
    path = parts.path or "/"
    if not path.endswith("/") and not path.endswith(".php"):
        path += "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def query_items(serial, action, param=None, extra=None):
    """The query as ordered pairs. `identify` is sent without a key: the API only answers it so."""
    name, inline = split_action(action)
    check_action(name)
    items = [("module", "remoteapi")]
    if name != "identify" and serial is not None:
        items.append(("key", serial))
    items.append(("action", name))
    given = list(inline)
    if param is not None:
        given.append(("param", param))
    for key in sorted(extra or {}):
        value = extra[key]
        given.append((key, _text(value)))
    seen = set()
    for key, dummy in given:
        if key in RESERVED:
            raise UbillingError("parameter %r is set by the module; use the url, serial and action options" % key)
        if key in seen:
            raise UbillingError("parameter %r is given twice (in the action string and in param or params)" % key)
        seen.add(key)
    return items + given


def build_url(url, serial, action, param=None, extra=None):
    """(the URL to call, the same URL with key=*** for showing)."""
    items = query_items(serial, action, param, extra)
    base = base_url(url)
    real = base + "?" + urlencode(items, quote_via=quote)
    shown = base + "?" + "&".join("key=" + MASK if k == "key" else urlencode([(k, v)], quote_via=quote)
                                  for k, v in items)
    return real, shown


def mask(text, serial):
    """`text` with the serial (and any key=... value) replaced by ***."""
    text = re.sub(r"(?i)([?&]key=)[^&#\s]*", r"\g<1>" + MASK, text or "")
    if serial:
        text = text.replace(serial, MASK)
    return text


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --- classification --------------------------------------------------------------------------------
def is_read_only(action, param=None, extra=None):
    """True when the call only reads, so it runs in check mode and never reports a change."""
    name, inline = split_action(action)
    params = dict(inline)
    if param is not None:
        params["param"] = param
    params.update(dict((k, _text(v)) for k, v in (extra or {}).items()))
    if name == "identify":
        return params.get("param") != "save"  # save writes exports/ubserial
    if name == "userside":
        return params.get("request", "").startswith("get_")
    if name == "asterisk":
        return params.get("param") in ASTERISK_READ_PARAMS
    if name == "sigreq":
        return params.get("param") == "config"
    return name in READ_ONLY_ACTIONS


# --- replies ---------------------------------------------------------------------------------------
def parse_reply(http_status, body, expect="auto", action=None, shown_url=None):
    """Parse one answer; a Reply, or UbillingError with a message that says what to do."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = body.strip()
    if http_status != 200:
        hint = " (userside needs a known request=...)" if http_status == 400 and action == "userside" else ""
        raise UbillingError("HTTP %s%s: %s" % (http_status, hint, _snippet(text)), shown_url,
                            kind="http")
    if not text:
        raise UbillingError("empty reply (HTTP 200 with no body)", shown_url, kind="empty")
    if _is_html(text):
        raise UbillingError(
            "answered with an HTML page, not an API reply: the action %r is unknown to this Ubilling "
            "(no controller in modules/remoteapi, or listed in REMOTEAPI_DISABLE_CALLS), or the url is not "
            "Ubilling's (it should point at the billing directory, e.g. http://127.0.0.1/billing/)"
            % (action,), shown_url, kind="html")
    if MAINTENANCE in text:
        raise UbillingError("Ubilling is in maintenance (the UPDATE file exists in its web root); try "
                            "again after the update", shown_url, kind="maintenance")
    if text.startswith(STARGAZER_DOWN):
        raise UbillingError("Stargazer is not running on the billing server (%s)" % _snippet(text),
                            shown_url, kind="stargazer")
    reply = _classify(text)
    if reply.status in ("ERROR", "FAIL"):
        raise UbillingError(error_message(reply), shown_url, reply, kind="error")
    _check_expected(reply, expect, shown_url)
    return reply


def _classify(text):
    if text == "undefined":  # userside: an empty result
        return Reply("undefined", "OK", text=text)
    if text[:1] in ("{", "["):
        try:
            return Reply("json", "OK", data=json.loads(text), text=text)
        except ValueError:
            return Reply("text", None, detail=text, text=text)  # _check_expected says truncated
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if lines and STATUS_LINE.match(lines[-1]):  # "OK:USERBUILDCACHEOK:FULLHOSTSCAN": the last one counts
        lines[-1:] = GLUED.split(lines[-1])
    last = lines[-1].strip() if lines else text
    match = STATUS_LINE.match(last)
    if match:
        tag, dummy, detail = match.group(2).strip().partition(" ")
        return Reply("status", match.group(1), tag or None, detail.strip() or None, text=text, lines=lines[:-1])
    match = WORD_LINE.match(last)
    if match:  # e.g. CACHEDOG:CACHE_OK, ONUSIGCOMPRESSOR:OK: the action answered in its own words
        return Reply("text", "OK", match.group(1), match.group(2).strip(), text=text, lines=lines[:-1])
    return Reply("text", "OK", None, last, text=text, lines=lines[:-1])


def _check_expected(reply, expect, shown_url):
    if reply.kind == "text" and reply.status is None:
        raise UbillingError("answered with invalid JSON, maybe truncated: %s" % _snippet(reply.text),
                            shown_url, reply, kind="json")
    wanted = {"status": ("status",), "json": ("json", "undefined"), "text": ("text", "status")}.get(expect)
    if wanted and reply.kind not in wanted:
        raise UbillingError("expected a %s reply, got %s: %s" % (expect, reply.kind, _snippet(reply.text)),
                            shown_url, reply, kind="unexpected")


def error_message(reply):
    """The documented meaning of an ERROR:/FAIL: reply, with the raw reply."""
    raw = "%s:%s%s" % (reply.status, reply.tag or "", " " + reply.detail if reply.detail else "")
    code = "_".join(((reply.tag or "") + " " + (reply.detail or "")).split())
    meaning = ERROR_MESSAGES.get(code)
    if meaning is None and (code.endswith("_DISABLED") or (code.startswith("NO_") and code.endswith("_ENABLED"))):
        meaning = "the feature is switched off in alter.ini (%s)" % code
    return "%s (%s)" % (meaning, raw) if meaning else "Ubilling answered %s" % raw


def changed(reply, read_only):
    """A side-effect action that answered OK changed something; SKIP and friends did not."""
    return not read_only and reply.status not in NOT_CHANGED


def _is_html(text):
    head = text[:512].lstrip().lower()
    return head.startswith("<") or "<html" in head or "<!doctype" in head


def _snippet(text):
    text = " ".join((text or "").split())
    return (text[:200] + "...") if len(text) > 200 else (text or "no body")


# --- transport (standard library, so it runs on any billing host) -------------------------------------
def fetch(url, shown_url, timeout=30, retries=2, retry_delay=1.0, validate_certs=True, serial=None):
    """GET `url`; (HTTP status, body bytes). Connection failures, timeouts and 502/503/504 are retried."""
    handlers = []
    if not validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        handlers.append(HTTPSHandler(context=context))
    opener = build_opener(*handlers)
    opener.addheaders = [("User-Agent", "isp.ops ubilling_remoteapi"), ("Accept", "text/html, application/json")]
    attempts = max(0, int(retries)) + 1
    problem = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(retry_delay)
        try:
            response = opener.open(url, timeout=timeout)
            try:
                return response.getcode(), response.read()
            finally:
                response.close()
        except HTTPError as exc:
            body = exc.read() if exc.fp is not None else b""
            if exc.code not in RETRY_STATUSES:
                return exc.code, body
            problem = "HTTP %s" % exc.code
        except (socket.timeout, TimeoutError):
            problem = "no answer within %s s (timeout)" % timeout
        except URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                problem = "no answer within %s s (timeout)" % timeout
            elif isinstance(reason, ssl.SSLError):
                raise UbillingError("TLS verification failed (%s); fix the certificate or set validate_certs=false"
                                    % reason, shown_url, kind="tls").masked(serial) from None
            else:
                problem = "connection failed (%s)" % _reason(reason)
        except (OSError, ValueError) as exc:  # reset, remote closed, bad status line
            problem = "connection failed (%s)" % _reason(exc)
    raise UbillingError("%s, after %d attempt%s" % (problem, attempts, "" if attempts == 1 else "s"),
                        shown_url, kind="connection").masked(serial)


def _reason(exc):
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[:200]


def call(url, serial, action, param=None, extra=None, expect="auto", timeout=30, retries=2, retry_delay=1.0,
         validate_certs=True):
    """Build, send and parse one call: (Reply, shown URL). Raises UbillingError, its message masked."""
    real, shown = build_url(url, serial, action, param, extra)
    name = split_action(action)[0]
    status, body = fetch(real, shown, timeout, retries, retry_delay, validate_certs, serial)
    try:
        return parse_reply(status, body, expect, name, shown), shown
    except UbillingError as exc:
        raise exc.masked(serial)
