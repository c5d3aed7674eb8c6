"""Request-rate limiter shared by every fetching thread of a process (GCRA + sliding window)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Protocol, runtime_checkable

from tradingstation.calendar import NY
from tradingstation.errors import InputError, PermanentError

# Float slack so that waking exactly at a computed instant counts as "at" it.
_EPSILON = 1e-9


class QuotaExhaustedError(PermanentError):
    """The configured daily request quota is used up; retrying before tomorrow cannot help."""


@runtime_checkable
class Limiter(Protocol):
    """What a provider needs from a rate limiter.

    ``RateLimiter`` is the in-process implementation; a cross-process one (for example a
    Prefect global concurrency limit used as a rate limit) only has to offer these two calls.
    """

    def acquire(self, n: int = 1) -> None:
        """Block until ``n`` request slots may be used now, then use them."""

    def on_throttle(self) -> None:
        """Tell the limiter the provider answered with a throttle message."""


def new_york_today() -> date:
    """The current date in New York (Alpha Vantage's quota day)."""
    return datetime.now(UTC).astimezone(NY).date()


class RateLimiter:
    """Thread-safe limiter.

    Smooth spacing with a small burst, a hard per-minute cap, a daily quota, and a multiplicative
    slow-down after throttle responses.

    Spacing follows GCRA (a leaky bucket): one slot every ``60 / rate`` seconds with up to
    ``burst`` slots back to back. On top, a log of the last minute's acquisitions guarantees
    that no window of ``60 + window_margin`` seconds ever holds more than ``per_minute``
    acquisitions, so the achieved rate approaches the limit without exceeding it. The margin
    absorbs network jitter between acquiring a slot and the request reaching the server.

    A throttle answer (``on_throttle``) pauses every acquirer for ``throttle_pause`` seconds
    and halves the rate; the rate then recovers exponentially, doubling every
    ``recovery_seconds``, back to the configured limit. Throttles that arrive while a pause is
    already in force (several requests in flight at once) count once.

    Args:
        per_minute: Requests per minute the plan allows.
        per_day: Optional daily quota; ``acquire`` raises ``QuotaExhaustedError`` past it.
        clock: Monotonic seconds (injectable for tests).
        sleep: Sleep function (injectable for tests).
        burst: Slots that may be used back to back before spacing applies.
        window_margin: Seconds added to the 60 s window of the hard cap.
        throttle_pause: Seconds every acquirer waits after a throttle answer.
        recovery_seconds: After a throttle the rate doubles every this many seconds.
        min_factor: Lowest fraction of ``per_minute`` the slow-down may reach.
        today: Returns the quota day (default: the New York date).
        used_today: Requests already spent today (e.g. loaded from persisted usage).
    """

    def __init__(
        self,
        per_minute: int,
        per_day: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
        *,
        burst: int = 3,
        window_margin: float = 0.5,
        throttle_pause: float = 15.0,
        recovery_seconds: float = 60.0,
        min_factor: float = 0.1,
        today: Callable[[], date] = new_york_today,
        used_today: int = 0,
    ) -> None:
        if not isinstance(per_minute, int) or per_minute < 1:
            raise InputError(f"rate limit per minute must be a positive integer: {per_minute!r}")
        if per_day is not None and (not isinstance(per_day, int) or per_day < 1):
            raise InputError(f"rate limit per day must be a positive integer, got {per_day!r}")
        if burst < 1 or window_margin < 0 or throttle_pause < 0 or recovery_seconds <= 0:
            raise InputError("rate limiter burst/margin/pause/recovery must be positive")
        if not 0 < min_factor <= 1:
            raise InputError(f"min_factor must be in (0, 1], got {min_factor!r}")
        self.per_minute = per_minute
        self.per_day = per_day
        self._clock = clock
        self._sleep = sleep
        self._burst = min(burst, per_minute)
        self._window = 60.0 + window_margin
        self._throttle_pause = throttle_pause
        self._recovery = recovery_seconds
        self._min_factor = min_factor
        self._today = today
        self._lock = threading.Lock()
        self._log: deque[float] = deque()
        self._tat = -math.inf  # GCRA theoretical arrival time
        self._paused_until = -math.inf
        self._factor_base = 1.0
        self._factor_since = -math.inf
        self._day = today()
        self._day_used = max(0, int(used_today))
        self._acquired = 0
        self._throttles = 0
        self._waited = 0.0

    def __repr__(self) -> str:
        return f"RateLimiter(per_minute={self.per_minute}, per_day={self.per_day})"

    # --- public API -------------------------------------------------------------------------

    def acquire(self, n: int = 1) -> None:
        """Block until ``n`` request slots are free, then take them.

        Raises:
            InputError: ``n`` is not between 1 and ``per_minute``.
            QuotaExhaustedError: The daily quota cannot cover ``n`` more requests.
        """
        if not isinstance(n, int) or not 1 <= n <= self.per_minute:
            raise InputError(f"cannot acquire {n!r} slots with a limit of {self.per_minute}/min")
        while True:
            with self._lock:
                now = self._clock()
                self._check_day(n)
                ready = self._earliest(n, now)
                if ready <= now + _EPSILON:
                    self._commit(n, now)
                    return
                wait = ready - now
                self._waited += wait
            # Sleep outside the lock; on waking, recompute: a throttle may have moved things.
            self._sleep(wait)

    def on_throttle(self) -> None:
        """Pause all acquirers and halve the rate (once per pause)."""
        with self._lock:
            now = self._clock()
            self._throttles += 1
            if now < self._paused_until:
                return
            self._factor_base = max(self._min_factor, self._factor(now) * 0.5)
            self._paused_until = now + self._throttle_pause
            self._factor_since = self._paused_until

    def penalize(self, seconds: float) -> None:
        """Pause all acquirers for ``seconds`` (e.g. a server's Retry-After) without slowing."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def stats(self) -> dict[str, Any]:
        """Counters and current state: acquired, waited_seconds, throttles, effective rate ..."""
        with self._lock:
            now = self._clock()
            return {
                "per_minute": self.per_minute,
                "per_day": self.per_day,
                "effective_per_minute": round(self.per_minute * self._factor(now), 3),
                "acquired": self._acquired,
                "waited_seconds": round(self._waited, 3),
                "throttles": self._throttles,
                "day": self._day.isoformat(),
                "day_used": self._day_used,
                "paused_for": round(max(0.0, self._paused_until - now), 3),
            }

    # --- internals (call with the lock held) ------------------------------------------------

    def _factor(self, now: float) -> float:
        if self._factor_base >= 1.0:
            return 1.0
        if now <= self._factor_since:
            return self._factor_base
        grown = self._factor_base * 2.0 ** ((now - self._factor_since) / self._recovery)
        if grown >= 1.0:
            self._factor_base = 1.0
            return 1.0
        return grown

    def _check_day(self, n: int) -> None:
        today = self._today()
        if today != self._day:
            self._day, self._day_used = today, 0
        if self.per_day is not None and self._day_used + n > self.per_day:
            raise QuotaExhaustedError(
                f"daily API quota of {self.per_day} requests is used up for {self._day.isoformat()}"
                f" ({self._day_used} used); try again tomorrow or raise the plan's quota"
            )

    def _earliest(self, n: int, now: float) -> float:
        """The earliest time at which ``n`` slots may be taken."""
        while self._log and self._log[0] <= now - self._window + _EPSILON:
            self._log.popleft()
        interval = 60.0 / (self.per_minute * self._factor(now))
        ready = max(now, self._paused_until, self._tat - (self._burst - 1) * interval)
        excess = len(self._log) + n - self.per_minute
        if excess > 0:
            # The oldest ``excess`` acquisitions must have left the window first.
            ready = max(ready, self._log[excess - 1] + self._window)
        return ready

    def _commit(self, n: int, now: float) -> None:
        interval = 60.0 / (self.per_minute * self._factor(now))
        self._tat = max(self._tat, now) + n * interval
        self._log.extend([now] * n)
        self._acquired += n
        self._day_used += n
