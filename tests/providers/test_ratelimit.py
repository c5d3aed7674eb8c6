"""RateLimiter with an injected clock: hard per-minute cap, achieved rate, throttle, quota."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from tradingstation.errors import InputError, PermanentError
from tradingstation.providers.ratelimit import Limiter, QuotaExhaustedError, RateLimiter


class FakeClock:
    """Monotonic seconds that only move when someone sleeps (thread-safe)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        # Concurrent sleepers each push the clock on: time runs fast, never backwards.
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class RecordingLimiter(RateLimiter):
    """Records the clock reading at which each slot was granted (inside the limiter's lock)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.granted: list[float] = []

    def _commit(self, n: int, now: float) -> None:
        super()._commit(n, now)
        self.granted.extend([now] * n)


def max_in_window(stamps: list[float], window: float = 60.0) -> int:
    """Most stamps inside any half-open window ``[t, t + window)``."""
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, t in enumerate(stamps):
        while stamps[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def make(per_minute: int, clock: FakeClock, **kwargs) -> RecordingLimiter:
    return RecordingLimiter(per_minute, clock=clock, sleep=clock.sleep, **kwargs)


def test_never_more_than_per_minute_in_any_60s_window():
    clock = FakeClock()
    limiter = make(30, clock, burst=5)
    for _ in range(300):
        limiter.acquire()
    assert len(limiter.granted) == 300
    assert max_in_window(limiter.granted) == 30


def test_achieved_rate_reaches_95_percent_of_the_limit():
    clock = FakeClock()
    limiter = make(75, clock)
    start = clock()
    while clock() - start < 600:
        limiter.acquire()
    in_ten_minutes = sum(1 for t in limiter.granted if t - start < 600)
    assert in_ten_minutes >= 0.95 * 750
    assert max_in_window(limiter.granted) <= 75


def test_requests_are_spaced_not_bunched():
    clock = FakeClock()
    limiter = make(60, clock, burst=3)
    for _ in range(60):
        limiter.acquire()
    # Three back to back, then one per second: no burst of 60 followed by a long wait.
    assert limiter.granted[:3] == [1000.0] * 3
    gaps = [b - a for a, b in zip(limiter.granted[3:], limiter.granted[4:], strict=False)]
    assert max(gaps) == pytest.approx(1.0) and min(gaps) == pytest.approx(1.0)


def test_throttle_pauses_and_slows_then_recovers():
    clock = FakeClock()
    limiter = make(60, clock, burst=1, throttle_pause=10.0, recovery_seconds=60.0)
    for _ in range(10):
        limiter.acquire()
    thrown_at = clock()
    limiter.on_throttle()
    limiter.on_throttle()  # a second in-flight request throttled too: counts once
    assert limiter.stats()["effective_per_minute"] == 30.0
    limiter.acquire()
    assert limiter.granted[-1] >= thrown_at + 10.0
    resumed = limiter.granted[-1]
    while clock() < resumed + 60:
        limiter.acquire()
    slowed = sum(1 for t in limiter.granted if resumed <= t < resumed + 60)
    assert slowed < 50  # well below the 60/min it ran at before the throttle
    while clock() < resumed + 180:
        limiter.acquire()
    assert limiter.stats()["effective_per_minute"] == 60.0
    recovered = sum(1 for t in limiter.granted if resumed + 120 <= t < resumed + 180)
    assert recovered >= 59
    assert limiter.stats()["throttles"] == 2


def test_repeated_throttles_floor_at_min_factor():
    clock = FakeClock()
    limiter = make(100, clock, throttle_pause=1.0, min_factor=0.1)
    for _ in range(10):
        limiter.on_throttle()
        clock.sleep(1.0)
    assert limiter.stats()["effective_per_minute"] >= 10.0


def test_penalize_delays_without_slowing():
    clock = FakeClock()
    limiter = make(60, clock)
    limiter.acquire()
    limiter.penalize(30)
    limiter.acquire()
    assert limiter.granted[-1] - limiter.granted[0] == pytest.approx(30.0)
    assert limiter.stats()["effective_per_minute"] == 60.0


def test_daily_quota_raises_a_permanent_error_and_resets_next_day():
    clock = FakeClock()
    day = {"value": date(2024, 7, 17)}
    limiter = make(60, clock, per_day=5, today=lambda: day["value"])
    for _ in range(5):
        limiter.acquire()
    with pytest.raises(QuotaExhaustedError, match="daily API quota of 5") as caught:
        limiter.acquire()
    assert isinstance(caught.value, PermanentError)
    assert len(limiter.granted) == 5
    day["value"] = date(2024, 7, 18)
    limiter.acquire()
    assert limiter.stats()["day_used"] == 1


def test_quota_used_earlier_today_counts():
    clock = FakeClock()
    limiter = make(60, clock, per_day=25, used_today=24, today=lambda: date(2024, 7, 17))
    limiter.acquire()
    with pytest.raises(QuotaExhaustedError):
        limiter.acquire()
    with pytest.raises(QuotaExhaustedError):
        make(60, clock, per_day=25, used_today=24).acquire(2)


def test_acquire_many_slots_at_once():
    clock = FakeClock()
    limiter = make(10, clock)
    limiter.acquire(10)
    limiter.acquire(1)
    assert limiter.granted[-1] - limiter.granted[0] >= 60.0
    with pytest.raises(InputError):
        limiter.acquire(11)
    with pytest.raises(InputError):
        limiter.acquire(0)


@pytest.mark.parametrize("kwargs", [{"per_minute": 0}, {"per_minute": 5, "per_day": 0},
                                    {"per_minute": 5, "min_factor": 0}])
def test_bad_configuration_is_rejected(kwargs):
    with pytest.raises(InputError):
        RateLimiter(**kwargs)


def test_concurrent_acquirers_share_the_limit():
    clock = FakeClock()
    limiter = make(50, clock, burst=4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(40):
                limiter.acquire()
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and not any(t.is_alive() for t in threads)
    assert len(limiter.granted) == 320 == limiter.stats()["acquired"]
    assert limiter.granted == sorted(limiter.granted)
    assert max_in_window(limiter.granted) <= 50


def test_rate_limiter_satisfies_the_limiter_protocol():
    limiter = RateLimiter(5)
    assert isinstance(limiter, Limiter)
    assert "RateLimiter(per_minute=5" in repr(limiter)
