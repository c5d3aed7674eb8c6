"""Technical indicators over wide frames (rows = bars, columns = symbols); pandas-ta is reference.

Every function takes a Series (one symbol) or a wide DataFrame (index = bar timestamps, columns =
symbols) and returns the same shape, NaN where the value is undefined, computed for every column
at once. A column is computed on that symbol's own bars: NaN cells (a symbol not yet listed, or
without a bar at a timestamp) are skipped, exactly as if pandas-ta had been called on the symbol's
bars alone. Internally each column's valid values are packed to the top of an array, computed
there, and scattered back (``_Layout``).

Intentional differences from pandas-ta 0.4 (tested in tests/test_indicators.py):

* ``true_range``/``atr``: pandas-ta adds machine epsilon (2.2e-16) to *every* high-low range of a
  series as soon as one bar has high == low; we do not. Values differ by at most ~1e-15 absolute.
* ``vwap_session``: the session is the New York calendar date of each bar (the index is UTC);
  pandas-ta groups by the date of whatever wall clock the index carries.
* ``relative_volume_by_time``, ``pivots``, ``anchored_vwap`` have no pandas-ta counterpart.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from tradingstation.errors import InputError

NEW_YORK = "America/New_York"

type Frame = pd.Series | pd.DataFrame


def _check_length(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _values(x: object) -> np.ndarray:
    if not isinstance(x, pd.Series | pd.DataFrame):
        raise InputError(f"expected a pandas Series or DataFrame, got {type(x).__name__}")
    arr = x.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


def _wrap(arr: np.ndarray, like: Frame) -> Frame:
    if isinstance(like, pd.Series):
        return pd.Series(arr[:, 0], index=like.index, name=like.name)
    return pd.DataFrame(arr, index=like.index, columns=like.columns)


class _Layout:
    """Moves each column's valid cells to the top (``pack``) and back (``unpack``).

    Only columns with a missing cell are touched (most symbols have every bar), and both
    directions work in place on arrays this module owns.
    """

    def __init__(self, valid: np.ndarray) -> None:
        self.valid = valid
        self.counts = valid.sum(axis=0)
        self.cols = np.flatnonzero(self.counts < len(valid))
        self.trivial = len(self.cols) == 0
        if not self.trivial:
            self._sub = valid[:, self.cols]
            self._rows = (np.cumsum(self._sub, axis=0) - 1)[self._sub]
            self._subcols = np.nonzero(self._sub)[1]

    def pack(self, arr: np.ndarray) -> np.ndarray:
        if not self.trivial:
            part = np.full((len(arr), len(self.cols)), np.nan)
            part[self._rows, self._subcols] = arr[:, self.cols][self._sub]
            arr[:, self.cols] = part
        return arr

    def unpack(self, res: np.ndarray) -> np.ndarray:
        if not self.trivial:
            part = np.full((len(res), len(self.cols)), np.nan)
            part[self._sub] = res[:, self.cols][self._rows, self._subcols]
            res[:, self.cols] = part
        return res

    def short(self, minimum: int) -> np.ndarray:
        """Columns with fewer than ``minimum`` bars (pandas-ta returns None for those)."""
        return self.counts < minimum


def _aligned(*frames: object) -> tuple[Frame, list[np.ndarray], np.ndarray]:
    """Validate same-shaped inputs; return them as 2-D arrays with their common validity."""
    arrs = [_values(f) for f in frames]
    like = frames[0]
    for f, a in zip(frames[1:], arrs[1:], strict=True):
        same = a.shape == arrs[0].shape and f.index.equals(like.index)  # type: ignore[union-attr]
        if same and isinstance(like, pd.DataFrame):
            same = f.columns.equals(like.columns)  # type: ignore[union-attr]
        if not same:
            raise InputError("indicator inputs must share one index and one set of columns")
    valid = np.logical_and.reduce([~np.isnan(a) for a in arrs])
    return like, arrs, valid  # type: ignore[return-value]


def _prepare(*frames: object) -> tuple[Frame, list[np.ndarray], _Layout]:
    """Validate same-shaped inputs; return them packed with their common validity layout."""
    like, arrs, valid = _aligned(*frames)
    layout = _Layout(valid)
    return like, [layout.pack(a) for a in arrs], layout


def _ewm(arr: np.ndarray, alpha: float) -> np.ndarray:
    """``DataFrame.ewm(alpha=alpha, adjust=False).mean()`` on packed columns, one numpy step per
    row for all columns (pandas would loop over the columns). Rows before a column's first value
    are NaN; a NaN row after it repeats the last value (packed arrays only have trailing NaNs)."""
    keep = 1.0 - alpha
    total = keep + alpha  # pandas divides by the weight sum, which may differ from 1 by an ulp
    out = np.empty_like(arr)
    state = arr[0].copy()
    out[0] = state
    for t in range(1, len(arr)):
        x = arr[t]
        step = (keep * state + alpha * x) / total
        state = np.where(np.isnan(state), x, np.where(np.isnan(x), state, step))
        out[t] = state
    return out


def _rolling(arr: np.ndarray, length: int, how: str) -> np.ndarray:
    """Rolling ``mean``/``max``/``min`` over ``length`` rows; NaN when the window is short or
    holds a NaN (pandas ``min_periods=length``)."""
    n = len(arr)
    out = np.full(arr.shape, np.nan)
    if length > n:
        return out
    if how == "mean":
        missing = np.isnan(arr)
        sums = np.cumsum(np.where(missing, 0.0, arr), axis=0)
        gaps = np.cumsum(missing, axis=0)
        window = sums[length - 1 :].copy()
        window[1:] -= sums[: n - length]
        holes = gaps[length - 1 :].copy()
        holes[1:] -= gaps[: n - length]
        out[length - 1 :] = np.where(holes > 0, np.nan, window / length)
        return out
    reduce = np.maximum if how == "max" else np.minimum  # both propagate NaN
    acc = arr[: n - length + 1].copy()
    for k in range(1, length):
        reduce(acc, arr[k : n - length + 1 + k], out=acc)
    out[length - 1 :] = acc
    return out


def _presma_seed(arr: np.ndarray, length: int) -> np.ndarray:
    """pandas-ta ``presma``: row length-1 becomes the mean of the first ``length`` values."""
    out = arr.copy()
    if len(out) >= length:
        out[length - 1] = out[:length].mean(axis=0)
    out[: length - 1] = np.nan
    return out


def _shift_down(arr: np.ndarray, periods: int = 1) -> np.ndarray:
    out = np.full(arr.shape, np.nan)
    if periods < len(arr):
        out[periods:] = arr[: len(arr) - periods]
    return out


def sma(x: Frame, length: int = 10) -> Frame:
    """Simple moving average of the last ``length`` bars (``ta.sma``)."""
    length = _check_length("length", length)
    like, (p,), layout = _prepare(x)
    return _wrap(layout.unpack(_rolling(p, length, "mean")), like)


def ema(x: Frame, length: int = 10) -> Frame:
    """Exponential moving average, ``alpha = 2 / (length + 1)`` (``ta.ema`` default).

    Seeded like TA-Lib / pandas-ta ``presma=True``: the first value (bar ``length - 1``) is the
    SMA of the first ``length`` bars; earlier bars are NaN.
    """
    length = _check_length("length", length)
    like, (p,), layout = _prepare(x)
    res = _ewm(_presma_seed(p, length), alpha=2.0 / (length + 1.0))
    res[:, layout.short(length)] = np.nan
    return _wrap(layout.unpack(res), like)


def rma(x: Frame, length: int = 10) -> Frame:
    """Wilder's moving average, an EMA with ``alpha = 1 / length`` seeded by the first value
    (``ta.rma``: defined from the first bar once a symbol has ``length`` bars)."""
    length = _check_length("length", length)
    like, (p,), layout = _prepare(x)
    res = _ewm(p, alpha=1.0 / length)
    res[:, layout.short(length)] = np.nan
    return _wrap(layout.unpack(res), like)


def _true_range_packed(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> np.ndarray:
    pc = _shift_down(c)
    # fmax ignores the NaN previous close of a symbol's first bar, so that bar's TR is H - L.
    return np.fmax(np.abs(h - lo), np.fmax(np.abs(h - pc), np.abs(pc - lo)))


def true_range(high: Frame, low: Frame, close: Frame) -> Frame:
    """True range: max(H - L, |H - previous close|, |previous close - L|); first bar H - L."""
    like, (h, lo, c), layout = _prepare(high, low, close)
    return _wrap(layout.unpack(_true_range_packed(h, lo, c)), like)


def atr(high: Frame, low: Frame, close: Frame, length: int = 14) -> Frame:
    """Average true range (``ta.atr`` defaults: Wilder smoothing seeded with the SMA of the first
    ``length`` true ranges; first value at bar ``length - 1``; needs ``length + 1`` bars)."""
    length = _check_length("length", length)
    like, (h, lo, c), layout = _prepare(high, low, close)
    res = _ewm(_presma_seed(_true_range_packed(h, lo, c), length), alpha=1.0 / length)
    res[:, layout.short(length + 1)] = np.nan
    return _wrap(layout.unpack(res), like)


def rsi(close: Frame, length: int = 14) -> Frame:
    """Relative strength index 0-100 with Wilder averages of gains and losses (``ta.rsi``).

    Like pandas-ta, values start at a symbol's second bar (the averages are seeded by the first
    change), so the first ``length`` or so values are warm-up; needs ``length + 1`` bars.
    """
    length = _check_length("length", length)
    like, (p,), layout = _prepare(close)
    change = p - _shift_down(p)
    gain = np.where(change < 0, 0.0, change)
    loss = np.where(change > 0, 0.0, change)
    avg_gain = _ewm(gain, alpha=1.0 / length)
    avg_loss = _ewm(loss, alpha=1.0 / length)
    with np.errstate(invalid="ignore", divide="ignore"):
        res = 100.0 * avg_gain / (avg_gain + np.abs(avg_loss))
    res[:, layout.short(length + 1)] = np.nan
    return _wrap(layout.unpack(res), like)


def _typical_pv(
    high: Frame, low: Frame, close: Frame, volume: Frame
) -> tuple[Frame, np.ndarray, np.ndarray, np.ndarray]:
    """(like, TP*V, V, valid) unpacked; invalid cells are 0 in TP*V and V."""
    like, (h, lo, c, v), valid = _aligned(high, low, close, volume)
    with np.errstate(invalid="ignore"):
        pv = (h + lo + c) / 3.0 * v
    return like, np.where(valid, pv, 0.0), np.where(valid, v, 0.0), valid


def _local_index(index: pd.Index) -> pd.DatetimeIndex:
    """The index as New York wall-clock time (a tz-naive index is taken as New York already)."""
    if not isinstance(index, pd.DatetimeIndex):
        raise InputError("intraday indicators need a DatetimeIndex")
    if not index.is_monotonic_increasing or not index.is_unique:
        raise InputError("intraday indicators need a sorted index without duplicates")
    return index if index.tz is None else index.tz_convert(NEW_YORK)


def _day_codes(index: pd.Index) -> np.ndarray:
    local = _local_index(index)
    return np.unique(local.normalize().asi8, return_inverse=True)[1].reshape(-1)


def vwap_session(high: Frame, low: Frame, close: Frame, volume: Frame) -> Frame:
    """Session VWAP: cumulative TP·V / cumulative V, reset at each New York calendar date
    (extended hours included), TP = (H + L + C) / 3. Matches ``ta.vwap(anchor="D")`` on a
    New York-local index. NaN where a symbol has no bar or no volume yet that day."""
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
    return _wrap(res, like)


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
        high, low, close, volume: wide frames (or Series; then ``anchors`` is keyed by its name).
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
    return _wrap(res, like)


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
    lookback = _check_length("lookback_sessions", lookback_sessions)
    vol = _values(volume)
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
    return _wrap(out, volume)


def pivots(
    high: Frame, low: Frame, left: int = 5, right: int = 5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Swing-high and swing-low masks (booleans, same shape; False where undefined).

    A swing high is a bar whose high is strictly greater than each of the ``left`` bars before it
    and greater than or equal to each of the ``right`` bars after it; swing lows mirror this with
    lows. The tie rule makes the *first* of equal highs (a flat double top) the pivot. The first
    ``left`` and last ``right`` bars of a symbol cannot be pivots (incomplete windows).
    """
    left = _check_length("left", left)
    right = _check_length("right", right)
    like, (h, lo), layout = _prepare(high, low)

    def after(arr: np.ndarray, how: str) -> np.ndarray:
        # the window ending at t + right covers the `right` bars after t
        out = np.full(arr.shape, np.nan)
        if right < len(arr):
            out[: len(arr) - right] = _rolling(arr, right, how)[right:]
        return out

    with np.errstate(invalid="ignore"):
        is_high = (h > _shift_down(_rolling(h, left, "max"))) & (h >= after(h, "max"))
        is_low = (lo < _shift_down(_rolling(lo, left, "min"))) & (lo <= after(lo, "min"))
    highs = layout.unpack(is_high.astype("float64")) == 1.0
    lows = layout.unpack(is_low.astype("float64")) == 1.0
    return _wrap(highs, like), _wrap(lows, like)  # type: ignore[return-value]


