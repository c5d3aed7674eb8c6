"""Breakout: a close above a tight multi-session base on heavy volume."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from tradingstation.data.panel import Panel
from tradingstation.indicators import average_volume
from tradingstation.screeners import views
from tradingstation.screeners.base import (
    Screener,
    ScreenerParams,
    ScreenInput,
    Setup,
    build_setup,
    fmt_mult,
    fmt_pct,
    fmt_price,
    fmt_volume,
    ramp,
)
from tradingstation.signals import LAST_PRICE_METRIC, Signal


class BreakoutParams(ScreenerParams):
    """Base shape, breakout volume and risk cap."""

    min_consolidation_days: int = Field(5, ge=1, le=250, description="Shortest base (sessions).")
    max_base_days: int = Field(60, ge=1, le=250, description="Longest base looked back over.")
    max_depth: float = Field(0.15, gt=0, lt=1, description="Base (high - low) / high.")
    tight_days: int = Field(5, ge=1, le=60, description="Sessions at the end of the base ...")
    max_tight_range: float = Field(0.10, gt=0, lt=1, description="... whose range stays under.")
    volume_multiple: float = Field(1.5, gt=0, description="Volume pace vs the average.")
    volume_length: int = Field(50, ge=1, le=250, description="Sessions in the volume average.")
    max_risk: float = Field(0.08, gt=0, lt=1, description="Stop at most this far below entry.")

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        if self.max_base_days < self.min_consolidation_days:
            raise ValueError("max_base_days must be at least min_consolidation_days")
        return self


def base_shape(high: np.ndarray, low: np.ndarray, max_days: int) -> dict[str, np.ndarray]:
    """Longest tight base ending at the last row of ``high``/``low`` (rows = sessions).

    Walks back from the newest session: row k of the running max/min covers the newest k+1
    sessions. Returns per column ``depth`` (k+1 sessions, rows), ``high``/``low`` running
    extremes and ``valid`` (the column has a bar at every one of those sessions).
    """
    h = high[::-1][:max_days]
    lo = low[::-1][:max_days]
    valid = np.logical_and.accumulate(~np.isnan(h) & ~np.isnan(lo), axis=0)
    run_high = np.fmax.accumulate(h, axis=0)
    run_low = np.fmin.accumulate(lo, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        depth = (run_high - run_low) / run_high
    return {"depth": depth, "high": run_high, "low": run_low, "valid": valid}


class Breakout(Screener):
    """Breakout from a consolidation base (long only).

    The evaluated bar is today's (see ``views.daily_view``); the base is the sessions just
    before it. Base length = the most sessions (up to ``max_base_days``) whose depth
    ``(highest high - lowest low) / highest high`` stays <= ``max_depth``; it must be >=
    ``min_consolidation_days``, and the last ``tight_days`` sessions of the base must range
    <= ``max_tight_range``. The close must be above the base high, and the volume pace (today's
    volume divided by the elapsed share of the session; the full volume for a complete bar) must
    be >= ``volume_multiple`` x the average of the prior ``volume_length`` sessions.

    Entry = close; stop = max(breakout-day low, base low), raised to ``entry x (1 -
    max_risk)`` when the risk would exceed ``max_risk``; targets 1R/2R/3R.

    Score (0-10): volume 0-3 (full at 2.5x ``volume_multiple``), tightness of the last days
    0-3, base length 0-2 (full at 4x the minimum), close strength in the day's range 0-2.
    """

    name = "breakout"
    params_model = BreakoutParams
    summary = "close above a >=5-session base (depth <=15%, last 5 days <=10%) on 1.5x volume"

    def find(self, data: ScreenInput, params: BreakoutParams) -> list[Signal]:
        """Breakouts on the evaluated daily bar."""
        view = views.daily_view(data)
        d = view.panel
        if len(d.index) < params.min_consolidation_days + 1:
            return []
        x = breakout_inputs(d, params)
        e = evaluate_breakout(x, params, view.pace)
        return breakout_signals(data, view, d.close.columns, x, e, params)


def breakout_inputs(d: Panel, p: BreakoutParams) -> dict[str, np.ndarray]:
    """Per symbol, the base before the panel's last (evaluated) row and that row's numbers."""
    shape = base_shape(
        d.high.to_numpy()[:-1], d.low.to_numpy()[:-1], min(p.max_base_days, len(d.index) - 1)
    )
    good = shape["valid"] & (shape["depth"] <= p.max_depth)
    base_len = np.logical_and.accumulate(good, axis=0).sum(axis=0)
    at_len = np.maximum(base_len - 1, 0)
    cols = np.arange(len(d.close.columns))
    tight_at = np.maximum(np.minimum(p.tight_days, base_len) - 1, 0)
    x = {f: getattr(d, f).iloc[-1].to_numpy() for f in ("open", "high", "low", "close", "volume")}
    tail = d.volume.iloc[-(p.volume_length + 1):]
    x.update(
        base_len=base_len,
        base_high=shape["high"][at_len, cols],
        base_low=shape["low"][at_len, cols],
        depth=shape["depth"][at_len, cols],
        tight=shape["depth"][tight_at, cols],
        avg_volume=average_volume(tail, p.volume_length).iloc[-1].to_numpy(),
    )
    return x


def evaluate_breakout(x: Mapping[str, np.ndarray], p: BreakoutParams,
                      pace: float) -> dict[str, Any]:
    """Conditions, stop and score of :func:`breakout_inputs` (any shape, element-wise).

    ``pace`` is the evaluated bar's share of its session (1 for a complete bar).
    """
    h, lo, c = x["high"], x["low"], x["close"]
    base_len, tight, base_low = x["base_len"], x["tight"], x["base_low"]
    pace_vol = x["volume"] / pace
    with np.errstate(invalid="ignore", divide="ignore"):
        mult = pace_vol / x["avg_volume"]
        close_pos = np.where(h > lo, (c - lo) / (h - lo), 1.0)
        hit = (
            (base_len >= p.min_consolidation_days)
            & (tight <= p.max_tight_range)
            & (c > x["base_high"])
            & (mult >= p.volume_multiple)
        )
    stop = np.where(lo < c, np.maximum(lo, base_low), base_low)
    capped = (c - stop) > p.max_risk * c
    stop = np.where(capped, c * (1 - p.max_risk), stop)
    score = (
        ramp(mult, p.volume_multiple, 2.5 * p.volume_multiple, 3.0)
        + ramp(p.max_tight_range - tight, 0, p.max_tight_range, 3.0)
        + ramp(base_len, p.min_consolidation_days, 4 * p.min_consolidation_days, 2.0)
        + ramp(close_pos, 0.5, 1.0, 2.0)
    )
    return {"pace_volume": pace_vol, "mult": mult, "close_pos": close_pos, "hit": hit,
            "stop": stop, "capped": capped, "score": score}


def breakout_signals(data: ScreenInput, view: views.DailyView | views.ViewTimes,
                     symbols: pd.Index, x: Mapping[str, np.ndarray], e: Mapping[str, Any],
                     p: BreakoutParams) -> list[Signal]:
    """The signals of the symbols :func:`evaluate_breakout` hit (1-D arrays, one per symbol)."""
    o, lo, c, vol = x["open"], x["low"], x["close"], x["volume"]
    base_len, base_high, base_low = x["base_len"], x["base_high"], x["base_low"]
    depth, tight, avg_vol = x["depth"], x["tight"], x["avg_volume"]
    pace_vol, mult, close_pos = e["pace_volume"], e["mult"], e["close_pos"]
    stop, capped = e["stop"], e["capped"]
    signals = []
    for i, setup in breakout_setups(symbols, x, e):
        vol_text = (
            f"volume pace {fmt_volume(pace_vol[i])} ({fmt_volume(vol[i])} at "
            f"{view.pace:.0%} of the session)" if view.partial
            else f"volume {fmt_volume(vol[i])}"
        )
        stop_text = (
            f"capped at {p.max_risk:.0%} below entry" if capped[i]
            else f"max(breakout-day low {fmt_price(lo[i])}, base low {fmt_price(base_low[i])})"
        )
        reasons = [
            f"closed {fmt_price(c[i])} above the {base_len[i]}-session base high "
            f"{fmt_price(base_high[i])} ({fmt_pct(c[i] / base_high[i] - 1)})",
            f"base depth {depth[i]:.1%} (max {p.max_depth:.0%}); last "
            f"{min(p.tight_days, base_len[i])} sessions range {tight[i]:.1%} "
            f"(max {p.max_tight_range:.0%})",
            f"{vol_text} = {fmt_mult(mult[i])} the {p.volume_length}-day average "
            f"{fmt_volume(avg_vol[i])} (need {fmt_mult(p.volume_multiple)})",
            f"stop {fmt_price(stop[i])} = {stop_text}",
        ]
        signal = build_setup(
            setup, screener=Breakout.name, data=data, reasons=reasons,
            metrics={LAST_PRICE_METRIC: c[i],
                     "base_days": base_len[i], "base_high": base_high[i],
                     "base_low": base_low[i], "base_depth_pct": depth[i] * 100,
                     "tight_range_pct": tight[i] * 100, "volume": vol[i],
                     "volume_pace": pace_vol[i], "volume_multiple": mult[i],
                     "open": o[i], "close_position": close_pos[i]},
            data_as_of=view.newest.get(setup.symbol),
        )
        if signal is not None:
            signals.append(signal)
    return signals


def breakout_setups(symbols: Sequence[str], x: Mapping[str, np.ndarray],
                    e: Mapping[str, Any]) -> list[tuple[int, Setup]]:
    """The setup of each symbol :func:`evaluate_breakout` hit, with its position."""
    return [(i, Setup(symbols[i], "long", e["score"][i], x["close"][i], e["stop"][i],
                      f"base-{x['base_len'][i]}d"))
            for i in np.flatnonzero(e["hit"])]
