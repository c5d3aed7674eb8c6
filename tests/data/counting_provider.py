"""A deterministic in-memory MarketDataProvider that counts its calls, for fetch tests.

Prices are a pure function of (symbol, bar timestamp), so the same bar fetched twice is
identical and a refetch of unchanged data rewrites nothing. The provider's clock (``now``) is
set by the test: only bars complete at ``now`` exist, on the real NYSE calendar.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from tradingstation.calendar import get_calendar, utc_midnight
from tradingstation.contracts import BAR_COLUMNS, QUOTE_COLUMNS, UNIVERSE_COLUMNS, empty_bars
from tradingstation.errors import TradingStationError
from tradingstation.providers.base import MarketDataProvider

STEPS = {"1min": pd.Timedelta(minutes=1), "30min": pd.Timedelta(minutes=30)}
DAILY_HISTORY = 400  # sessions a full daily request returns
TRAILING_DAYS = 30  # intraday full window


class CountingProvider(MarketDataProvider):
    """Deterministic market for ``symbols``; counts calls per (method, symbol, mode).

    Attributes:
        now: The market clock (tz-aware); only bars complete at ``now`` are served.
        calls: Counter keyed by ``(method, symbol, mode)``; mode is ``compact``, ``full`` or
            the ``YYYY-MM`` of a month request (``quotes`` and ``listing`` use ``*``).
        failures: ``{symbol: exception}`` raised by every bars call for that symbol.
        invalid: Symbols whose bars come back broken (high below low) without validation.
        halted_after: ``{symbol: timestamp}``: the symbol has no bar after that time.
        serve_partial: Also serve the bar still in progress at ``now`` (today's daily bar
            during the session, the current intraday bar), as real providers do.
    """

    name = "counting"
    compact_bars = 100

    def __init__(self, symbols: Sequence[str], now: datetime, listing: pd.DataFrame | None = None):
        self.symbols = list(symbols)
        self.now = now
        self.calls: Counter[tuple[str, str, str]] = Counter()
        self.failures: dict[str, TradingStationError] = {}
        self.invalid: set[str] = set()
        self.halted_after: dict[str, pd.Timestamp] = {}
        self.serve_partial = False
        self._listing = listing
        self._lock = threading.Lock()
        self._calendar = get_calendar()

    # Helpers for tests.

    @property
    def total_calls(self) -> int:
        """Calls of every kind made so far."""
        return sum(self.calls.values())

    def calls_for(self, symbol: str) -> Counter[str]:
        """Calls per mode for one symbol."""
        return Counter({mode: n for (_, s, mode), n in self.calls.items() if s == symbol})

    def _count(self, method: str, symbol: str, mode: str) -> None:
        with self._lock:
            self.calls[(method, symbol, mode)] += 1

    # Deterministic prices.

    @staticmethod
    def _bars(symbol: str, stamps: pd.DatetimeIndex, step_ns: int) -> pd.DataFrame:
        if len(stamps) == 0:
            return empty_bars()
        base = 20.0 + zlib.crc32(symbol.encode()) % 180
        x = stamps.asi8 // step_ns
        wave = np.sin(x * 0.05 + zlib.crc32(symbol.encode()) % 7)
        open_ = base * (1 + 0.1 * wave)
        close = open_ * (1 + 0.003 * np.cos(x * 0.7))
        high = np.maximum(open_, close) * 1.002
        low = np.minimum(open_, close) * 0.998
        volume = 1000 + (x % 97) * 37
        return pd.DataFrame({"timestamp": stamps, "open": open_, "high": high, "low": low,
                             "close": close, "volume": volume.astype("int64")})[BAR_COLUMNS]

    def _finish(self, symbol: str, frame: pd.DataFrame) -> pd.DataFrame:
        if symbol in self.halted_after:
            frame = frame[frame["timestamp"] <= self.halted_after[symbol]]
        frame = frame.reset_index(drop=True)
        if symbol in self.invalid and len(frame):
            frame.loc[frame.index[-1], "high"] = frame["low"].iloc[-1] - 1.0
        return frame

    def _check(self, symbol: str) -> None:
        if symbol in self.failures:
            raise self.failures[symbol]

    # MarketDataProvider.

    def listing(self) -> pd.DataFrame:
        self._count("listing", "*", "*")
        if self._listing is not None:
            return self._listing.copy()
        rows = [{"symbol": s, "name": s, "exchange": "NASDAQ", "asset_type": "Stock",
                 "ipo_date": "2000-01-03", "status": "Active"} for s in self.symbols]
        return pd.DataFrame(rows, columns=UNIVERSE_COLUMNS)

    def daily_bars(self, symbol: str, full: bool = False) -> pd.DataFrame:
        self._count("daily_bars", symbol, "full" if full else "compact")
        self._check(symbol)
        last = self._calendar.last_completed_session(self.now)
        today = self._calendar.session_for(self.now)
        if self.serve_partial and today is not None and today > last:
            last = today
        count = DAILY_HISTORY if full else self.compact_bars
        days = self._calendar.sessions_back(last, count)
        stamps = pd.DatetimeIndex([utc_midnight(d) for d in days]).as_unit("ns")
        return self._finish(symbol, self._bars(symbol, stamps, 86_400 * 10**9))

    def _intraday_stamps(self, days, step: pd.Timedelta) -> pd.DatetimeIndex:
        parts = []
        for day in days:
            times = self._calendar.session_times(day)
            parts.append(pd.date_range(times.premarket_open, pd.Timestamp(times.postmarket_close)
                                       - step, freq=step))
        stamps = parts[0].append(parts[1:]) if parts else pd.DatetimeIndex([], tz="UTC")
        stamps = stamps.tz_convert("UTC").as_unit("ns")
        ends = stamps if self.serve_partial else stamps + step
        return stamps[ends <= pd.Timestamp(self.now)]

    def intraday_bars(self, symbol: str, interval: str, full: bool = False,
                      month: str | None = None) -> pd.DataFrame:
        self._count("intraday_bars", symbol, month or ("full" if full else "compact"))
        self._check(symbol)
        step = STEPS[interval]
        now = pd.Timestamp(self.now)
        if month is not None:
            period = pd.Period(month, freq="M")
            days = self._calendar.sessions(period.start_time.date(), period.end_time.date())
            days = [d for d in days if utc_midnight(d) <= now]
        elif full:
            days = self._calendar.sessions((now - pd.Timedelta(days=TRAILING_DAYS)).date(),
                                           now.date())
        else:
            per_day = (16 * 60) // int(step.total_seconds() // 60)
            back = math.ceil(self.compact_bars / per_day) + 2
            days = self._calendar.sessions_back(now.date(), back)
        stamps = self._intraday_stamps(days, step)
        if month is None and full:
            stamps = stamps[stamps >= now - pd.Timedelta(days=TRAILING_DAYS)]
        frame = self._bars(symbol, stamps, int(step.value))
        if month is None and not full:
            frame = frame.tail(self.compact_bars)
        return self._finish(symbol, frame)

    def quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        self._count("quotes", "*", str(len(symbols)))
        rows = []
        now = pd.Timestamp(self.now).floor("min")
        for symbol in symbols:
            if symbol in self.symbols and symbol not in self.failures:
                bar = self._bars(symbol, pd.DatetimeIndex([now]).as_unit("ns"), 60 * 10**9)
                rows.append({"symbol": symbol, "timestamp": now,
                             "price": float(bar["close"].iloc[0]), "volume": 5000})
        return pd.DataFrame(rows, columns=QUOTE_COLUMNS)