def rolling_max(x: Frame, length: int) -> Frame:
    """Highest value of the last ``length`` bars, current bar included."""
    length = _check_length("length", length)
    like, (p,), layout = _prepare(x)
    return _wrap(layout.unpack(_rolling(p, length, "max")), like)


def rolling_min(x: Frame, length: int) -> Frame:
    """Lowest value of the last ``length`` bars, current bar included."""
    length = _check_length("length", length)
    like, (p,), layout = _prepare(x)
    return _wrap(layout.unpack(_rolling(p, length, "min")), like)


def average_volume(volume: Frame, length: int = 50) -> Frame:
    """Mean volume of the ``length`` bars *before* each bar (the current bar excluded, so a
    spike is compared with what preceded it); NaN until a symbol has ``length`` prior bars."""
    length = _check_length("length", length)
    like, (p,), layout = _prepare(volume)
    return _wrap(layout.unpack(_shift_down(_rolling(p, length, "mean"))), like)


def adv(close: Frame, volume: Frame, length: int = 14) -> Frame:
    """Average dollar volume (close × volume) of the last ``length`` bars, current included."""
    length = _check_length("length", length)
    like, (c, v), layout = _prepare(close, volume)
    return _wrap(layout.unpack(_rolling(c * v, length, "mean")), like)


def shift_bars(x: Frame, periods: int = 1) -> Frame:
    """Each symbol's value ``periods`` of its own bars earlier (negative: later), e.g. the
    previous close across a missing bar; NaN where there is no such bar."""
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer):
        raise InputError(f"periods must be an integer, got {periods!r}")
    like, (p,), layout = _prepare(x)
    if periods >= 0:
        res = _shift_down(p, int(periods))
    else:
        res = _shift_down(p[::-1], -int(periods))[::-1]
    return _wrap(layout.unpack(np.ascontiguousarray(res)), like)
