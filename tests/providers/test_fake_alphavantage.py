"""The fake Alpha Vantage server itself: limits, key check, fault injection, seeded data."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import requests

from tests.support.fake_alphavantage import FakeAlphaVantage
from tradingstation.contracts import bar_problems
from tradingstation.providers.alphavantage import AlphaVantageProvider
from tradingstation.providers.ratelimit import RateLimiter

KEY = "K-1"
NOW = datetime(2024, 7, 17, 21, 0, tzinfo=UTC)  # Wednesday 17:00 New York


class StepClock:
    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now


def get(fake: FakeAlphaVantage, **params: str) -> requests.Response:
    return requests.get(fake.url, params={"apikey": KEY, **params}, timeout=5)


def test_sliding_minute_limit_answers_with_the_throttle_note():
    clock = StepClock()
    with FakeAlphaVantage(KEY, per_minute=3, clock=clock, now=lambda: NOW) as fake:
        bodies = [get(fake, function="GLOBAL_QUOTE", symbol="IBM").json() for _ in range(4)]
        assert all("Global Quote" in b for b in bodies[:3])
        assert "standard API call frequency is 3 calls per minute" in bodies[3]["Note"]
        clock.now = 59.9
        assert "Note" in get(fake, function="GLOBAL_QUOTE", symbol="IBM").json()
        clock.now = 60.0
        assert "Global Quote" in get(fake, function="GLOBAL_QUOTE", symbol="IBM").json()
        assert fake.count(outcome="throttled") == 2 and fake.count(outcome="ok") == 4


def test_daily_limit_echoes_the_key_under_information():
    with FakeAlphaVantage(KEY, per_day=1, now=lambda: NOW) as fake:
        get(fake, function="GLOBAL_QUOTE", symbol="IBM")
        body = get(fake, function="GLOBAL_QUOTE", symbol="IBM").json()
        assert f"API key as {KEY}" in body["Information"]
        assert "25 requests per day" not in body["Information"]  # the configured quota
        assert "rate limit is 1 requests per day" in body["Information"]


def test_wrong_key_gets_the_invalid_key_message_even_for_csv():
    with FakeAlphaVantage(KEY) as fake:
        response = requests.get(fake.url, params={"function": "LISTING_STATUS", "apikey": "x"},
                                timeout=5)
        assert response.status_code == 200
        assert response.json()["Error Message"].startswith("the parameter apikey is invalid")


def test_generated_data_is_seeded_valid_and_compact_is_100_bars():
    with FakeAlphaVantage(KEY, seed=3, now=lambda: NOW) as a, \
            FakeAlphaVantage(KEY, seed=3, now=lambda: NOW) as b:
        first = get(a, function="TIME_SERIES_DAILY", symbol="NVDA").json()
        assert first == get(b, function="TIME_SERIES_DAILY", symbol="NVDA").json()
        assert len(first["Time Series (Daily)"]) == 100
        assert first["Meta Data"]["3. Last Refreshed"] == "2024-07-17"
        full = get(a, function="TIME_SERIES_DAILY", symbol="NVDA", outputsize="full").json()
        assert len(full["Time Series (Daily)"]) == 260
        provider = AlphaVantageProvider(KEY, a.url, RateLimiter(1000))
        bars = provider.intraday_bars("NVDA", "30min", full=True)
        assert bar_problems(bars) == []
        local = bars["timestamp"].dt.tz_convert("America/New_York")
        assert local.iloc[-1] == pd.Timestamp("2024-07-17 16:30", tz="America/New_York")
        assert local.dt.strftime("%H:%M").min() == "04:00"
        assert local.dt.strftime("%H:%M").max() == "19:30"
        listing = provider.listing()
        assert len(listing) == 40 and set(listing["asset_type"]) == {"Stock", "ETF"}


def test_premium_only_options_refused_on_a_free_plan():
    with FakeAlphaVantage(KEY, premium=False) as fake:
        body = get(fake, function="REALTIME_BULK_QUOTES", symbol="IBM,MSFT").json()
        assert "This is a premium endpoint" in body["Information"]
        body = get(fake, function="TIME_SERIES_INTRADAY", symbol="IBM", interval="1min",
                   month="2024-01").json()
        assert "premium feature" in body["Information"]
        assert [r.outcome for r in fake.requests] == ["premium", "premium"]


def test_fault_precedence_next_then_symbol_then_random():
    with FakeAlphaVantage(KEY, now=lambda: NOW) as fake:
        fake.fail_next("http_503", n=2, function="TIME_SERIES_DAILY")
        fake.fail_symbol("BAD", "error_message")
        assert get(fake, function="GLOBAL_QUOTE", symbol="BAD").json()["Error Message"]
        assert get(fake, function="TIME_SERIES_DAILY", symbol="BAD").status_code == 503
        assert get(fake, function="TIME_SERIES_DAILY", symbol="OK").status_code == 503
        assert "Meta Data" in get(fake, function="TIME_SERIES_DAILY", symbol="OK").json()
        fake.clear_faults()
        assert "Global Quote" in get(fake, function="GLOBAL_QUOTE", symbol="BAD").json()
        with pytest.raises(ValueError, match="unknown fault kind"):
            fake.fail_next("gremlins")


def test_random_faults_are_reproducible():
    outcomes = []
    for _ in range(2):
        with FakeAlphaVantage(KEY, now=lambda: NOW) as fake:
            fake.fail_randomly("http_500", p=0.3, seed=11)
            outcomes.append([get(fake, function="GLOBAL_QUOTE", symbol="IBM").status_code
                             for _ in range(30)])
    assert outcomes[0] == outcomes[1]
    assert 3 <= outcomes[0].count(500) <= 18


def test_stop_releases_a_held_timeout_answer():
    fake = FakeAlphaVantage(KEY, timeout_seconds=60).start()
    fake.fail_next("timeout")
    with pytest.raises(requests.Timeout):
        get_timeout = requests.get(fake.url, params={"apikey": KEY, "function": "GLOBAL_QUOTE",
                                                     "symbol": "IBM"}, timeout=0.3)
        del get_timeout
    fake.stop()  # returns promptly although the handler was holding for 60 s
    assert fake.count(outcome="timeout") == 1
    with pytest.raises(RuntimeError):
        _ = fake.url


def test_a_taped_symbol_is_quoted_from_its_tape_only() -> None:
    from tests.support import tape
    from tradingstation.calendar import ny_time

    clock = {"now": ny_time(tape.SESSION, 9, 30) + timedelta(seconds=30)}
    with FakeAlphaVantage(KEY, now=lambda: clock["now"]) as fake:
        fake.set_tape("HOLD", tape.tapes()["HOLD"])
        provider = AlphaVantageProvider(KEY, fake.url, RateLimiter(6000))
        assert provider.session_quotes(["HOLD"]).empty  # no minute completed yet: no quote
        clock["now"] = ny_time(tape.SESSION, 9, 55)
        quote = provider.session_quotes(["HOLD"]).iloc[0]
    assert (quote["price"], quote["high"], quote["low"]) == (10.2, 10.25, 9.45)
