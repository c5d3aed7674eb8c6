"""Point in time: the stored data as it was known at an instant ``as_of``.

Every output computed "at ``as_of``" (a live run, a ``--as-of`` replay, a backtest step) must be
a function only of what existed at ``as_of``. This module owns that cut; screeners, the anchor
finder, plans, dashboards and health checks go through it instead of filtering on their own.

The rule:

* A **daily bar** (stamped at its session's date, 00:00 UTC) exists once its session's regular
  close has passed: at ``as_of`` the daily bars visible are those of sessions up to
  :func:`daily_cutoff` (the last session whose close is ``<= as_of``).
* An **intraday bar** (stamped at its start) exists once complete: ``start + interval <= as_of``.
* During a session, **today's developing daily bar** is built from the regular-session 1-min
  bars complete at ``as_of`` (:func:`developing_daily_bar`).
* A **quote** exists from its timestamp on (``timestamp <= as_of``). A symbol with no 1-min
  bar of the session gets its developing daily bar from its newest regular-session **session
  quote** instead (:func:`quote_daily_bar`: the running high/low, last price, volume), so a
  market cycle need not fetch 1-min bars for every watchlist symbol to screen the daily chart.
* A **signal** exists from its timestamp on (``timestamp <= as_of``).
* **Anchors** at ``as_of`` are found on the daily bars known at ``as_of``
  (:func:`daily_through`), their AVWAPs run through the last of them; a screen only uses
  anchors dated before its session (:func:`cut_anchors`).

API (all pure; none reads storage):

=============================================  =================================================
``daily_cutoff(as_of)``                        timestamp of the newest daily bar visible
``cut_daily(panel, as_of)``                    a daily :class:`Panel` as known at ``as_of``
``cut_intraday(panel, as_of, interval)``       an intraday Panel: complete bars only
``cut_bars(frame, as_of, dataset)``            one symbol's canonical bars frame, either kind
``daily_through(panel, session, as_of)``       daily bars known at ``as_of``, up to ``session``
``sessions_before(panel, session)``            daily bars of the sessions strictly before it
``developing_daily_bar(intraday, session, ..)``  today's bar from 1-min bars, and its pace
``quote_daily_bar(quotes, session, as_of)``    today's bar from session quotes, and its pace
``daily_with_developing(daily, intraday, ..)``  daily bars through ``as_of``, today's included
``cut_quotes(quotes, as_of)``                  quotes stamped at or before ``as_of``
``cut_anchors(anchors, session)``              anchors dated before ``session``
``cut_signals(signals, as_of)``                signals stamped at or before ``as_of``
=============================================  =================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from tradingstation.calendar import NY, get_calendar
from tradingstation.data.panel import FIELDS, Panel
from tradingstation.signals import Signal

ONE_MINUTE = pd.Timedelta(minutes=1)
INTERVALS = {"1min": ONE_MINUTE, "30min": pd.Timedelta(minutes=30)}


def to_timestamp(as_of: datetime | pd.Timestamp) -> pd.Timestamp:
    """``as_of`` as a UTC pandas Timestamp.

    Raises:
        ValueError: ``as_of`` is naive (an instant needs a timezone).
    """
    stamp = pd.Timestamp(as_of)
    if stamp.tzinfo is None:
        raise ValueError("a point in time must be timezone-aware")
    return stamp.tz_convert("UTC")


def utc_day(day: date) -> pd.Timestamp:
    """Midnight UTC of ``day``: the timestamp the daily bar of that session carries."""
    return pd.Timestamp(day.isoformat(), tz="UTC")


def daily_cutoff(as_of: datetime | pd.Timestamp) -> pd.Timestamp:
    """Timestamp of the newest daily bar that exists at ``as_of``.

    The last session whose regular close is at or before ``as_of``.
    """
    stamp = to_timestamp(as_of)
    return utc_day(get_calendar().last_completed_session(stamp.to_pydatetime()))


def rows(panel: Panel, mask: np.ndarray | pd.Series) -> Panel:
    """The panel restricted to the rows where ``mask`` is true (all symbols kept)."""
    keep = np.asarray(mask, dtype=bool)
    if keep.all():
        return panel
    return Panel(*(getattr(panel, f).loc[keep] for f in FIELDS))


def cut_daily(panel: Panel, as_of: datetime | pd.Timestamp) -> Panel:
    """Daily bars of the sessions closed at ``as_of`` (later rows dropped, symbols kept)."""
    return rows(panel, panel.index <= daily_cutoff(as_of))


def cut_intraday(
    panel: Panel, as_of: datetime | pd.Timestamp, interval: pd.Timedelta = ONE_MINUTE
) -> Panel:
    """Intraday bars complete at ``as_of`` (``start + interval <= as_of``)."""
    return rows(panel, panel.index + interval <= to_timestamp(as_of))


def cut_bars(frame: pd.DataFrame, as_of: datetime | pd.Timestamp, dataset: str) -> pd.DataFrame:
    """One symbol's canonical bars (``timestamp`` column) as known at ``as_of``.

    Args:
        frame: Canonical bars of ``dataset``.
        as_of: The instant.
        dataset: ``daily``, ``1min`` or ``30min``.
    """
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    if dataset == "daily":
        keep = stamps <= daily_cutoff(as_of)
    else:
        keep = stamps + INTERVALS[dataset] <= to_timestamp(as_of)
    return frame.loc[keep.to_numpy()].reset_index(drop=True)


def daily_through(panel: Panel, session: date, as_of: datetime | pd.Timestamp) -> Panel:
    """Daily bars known at ``as_of``, up to and including ``session``'s (once it has closed)."""
    return rows(panel, panel.index <= min(daily_cutoff(as_of), utc_day(session)))


