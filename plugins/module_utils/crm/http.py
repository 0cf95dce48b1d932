# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One HTTP session per CRM: retries with backoff, timeouts, and one clear error per failure.

Every failure becomes a CrmError naming the CRM, the endpoint and what went wrong, without
credentials: the URL in a message never carries a secret.
"""

from __future__ import annotations

import json
import json.scanner
import re
import traceback
from http.client import responses as HTTP_REASONS

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import NewConnectionError, TimeoutError as Urllib3Timeout
    from urllib3.util.retry import Retry
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

RETRY_STATUSES = (429, 500, 502, 503, 504)
# A JSON list larger than this (characters) is decoded one item at a time: decoded whole, a
# 300 MB UISP answer would take several GB of Python objects.
WHOLE_DECODE_LIMIT = 64 << 20
MAX_RETRY_AFTER = 30  # seconds; a CRM answering "Retry-After: 3600" must not hang a run

if HAS_REQUESTS:
    class BoundedRetry(Retry):
        """urllib3's Retry, honouring Retry-After up to MAX_RETRY_AFTER seconds."""

        def get_retry_after(self, response):
            seconds = super(BoundedRetry, self).get_retry_after(response)
            return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


class CrmError(Exception):
    def __init__(self, source, endpoint, reason):
        self.source = source
        self.endpoint = endpoint
        self.reason = reason
        super(CrmError, self).__init__("%s %s: %s" % (source, endpoint, reason))


