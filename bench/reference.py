"""Naive reference for the screener benchmark: one symbol at a time, indicators from pandas-ta.

This is how the original scripts worked: loop over symbols, call pandas-ta per symbol per
indicator, evaluate the conditions with pandas. Each function below restates the trigger
conditions of one of our screeners (see its class docstring in ``tradingstation/screeners``) for
a single symbol, written independently of our vectorised code, so the benchmark can check that
both produce the same signals. Only whether a signal fires (and its direction) is compared;
scores enter only where they decide that (AVWAP Reclaim's ``min_score``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pandas_ta as ta

# The significance table is a parameter of the screener: the reference reads the same table
# (and the screener's default parameters) but evaluates it with its own per-symbol code.
from tradingstation.screeners.avwap_reclaim import ALWAYS_MAJOR, MAJOR_STRENGTH

TYPE_ORDER = ("gap_up", "gap_down", "volume_spike", "highest_volume", "swing_high",
              "swing_low", "high_52w", "low_52w", "earnings")


def tradeable(entry: float, stop: float, direction: str) -> bool:
    """Whether our signal builder keeps a setup (cent-rounded risk > 0 and a positive stop)."""
    e, s = round(float(entry) + 0.0, 2), round(float(stop) + 0.0, 2)
    risk = round((e - s) * (1.0 if direction == "long" else -1.0), 2)
    return math.isfinite(e) and math.isfinite(s) and risk > 0 and s > 0


def _latest_extreme(values: pd.Series, largest: bool) -> int:
    """Position of the latest occurrence of the max (min) value."""
    target = values.max() if largest else values.min()
    return int(np.flatnonzero(values.to_numpy() == target)[-1])


def find_anchors(bars: pd.DataFrame, lookback: int = 30) -> list[dict]:
    """Anchors of one symbol (bars indexed by timestamp): type, position, strength."""
    o, h, lo, c, v = (bars[f] for f in ("open", "high", "low", "close", "volume"))
    n = len(bars)
    window = np.arange(n) >= n - lookback
    out: list[dict] = []

    def add(kind: str, pos: int, strength: float) -> None:
        out.append({"type": kind, "pos": int(pos), "strength": float(strength)})

    gap = o / c.shift(1) - 1.0
    avg50 = ta.sma(v.astype("float64"), length=50).shift(1)
    multiple = v / avg50
    for t in np.flatnonzero(window):
        if gap.iloc[t] >= 0.03:
            add("gap_up", t, abs(gap.iloc[t]))
        if gap.iloc[t] <= -0.03:
            add("gap_down", t, abs(gap.iloc[t]))
        if multiple.iloc[t] >= 2.0:
            add("volume_spike", t, multiple.iloc[t])
    recent_v = v[window]
    top = int(np.flatnonzero(window)[0]) + _latest_extreme(recent_v, True)
    add("highest_volume", top, v.iloc[top] / recent_v.mean())
    before_hi = h.rolling(5).max().shift(1)
    after_hi = h[::-1].rolling(5).max()[::-1].shift(-1)
    before_lo = lo.rolling(5).min().shift(1)
    after_lo = lo[::-1].rolling(5).min()[::-1].shift(-1)
    around_lo = lo.rolling(11).min().shift(-5)
    around_hi = h.rolling(11).max().shift(-5)
    for t in np.flatnonzero(window):
        if h.iloc[t] > before_hi.iloc[t] and h.iloc[t] >= after_hi.iloc[t]:
            add("swing_high", t, (h.iloc[t] - around_lo.iloc[t]) / h.iloc[t])
        if lo.iloc[t] < before_lo.iloc[t] and lo.iloc[t] <= after_lo.iloc[t]:
            add("swing_low", t, (around_hi.iloc[t] - lo.iloc[t]) / lo.iloc[t])
    # A 52-week extreme needs a whole year of history (DESIGN: 252 sessions); a shorter
    # history's extreme is not reported under that name.
    if n >= 252:
        first = n - 252
        last_close = c.iloc[-1]
        hi = first + _latest_extreme(h.iloc[first:], True)
        low = first + _latest_extreme(lo.iloc[first:], False)
        add("high_52w", hi, last_close / h.iloc[hi])
        add("low_52w", low, lo.iloc[low] / last_close)
    out.sort(key=lambda a: (a["pos"], TYPE_ORDER.index(a["type"])))
    return out


def _close_pos(h: float, lo: float, c: float, flat: float) -> float:
    return (c - lo) / (h - lo) if h > lo else flat


def avwap_params():
    """The screener's default parameters: the reference uses the same thresholds."""
    from tradingstation.screeners import get_screener

    return get_screener("avwap_reclaim").parse_params()


