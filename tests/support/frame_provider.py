"""FrameProvider: a real in-memory MarketDataProvider serving given frames and counting calls."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from tradingstation.contracts import QUOTE_COLUMNS, UNIVERSE_COLUMNS, empty_bars
from tradingstation.errors import SymbolNotFoundError
from tradingstation.providers.base import MarketDataProvider


class FrameProvider(MarketDataProvider):
    """Serves ``daily[symbol]`` / ``intraday[(symbol, interval)]`` frames like a provider would:
    compact = the last ``compact_bars`` bars, full = everything."""

    name = "frames"

    def __init__(self, daily: dict[str, pd.DataFrame] | None = None,
                 intraday: dict[tuple[str, str], pd.DataFrame] | None = None) -> None:
        self.daily = daily or {}
        self.intraday = intraday or {}
        self.calls: Counter[tuple[str, str, bool]] = Counter()

    def listing(self) -> pd.DataFrame:
        self.calls["listing", "", False] += 1
        rows = [{"symbol": s, "name": s, "exchange": "NYSE", "asset_type": "Stock",
                 "ipo_date": "2000-01-01", "status": "Active"} for s in sorted(self.daily)]
        return pd.DataFrame(rows, columns=UNIVERSE_COLUMNS)

    def daily_bars(self, symbol: str, full: bool = False) -> pd.DataFrame:
        self.calls["daily", symbol, full] += 1
        if symbol not in self.daily:
            raise SymbolNotFoundError(f"unknown symbol {symbol}")
        frame = self.daily[symbol]
        return (frame if full else frame.tail(self.compact_bars)).reset_index(drop=True)

    def intraday_bars(self, symbol: str, interval: str, full: bool = False,
                      month: str | None = None) -> pd.DataFrame:
        self.calls[interval, symbol, full] += 1
        frame = self.intraday.get((symbol, interval), empty_bars())
        return (frame if full else frame.tail(self.compact_bars)).reset_index(drop=True)

    def quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        rows = []
        for symbol in symbols:
            frame = self.intraday.get((symbol, "1min"))
            if frame is not None and len(frame):
                last = frame.iloc[-1]
                rows.append({"symbol": symbol, "timestamp": last["timestamp"],
                             "price": last["close"], "volume": int(frame["volume"].sum())})
        return pd.DataFrame(rows, columns=QUOTE_COLUMNS)

    @property
    def total_calls(self) -> int:
        """Calls made so far."""
        return sum(self.calls.values())
