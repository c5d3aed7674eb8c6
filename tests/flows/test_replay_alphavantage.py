"""Replay = live through the local Alpha Vantage fake: real-shaped history (AV JSON, extended
hours, bulk quotes) revealed as time passes, then every mode replayed while the provider serves
everything up to the next session."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.postmarket import postmarket
from tests.flows.replay_support import (
    NEXT,
    add_later_data,
    assert_replay_equals_live,
    record_screens,
    run_live,
)
from tests.support import fake_av_data
from tests.support.fake_alphavantage import FakeAlphaVantage
from tradingstation.calendar import get_calendar, ny_time
from tradingstation.config import get_settings
from tradingstation.data import point_in_time
from tradingstation.storage.local import LocalStore

pytestmark = pytest.mark.slow

SYMBOLS = ["ACME", "BOLT", "CRUX", "DYNA", "EPIC"]
END = ny_time(NEXT, 20, 0)


def history() -> dict[str, dict[str, pd.DataFrame]]:
    """Each symbol's full history (daily, 1-min, 30-min) up to the end of the next session."""
    return {s: {"daily": fake_av_data.generate_daily(0, s, END),
                "1min": fake_av_data.generate_intraday(0, s, "1min", END, days=8),
                "30min": fake_av_data.generate_intraday(0, s, "30min", END, days=8)}
            for s in SYMBOLS}


def reveal(fake: FakeAlphaVantage, data: dict, now) -> None:
    """Serve what existed at ``now``: complete bars, the last 1-min bar as the quote (with the
    regular session's open, high, low and volume so far once it has opened)."""
    fake.now = lambda: now
    for symbol, sets in data.items():
        fake.set_daily(symbol, point_in_time.cut_bars(sets["daily"], now, "daily"))
        for interval in ("1min", "30min"):
            fake.set_intraday(symbol, interval,
                              point_in_time.cut_bars(sets[interval], now, interval))
        minutes = point_in_time.cut_bars(sets["1min"], now, "1min")
        last = minutes.iloc[-1]
        regular = regular_minutes(minutes, last["timestamp"])
        session = volume = None
        if len(regular):
            session = (regular["open"].iloc[0], regular["high"].max(), regular["low"].min())
            volume = int(regular["volume"].sum())
        fake.set_quote(symbol, float(last["close"]),
                       int(last["volume"]) if volume is None else volume,
                       timestamp=last["timestamp"].to_pydatetime(), session=session)


def regular_minutes(minutes: pd.DataFrame, stamp: pd.Timestamp) -> pd.DataFrame:
    """The 1-min bars of the regular session of ``stamp``'s New York day."""
    day = stamp.tz_convert("America/New_York").date()
    if not get_calendar().is_session(day):
        return minutes.iloc[:0]
    times = get_calendar().session_times(day)
    stamps = minutes["timestamp"]
    return minutes[(stamps >= times.market_open) & (stamps < times.market_close)]


def test_every_mode_replayed_after_later_data_equals_its_live_run(monkeypatch, tmp_path):
    data = history()
    with FakeAlphaVantage(api_key="FAKE-KEY", strict_symbols=True) as fake:
        fake.set_listing(pd.DataFrame([
            {"symbol": s, "name": f"{s} Corp", "exchange": "NYSE", "asset_type": "Stock",
             "ipo_date": "2001-01-02", "status": "Active"} for s in SYMBOLS]))
        for name, value in {"TS_DATA_DIR": str(tmp_path), "TS_PROVIDER": "alphavantage",
                            "TS_ALPHAVANTAGE_API_KEY": "FAKE-KEY",
                            "TS_ALPHAVANTAGE_BASE_URL": fake.url,
                            "TS_RATE_LIMIT_PER_MINUTE": "6000",
                            "TS_RETENTION_1MIN_DAYS": "21",  # see test_replay_demo
                            "TS_RETENTION_DAILY_SESSIONS": "500"}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        store = LocalStore(tmp_path)
        record_screens(monkeypatch)

        live = run_live(store, before=lambda now: reveal(fake, data, now))
        assert live["premarket"]["anchors"]
        assert {a["symbol"] for a in live["premarket"]["anchors"]} == set(SYMBOLS)

        def next_postmarket() -> None:
            reveal(fake, data, ny_time(NEXT, 17, 0))
            assert postmarket(as_of=ny_time(NEXT, 17, 0), return_state=True).is_completed()

        add_later_data(store, next_postmarket, demo=False)
        # A real provider answers a replay with everything it has now.
        reveal(fake, data, END)
        calls = len(fake.requests)
        assert_replay_equals_live(store, live, force={"market": True})
        assert len(fake.requests) > calls  # the forced replay did fetch, and saw later bars
