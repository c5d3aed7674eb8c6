"""Deterministic builders of synthetic daily and 1-min panels for screener scenario tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd

from tradingstation.calendar import get_calendar, ny_time
from tradingstation.contracts import canonicalize_bars
from tradingstation.data.panel import Panel
from tradingstation.screeners.base import ScreenInput

SESSION = date(2025, 11, 24)  # a Monday; New York is on EST (UTC-5)


def prior_sessions(count: int, session: date = SESSION) -> list[date]:
    """The ``count`` NYSE sessions before ``session``, oldest first."""
    cal = get_calendar()
    return cal.sessions_back(cal.previous_session(session), count)


def at(hhmm: str, day: date = SESSION) -> datetime:
    """UTC instant of New York wall-clock ``HH:MM`` on ``day``."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return ny_time(day, hour, minute)


def daily_bars(
    closes: Sequence[float],
    *,
    opens: Sequence[float] | None = None,
    highs: Sequence[float] | None = None,
    lows: Sequence[float] | None = None,
    volumes: Sequence[float] | float = 1_000_000,
    spread: float = 0.5,
    days: Sequence[date] | None = None,
) -> pd.DataFrame:
    """Canonical daily bars ending the session before ``SESSION`` (unless ``days`` given).

    Defaults: open = previous close (first bar: its close), high/low = max/min(open, close)
    -/+ ``spread``.
    """
    c = np.asarray(closes, dtype="float64")
    o = np.asarray(opens, dtype="float64") if opens is not None else np.r_[c[0], c[:-1]]
    h = np.asarray(highs, dtype="float64") if highs is not None else np.maximum(o, c) + spread
    lo = np.asarray(lows, dtype="float64") if lows is not None else np.minimum(o, c) - spread
    v = np.broadcast_to(np.asarray(volumes, dtype="float64"), c.shape)
    days = list(days) if days is not None else prior_sessions(len(c))
    stamps = pd.to_datetime([d.isoformat() for d in days]).tz_localize("UTC")
    return canonicalize_bars(
        pd.DataFrame({"timestamp": stamps, "open": o, "high": h, "low": lo, "close": c,
                      "volume": v.round()})
    )


def with_bar(bars: pd.DataFrame, day: date = SESSION, **fields: float) -> pd.DataFrame:
    """``bars`` plus one daily bar dated ``day`` (``open high low close volume``)."""
    row = pd.DataFrame([{"timestamp": pd.Timestamp(day.isoformat(), tz="UTC"), **fields}])
    return canonicalize_bars(pd.concat([bars, row], ignore_index=True))


def minute_bars(
    day: date,
    start: str,
    closes: Sequence[float],
    volumes: Sequence[float] | float,
    *,
    highs: Sequence[float] | None = None,
    lows: Sequence[float] | None = None,
    opens: Sequence[float] | None = None,
    spread: float = 0.05,
) -> pd.DataFrame:
    """Consecutive 1-min bars from New York ``start`` (``HH:MM``) on ``day``."""
    c = np.asarray(closes, dtype="float64")
    o = np.asarray(opens, dtype="float64") if opens is not None else c.copy()
    h = np.asarray(highs, dtype="float64") if highs is not None else np.maximum(o, c) + spread
    lo = np.asarray(lows, dtype="float64") if lows is not None else np.minimum(o, c) - spread
    v = np.broadcast_to(np.asarray(volumes, dtype="float64"), c.shape)
    first = pd.Timestamp(at(start, day))
    stamps = pd.date_range(first, periods=len(c), freq="1min")
    return canonicalize_bars(
        pd.DataFrame({"timestamp": stamps, "open": o, "high": h, "low": lo, "close": c,
                      "volume": v.round()})
    )


def concat(*frames: pd.DataFrame) -> pd.DataFrame:
    """Bars of several segments as one canonical frame."""
    return canonicalize_bars(pd.concat(frames, ignore_index=True))


def flat_daily(n: int = 60, price: float = 50.0, volume: float = 2_000_000,
               spread: float = 1.0) -> pd.DataFrame:
    """``n`` quiet sessions at ``price`` (range +/- ``spread``)."""
    return daily_bars([price] * n, volumes=volume, spread=spread)


def screen_input(
    daily: dict[str, pd.DataFrame],
    *,
    as_of: datetime,
    intraday: dict[str, pd.DataFrame] | None = None,
    quotes: pd.DataFrame | None = None,
    anchors: pd.DataFrame | None = None,
    session: date = SESSION,
    demo: bool = False,
    volume_profiles: dict[str, pd.DataFrame] | None = None,
    session_quotes: pd.DataFrame | None = None,
) -> ScreenInput:
    """A ScreenInput from per-symbol bar frames."""
    return ScreenInput(
        session=session,
        as_of=as_of,
        daily=Panel.from_bars(daily),
        intraday_1min=Panel.from_bars(intraday) if intraday is not None else None,
        quotes=quotes,
        anchors=anchors,
        demo=demo,
        volume_profiles=volume_profiles,
        session_quotes=session_quotes,
    )


def only(signals: list, symbol: str):
    """The single signal of ``symbol`` (fails the test if there is not exactly one)."""
    mine = [s for s in signals if s.symbol == symbol]
    assert len(mine) == 1, f"expected one {symbol} signal, got {len(mine)}: {signals}"
    return mine[0]