class CrmSession(object):
    """Wraps requests.Session for one CRM. `base_url` has no trailing slash."""

    def __init__(self, source, base_url, timeout=60, retries=3, backoff=1.0, validate_certs=True,
                 headers=None, auth=None, form=None):
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.form = dict(form or {})  # credentials some APIs take as form fields of every POST
        self.session = requests.Session()
        self.session.verify = validate_certs
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", "User-Agent": "isp.ops crm_topology"})
        self.session.headers.update(headers or {})
        retry = BoundedRetry(total=retries, connect=retries, read=retries, status=retries, other=0,
                             backoff_factor=backoff, status_forcelist=RETRY_STATUSES, allowed_methods=None,
                             respect_retry_after_header=True, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def request_json(self, method, path, expect=list, endpoint=None, **kwargs):
        """Send a request and return the decoded JSON, checked to be of type `expect`.

        `endpoint` names the request in errors when the path alone does not (one URL, several
        actions in the form body); it defaults to the URL's path.
        """
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        endpoint = endpoint or _path_of(url)
        return decode(self.source, endpoint, self.request(method, url, endpoint, **kwargs), expect)

    def request(self, method, path, endpoint=None, **kwargs):
        """Send a request and return the response whatever its status; CrmError when none came.
        For APIs whose answers are not plain JSON and are decoded by their source (Ubilling)."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        endpoint = endpoint or _path_of(url)
        if self.form and method == "POST":
            kwargs["data"] = dict(self.form, **(kwargs.get("data") or {}))
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.exceptions.Timeout:
            raise CrmError(self.source, endpoint, "no answer within %s s (timeout)" % self.timeout)
        except requests.exceptions.SSLError as exc:
            raise CrmError(self.source, endpoint, "TLS verification failed (%s); fix the certificate "
                           "or set validate_certs=false" % _short(exc))
        except requests.exceptions.RetryError as exc:
            raise CrmError(self.source, endpoint, "gave up after retries: %s" % _short(exc))
        except requests.exceptions.ConnectionError as exc:
            if _timed_out(exc):  # a read timeout after the last retry arrives wrapped in MaxRetryError
                raise CrmError(self.source, endpoint, "no answer within %s s (timeout)" % self.timeout)
            raise CrmError(self.source, endpoint, "connection failed (%s)" % _short(exc))
        except requests.exceptions.RequestException as exc:
            raise CrmError(self.source, endpoint, "request failed (%s)" % _short(exc))


def decode(source, endpoint, response, expect):
    return decode_body(source, endpoint, response.status_code, response.headers.get("Content-Type", ""),
                       response.content, expect)


def decode_body(source, endpoint, status, content_type, body, expect):
    """Check an HTTP answer and decode it. A list is returned as a lazy JsonArray."""
    if status in (401, 403):
        raise CrmError(source, endpoint, "HTTP %d: the credentials were rejected; check the API key, "
                       "secret or token and its permissions" % status)
    if status >= 400:
        raise CrmError(source, endpoint, "HTTP %d %s: %s" % (status, HTTP_REASONS.get(status, "error"),
                                                             _snippet(body.decode("utf-8", "replace"))))
    if "html" in content_type.lower() or body.lstrip()[:1] == b"<":
        raise CrmError(source, endpoint, "answered with an HTML page, not JSON (HTTP %d); the URL probably "
                       "points at a login or web page rather than the API" % status)
    if not body.strip():
        raise CrmError(source, endpoint, "answered with an empty body (HTTP %d)" % status)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CrmError(source, endpoint, "answered with text that is not UTF-8 (%s)" % exc)
    if expect is list and text.lstrip()[:1] == "[":
        return JsonArray(source, endpoint, text)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CrmError(source, endpoint, "answered with invalid JSON, %d bytes, maybe truncated (%s)"
                       % (len(body), exc))
    if expect is not None and not isinstance(data, expect):
        wanted = _json_type(expect())
        raise CrmError(source, endpoint, "answered with a JSON %s where %s %s was expected"
                       % (_json_type(data), "an" if wanted[0] in "aeiou" else "a", wanted))
    return data


class JsonArray(object):
    """A JSON array decoded one item at a time, so a 300 MB answer never becomes one huge list.

    Each iteration decodes afresh with the C scanner of the json module; a syntax error or a
    truncated body raises CrmError naming the endpoint and the item.
    """

    def __init__(self, source, endpoint, text):
        self.source = source
        self.endpoint = endpoint
        self.text = text

    def __iter__(self):
        if len(self.text) <= WHOLE_DECODE_LIMIT:
            return iter(self._decode_whole())
        return self._decode_items()

    def _decode_whole(self):
        """json.loads' C loop is the fastest; below the limit its memory is affordable."""
        try:
            return json.loads(self.text)
        except ValueError:
            return list(self._decode_items())  # names the item where the text goes wrong

    def _decode_items(self):
        text = self.text
        scan = _SCAN_ONCE
        skip = _WHITESPACE.match
        end = len(text)
        index = skip(text, text.index("[") + 1).end()
        count = 0
        if text.startswith("]", index):
            index += 1
        else:
            while True:
                try:
                    item, index = scan(text, index)
                    char = text[index]
                except StopIteration:
                    raise self._error(count, "no JSON value at byte %d" % index)
                except IndexError:
                    raise self._error(count + 1, "expected ',' or ']' at byte %d, where the text ends" % index)
                except ValueError as exc:
                    raise self._error(count, exc)
                yield item
                count += 1
                if char in _SPACE:
                    index = skip(text, index).end()
                    char = text[index:index + 1]
                if char == ",":
                    index += 1
                    if text[index:index + 1] in _SPACE:
                        index = skip(text, index).end()
                elif char == "]":
                    index += 1
                    break
                else:
                    raise self._error(count, "expected ',' or ']' at byte %d" % index)
        if skip(text, index).end() != end:
            raise self._error(count, "text after the closing ]")

    def __len__(self):
        """Items in the array: a full decode, so only cheap for the empty case."""
        if self.is_empty():
            return 0
        return sum(1 for dummy in self)

    def is_empty(self):
        rest = self.text.lstrip()[1:].lstrip()
        return rest.startswith("]")

    def _error(self, count, detail):
        return CrmError(self.source, self.endpoint, "answered with invalid JSON after %d items, "
                        "maybe truncated (%s)" % (count, detail))


# The json module's C scanner, called per item: (value, end index), StopIteration when none.
_SCAN_ONCE = json.scanner.make_scanner(json.JSONDecoder())
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SPACE = frozenset(" \t\n\r")


def _json_type(value):
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _path_of(url):
    rest = url.split("://", 1)[-1]
    path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return path.split("?", 1)[0]


def _timed_out(exc):
    # urllib3 files a refused connection (NewConnectionError) under ConnectTimeoutError too.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, Urllib3Timeout) and not isinstance(reason, NewConnectionError)


def _short(exc):
    text = str(exc)
    for marker in ("Connection reset", "Connection refused", "Connection aborted", "Read timed out",
                   "Name or service not known", "RemoteDisconnected", "Max retries exceeded"):
        if marker in text:
            return marker.lower()
    return text[:200]


def _snippet(text):
    text = " ".join((text or "").split())
    return text[:200] if text else "no body"
