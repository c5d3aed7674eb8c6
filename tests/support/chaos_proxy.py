"""A fault-injecting HTTP proxy on 127.0.0.1, for putting chaos between a client and moto's S3.

Usage::

    with running_moto_server() as endpoint, ChaosProxy(endpoint, p=0.2, seed=3) as proxy:
        store = S3Store(moto_s3_config(proxy.url, bucket))   # every request passes the proxy
        ...
        proxy.count("cut_upload")                            # faults injected so far

Each request is read whole, then, with probability ``p`` (seeded, reproducible for one
request order), one fault from ``kinds`` is applied instead of a clean forward:

- ``drop``: close the client connection without forwarding or answering.
- ``drop_after_forward``: forward, let the server do the work, then close without answering
  (the client cannot know its write succeeded).
- ``delay``: wait ``delay`` seconds, then forward normally.
- ``http_500`` / ``http_503``: answer an S3 ``InternalError`` / ``SlowDown`` without forwarding.
- ``cut_upload``: for requests with a body, forward the headers and only part of the body,
  then close both connections (an upload cut mid-way); other requests are dropped.

Faults are only applied to methods in ``methods`` (all by default). ``enabled = False`` turns
the proxy into a clean forwarder.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

CHAOS_KINDS = ("drop", "drop_after_forward", "delay", "http_500", "http_503", "cut_upload")
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te",
                "upgrade", "trailer"}
_ERRORS = {
    "http_500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "http_503": (503, "SlowDown", "Please reduce your request rate."),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def do_GET(self) -> None:
        """Proxy one request (all methods share this)."""
        self._proxy()

    def do_PUT(self) -> None:
        """Proxy a PUT."""
        self._proxy()

    def do_HEAD(self) -> None:
        """Proxy a HEAD."""
        self._proxy()

    def do_DELETE(self) -> None:
        """Proxy a DELETE."""
        self._proxy()

    def do_POST(self) -> None:
        """Proxy a POST."""
        self._proxy()

    def _proxy(self) -> None:
        proxy: ChaosProxy = self.server.proxy  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = proxy._choose(self.command)
        proxy._record(self.command, self.path, fault)
        if fault == "cut_upload" and not body:
            fault = "drop"
        if fault == "drop":
            self._hang_up()
            return
        if fault in _ERRORS:
            self._send_error_xml(*_ERRORS[fault])
            return
        if fault == "cut_upload":
            self._forward_partial(proxy, body)
            self._hang_up()
            return
        if fault == "delay":
            proxy._stopping.wait(proxy.delay)
        try:
            status, headers, payload = self._forward(proxy, body)
        except OSError:
            self._hang_up()
            return
        if fault == "drop_after_forward":
            self._hang_up()
            return
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in _HOP_HEADERS and name.lower() != "content-length":
                self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", dict(
                (k.lower(), v) for k, v in headers).get("content-length", "0"))
        else:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _request_headers(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}

    def _forward(self, proxy: ChaosProxy, body: bytes) -> tuple[int, list, bytes]:
        conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=30)
        try:
            conn.request(self.command, self.path, body=body or None,
                         headers=self._request_headers())
            response = conn.getresponse()
            payload = response.read()
            return response.status, response.getheaders(), payload
        finally:
            conn.close()

    def _forward_partial(self, proxy: ChaosProxy, body: bytes) -> None:
        head = [f"{self.command} {self.path} HTTP/1.1"]
        head += [f"{k}: {v}" for k, v in self._request_headers().items()]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        try:
            with socket.create_connection((proxy.upstream_host, proxy.upstream_port),
                                          timeout=5) as upstream:
                upstream.sendall(raw + body[: max(1, len(body) // 2)])
                upstream.shutdown(socket.SHUT_WR)  # the client went away mid-upload
                upstream.settimeout(5)
                try:
                    while upstream.recv(65536):
                        pass  # let the server finish with the broken request
                except OSError:
                    pass
        except OSError:
            pass

    def _send_error_xml(self, status: int, code: str, message: str) -> None:
        payload = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                   f"<Message>{message}</Message></Error>").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(payload) if self.command != "HEAD" else 0))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class ChaosProxy:
    """Threaded HTTP forwarder to ``upstream`` that injects faults. See the module docstring.

    Args:
        upstream: ``http://host:port`` of the real server (moto).
        p: Fraction of requests that get a fault.
        seed: Seed of the fault choice.
        kinds: Fault kinds to choose from (uniformly).
        methods: HTTP methods that may get a fault (None = all).
        delay: Seconds a ``delay`` fault waits.
    """

    def __init__(self, upstream: str, p: float = 0.2, seed: int = 0,
                 kinds: tuple[str, ...] = CHAOS_KINDS, methods: tuple[str, ...] | None = None,
                 delay: float = 0.05) -> None:
        unknown = set(kinds) - set(CHAOS_KINDS)
        if unknown:
            raise ValueError(f"unknown chaos kinds {sorted(unknown)}")
        parts = urlsplit(upstream)
        if parts.hostname != "127.0.0.1":
            raise ValueError("the chaos proxy only forwards to 127.0.0.1")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port or 80
        self.p, self.kinds, self.methods, self.delay = p, tuple(kinds), methods, delay
        self.enabled = True
        self.log: list[tuple[str, str, str | None]] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` of the proxy."""
        if self._server is None:
            raise RuntimeError("ChaosProxy is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> ChaosProxy:
        """Listen on a free 127.0.0.1 port and serve in a background thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.proxy = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="chaos-proxy")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> ChaosProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, kind: str | None = None, method: str | None = None) -> int:
        """Requests seen, optionally only those with fault ``kind`` and/or ``method``."""
        with self._lock:
            return sum(1 for m, _, f in self.log
                       if (kind is None or f == kind) and (method is None or m == method))

    def faults(self) -> dict[str, int]:
        """Faults injected so far, per kind."""
        with self._lock:
            return dict(Counter(f for _, _, f in self.log if f is not None))

    def _choose(self, method: str) -> str | None:
        with self._lock:
            if not self.enabled or (self.methods is not None and method not in self.methods):
                return None
            if self._rng.random() >= self.p:
                return None
            return self._rng.choice(self.kinds)

    def _record(self, method: str, path: str, fault: str | None) -> None:
        with self._lock:
            self.log.append((method, path, fault))
