# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Loopback-only HTTP server base for API emulators, with fault injection.

Subclasses supply ``routes()`` (exact path -> handler(query) returning a JSON
value or an iterable of items), ``is_authorized(headers)``, ``error_payload``
and the Content-Type of the real API. APIs driven by form POSTs set ``methods``;
the fields of an ``application/x-www-form-urlencoded`` body are merged into the
query, as PHP's $_REQUEST does. Test control lives under /_emulator/:
GET/DELETE /_emulator/log, GET/POST/DELETE /_emulator/faults, GET /_emulator/health.
"""

from __future__ import annotations

import hmac
import io
import json
import socket
import socketserver
import struct
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOOPBACK_HOST = "127.0.0.1"
CONTROL_PREFIX = "/_emulator/"
STATUS_FAULTS = ("401", "403", "500", "503", "429")
FAULT_KINDS = STATUS_FAULTS + ("timeout", "reset", "truncated", "wrong_shape", "html", "empty")
SECRET_WORDS = ("authorization", "token", "secret", "key", "cookie", "password")
LOG_LIMIT = 10_000
CACHE_LIMIT = 64
MAX_BODY = 1 << 20
HTML_LOGIN = (b"<!DOCTYPE html><html><head><title>Login</title></head><body>"
              b"<form method=\"post\" action=\"/login\"><input name=\"username\">"
              b"<input type=\"password\" name=\"password\"><button>Sign in</button></form>"
              b"</body></html>")


def require_loopback(host: str) -> None:
    """Refuse to serve anywhere but 127.0.0.1."""
    if host != LOOPBACK_HOST:
        raise ValueError(f"emulators bind only to {LOOPBACK_HOST}, not {host!r}")


def serve_in_thread(server: socketserver.BaseServer, name: str) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread; returns the started thread."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True)
    thread.start()
    return thread


def shut_down(server: socketserver.BaseServer, thread: threading.Thread, stopping: threading.Event) -> None:
    """Stop a server of ``serve_in_thread``; ``stopping`` wakes requests sleeping in a "timeout" fault."""
    stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@dataclass
class Fault:
    """One injected fault; ``remaining`` None means until cleared."""

    path: str | None
    kind: str
    remaining: int | None = None


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str
    headers: tuple = ()


def _hide(value: str) -> str:
    scheme = value.split(" ", 1)[0] if " " in value else ""
    return f"{scheme} <redacted>".strip()


def redact(pairs) -> dict:
    """Copy headers (name, str) or query items (name, [str]), hiding secrets."""
    clean = {}
    for name, value in pairs:
        if any(word in name.lower() for word in SECRET_WORDS):
            value = [_hide(item) for item in value] if isinstance(value, list) else _hide(value)
        clean[name] = value
    return clean


def _content_length(headers) -> int:
    try:
        return int(headers.get("Content-Length") or 0)
    except ValueError:
        return 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skip the reverse DNS lookup
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 60

    def do_GET(self) -> None:
        self.server.emulator.dispatch(self)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, *args) -> None:
        """Silence stderr; the emulator keeps its own log."""


class EmulatorServer:
    """Base class: lifecycle, routing, request log and fault injection."""

    name = "emulator"
    json_content_type = "application/json"
    ensure_ascii = False
    methods = ("GET", "HEAD")  # what the API answers; others get 405
    empty_body = b"[]"  # the "empty" fault: what this API sends when it has no data

    def __init__(self, host: str = LOOPBACK_HOST, port: int = 0, timeout_delay: float = 5.0) -> None:
        require_loopback(host)
        self.host, self.port, self.timeout_delay = host, port, float(timeout_delay)
        self._routes = self.routes()
        self._faults: dict[str | None, Fault] = {}
        self._log: deque = deque(maxlen=LOG_LIMIT)
        self._cache: dict = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- hooks for subclasses -------------------------------------------------
    def routes(self) -> dict:
        return {}

    def canonical_targets(self) -> list[str]:
        """The request targets (path?query) a real importer fetches."""
        return list(self._routes)

    def is_authorized(self, headers) -> bool:
        return True

    def is_authorized_query(self, query: dict) -> bool:
        """For APIs whose credential is a form field or a query parameter."""
        return True

    def error_payload(self, status: int, message: str) -> object:
        return {"status": status, "message": message}

    # --- lifecycle -------------------------------------------------------------
    def start(self) -> "EmulatorServer":
        if self._httpd is None:
            self._stopping.clear()
            httpd = _Server((self.host, self.port), _Handler)
            httpd.emulator = self
            self._httpd = httpd
            self._thread = serve_in_thread(httpd, f"{self.name}-emulator")
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            shut_down(httpd, self._thread, self._stopping)

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def bound_port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("emulator not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.bound_port}"

    # --- faults and log ----------------------------------------------------------
    def set_fault(self, path: str | None, kind: str, count: int | None = None) -> None:
        """Make requests to ``path`` (None = every API path) fail with ``kind``."""
        kind = str(kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise ValueError("fault path must start with '/' or be None")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError("fault count must be a positive integer or None")
        with self._lock:
            self._faults[path] = Fault(path, kind, count)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict]:
        with self._lock:
            return [asdict(fault) for fault in self._faults.values()]

    @property
    def requests(self) -> list[dict]:
        """Logged API requests, oldest first (control requests are not logged)."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def _take_fault(self, path: str) -> str | None:
        with self._lock:
            key = path if path in self._faults else None
            fault = self._faults.get(key)
            if fault is None:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._faults[key]
            return fault.kind

    # --- rendering -------------------------------------------------------------
    def encode(self, payload) -> tuple[bytes, bool]:
        """JSON bytes of a dict or of an iterable of items; also says if it is a list."""
        encoder = json.JSONEncoder(ensure_ascii=self.ensure_ascii, separators=(",", ":"))
        if isinstance(payload, dict):
            return encoder.encode(payload).encode("utf-8"), False
        buffer = io.BytesIO()
        buffer.write(b"[")
        for index, item in enumerate(payload):
            if index:
                buffer.write(b",")
            buffer.write(encoder.encode(item).encode("utf-8"))
        buffer.write(b"]")
        return buffer.getvalue(), True

    def render(self, path: str, query: dict | None = None) -> tuple[bytes, bool]:
        """Body of a normal reply to an existing route, cached per query."""
        query = query or {}
        key = (path, tuple(sorted((name, tuple(values)) for name, values in query.items())))
        cached = self._cache.get(key)
        if cached is None:
            cached = self.encode(self._routes[path](query))
            with self._lock:
                if len(self._cache) >= CACHE_LIMIT:
                    self._cache.clear()
                self._cache[key] = cached
        return cached

    def payloads(self) -> dict[str, bytes]:
        """Every canonical response body, rendered in memory without a server."""
        result = {}
        for target in self.canonical_targets():
            parts = urlsplit(target)
            result[target] = self.render(parts.path, parse_qs(parts.query, keep_blank_values=True))[0]
        return result

    def _json_reply(self, status: int, payload, headers: tuple = ()) -> Reply:
        return Reply(status, self.encode(payload)[0], self.json_content_type, headers)

    def _error(self, status: int, message: str, headers: tuple = ()) -> Reply:
        return self._json_reply(status, self.error_payload(status, message), headers)

    def _normal_reply(self, handler, path: str, query: dict) -> Reply:
        if not self.is_authorized(handler.headers) or not self.is_authorized_query(query):
            return self._error(401, "Unauthorized", self.auth_challenge())
        if path not in self._routes:
            return self._error(404, "Not found")
        if handler.command not in self.methods:
            return self._error(405, "Method not allowed", (("Allow", ", ".join(self.methods)),))
        return Reply(200, self.render(path, query)[0], self.json_content_type)

    def auth_challenge(self) -> tuple:
        return ()

    def _fault_reply(self, kind: str, path: str, query: dict) -> Reply | None:
        """The reply for a fault, or None when the connection is dropped."""
        if kind in STATUS_FAULTS:
            headers = (("Retry-After", "0"),) if kind == "429" else ()
            return self._error(int(kind), f"Injected fault {kind}", headers)
        if kind == "html":
            return Reply(200, HTML_LOGIN, "text/html; charset=utf-8")
        if kind == "empty":
            return Reply(200, self.empty_body, self.json_content_type)
        body, is_list = self.render(path, query) if path in self._routes else (b'{"error":"none"}', False)
        if kind == "truncated":
            return Reply(200, body[: max(1, len(body) // 2)], self.json_content_type)
        if kind == "wrong_shape":
            shaped = b'{"data":' + body + b"}" if is_list else b"[" + body + b"]"
            return Reply(200, shaped, self.json_content_type)
        return None

    # --- request handling -----------------------------------------------------------
    def dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        """Entry point for every request (runs in the handler's thread)."""
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = _content_length(handler.headers)
        body = handler.rfile.read(min(length, MAX_BODY)) if length > 0 else b""
        handler.request_body = body  # for emulators of write APIs (POST/PUT payloads)
        if parts.path.startswith(CONTROL_PREFIX):
            self._send(handler, self._control(handler.command, parts.path, body))
            return
        if (handler.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            for name, values in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
                query.setdefault(name, []).extend(values)
        kind = self._take_fault(parts.path)
        reply = self._fault_reply(kind, parts.path, query) if kind else self._normal_reply(handler, parts.path, query)
        entry = {
            "time": time.time(), "method": handler.command, "path": parts.path,
            "query": redact(query.items()), "headers": redact(handler.headers.items()),
            "status": reply.status if reply else None, "fault": kind,
        }
        with self._lock:
            self._log.append(entry)
        if reply is not None:
            self._send(handler, reply)
        elif kind == "timeout":
            self._stopping.wait(self.timeout_delay)
            handler.close_connection = True
        else:
            self._reset(handler)

    @staticmethod
    def _reset(handler) -> None:
        """Abort the TCP connection: SO_LINGER 0 makes close() send an RST."""
        handler.close_connection = True
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()

    def _send(self, handler, reply: Reply) -> None:
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            handler.send_header(name, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(reply.body)

    def _control(self, method: str, path: str, body: bytes) -> Reply:
        """Test control endpoints; never faulted, never logged, no auth."""
        if path == CONTROL_PREFIX + "health" and method == "GET":
            return Reply(200, self.encode({"ok": True, "name": self.name})[0], "application/json")
        if path == CONTROL_PREFIX + "log" and method in ("GET", "DELETE"):
            if method == "DELETE":
                self.clear_log()
            return Reply(200, self.encode(self.requests)[0], "application/json")
        if path != CONTROL_PREFIX + "faults" or method not in ("GET", "POST", "DELETE"):
            return Reply(404, b'{"error":"unknown control endpoint"}', "application/json")
        if method == "POST":
            try:
                spec = json.loads(body or b"{}")
                self.set_fault(spec.get("path"), spec.get("kind"), spec.get("count"))
            except (ValueError, AttributeError) as error:
                return Reply(400, self.encode({"error": str(error)})[0], "application/json")
        elif method == "DELETE":
            self.clear_faults()
        return Reply(200, self.encode(self.faults())[0], "application/json")


class LabApiEmulator(EmulatorServer):
    """A CRM API serving a LabNetwork behind one secret: a token, an API key, or key:secret."""

    def __init__(self, network, secret: str, **server_options) -> None:
        self.network = network
        self._secret = secret.encode("utf-8")
        super().__init__(**server_options)

    def is_secret(self, supplied: str | bytes | None) -> bool:
        """Constant-time comparison with the secret; nothing supplied never matches."""
        supplied = supplied.encode("utf-8") if isinstance(supplied, str) else supplied
        return bool(supplied) and hmac.compare_digest(supplied, self._secret)


def last_field(query: dict, name: str) -> str:
    """The last value of a query or form field, as PHP's $_REQUEST keeps it ("" when absent)."""
    return (query.get(name) or [""])[-1]
