"""Cross-run rate limiting: provider request slots drawn from a Prefect global concurrency limit.

Every worker process paces its own requests with ``tradingstation.providers.ratelimit``; with a
Prefect server, concurrent flow runs (a premarket rerun during the market session, two workers)
also share one budget: a global concurrency limit of ``per_minute`` slots decaying at
``per_minute / 60`` per second. Slots are drawn in chunks, because one acquisition costs about
a tenth of a second: per request it would cost more than the requests themselves.
"""

from __future__ import annotations

import threading

from tradingstation.providers.ratelimit import Limiter

GLOBAL_LIMIT = "tradingstation-alphavantage"
CHUNK = 10


def ensure_rate_limit(per_minute: int, name: str = GLOBAL_LIMIT) -> None:
    """Create or update the global limit ``name``: ``per_minute`` slots, refilled per second."""
    import httpx
    from prefect import get_client

    with get_client(sync_client=True) as client:
        try:
            client.upsert_global_concurrency_limit_by_name(
                name, limit=per_minute, slot_decay_per_second=per_minute / 60
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 409:  # another run created it first
                raise


class GlobalRateLimiter:
    """A limiter drawing slots from a Prefect global concurrency limit first.

    A :class:`~tradingstation.providers.ratelimit.Limiter` whose slots are first drawn from a
    Prefect global concurrency limit (shared by every run on the server), then spaced by the
    in-process limiter ``inner``.

    Args:
        inner: The process's own limiter (smooth spacing, throttle backoff, daily quota).
        per_minute: The plan's rate; chunks never exceed it.
        name: Global concurrency limit to draw from.
        chunk: Slots drawn per acquisition.
    """

    def __init__(self, inner: Limiter, per_minute: int, name: str = GLOBAL_LIMIT,
                 chunk: int = CHUNK) -> None:
        self.inner = inner
        self.name = name
        self.chunk = max(1, min(chunk, per_minute))
        self.drawn = 0
        self._held = 0
        self._lock = threading.Lock()

    def acquire(self, n: int = 1) -> None:
        """Take ``n`` request slots: from the held chunk, drawing new chunks as needed."""
        from prefect.concurrency.sync import rate_limit

        with self._lock:
            while self._held < n:
                take = max(self.chunk, n - self._held)
                rate_limit(self.name, occupy=take, strict=True)
                self._held += take
                self.drawn += take
            self._held -= n
        self.inner.acquire(n)

    def on_throttle(self) -> None:
        """A throttle answer slows this process's limiter down."""
        self.inner.on_throttle()
