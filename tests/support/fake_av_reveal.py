"""Serve a fixed history through the local Alpha Vantage fake as it was known at an instant,
like a real provider (a bar, once complete, stays what it was): complete bars, and the last
1-min bar as the quote, with the regular session's open, high, low and volume so far once the
session has opened (what ``REALTIME_BULK_QUOTES`` carries)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from tests.support.fake_alphavantage import FakeAlphaVantage
from tradingstation.calendar import get_calendar
from tradingstation.data import point_in_time

# {symbol: {"daily": bars, "1min": bars, "30min": bars}} (canonical frames)
History = dict[str, dict[str, pd.DataFrame]]


def reveal(fake: FakeAlphaVantage, data: History, now: datetime) -> None:
    """Serve what existed at ``now`` (every interval ``data`` holds)."""
    fake.now = lambda: now
    for symbol, sets in data.items():
        fake.set_daily(symbol, point_in_time.cut_bars(sets["daily"], now, "daily"))
        for interval in ("1min", "30min"):
            if interval in sets:
                fake.set_intraday(symbol, interval,
                                  point_in_time.cut_bars(sets[interval], now, interval))
        minutes = point_in_time.cut_bars(sets["1min"], now, "1min")
        if not len(minutes):
            continue
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
