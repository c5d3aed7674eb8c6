"""EMA Pullback: an uptrending stock dips to its rising EMA and bounces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from tradingstation.indicators import ema, sma
from tradingstation.screeners import views
from tradingstation.screeners.base import (
    Screener,
    ScreenerParams,
    ScreenInput,
    Setup,
    build_setup,
    fmt_price,
    ramp,
)
from tradingstation.signals import LAST_PRICE_METRIC, Signal


class EmaPullbackParams(ScreenerParams):
    """Trend, touch and bounce thresholds."""

    ema_period: int = Field(21, ge=2, le=200, description="EMA the pullback touches.")
    trend_sma: int = Field(50, ge=2, le=250, description="Close must be above this SMA.")
    slope_days: int = Field(5, ge=1, le=60, description="EMA must be above its value this "
                                                        "many sessions ago.")
    atr_length: int = Field(14, ge=1, le=250, description="ATR length.")
    max_below_atr: float = Field(0.5, ge=0, le=5, description="Close >= EMA - this x ATR.")
    pullback_days: int = Field(3, ge=1, le=20, description="Sessions whose lowest low is the stop.")
    swing_days: int = Field(20, ge=2, le=250, description="Sessions searched for the swing high.")


class EmaPullback(Screener):
    """EMA Pullback (long only).

    On the evaluated daily bar (see ``views.daily_view``): close > SMA(``trend_sma``); the
    EMA(``ema_period``) is rising (above its value ``slope_days`` sessions ago); the low
    touches the EMA (low <= EMA); the close holds near it (close >= EMA - ``max_below_atr`` x
    ATR); and the bar is a bullish bounce: either a green candle (close > open) closing in the
    upper half of its range, or a close above the prior close.

    Entry = close; stop = the pullback low (lowest low of the last ``pullback_days`` sessions);
    targets = the prior swing high (highest high of the ``swing_days`` sessions before today)
    when above entry, and 2R.

    Score (0-10): trend 0-3 (close above the SMA in ATRs, 1.5 at 3 ATR; EMA rise over
    ``slope_days`` in ATRs, 1.5 at 1 ATR), hold 0-3 (3 when the close is at/above the EMA,
    0 at the ``max_below_atr`` limit), bounce 0-2 (close position in the range from 0.5 to 1),
    room 0-2 (swing high 1R..3R above entry).
    """

    name = "ema_pullback"
    params_model = EmaPullbackParams
    summary = "uptrend (close > SMA50, rising EMA21), low touches the EMA, bullish bounce"

    def find(self, data: ScreenInput, params: EmaPullbackParams) -> list[Signal]:
        """Pullbacks to the rising EMA on the evaluated daily bar."""
        view = views.daily_view(data)
        d = view.panel
        if not enough_rows(len(d.index), params):
            return []
        x = pullback_inputs(data, params)
        return pullback_signals(data, view.newest, d.close.columns, x,
                                evaluate_pullback(x, params), params)


def enough_rows(n: int, p: EmaPullbackParams) -> bool:
    """Whether ``n`` daily rows (the evaluated one included) are enough to screen at all."""
    return n >= max(p.ema_period, p.trend_sma) + p.slope_days and n >= 2


def pullback_inputs(data: ScreenInput, p: EmaPullbackParams) -> dict[str, np.ndarray]:
    """Per symbol, the numbers of the daily view's last (evaluated) row the conditions read."""
    d = views.daily_view(data).panel
    ema_f = ema(d.close, p.ema_period)
    x = {f: getattr(d, f).iloc[-1].to_numpy() for f in ("open", "high", "low", "close")}
    x.update(
        ema=ema_f.iloc[-1].to_numpy(),
        ema_prior=ema_f.iloc[-1 - p.slope_days].to_numpy(),
        trend=sma(d.close.iloc[-p.trend_sma:], p.trend_sma).iloc[-1].to_numpy(),
        atr=views.daily_atr(data, p.atr_length).iloc[-1].to_numpy(),
        prev_close=d.close.iloc[-2].to_numpy(),
        stop=d.low.iloc[-p.pullback_days:].min().to_numpy(),
        swing=d.high.iloc[-1 - p.swing_days:-1].max().to_numpy(),
    )
    return x


