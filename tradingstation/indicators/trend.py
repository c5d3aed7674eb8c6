"""Moving averages, ranges, momentum, swings and volume averages over wide frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradingstation.errors import InputError
from tradingstation.indicators.layout import (
    Frame,
    check_length,
    ewm,
    prepare,
    presma_seed,
    rolling,
    shift_down,
    wrap,
)


def sma(x: Frame, length: int = 10) -> Frame:
    """Simple moving average of the last ``length`` bars (``ta.sma``)."""
    length = check_length("length", length)
    like, (p,), layout = prepare(x)
    return wrap(layout.unpack(rolling(p, length, "mean")), like)


def ema(x: Frame, length: int = 10) -> Frame:
    """Exponential moving average, ``alpha = 2 / (length + 1)`` (``ta.ema`` default).

    Seeded like TA-Lib / pandas-ta ``presma=True``: the first value (bar ``length - 1``) is the
    SMA of the first ``length`` bars; earlier bars are NaN.
    """
    length = check_length("length", length)
    like, (p,), layout = prepare(x)
    res = ewm(presma_seed(p, length), alpha=2.0 / (length + 1.0))
    res[:, layout.short(length)] = np.nan
    return wrap(layout.unpack(res), like)


def rma(x: Frame, length: int = 10) -> Frame:
    """Wilder's moving average (``ta.rma``).

    Wilder's moving average, an EMA with ``alpha = 1 / length`` seeded by the first value
    (``ta.rma``: defined from the first bar once a symbol has ``length`` bars).
    """
    length = check_length("length", length)
    like, (p,), layout = prepare(x)
    res = ewm(p, alpha=1.0 / length)
    res[:, layout.short(length)] = np.nan
    return wrap(layout.unpack(res), like)


def _true_range_packed(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> np.ndarray:
    pc = shift_down(c)
    # fmax ignores the NaN previous close of a symbol's first bar, so that bar's TR is H - L.
    return np.fmax(np.abs(h - lo), np.fmax(np.abs(h - pc), np.abs(pc - lo)))


def true_range(high: Frame, low: Frame, close: Frame) -> Frame:
    """True range: max(H - L, |H - previous close|, |previous close - L|); first bar H - L."""
    like, (h, lo, c), layout = prepare(high, low, close)
    return wrap(layout.unpack(_true_range_packed(h, lo, c)), like)


def atr(high: Frame, low: Frame, close: Frame, length: int = 14) -> Frame:
    """Average true range (``ta.atr`` defaults.

    Wilder smoothing seeded with the SMA of the first ``length`` true ranges; first value at bar
    ``length - 1``; needs ``length + 1`` bars).
    """
    length = check_length("length", length)
    like, (h, lo, c), layout = prepare(high, low, close)
    res = ewm(presma_seed(_true_range_packed(h, lo, c), length), alpha=1.0 / length)
    res[:, layout.short(length + 1)] = np.nan
    return wrap(layout.unpack(res), like)


def rsi(close: Frame, length: int = 14) -> Frame:
    """Relative strength index 0-100 with Wilder averages of gains and losses (``ta.rsi``).

    Like pandas-ta, values start at a symbol's second bar (the averages are seeded by the first
    change), so the first ``length`` or so values are warm-up; needs ``length + 1`` bars.
    """
    length = check_length("length", length)
    like, (p,), layout = prepare(close)
    change = p - shift_down(p)
    gain = np.where(change < 0, 0.0, change)
    loss = np.where(change > 0, 0.0, change)
    avg_gain = ewm(gain, alpha=1.0 / length)
    avg_loss = ewm(loss, alpha=1.0 / length)
    with np.errstate(invalid="ignore", divide="ignore"):
        res = 100.0 * avg_gain / (avg_gain + np.abs(avg_loss))
    res[:, layout.short(length + 1)] = np.nan
    return wrap(layout.unpack(res), like)


def pivots(
    high: Frame, low: Frame, left: int = 5, right: int = 5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Swing-high and swing-low masks (booleans, same shape; False where undefined).

    A swing high is a bar whose high is strictly greater than each of the ``left`` bars before it
    and greater than or equal to each of the ``right`` bars after it; swing lows mirror this with
    lows. The tie rule makes the *first* of equal highs (a flat double top) the pivot. The first
    ``left`` and last ``right`` bars of a symbol cannot be pivots (incomplete windows).
    """
    left = check_length("left", left)
    right = check_length("right", right)
    like, (h, lo), layout = prepare(high, low)

    def after(arr: np.ndarray, how: str) -> np.ndarray:
        # the window ending at t + right covers the `right` bars after t
        out = np.full(arr.shape, np.nan)
        if right < len(arr):
            out[: len(arr) - right] = rolling(arr, right, how)[right:]
        return out

    with np.errstate(invalid="ignore"):
        is_high = (h > shift_down(rolling(h, left, "max"))) & (h >= after(h, "max"))
        is_low = (lo < shift_down(rolling(lo, left, "min"))) & (lo <= after(lo, "min"))
    highs = layout.unpack(is_high.astype("float64")) == 1.0
    lows = layout.unpack(is_low.astype("float64")) == 1.0
    return wrap(highs, like), wrap(lows, like)  # type: ignore[return-value]


def rolling_max(x: Frame, length: int) -> Frame:
    """Highest value of the last ``length`` bars, current bar included."""
    length = check_length("length", length)
    like, (p,), layout = prepare(x)
    return wrap(layout.unpack(rolling(p, length, "max")), like)


def rolling_min(x: Frame, length: int) -> Frame:
    """Lowest value of the last ``length`` bars, current bar included."""
    length = check_length("length", length)
    like, (p,), layout = prepare(x)
    return wrap(layout.unpack(rolling(p, length, "min")), like)


def average_volume(volume: Frame, length: int = 50) -> Frame:
    """Mean volume of the ``length`` bars *before* each bar.

    Mean volume of the ``length`` bars *before* each bar (the current bar excluded, so a spike is
    compared with what preceded it); NaN until a symbol has ``length`` prior bars.
    """
    length = check_length("length", length)
    like, (p,), layout = prepare(volume)
    return wrap(layout.unpack(shift_down(rolling(p, length, "mean"))), like)


def adv(close: Frame, volume: Frame, length: int = 14) -> Frame:
    """Average dollar volume (close × volume) of the last ``length`` bars, current included."""
    length = check_length("length", length)
    like, (c, v), layout = prepare(close, volume)
    return wrap(layout.unpack(rolling(c * v, length, "mean")), like)


def shift_bars(x: Frame, periods: int = 1) -> Frame:
    """Each symbol's value ``periods`` of its own bars earlier (negative.

    Later), e.g. the previous close across a missing bar; NaN where there is no such bar.
    """
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer):
        raise InputError(f"periods must be an integer, got {periods!r}")
    like, (p,), layout = prepare(x)
    n = int(periods)
    res = shift_down(p, n) if n >= 0 else shift_down(p[::-1], -n)[::-1]
    return wrap(layout.unpack(np.ascontiguousarray(res)), like)