def sessions_before(panel: Panel, session: date) -> Panel:
    """Daily bars of the sessions strictly before ``session``: what its premarket knew."""
    return rows(panel, panel.index < utc_day(session))


def _session_rows(intraday: Panel, session: date, as_of: pd.Timestamp) -> Panel:
    times = get_calendar().session_times(session)
    start, end = pd.Timestamp(times.market_open), pd.Timestamp(times.market_close)
    idx = intraday.index
    local_day = idx.tz_convert(NY).tz_localize(None).normalize()
    mask = (idx >= start) & (idx < end) & (idx + ONE_MINUTE <= as_of)
    mask &= np.asarray(local_day == pd.Timestamp(session))
    return rows(intraday, mask)


def session_pace(session: date, stamp: pd.Timestamp) -> float:
    """Elapsed share (0, 1] of ``session``'s regular hours at ``stamp`` (at least a minute)."""
    times = get_calendar().session_times(session)
    start, end = pd.Timestamp(times.market_open), pd.Timestamp(times.market_close)
    elapsed = (min(stamp, end) - start) / ONE_MINUTE
    return float(min(1.0, max(elapsed, 1.0) / ((end - start) / ONE_MINUTE)))


@dataclass(frozen=True)
class DevelopingBar:
    """Today's daily bar as far as the session has gone at ``as_of``.

    Attributes:
        bar: One-row panel stamped with the session's daily timestamp (columns = symbols with
            at least one regular-session 1-min bar).
        pace: Elapsed share (0, 1] of the regular session, so ``volume / pace`` is the pace.
        newest: Per symbol, the start of its newest 1-min bar used.
    """

    bar: Panel
    pace: float
    newest: pd.Series


def developing_daily_bar(
    intraday: Panel | None, session: date, as_of: datetime | pd.Timestamp
) -> DevelopingBar | None:
    """Today's regular-session bar from the 1-min bars complete at ``as_of``.

    open = first open, high = max, low = min, close = last close, volume = sum.

    Returns:
        The bar, or None when no regular-session 1-min bar of ``session`` is complete yet.
    """
    if intraday is None or intraday.close.empty:
        return None
    stamp = to_timestamp(as_of)
    today = _session_rows(intraday, session, stamp)
    if not len(today.index):
        return None
    pace = session_pace(session, stamp)
    closes = today.close
    has = closes.notna()
    index = pd.DatetimeIndex([utc_day(session)])
    values = {
        "open": today.open.bfill().iloc[0],
        "high": today.high.max(),
        "low": today.low.min(),
        "close": closes.ffill().iloc[-1],
        "volume": today.volume.sum(min_count=1),
    }
    bar = Panel(**{f: pd.DataFrame([values[f]], index=index) for f in FIELDS})
    valid = has.to_numpy()
    last = len(closes.index) - 1 - np.argmax(valid[::-1], axis=0)
    newest = pd.Series(closes.index[last], index=closes.columns)
    newest[~valid.any(axis=0)] = pd.NaT
    return DevelopingBar(bar, pace, newest)


