# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small client of OMniLeads' REST API (api_app): Bearer-token login and JSON calls.

It uses Ansible's own ``open_url`` so the module needs nothing beyond the Python standard
library on the managed host. Every failure becomes one OmlError naming the endpoint and what
OML said (its DRF field errors, its ``message``), never a credential.
"""

from __future__ import annotations

import json
import socket
from http.client import HTTPException

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

LOGIN = "/api/v1/login"


class OmlError(Exception):
    def __init__(self, endpoint, reason, status=None):
        self.endpoint = endpoint
        self.reason = reason
        self.status = status  # the HTTP status, when there was an answer
        super(OmlError, self).__init__("OMniLeads %s: %s" % (endpoint, reason))


def field_errors(errors, prefix=""):
    """DRF errors ({field: [msg]}, nested dicts, per-item lists) as 'field: msg' strings."""
    if isinstance(errors, dict):
        found = []
        for field, value in errors.items():
            found.extend(field_errors(value, "%s.%s" % (prefix, field) if prefix else str(field)))
        return found
    if isinstance(errors, list):
        if all(isinstance(item, str) for item in errors):
            return ["%s: %s" % (prefix or "error", " ".join(errors))] if errors else []
        found = []
        for index, item in enumerate(errors):
            found.extend(field_errors(item, "%s[%d]" % (prefix, index)))
        return found
    return ["%s: %s" % (prefix or "error", errors)]


class OmlClient(object):
    """One OML API session. `url` is the web root, e.g. https://oml.example.com."""

    def __init__(self, url, username, password, timeout=30, validate_certs=True):
        if not url.startswith(("http://", "https://")):
            raise OmlError(LOGIN, "url %r must start with http:// or https://" % url)
        self.base_url = url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.token = None

    def login(self):
        try:
            answer = self._send("POST", LOGIN, {"username": self.username, "password": self.password}, auth=False)
        except OmlError as exc:
            if exc.status in (400, 401, 403, 404):
                raise OmlError(LOGIN, "login refused for user %r (%s); check the OML API user and password"
                               % (self.username, exc.reason))
            raise
        token = answer.get("token") if isinstance(answer, dict) else None
        if not token:
            raise OmlError(LOGIN, "the answer carries no token (keys: %s)" % ", ".join(sorted(answer or {})))
        self.token = token

    def get(self, path):
        return self.call("GET", path)

    def call(self, method, path, payload=None):
        """A JSON call with the Bearer token; an expired token gets one fresh login."""
        if self.token is None:
            self.login()
        try:
            return self._send(method, path, payload)
        except OmlError as exc:
            if exc.status != 403 or "token" not in exc.reason.lower():
                raise
        self.login()
        return self._send(method, path, payload)

    def _send(self, method, path, payload=None, auth=True):
        headers = {"Accept": "application/json"}
        data = None
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = "Bearer %s" % self.token
        try:
            response = open_url(self.base_url + path, data=data, headers=headers, method=method,
                                timeout=self.timeout, validate_certs=self.validate_certs,
                                follow_redirects="none", http_agent="isp.ops omnileads")
            status, content_type, body = response.getcode(), response.headers.get("Content-Type", ""), response.read()
        except HTTPError as exc:
            status, content_type = exc.code, (exc.headers or {}).get("Content-Type", "")
            try:
                body = exc.read()
            except (OSError, HTTPException):
                body = b""
        except (socket.timeout, TimeoutError):
            raise OmlError(path, "no answer within %s s (timeout)" % self.timeout)
        except URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise OmlError(path, "no answer within %s s (timeout)" % self.timeout)
            raise OmlError(path, "connection failed (%s)" % reason)
        except (OSError, HTTPException) as exc:  # reset, remote disconnect, incomplete read
            raise OmlError(path, "connection failed (%s)" % (exc.__class__.__name__ if not str(exc) else exc))
        return decode(path, status, content_type, body)


def decode(path, status, content_type, body):
    """Check one answer and return its JSON; OML's own ``status: ERROR`` counts as a failure."""
    text = body.decode("utf-8", "replace")
    if "html" in content_type.lower() or text.lstrip()[:1] == "<":
        raise OmlError(path, "answered with an HTML page, not JSON (HTTP %d); is the url OML's web root "
                       "and the path an API endpoint?" % status, status=status)
    data = None
    if text.strip():
        try:
            data = json.loads(text)
        except ValueError as exc:
            if status >= 400:  # a proxy's or server's plain-text error page
                raise OmlError(path, "HTTP %d: %s" % (status, _explain(None, text)), status=status)
            raise OmlError(path, "answered with invalid JSON, %d bytes, maybe truncated (%s)" % (len(body), exc),
                           status=status)
    if status >= 400 or (isinstance(data, dict) and data.get("status") == "ERROR"):
        raise OmlError(path, "HTTP %d: %s" % (status, _explain(data, text)), status=status)
    if data is None:
        raise OmlError(path, "answered with an empty body (HTTP %d)" % status)
    return data


def _explain(data, text):
    if isinstance(data, dict):
        if data.get("errors"):
            return "; ".join(field_errors(data["errors"]))
        if "detail" in data:
            return str(data["detail"])
        if "message" in data:
            message = data["message"]
            return "; ".join(field_errors(message)) if isinstance(message, (list, dict)) else str(message)
        return "; ".join(field_errors(data))
    return " ".join(text.split())[:200] or "no body"
