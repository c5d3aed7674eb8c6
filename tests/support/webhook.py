"""A webhook receiver on 127.0.0.1 that records every POST body (alerts end up here)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    """Records POST bodies; use as a context manager or call ``stop()``.

    Args:
        path: The URL path and query the alerts are posted to (may carry a token).
    """

    def __init__(self, path: str = "/hook") -> None:
        self.path = path
        self.bodies: list[str] = []
        self.arrivals: list[float] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                with receiver._lock:
                    receiver.bodies.append(body)
                    receiver.arrivals.append(time.time())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """Where to post."""
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def received(self) -> list[str]:
        """The bodies so far (a copy)."""
        with self._lock:
            return list(self.bodies)

    def received_at(self) -> list[tuple[str, float]]:
        """``(body, arrival epoch seconds)`` so far."""
        with self._lock:
            return list(zip(self.bodies, self.arrivals, strict=True))

    def stop(self) -> None:
        """Shut the server down."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
