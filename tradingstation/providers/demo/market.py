"""The demo market: a deterministic, seeded MarketDataProvider used when no API key is set.

Everything is generated in memory (no network, no disk) on the real NYSE calendar:

* a universe of ``n_symbols`` listings; the planted names (:data:`PLANTED`) come first and the
  rest are generated in a fixed order, so a smaller universe is a prefix of a larger one;
* daily bars for the last 400 completed sessions; each symbol's series depends only on
  ``(seed, symbol)`` (plus ``now`` for planted names, whose setups follow the current session);
* extended-hours 1-min bars (04:00-20:00 New York, sparse outside regular hours) and 30-min
  bars aggregated from them, for any session of that history, never past ``now``; a session's
  daily bar is exactly the aggregation of its regular-hours minutes;
* quotes as of ``now``: the last completed minute's close and the session's volume so far.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from tradingstation.calendar import NY, get_calendar
from tradingstation.contracts import (
    BAR_COLUMNS,
    QUOTE_COLUMNS,
    SESSION_QUOTE_COLUMNS,
    Split,
    canonicalize_bars,
    empty_bars,
    validate_bars,
)
from tradingstation.errors import DataError, InputError, SymbolNotFoundError
from tradingstation.providers.base import Interval, MarketDataProvider
from tradingstation.providers.demo.plants import PLANTED, PLANTED_SYMBOLS, PROFILES, apply_plants
from tradingstation.providers.demo.series import (
    GRID_END,
    GRID_START,
    DailyWindow,
    SessionShape,
    base_window,
    grid_index,
    round_window,
    session_bars,
)
from tradingstation.providers.demo.universe import (
    Profile,
    build_listing,
    make_profile,
    stable_seed,
)
from tradingstation.storage.keys import validate_symbol

__all__ = ["PLANTED", "DemoMarket"]

HISTORY_SESSIONS = 400
FULL_INTRADAY_DAYS = 30
MAX_SYMBOLS = 20_000
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_MINUTE = np.timedelta64(60, "s")
_HALF_HOUR = np.timedelta64(30 * 60, "s")
# Earliest "now" with a full history on the weekday grid, and the latest the grid covers.
_FIRST_NOW = (GRID_START + np.timedelta64(800, "D")).astype(object)
_LAST_NOW = (GRID_END - np.timedelta64(7, "D")).astype(object)


class _Lru:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self._size, self._data, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key: object, make: Callable[[], object]) -> object:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = make()  # built outside the lock: a duplicate build is harmless, a wait is not
        with self._lock:
            self._data[key] = value
            if len(self._data) > self._size:
                self._data.popitem(last=False)
        return value


def _check(data: dict[str, np.ndarray], what: str) -> None:
    """The bar contract of ``bars.bar_problems`` on raw arrays (much cheaper than on frames)."""
    o, h, lo, c = (data[k] for k in ("open", "high", "low", "close"))
    prices = np.stack([o, h, lo, c])
    ts = data["timestamp"]
    bad = (
        not np.isfinite(prices).all()
        or (prices <= 0).any()
        or (h < np.maximum(o, c)).any()
        or (lo > np.minimum(o, c)).any()
        or (data["volume"] < 0).any()
        or (len(ts) > 1 and not (np.diff(ts) > np.timedelta64(0, "ns")).all())
    )
    if bad:  # a generator bug: let the full validator name the problem
        validate_bars(canonicalize_bars(pd.DataFrame(data)), what)
        raise DataError(f"{what} rejected")


class DemoMarket(MarketDataProvider):
    """Synthetic US equities market with planted setups for every screener.

    Args:
        seed: Seed of all randomness (same seed, size and ``now`` = byte-identical frames).
        n_symbols: Universe size (1 to 20,000).
        now: The present (tz-aware); nothing after it exists. Defaults to the current time.

    Raises:
        InputError: On a bad seed, size or ``now``.
    """

    name = "demo"
    is_demo = True
    compact_bars = 100

    def __init__(self, seed: int = 42, n_symbols: int = 300, now: datetime | None = None) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InputError(f"demo seed must be a non-negative integer, got {seed!r}"[:120])
        if isinstance(n_symbols, bool) or not isinstance(n_symbols, int) or not (
            1 <= n_symbols <= MAX_SYMBOLS
        ):
            raise InputError(f"demo n_symbols must be an integer 1-{MAX_SYMBOLS}, "
                             f"got {n_symbols!r}"[:120])
        if now is None:
            now = datetime.now(UTC)
        if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
            raise InputError("demo now must be a timezone-aware datetime")
        today = now.astimezone(NY).date()
        if not _FIRST_NOW <= today <= _LAST_NOW:
            raise InputError(f"demo market covers {_FIRST_NOW} to {_LAST_NOW}, "
                             f"not {today.isoformat()}")
        self.seed, self.n_symbols = seed, n_symbols
        self.now = now.astimezone(UTC)
        self._now64 = np.datetime64(pd.Timestamp(self.now).tz_localize(None).as_unit("ns"))
        cal = get_calendar()
        current = today if cal.is_session(today) else cal.previous_session(today)
        days = cal.sessions(current - timedelta(days=700), current)
        self._sessions: list[date] = days[-(HISTORY_SESSIONS + 3):]
        self._current = len(self._sessions) - 1
        self._grid = grid_index(self._sessions)
        self._days64 = np.array(self._sessions, dtype="datetime64[D]").astype("datetime64[ns]")
        done = cal.session_times(current).market_close <= self.now
        self._last_done = self._current if done else self._current - 1
        self._listing: pd.DataFrame | None = None
        self._rows: dict[str, int] = {}
        self._assets: list[str] = []
        self._lock = threading.Lock()
        self._daily_cache = _Lru(2048)
        self._minute_cache = _Lru(1024)
        self._times: dict[int, tuple[np.datetime64, SessionShape]] = {}

    def __repr__(self) -> str:
        return (f"DemoMarket(seed={self.seed}, n_symbols={self.n_symbols}, "
                f"now={self.now.isoformat()})")

    # ------------------------------------------------------------------ universe

    def _universe(self) -> pd.DataFrame:
        with self._lock:
            if self._listing is None:
                listing = build_listing(self.seed, self.n_symbols, PLANTED_SYMBOLS)
                self._rows = {s: i for i, s in enumerate(listing["symbol"])}
                self._assets = listing["asset_type"].tolist()
                self._listing = listing
            return self._listing

    def listing(self) -> pd.DataFrame:
        """All listings (planted names first), columns ``UNIVERSE_COLUMNS``, unfiltered."""
        return self._universe().copy()

    def _known(self, symbol: str) -> str:
        validate_symbol(symbol)
        self._universe()
        if symbol not in self._rows:
            raise SymbolNotFoundError(f"demo market has no symbol {symbol}")
        return symbol

    def _profile(self, symbol: str) -> Profile:
        if symbol in PROFILES:
            level, sigma, volume = PROFILES[symbol]
            return make_profile(self.seed, symbol, "Stock", level, sigma, volume)
        return make_profile(self.seed, symbol, self._assets[self._rows[symbol]])

    # ------------------------------------------------------------------ generation

    def _shape(self, i: int) -> tuple[np.datetime64, SessionShape]:
        cached = self._times.get(i)
        if cached is None:
            t = get_calendar().session_times(self._sessions[i])

            def minutes(a: datetime, b: datetime) -> int:
                return int((b - a).total_seconds() // 60)

            start = np.datetime64(pd.Timestamp(t.premarket_open).tz_localize(None).as_unit("ns"))
            cached = (start, SessionShape(minutes(t.premarket_open, t.market_open),
                                          minutes(t.market_open, t.market_close),
                                          minutes(t.market_close, t.postmarket_close)))
            self._times[i] = cached
        return cached

    def _window(self, symbol: str) -> tuple[Profile, DailyWindow]:
        def make() -> tuple[Profile, DailyWindow]:
            profile = self._profile(symbol)
            window = base_window(self.seed, symbol, profile, self._sessions, self._grid)
            day = self._sessions[self._current]
            apply_plants(
                symbol, profile, window, self._last_done, self._current,
                self._shape(self._current)[1].regular,
                np.random.default_rng(stable_seed(self.seed, symbol, "plant", day)),
                stable_seed(self.seed, symbol, "orb", day),
            )
            round_window(window, profile.decimals)
            return profile, window

        return self._daily_cache.get(symbol, make)  # type: ignore[return-value]

    def _minutes(self, symbol: str, i: int) -> dict[str, np.ndarray]:
        """Completed 1-min bars of window session ``i`` (timestamps as datetime64[ns] UTC)."""

        def make() -> dict[str, np.ndarray]:
            profile, window = self._window(symbol)
            start, shape = self._shape(i)
            bars = session_bars(self.seed, symbol, profile, window, i, shape)
            bars["timestamp"] = start + bars.pop("minute") * _MINUTE
            return bars

        bars: dict[str, np.ndarray] = self._minute_cache.get((symbol, i), make)  # type: ignore
        keep = bars["timestamp"] + _MINUTE <= self._now64
        if keep.all():
            return bars
        return {k: v[keep] for k, v in bars.items()}

    @staticmethod
    def _thirty(bars: dict[str, np.ndarray], start: np.datetime64,
                now: np.datetime64) -> dict[str, np.ndarray]:
        if not len(bars["timestamp"]):
            return bars
        bucket = (bars["timestamp"] - start) // _HALF_HOUR
        firsts = np.flatnonzero(np.diff(bucket, prepend=bucket[0] - 1))
        out = {
            "timestamp": start + bucket[firsts] * _HALF_HOUR,
            "open": bars["open"][firsts],
            "high": np.maximum.reduceat(bars["high"], firsts),
            "low": np.minimum.reduceat(bars["low"], firsts),
            "close": bars["close"][np.append(firsts[1:], len(bucket)) - 1],
            "volume": np.add.reduceat(bars["volume"], firsts),
        }
        keep = out["timestamp"] + _HALF_HOUR <= now
        return {k: v[keep] for k, v in out.items()}

    @staticmethod
    def _frame(parts: list[dict[str, np.ndarray]], what: str) -> pd.DataFrame:
        parts = [p for p in parts if len(p["timestamp"])]
        if not parts:
            return empty_bars()
        data = {c: np.concatenate([p[c] for p in parts]) for c in BAR_COLUMNS}
        frame = pd.DataFrame({
            "timestamp": pd.DatetimeIndex(data["timestamp"].astype("datetime64[ns]"), tz="UTC"),
            **{c: data[c].astype("float64") for c in ("open", "high", "low", "close")},
            "volume": data["volume"].astype("int64"),
        })
        _check(data, what)
        return frame

    # ------------------------------------------------------------------ provider API

    def daily_bars(self, symbol: str, full: bool = False) -> pd.DataFrame:
        """Daily bars of completed sessions: the latest 100, or with ``full`` the latest 400.

        Raises:
            InputError: On a malformed ticker.
            SymbolNotFoundError: If the symbol is not in this demo universe.
        """
        self._known(symbol)
        _, w = self._window(symbol)
        stop = self._last_done + 1
        first = stop - (HISTORY_SESSIONS if full else self.compact_bars)
        part = {c: getattr(w, c)[first:stop] for c in BAR_COLUMNS[1:]}
        part["timestamp"] = self._days64[first:stop]
        return self._frame([part], f"{symbol} demo daily bars")

    def intraday_bars(
        self, symbol: str, interval: Interval, full: bool = False, month: str | None = None
    ) -> pd.DataFrame:
        """Extended-hours bars up to ``now``: latest 100, trailing 30 days, or one month.

        Raises:
            InputError: On a malformed ticker, interval or month, or a month after ``now``.
            SymbolNotFoundError: If the symbol is not in this demo universe.
        """
        self._known(symbol)
        if interval not in ("1min", "30min"):
            raise InputError(f"interval must be 1min or 30min, got {interval!r}"[:80])
        what = f"{symbol} demo {interval} bars"
        if month is not None:
            first_day, after = self._month_bounds(month)
            picks = [i for i in range(1, self._current + 1)
                     if first_day <= self._sessions[i] < after]
            return self._frame([self._bars(symbol, i, interval) for i in picks], what)
        if full:
            since = self._sessions[self._current] - timedelta(days=FULL_INTRADAY_DAYS)
            picks = [i for i in range(1, self._current + 1) if self._sessions[i] > since]
            return self._frame([self._bars(symbol, i, interval) for i in picks], what)
        parts, count, i = [], 0, self._current
        while count < self.compact_bars and i >= 1:
            part = self._bars(symbol, i, interval)
            parts.insert(0, part)
            count += len(part["timestamp"])
            i -= 1
        return self._frame(parts, what).tail(self.compact_bars).reset_index(drop=True)

    def _bars(self, symbol: str, i: int, interval: str) -> dict[str, np.ndarray]:
        bars = self._minutes(symbol, i)
        if interval == "1min":
            return bars
        return self._thirty(bars, self._shape(i)[0], self._now64)

    def _month_bounds(self, month: object) -> tuple[date, date]:
        match = _MONTH_RE.fullmatch(month) if isinstance(month, str) else None
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise InputError(f"month must be YYYY-MM, got {month!r}"[:80])
        year, mon = int(match.group(1)), int(match.group(2))
        first = date(year, mon, 1)
        today = self.now.astimezone(NY).date()
        if first > today:
            raise InputError(f"month {month} is after the present ({today.isoformat()})")
        after = date(year + mon // 12, mon % 12 + 1, 1)
        return first, after

    def splits(self, symbol: str) -> list[Split]:
        """The demo market has no corporate actions: never a split (unknown symbols raise)."""
        self._known(symbol)
        return []

    def quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Latest trade of each symbol as of ``now`` (premarket and after-hours included).

        ``price`` is the close of the last completed 1-min bar, ``timestamp`` that bar's start,
        ``volume`` the shares traded in its session (04:00 on) so far. Unknown symbols are left
        out.

        Raises:
            InputError: On a malformed ticker.
        """
        frame = self._quote_frame(symbols)
        return frame.assign(volume=frame.pop("day_volume"))[QUOTE_COLUMNS]

    def session_quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        """:meth:`quotes` with the regular session so far: its open, high, low and volume.

        The volume counts from 09:30 (:meth:`quotes` counts from 04:00).

        Before the open (or for a session quoted from the previous day's bars) these are of
        that day's regular session so far; with no regular bar yet, the last price stands for
        high and low, the open is NaN and the volume counts from 04:00.
        """
        return self._quote_frame(symbols)[SESSION_QUOTE_COLUMNS]

    def _quote_frame(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Session quote columns plus ``day_volume`` (shares since 04:00)."""
        rows = []
        for symbol in symbols:
            try:
                self._known(symbol)
            except SymbolNotFoundError:
                continue
            for i in (self._current, self._current - 1):
                bars = self._minutes(symbol, i)
                if len(bars["timestamp"]):
                    rows.append((symbol, bars["timestamp"][-1], float(bars["close"][-1]),
                                 *self._regular_session(bars, i), int(bars["volume"].sum())))
                    break
        frame = pd.DataFrame(rows, columns=[*SESSION_QUOTE_COLUMNS, "day_volume"])
        frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.tz_localize("UTC")
        for column in ("price", "open", "high", "low"):
            frame[column] = frame[column].astype("float64")
        for column in ("volume", "day_volume"):
            frame[column] = frame[column].astype("int64")
        return frame

    def _regular_session(self, bars: dict[str, np.ndarray], i: int
                         ) -> tuple[float, float, float, int]:
        """``(open, high, low, volume)`` of the regular session in ``bars`` so far."""
        start, shape = self._shape(i)
        opened = start + shape.premarket * _MINUTE
        stamps = bars["timestamp"]
        regular = (stamps >= opened) & (stamps < opened + shape.regular * _MINUTE)
        if not regular.any():
            last = float(bars["close"][-1])
            return float("nan"), last, last, int(bars["volume"].sum())
        return (float(bars["open"][regular][0]), float(bars["high"][regular].max()),
                float(bars["low"][regular].min()), int(bars["volume"][regular].sum()))
