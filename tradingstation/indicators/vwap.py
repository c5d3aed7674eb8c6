"""Session VWAP, anchored VWAP and time-of-day relative volume (intraday and daily)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from tradingstation.calendar import NY
from tradingstation.errors import InputError
from tradingstation.indicators.layout import (
    Frame,
    aligned,
    check_length,
    values,
    wrap,
)


def _typical_pv(
    high: Frame, low: Frame, close: Frame, volume: Frame
) -> tuple[Frame, np.ndarray, np.ndarray, np.ndarray]:
    """(like, TP*V, V, valid) unpacked; invalid cells are 0 in TP*V and V."""
    like, (h, lo, c, v), valid = aligned(high, low, close, volume)
    with np.errstate(invalid="ignore"):
        pv = (h + lo + c) / 3.0 * v
    return like, np.where(valid, pv, 0.0), np.where(valid, v, 0.0), valid


def _local_index(index: pd.Index) -> pd.DatetimeIndex:
    """The index as New York wall-clock time (a tz-naive index is taken as New York already)."""
    if not isinstance(index, pd.DatetimeIndex):
        raise InputError("intraday indicators need a DatetimeIndex")
    if not index.is_monotonic_increasing or not index.is_unique:
        raise InputError("intraday indicators need a sorted index without duplicates")
    return index if index.tz is None else index.tz_convert(NY)


def _day_codes(index: pd.Index) -> np.ndarray:
    local = _local_index(index)
    return np.unique(local.normalize().asi8, return_inverse=True)[1].reshape(-1)


def vwap_session(high: Frame, low: Frame, close: Frame, volume: Frame) -> Frame:
    """Session VWAP.

    Cumulative TP·V / cumulative V, reset at each New York calendar date (extended hours included),
    TP = (H + L + C) / 3. Matches ``ta.vwap(anchor="D")`` on a New York-local index. NaN where a
    symbol has no bar or no volume yet that day.
    """
    like, pv, vol, valid = _typical_pv(high, low, close, volume)
    days = _day_codes(like.index)
    # one cumulative sum per New York day (a handful of days, all symbols at once)
    cum_pv, cum_v = np.empty_like(pv), np.empty_like(vol)
    bounds = np.r_[np.flatnonzero(np.r_[True, days[1:] != days[:-1]]), len(days)]
    for start, stop in pairwise(bounds):
        np.cumsum(pv[start:stop], axis=0, out=cum_pv[start:stop])
        np.cumsum(vol[start:stop], axis=0, out=cum_v[start:stop])
    with np.errstate(invalid="ignore", divide="ignore"):
        res = np.where(valid & (cum_v > 0), cum_pv / cum_v, np.nan)
    return wrap(res, like)


def _as_timestamps(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Anchor labels as int64 nanoseconds comparable with ``index`` (NaT for a missing anchor).

    Dates and naive timestamps are read in the index's time zone.
    """
    tz = getattr(index, "tz", None)

    def in_zone(ts: pd.DatetimeIndex) -> pd.DatetimeIndex:
        if tz is not None and ts.tz is None:
            return ts.tz_localize(tz)
        return ts.tz_convert(tz) if ts.tz is not None else ts

    try:
        try:
            ts = in_zone(pd.DatetimeIndex(pd.to_datetime(values.astype(object))))
        except (TypeError, ValueError):  # a mix of aware and naive values
            ts = pd.DatetimeIndex(
                [pd.NaT if pd.isna(v) else in_zone(pd.DatetimeIndex([v]))[0] for v in values]
            )
    except (TypeError, ValueError) as exc:
        raise InputError(f"anchors must be timestamps or dates: {exc}".splitlines()[0]) from None
    return ts.as_unit("ns").asi8


