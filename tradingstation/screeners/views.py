"""Time-sliced views of a screening input: prior daily bars, today's bar, premarket, the open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from tradingstation.calendar import NY, get_calendar
from tradingstation.data import point_in_time
from tradingstation.data.panel import Panel
from tradingstation.indicators import atr
from tradingstation.screeners.base import ScreenInput

ONE_MINUTE = point_in_time.ONE_MINUTE


rows = point_in_time.rows
utc_day = point_in_time.utc_day


def ny_dates(index: pd.DatetimeIndex) -> np.ndarray:
    """New York calendar date of each UTC timestamp, as ``datetime64[D]``."""
    local = index.tz_convert(NY)
    return local.tz_localize(None).normalize().to_numpy().astype("datetime64[D]")


def ny_minutes(index: pd.DatetimeIndex) -> np.ndarray:
    """Minutes since New York midnight of each UTC timestamp."""
    local = index.tz_convert(NY)
    return np.asarray(local.hour * 60 + local.minute)


def last_values(frame: pd.DataFrame) -> pd.Series:
    """Last non-NaN value of each column (NaN where a column has none)."""
    if frame.empty:
        return pd.Series(np.nan, index=frame.columns, dtype="float64")
    values = frame.to_numpy(dtype="float64")
    valid = ~np.isnan(values)
    last = len(frame) - 1 - np.argmax(valid[::-1], axis=0)
    out = values[last, np.arange(values.shape[1])]
    out[~valid.any(axis=0)] = np.nan
    return pd.Series(out, index=frame.columns)


def first_values(frame: pd.DataFrame) -> pd.Series:
    """First non-NaN value of each column (NaN where a column has none)."""
    if frame.empty:
        return pd.Series(np.nan, index=frame.columns, dtype="float64")
    values = frame.to_numpy(dtype="float64")
    valid = ~np.isnan(values)
    first = np.argmax(valid, axis=0)
    out = values[first, np.arange(values.shape[1])]
    out[~valid.any(axis=0)] = np.nan
    return pd.Series(out, index=frame.columns)


def last_times(frame: pd.DataFrame) -> pd.Series:
    """Timestamp of the last non-NaN row of each column (NaT where none)."""
    valid = frame.notna().to_numpy()
    if not len(frame):
        return pd.Series(pd.NaT, index=frame.columns, dtype="datetime64[ns, UTC]")
    last = len(frame) - 1 - np.argmax(valid[::-1], axis=0)
    stamps = pd.Series(frame.index[last], index=frame.columns)
    stamps[~valid.any(axis=0)] = pd.NaT
    return stamps


def intraday_seen(data: ScreenInput) -> Panel | None:
    """1-min bars complete at ``as_of`` (``start + 1 min <= as_of``), or None without any."""
    panel = data.intraday_1min
    if panel is None or panel.close.empty:
        return None
    return point_in_time.cut_intraday(panel, data.as_of_ts)


def day_window(panel: Panel, day: date, start: datetime, end: datetime) -> Panel:
    """Bars of ``panel`` whose start lies in ``[start, end)`` on New York date ``day``."""
    idx = panel.index
    mask = (idx >= pd.Timestamp(start)) & (idx < pd.Timestamp(end))
    mask &= ny_dates(idx) == np.datetime64(day, "D")
    return rows(panel, mask)


@dataclass(frozen=True)
class Hours:
    """UTC bounds of one session (from the NYSE calendar)."""

    premarket_open: pd.Timestamp
    market_open: pd.Timestamp
    market_close: pd.Timestamp

    @property
    def regular_minutes(self) -> float:
        """Length of the regular session in minutes (390, or 210 on a half day)."""
        return (self.market_close - self.market_open) / ONE_MINUTE


def session_hours(day: date) -> Hours:
    """Premarket open, regular open and close of ``day`` in UTC.

    Raises:
        InputError: if ``day`` is not an NYSE session.
    """
    times = get_calendar().session_times(day)
    return Hours(
        pd.Timestamp(times.premarket_open),
        pd.Timestamp(times.market_open),
        pd.Timestamp(times.market_close),
    )


def prior_daily(data: ScreenInput) -> Panel:
    """Daily bars of the sessions strictly before ``data.session``."""
    return point_in_time.sessions_before(data.daily, data.session)


@dataclass(frozen=True)
class DailyView:
    """Daily bars whose last row is the bar the daily screeners evaluate.

    Attributes:
        panel: Daily bars through the evaluated bar.
        pace: Fraction (0, 1] of the evaluated bar's session that its volume covers. 1 for a
            complete daily bar; for today's bar built from 1-min bars mid-session it is the
            elapsed share of the regular session, so ``volume / pace`` is the volume pace.
        partial: True when the last row was built from today's intraday bars.
        newest: Per symbol, the start of the newest bar looked at (the data as-of).
    """

    panel: Panel
    pace: float
    partial: bool
    newest: pd.Series

    @property
    def when(self) -> pd.Timestamp:
        """Timestamp of the evaluated bar."""
        return self.panel.index[-1]


@dataclass(frozen=True)
class ViewTimes:
    """What the signal builders read of a :class:`DailyView` besides its bars.

    What the signal builders read of a :class:`DailyView` besides its bars (the same attributes):
    the evaluated bar's ``pace``, whether it is ``partial``, and ``newest``.
    """

    pace: float
    partial: bool
    newest: pd.Series


def daily_view(data: ScreenInput) -> DailyView:
    """The daily bars to screen, ending with today's bar when it exists at ``as_of``.

    Built once per input (:meth:`ScreenInput.memo`) and shared by the daily screeners.

    Order of preference (see :func:`point_in_time.daily_with_developing`): a stored daily bar
    dated ``session`` once that session has closed (complete); else today's regular session
    aggregated from the 1-min bars complete at ``as_of`` (from the symbol's session quote,
    ``data.session_quotes``, when it has no 1-min bar of the session: a market cycle fetches
    1-min bars only where a screener needs minutes); else the last prior session's bar
    (a screen run before the open looks at yesterday's close).
    """
    return data.memo("daily_view", lambda: _build_daily_view(data))


def daily_atr(data: ScreenInput, length: int) -> pd.DataFrame:
    """ATR(``length``) of :func:`daily_view`'s panel, computed once per input."""
    panel = daily_view(data).panel
    return data.memo(("daily_atr", length),
                     lambda: atr(panel.high, panel.low, panel.close, length))


def _build_daily_view(data: ScreenInput) -> DailyView:
    panel, developing = point_in_time.daily_with_developing(
        data.daily, data.intraday_1min, data.session, data.as_of_ts,
        quotes=data.session_quotes)
    if developing is None:
        return DailyView(panel, 1.0, False, last_times(panel.close))
    newest = developing.newest.reindex(panel.close.columns)
    return DailyView(panel, developing.pace, True, newest.fillna(last_times(panel.close)))


def latest_quotes(data: ScreenInput) -> pd.DataFrame:
    """Newest quote per symbol stamped at or before ``as_of`` (index symbol.

    Price, volume, timestamp). Empty when there are no quotes.
    """
    quotes = data.quotes
    if quotes is None or quotes.empty:
        empty = pd.Index([], name="symbol")
        return pd.DataFrame(columns=["price", "volume", "timestamp"], index=empty)
    q = point_in_time.cut_quotes(quotes, data.as_of_ts).copy()
    q["timestamp"] = pd.to_datetime(q["timestamp"], utc=True)
    q = q.sort_values("timestamp", kind="stable")
    return q.drop_duplicates("symbol", keep="last").set_index("symbol")[
        ["price", "volume", "timestamp"]
    ]


def minutes_to_time(minutes: int) -> time:
    """``570`` → ``09:30``."""
    return time(minutes // 60, minutes % 60)