def quote_daily_bar(
    quotes: pd.DataFrame | None, session: date, as_of: datetime | pd.Timestamp
) -> DevelopingBar | None:
    """Today's regular-session bar from session quotes.

    Today's regular-session bar from session quotes (``symbol, timestamp, price, high, low,
    volume``, optionally ``open``) stamped in ``session``'s regular hours and at or before
    ``as_of``: the newest quote per symbol gives high, low, close (= price) and volume; open is the
    quote's ``open`` when it carries one, else NaN (the quote does not know it).

    Returns:
        The bar (``newest`` = each symbol's quote time), or None without such a quote.
    """
    if quotes is None or quotes.empty or "high" not in quotes.columns:
        return None
    stamp = to_timestamp(as_of)
    times = get_calendar().session_times(session)
    start, end = pd.Timestamp(times.market_open), pd.Timestamp(times.market_close)
    stamps = pd.to_datetime(quotes["timestamp"], utc=True)
    keep = ((stamps >= start) & (stamps < end) & (stamps <= stamp)).to_numpy()
    if not keep.any():
        return None
    seen = quotes.loc[keep].assign(timestamp=stamps[keep])
    last = seen.sort_values("timestamp", kind="stable").drop_duplicates("symbol", keep="last")
    last = last.set_index("symbol").sort_index()
    opens = last["open"] if "open" in last.columns else pd.Series(np.nan, index=last.index)
    values = {"open": opens, "high": last["high"], "low": last["low"], "close": last["price"],
              "volume": last["volume"]}
    index = pd.DatetimeIndex([utc_day(session)])
    bar = Panel(**{f: pd.DataFrame([values[f].astype("float64").to_numpy()], index=index,
                                   columns=list(last.index)) for f in FIELDS})
    return DevelopingBar(bar, session_pace(session, stamp), last["timestamp"])


def developing_bar(
    intraday: Panel | None, quotes: pd.DataFrame | None, session: date,
    as_of: datetime | pd.Timestamp,
) -> DevelopingBar | None:
    """Today's bar per symbol from its 1-min bars, or else from its session quote.

    Today's bar per symbol from its 1-min bars, or from its session quote when it has no 1-min bar
    of the session (a symbol with 1-min bars never looks at its quote).
    """
    minutes = developing_daily_bar(intraday, session, as_of)
    quoted = quote_daily_bar(quotes, session, as_of)
    if quoted is None:
        return minutes
    if minutes is not None:
        extra = [s for s in quoted.bar.close.columns if s not in minutes.bar.close.columns]
        if not extra:
            return minutes
        frames = {f: pd.concat([getattr(minutes.bar, f), getattr(quoted.bar, f)[extra]], axis=1)
                  for f in FIELDS}
        newest = pd.concat([minutes.newest, quoted.newest[extra]])
        return DevelopingBar(Panel(**frames), minutes.pace, newest)
    return quoted


def daily_with_developing(
    daily: Panel, intraday: Panel | None, session: date, as_of: datetime | pd.Timestamp,
    quotes: pd.DataFrame | None = None,
) -> tuple[Panel, DevelopingBar | None]:
    """Daily bars known at ``as_of`` through ``session``, today's developing bar appended.

    Stored bars of sessions closed at ``as_of`` come first (a stored bar of ``session`` itself
    counts only once the session has closed); when ``session``'s bar is not among them, its
    developing bar (:func:`developing_bar`: from 1-min bars, or from ``quotes`` for symbols
    without 1-min bars) is appended as the last row.

    Returns:
        ``(panel, developing)``; ``developing`` is None when the last row is a stored bar (or
        no bar of ``session`` exists yet).
    """
    known = daily_through(daily, session, as_of)
    if len(known.index) and known.index[-1] == utc_day(session):
        return known, None
    developing = developing_bar(intraday, quotes, session, as_of)
    if developing is None:
        return known, None
    columns = known.close.columns.union(developing.bar.close.columns)
    frames = {
        f: pd.concat([getattr(known, f).reindex(columns=columns),
                      getattr(developing.bar, f).reindex(columns=columns)])
        for f in FIELDS
    }
    return Panel(**frames), developing


def cut_quotes(quotes: pd.DataFrame | None, as_of: datetime | pd.Timestamp) -> pd.DataFrame | None:
    """Quotes stamped at or before ``as_of`` (None stays None)."""
    if quotes is None or quotes.empty:
        return quotes
    stamps = pd.to_datetime(quotes["timestamp"], utc=True)
    return quotes.loc[(stamps <= to_timestamp(as_of)).to_numpy()].reset_index(drop=True)


def cut_anchors(anchors: pd.DataFrame | None, session: date) -> pd.DataFrame | None:
    """Anchors dated before ``session`` (an anchor of a later day did not exist yet)."""
    if anchors is None or anchors.empty:
        return anchors
    days = pd.to_datetime(anchors["anchor_date"].astype(str).str[:10])
    return anchors.loc[(days < pd.Timestamp(session)).to_numpy()].reset_index(drop=True)


def cut_signals(signals: Iterable[Signal], as_of: datetime | pd.Timestamp) -> list[Signal]:
    """Signals stamped at or before ``as_of``."""
    limit = to_timestamp(as_of)
    return [s for s in signals if pd.Timestamp(s.timestamp) <= limit]
