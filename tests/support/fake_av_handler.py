"""HTTP request handler of the fake Alpha Vantage server: key check, faults, raw socket tricks."""

from __future__ import annotations

import json
import socket
import struct
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from tests.support.fake_alphavantage import FakeAlphaVantage


class FakeAlphaVantageHandler(BaseHTTPRequestHandler):
    """Answers one request on behalf of the ``FakeAlphaVantage`` attached to the server."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeAlphaVantage/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log (it would print the key)."""

    def do_GET(self) -> None:
        """Answer one Alpha Vantage query (see ``FakeAlphaVantage`` for the behaviour)."""
        fake: FakeAlphaVantage = self.server.fake  # type: ignore[attr-defined]
        query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
        key_ok = query.pop("apikey", None) == fake.api_key
        record = fake._record(query)
        fake._hold(fake.latency)
        refusal = fake._admit(record, key_ok)
        fault = None
        if refusal is not None:
            outcome, body = refusal
            if body is not None:
                record.outcome = outcome
                self._send(200, "application/json", json.dumps(body))
                return
            fault = outcome
        if fault in ("http_500", "http_503"):
            record.outcome = fault
            self._send(int(fault[-3:]), "text/html", "<html><body>Service error</body></html>")
            return
        if fault == "connection_reset":
            record.outcome = fault
            self._reset()
            return
        if fault == "timeout":
            record.outcome = fault
            fake._hold(fake.timeout_seconds)
        outcome, content_type, body = fake._serve(record, fault)
        raw_faults = ("timeout", "malformed_json", "truncated_body")
        record.outcome = fault if fault in raw_faults else outcome
        if fault == "malformed_json":
            broken = body[: max(1, len(body) // 2)] if body.startswith("{") else '{"Note": "Th'
            self._send(200, "application/json", broken + "<!--")
        elif fault == "truncated_body":
            self._send(200, content_type, body, truncate=True)
        else:
            self._send(200, content_type, body)

    def _send(self, status: int, content_type: str, body: str, truncate: bool = False) -> None:
        payload = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            if truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2] if truncate else payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client went away (e.g. after its timeout)
            return
        if truncate:
            self.close_connection = True

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