def avwap_reclaim(bars: pd.DataFrame, anchors: list[dict], p=None) -> str | None:
    """AVWAP Reclaim on the last bar; ``anchors`` are positions in ``bars`` before it."""
    p = p or avwap_params()
    h, lo, c, v = (bars[f] for f in ("high", "low", "close", "volume"))
    n = len(bars)
    atr_now = ta.atr(h, lo, c, length=p.atr_length).iloc[-1]
    trend = ta.sma(c, length=p.trend_sma).iloc[-1]
    vol_mult = v.iloc[-1] / v.iloc[-1 - p.volume_length:-1].mean()
    cp = _close_pos(h.iloc[-1], lo.iloc[-1], c.iloc[-1], 0.5)
    close = c.iloc[-1]
    tp_v = ((h + lo + c) / 3.0 * v).to_numpy()
    vol = v.to_numpy(dtype="float64")
    levels = []
    for a in anchors:
        if a["pos"] >= n - 1:
            continue
        av = np.full(n, np.nan)
        cum_v = np.cumsum(vol[a["pos"]:])
        with np.errstate(invalid="ignore", divide="ignore"):
            av[a["pos"]:] = np.where(cum_v > 0, np.cumsum(tp_v[a["pos"]:]) / cum_v, np.nan)
        then = av[-1 - p.slope_days] if n > p.slope_days else np.nan
        if np.isnan(then):
            then = av[a["pos"]]
        days = p.reclaim_days
        with np.errstate(invalid="ignore"):
            below = bool((c.to_numpy()[-1 - days:-1] < av[-1 - days:-1]).any())
        levels.append((a, av[-1], then, below))
    best = None
    for a, now, then, below in levels:
        if not (close > now and below):
            continue
        gap_atr = (close - now) / atr_now
        major = a["type"] in ALWAYS_MAJOR or a["strength"] >= MAJOR_STRENGTH.get(a["type"], np.inf)
        # anchors of the same date are one level: they do not confirm each other
        others = [x[1] for x in levels if x[0]["pos"] != a["pos"]]
        band = p.confluence_atr * atr_now
        near = any(abs(now - o) <= band for o in others) or abs(now - trend) <= band
        volume = 2.0 if vol_mult >= p.volume_full else 1.0 if vol_mult >= p.volume_half else 0.0
        score = ((2.0 if major else 1.0)
                 + (cp >= p.strong_close) + (gap_atr >= p.decisive_atr) + volume
                 + (now > then) + (gap_atr <= p.max_extension_atr) + near + (close > trend))
        if best is None or score > best[0]:
            best = (score, now)
    if best is None or best[0] < p.min_score:
        return None
    return "long" if tradeable(close, best[1] - p.stop_atr * atr_now, "long") else None


def breakout(bars: pd.DataFrame, min_days: int = 5) -> str | None:
    """Breakout on the last bar (long only)."""
    h, lo, c, v = (bars[f] for f in ("high", "low", "close", "volume"))
    prior_h, prior_lo = h.iloc[:-1], lo.iloc[:-1]
    length = 0
    base_high = base_low = np.nan
    depths = []
    for k in range(1, min(60, len(prior_h)) + 1):
        top, bottom = prior_h.iloc[-k:].max(), prior_lo.iloc[-k:].min()
        depth = (top - bottom) / top
        if depth > 0.15:
            break
        length, base_high, base_low = k, top, bottom
        depths.append(depth)
    if length < min_days:
        return None
    tight = depths[min(5, length) - 1]
    avg_vol = ta.sma(v.astype("float64"), length=50).shift(1).iloc[-1]
    close, low = c.iloc[-1], lo.iloc[-1]
    if not (tight <= 0.10 and close > base_high and v.iloc[-1] / avg_vol >= 1.5):
        return None
    stop = max(low, base_low) if low < close else base_low
    if close - stop > 0.08 * close:
        stop = close * 0.92
    return "long" if tradeable(close, stop, "long") else None


def ema_pullback(bars: pd.DataFrame, period: int = 21) -> str | None:
    """EMA Pullback on the last bar (long only)."""
    o, h, lo, c = (bars[f] for f in ("open", "high", "low", "close"))
    ema = ta.ema(c, length=period)
    e_now, e_then = ema.iloc[-1], ema.iloc[-6]
    trend = ta.sma(c, length=50).iloc[-1]
    atr_now = ta.atr(h, lo, c, length=14).iloc[-1]
    close, low = c.iloc[-1], lo.iloc[-1]
    cp = _close_pos(h.iloc[-1], low, close, 0.5)
    bounce = (close > o.iloc[-1] and cp >= 0.5) or close > c.iloc[-2]
    stop = lo.iloc[-3:].min()
    hit = (close > trend and e_now > e_then and low <= e_now
           and close >= e_now - 0.5 * atr_now and bounce and stop < close)
    return "long" if hit and tradeable(close, stop, "long") else None


def exhaustion_reversal(bars: pd.DataFrame, threshold: float = 2.0) -> str | None:
    """Exhaustion Reversal on the last bar: ``short`` after an up-run, ``long`` after a down-run."""
    h, lo, c, v = (bars[f] for f in ("high", "low", "close", "volume"))
    base = ta.sma(c, length=50).iloc[-1]
    atr_prev = ta.atr(h, lo, c, length=14).iloc[-2]
    rsi_prev = ta.rsi(c, length=14).iloc[-2]
    mult = v.iloc[-1] / v.iloc[-21:-1].mean()
    steps = np.diff(c.iloc[-5:-1].to_numpy())
    high, low, close = h.iloc[-1], lo.iloc[-1], c.iloc[-1]
    cp = _close_pos(high, low, close, 0.5)
    loud = mult >= threshold
    up = ((high - base) / atr_prev >= 3.0 or ((steps > 0).all() and rsi_prev >= 75)) and loud
    down = ((base - low) / atr_prev >= 3.0 or ((steps < 0).all() and rsi_prev <= 25)) and loud
    if down and cp >= 0.6:
        return "long" if tradeable(close, low - 0.1 * atr_prev, "long") else None
    if up and cp <= 0.4:
        return "short" if tradeable(close, high + 0.1 * atr_prev, "short") else None
    return None


def screen_symbol(bars: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Every daily screener on one symbol's bars (anchors from the bars before the last one).

    Returns:
        ``(screener, symbol, direction)`` for each signal.
    """
    symbol = bars.attrs["symbol"]
    anchors = find_anchors(bars.iloc[:-1])
    found = {
        "avwap_reclaim": avwap_reclaim(bars, anchors),
        "breakout": breakout(bars),
        "ema_pullback": ema_pullback(bars),
        "exhaustion_reversal": exhaustion_reversal(bars),
    }
    return [(name, symbol, d) for name, d in found.items() if d is not None]