def evaluate_pullback(x: Mapping[str, np.ndarray], p: EmaPullbackParams) -> dict[str, Any]:
    """Conditions and score of :func:`pullback_inputs` (arrays of any shape, element-wise)."""
    o, lo, c = x["open"], x["low"], x["close"]
    e_now, e_then, trend, atr_now = x["ema"], x["ema_prior"], x["trend"], x["atr"]
    stop, swing = x["stop"], x["swing"]
    with np.errstate(invalid="ignore", divide="ignore"):
        close_pos = np.where(x["high"] > lo, (c - lo) / (x["high"] - lo), 0.5)
        green = (c > o) & (close_pos >= 0.5)
        up_close = c > x["prev_close"]
        below = (e_now - c) / atr_now
        hit = (
            (c > trend) & (e_now > e_then) & (lo <= e_now)
            & (c >= e_now - p.max_below_atr * atr_now) & (green | up_close)
            & (stop < c)
        )
        risk = c - stop
        score = (
            ramp((c - trend) / atr_now, 0, 3, 1.5)
            + ramp((e_now - e_then) / atr_now, 0, 1, 1.5)
            + 3.0 - ramp(below, 0, max(p.max_below_atr, 1e-9), 3.0)
            + ramp(close_pos, 0.5, 1.0, 2.0)
            + ramp((swing - c) / risk, 1, 3, 2.0)
        )
    return {"close_pos": close_pos, "green": green, "below": below, "hit": hit, "score": score}


def pullback_signals(data: ScreenInput, newest: pd.Series, symbols: pd.Index,
                     x: Mapping[str, np.ndarray], e: Mapping[str, Any],
                     p: EmaPullbackParams) -> list[Signal]:
    """The signals of the symbols :func:`evaluate_pullback` hit (1-D arrays, one per symbol)."""
    lo, c = x["low"], x["close"]
    e_now, e_then, trend, atr_now = x["ema"], x["ema_prior"], x["trend"], x["atr"]
    prev_c, stop, swing = x["prev_close"], x["stop"], x["swing"]
    close_pos, green, below = e["close_pos"], e["green"], e["below"]
    signals = []
    for i, setup in pullback_setups(symbols, x, e, p):
        bounce = (
            f"green candle closing at {close_pos[i]:.0%} of its range"
            if green[i] else f"close {fmt_price(c[i])} above the prior close "
            f"{fmt_price(prev_c[i])}"
        )
        reasons = [
            f"uptrend: close {fmt_price(c[i])} > SMA{p.trend_sma} {fmt_price(trend[i])}; "
            f"EMA{p.ema_period} {fmt_price(e_now[i])} rising from {fmt_price(e_then[i])} "
            f"{p.slope_days} sessions ago",
            f"pullback: low {fmt_price(lo[i])} touched EMA{p.ema_period} "
            f"{fmt_price(e_now[i])}; close {below[i] * -1:+.2f} ATR from it (ATR "
            f"{fmt_price(atr_now[i])}, floor -{p.max_below_atr:g} ATR)",
            f"bounce: {bounce}",
            f"stop {fmt_price(stop[i])} = pullback low of {p.pullback_days} sessions; "
            f"target swing high {fmt_price(swing[i])} ({p.swing_days} sessions) and 2R",
        ]
        signal = build_setup(
            setup, screener=EmaPullback.name, data=data, reasons=reasons,
            metrics={LAST_PRICE_METRIC: c[i],
                     "ema": e_now[i], "ema_prior": e_then[i], "sma_trend": trend[i],
                     "atr": atr_now[i], "close_vs_ema_atr": -below[i],
                     "close_position": close_pos[i], "swing_high": swing[i]},
            data_as_of=newest.get(setup.symbol),
        )
        if signal is not None:
            signals.append(signal)
    return signals


def pullback_setups(symbols: Sequence[str], x: Mapping[str, np.ndarray], e: Mapping[str, Any],
                    p: EmaPullbackParams) -> list[tuple[int, Setup]]:
    """The setup of each symbol :func:`evaluate_pullback` hit, with its position.

    Targets the swing high and 2R.
    """
    c, stop, swing = x["close"], x["stop"], x["swing"]
    return [(i, Setup(symbols[i], "long", e["score"][i], c[i], stop[i], f"ema{p.ema_period}",
                      [swing[i], c[i] + 2 * (round(c[i], 2) - round(stop[i], 2))]))
            for i in np.flatnonzero(e["hit"])]
