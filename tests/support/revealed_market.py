"""A market whose history is fixed and revealed as time passes, like a real provider's.

The demo market regenerates its planted setups relative to its ``now`` (a daily setup ends at
the last completed session), so two demo markets a few hours apart disagree about the past.
A real provider does not: a bar, once complete, stays what it was. Replay tests need that
property, so :class:`RevealedMarket` serves one demo market's history (generated at ``end``)
cut to what is complete at ``now``, and quotes made from those bars as the demo market makes
them (the last complete 1-min bar: its close, its start, the volume of its day so far; session
quotes add the regular session's open, high, low and volume so far).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from tradingstation.calendar import get_calendar
from tradingstation.contracts import QUOTE_COLUMNS, SESSION_QUOTE_COLUMNS
from tradingstation.data import point_in_time
from tradingstation.providers.base import MarketDataProvider
from tradingstation.providers.demo.market import DemoMarket


class RevealedMarket(MarketDataProvider):
    """Demo data generated at ``end``, served as it was known at ``now`` (``now <= end``)."""

    name = "demo"
    is_demo = True

    def __init__(self, end: DemoMarket, now: datetime) -> None:
        self.end = end
        self.now = now
        self.compact_bars = end.compact_bars

    def listing(self) -> pd.DataFrame:
        return self.end.listing()

    def daily_bars(self, symbol: str, full: bool = False) -> pd.DataFrame:
        known = point_in_time.cut_bars(self.end.daily_bars(symbol, full=True), self.now, "daily")
        return known if full else known.tail(self.compact_bars).reset_index(drop=True)

    def intraday_bars(self, symbol: str, interval: str, full: bool = False,
                      month: str | None = None) -> pd.DataFrame:
        bars = self.end.intraday_bars(symbol, interval, full=True)
        known = point_in_time.cut_bars(bars, self.now, interval)
        if month is not None:
            local = known["timestamp"].dt.tz_convert("America/New_York").dt.strftime("%Y-%m")
            return known[local == month].reset_index(drop=True)
        return known if full else known.tail(self.compact_bars).reset_index(drop=True)

    def quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        return self._quotes(symbols)[QUOTE_COLUMNS]

    def session_quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        quotes = self._quotes(symbols)
        return quotes.assign(volume=quotes.pop("regular_volume"))[SESSION_QUOTE_COLUMNS]

    def _quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        """As the demo market quotes: the last complete bar's close and start, the volume of
        its day so far; the regular session's open, high, low and volume so far."""
        rows = []
        for symbol in symbols:
            bars = self.intraday_bars(symbol, "1min", full=True)
            if not len(bars):
                continue
            local = bars["timestamp"].dt.tz_convert("America/New_York").dt.date
            day = bars[local == local.iloc[-1]]
            last = day.iloc[-1]
            times = get_calendar().session_times(local.iloc[-1])
            stamps = day["timestamp"]
            regular = day[(stamps >= times.market_open) & (stamps < times.market_close)]
            row = {"symbol": symbol, "timestamp": last["timestamp"],
                   "price": float(last["close"]), "volume": int(day["volume"].sum())}
            if len(regular):
                row.update(open=float(regular["open"].iloc[0]), high=float(regular["high"].max()),
                           low=float(regular["low"].min()),
                           regular_volume=int(regular["volume"].sum()))
            else:
                row.update(open=float("nan"), high=row["price"], low=row["price"],
                           regular_volume=row["volume"])
            rows.append(row)
        return pd.DataFrame(rows, columns=[*SESSION_QUOTE_COLUMNS, "regular_volume"])
