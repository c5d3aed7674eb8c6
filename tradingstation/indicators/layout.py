"""Shared machinery of the indicators: validation, the packed per-column layout, EWM/rolling."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradingstation.errors import InputError

type Frame = pd.Series | pd.DataFrame


def check_length(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int if it is an integer >= ``minimum``, else ``InputError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def values(x: object) -> np.ndarray:
    """A float64 copy of a Series (one column) or DataFrame as a 2-D array, NaN for missing."""
    if not isinstance(x, pd.Series | pd.DataFrame):
        raise InputError(f"expected a pandas Series or DataFrame, got {type(x).__name__}")
    arr = x.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


def wrap(arr: np.ndarray, like: Frame) -> Frame:
    """``arr`` (2-D) back into the shape, index and labels of ``like``."""
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


def aligned(*frames: object) -> tuple[Frame, list[np.ndarray], np.ndarray]:
    """Validate same-shaped inputs; return them as 2-D arrays with their common validity."""
    arrs = [values(f) for f in frames]
    like = frames[0]
    for f, a in zip(frames[1:], arrs[1:], strict=True):
        same = a.shape == arrs[0].shape and f.index.equals(like.index)  # type: ignore[union-attr]
        if same and isinstance(like, pd.DataFrame):
            same = f.columns.equals(like.columns)  # type: ignore[union-attr]
        if not same:
            raise InputError("indicator inputs must share one index and one set of columns")
    valid = np.logical_and.reduce([~np.isnan(a) for a in arrs])
    return like, arrs, valid  # type: ignore[return-value]


def prepare(*frames: object) -> tuple[Frame, list[np.ndarray], _Layout]:
    """Validate same-shaped inputs; return them packed with their common validity layout."""
    like, arrs, valid = aligned(*frames)
    layout = _Layout(valid)
    return like, [layout.pack(a) for a in arrs], layout


def ewm(arr: np.ndarray, alpha: float) -> np.ndarray:
    """``DataFrame.ewm(alpha=alpha, adjust=False).mean()`` on packed columns.

    ``DataFrame.ewm(alpha=alpha, adjust=False).mean()`` on packed columns, one numpy step per row
    for all columns (pandas would loop over the columns). Rows before a column's first value are
    NaN; a NaN row after it repeats the last value (packed arrays only have trailing NaNs).
    """
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


def rolling(arr: np.ndarray, length: int, how: str) -> np.ndarray:
    """Rolling ``mean``/``max``/``min`` over ``length`` rows.

    NaN when the window is short or holds a NaN (pandas ``min_periods=length``).
    """
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


def presma_seed(arr: np.ndarray, length: int) -> np.ndarray:
    """pandas-ta ``presma``: row length-1 becomes the mean of the first ``length`` values."""
    out = arr.copy()
    if len(out) >= length:
        out[length - 1] = out[:length].mean(axis=0)
    out[: length - 1] = np.nan
    return out


def shift_down(arr: np.ndarray, periods: int = 1) -> np.ndarray:
    """``arr`` moved down ``periods`` rows, NaN above (``DataFrame.shift``)."""
    out = np.full(arr.shape, np.nan)
    if periods < len(arr):
        out[periods:] = arr[: len(arr) - periods]
    return out
