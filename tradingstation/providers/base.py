"""The MarketDataProvider interface: canonical, validated frames from any data source."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal

import pandas as pd

from tradingstation.contracts import SESSION_QUOTE_COLUMNS, Split

Interval = Literal["1min", "30min"]


class MarketDataProvider(ABC):
    """A source of universe listings, bars and quotes.

    Every method returns canonical frames (see :mod:`tradingstation.contracts`) that already
    passed validation, or raises a typed error from :mod:`tradingstation.errors`:
    ``TransientError`` subclasses for what a retry may fix, ``PermanentError`` ones for what it
    cannot. Implementations never retry on their own: the task layer owns retries.

    Attributes:
        name: Short provider name (``alphavantage``, ``demo``).
        is_demo: True when the data is synthetic; everything made from it is marked DEMO.
        compact_bars: Bars a compact (cheap) request returns; deeper holes need ``full``.
        reports_splits: Whether :meth:`splits` answers from real corporate-action data. When
            False (the demo market: its big planted moves are never splits) a split-like move
            has no one to confirm it and is recorded as dismissed, never blocking a symbol.
    """

    name: str = "provider"
    is_demo: bool = False
    compact_bars: int = 100
    reports_splits: bool = False

    @abstractmethod
    def listing(self) -> pd.DataFrame:
        """Active listings with columns ``UNIVERSE_COLUMNS`` (unfiltered)."""

    @abstractmethod
    def daily_bars(self, symbol: str, full: bool = False) -> pd.DataFrame:
        """Daily bars of ``symbol``: the latest ``compact_bars`` or, with ``full``, all history.

        ``timestamp`` is the session date at 00:00 UTC.
        """

    @abstractmethod
    def intraday_bars(
        self, symbol: str, interval: Interval, full: bool = False, month: str | None = None
    ) -> pd.DataFrame:
        """Extended-hours intraday bars (04:00-20:00 New York), ``timestamp`` = bar start in UTC.

        Args:
            symbol: A validated ticker.
            interval: ``1min`` or ``30min``.
            full: Ask for the trailing month instead of the latest ``compact_bars`` bars.
            month: ``YYYY-MM`` to fetch one historical month instead of the trailing window.
        """

    @abstractmethod
    def quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Latest quotes (extended hours included) with columns ``QUOTE_COLUMNS``.

        Symbols the provider has no quote for are left out.
        """

    def session_quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Latest quotes with the regular session's open, running high and low.

        Latest quotes with the regular session's open, running high and low and volume
        (``SESSION_QUOTE_COLUMNS``).

        The default, for a provider that has no session extremes, lets the last price stand
        for both and leaves the open unknown (NaN); providers that have them override it.
        """
        quotes = self.quotes(symbols)
        return quotes.assign(open=float("nan"), high=quotes["price"],
                             low=quotes["price"])[SESSION_QUOTE_COLUMNS]

    def splits(self, symbol: str) -> list[Split]:
        """Every split of ``symbol`` the provider knows (oldest first); none by default.

        Bars from every provider are as-traded (not split-adjusted); a provider without
        corporate-action data (the demo market) reports no split. Called only to confirm a
        split-like discontinuity seen in the data, never once per symbol per day.
        """
        return []

    def usage(self) -> dict[str, int]:
        """Counters of this provider instance: calls, throttles, errors (network providers)."""
        return {"calls": 0, "throttles": 0, "errors": 0}