def anchored_vwap(
    high: Frame, low: Frame, close: Frame, volume: Frame, anchors: pd.Series
) -> Frame:
    """Anchored VWAP per symbol: Σ TP·V / Σ V from the anchor bar (included) to each bar.

    Args:
        high: Wide frame of highs (or a Series; then ``anchors`` is keyed by its name).
        low: Lows, shaped like ``high``.
        close: Closes, shaped like ``high``.
        volume: Volumes, shaped like ``high``.
        anchors: symbol → anchor timestamp (an index label; a date or naive timestamp is read in
            the index's time zone). Bars at or after it count.

    Returns:
        Same shape; NaN before the anchor, for symbols without an anchor, and where no volume
        has traded since the anchor.
    """
    like, pv, vol, valid = _typical_pv(high, low, close, volume)
    if not isinstance(anchors, pd.Series):
        raise InputError("anchors must be a Series mapping symbol to anchor timestamp")
    if not isinstance(like.index, pd.DatetimeIndex):
        raise InputError("anchored VWAP needs a DatetimeIndex")
    columns = [like.name] if isinstance(like, pd.Series) else list(like.columns)
    starts = _as_timestamps(anchors.reindex(columns), like.index)
    has_anchor = starts != np.iinfo(np.int64).min
    idx = like.index.as_unit("ns").asi8
    inside = (idx[:, None] >= starts[None, :]) & has_anchor[None, :]
    cum_pv = np.cumsum(np.where(inside, pv, 0.0), axis=0)
    cum_v = np.cumsum(np.where(inside, vol, 0.0), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        res = np.where(inside & valid & (cum_v > 0), cum_pv / cum_v, np.nan)
    return wrap(res, like)


def anchored_vwap_from(
    high: pd.Series, low: pd.Series, close: pd.Series, volume: pd.Series, start: object
) -> pd.Series:
    """Anchored VWAP of one symbol from bar ``start`` (included); NaN before it."""
    if not isinstance(close, pd.Series):
        raise InputError("anchored_vwap_from takes Series; use anchored_vwap for wide frames")
    frames = [s.to_frame("x") for s in (high, low, close, volume)]
    res = anchored_vwap(*frames, anchors=pd.Series({"x": start}))
    return res["x"].rename(close.name)


def relative_volume_by_time(volume: Frame, lookback_sessions: int = 10) -> Frame:
    """Relative volume at the same time of day, for intraday frames.

    For each bar: the symbol's cumulative volume since the start of its New York calendar day
    (extended hours included) divided by the mean of its cumulative volume at the same New York
    time of day over the previous ``lookback_sessions`` days on which the symbol has bars (a day
    without a bar up to that time contributes 0 up to then). NaN without any prior such day, or
    when that mean is 0.
    """
    lookback = check_length("lookback_sessions", lookback_sessions)
    vol = values(volume)
    valid = ~np.isnan(vol)
    local = _local_index(volume.index)
    day_keys, days = np.unique(local.normalize().asi8, return_inverse=True)
    tod_keys, tods = np.unique(local.asi8 - local.normalize().asi8, return_inverse=True)
    days, tods = days.reshape(-1), tods.reshape(-1)
    n_days, n_tods, n_cols = len(day_keys), len(tod_keys), vol.shape[1]
    # grid[day, symbol, time of day] = cumulative volume of that day so far
    grid = np.zeros((n_days, n_cols, n_tods))
    grid[days, :, tods] = np.where(valid, vol, 0.0)
    np.cumsum(grid, axis=2, out=grid)
    first_rows = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])  # the index is sorted
    day_has = np.logical_or.reduceat(valid, first_rows, axis=0)
    before = np.cumsum(day_has, axis=0) - day_has  # days with data strictly before each day
    # prefix[k] = sum over the symbol's first k days with data (a prefix sum over its own days)
    prefix = np.zeros((n_days + 1, n_cols, n_tods))
    dd, ss = np.nonzero(day_has)
    prefix[before[dd, ss] + 1, ss, :] = grid[dd, ss, :]
    np.cumsum(prefix, axis=0, out=prefix)
    k = np.minimum(before, lookback)
    symbol = np.arange(n_cols)[None, :]
    prior = prefix[before, symbol, :]
    prior -= prefix[before - k, symbol, :]
    del prefix
    with np.errstate(invalid="ignore", divide="ignore"):
        prior /= np.where(k > 0, k, np.nan)[:, :, None]  # mean; NaN without a prior day
        ratio = np.where(prior > 0, grid / prior, np.nan)
    out = ratio[days, :, tods]
    out[~valid] = np.nan
    return wrap(out, volume)
