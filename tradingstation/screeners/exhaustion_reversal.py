"""Exhaustion Reversal: an extended run ends in a high-volume reversal candle (both ways)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from tradingstation.indicators import average_volume, rsi, sma
from tradingstation.screeners import views
from tradingstation.screeners.base import (
    Screener,
    ScreenerParams,
    ScreenInput,
    Setup,
    build_setup,
    fmt_mult,
    fmt_price,
    fmt_volume,
    ramp,
)
from tradingstation.signals import LAST_PRICE_METRIC, Signal


class ExhaustionParams(ScreenerParams):
    """Extension, volume spike and reversal-candle thresholds."""

    volume_spike_threshold: float = Field(2.0, gt=0, le=100, description="Volume vs average.")
    volume_length: int = Field(20, ge=1, le=250, description="Sessions in the volume average.")
    extension_atr: float = Field(3.0, gt=0, le=50, description="Extreme vs SMA, in ATRs.")
    sma_length: int = Field(50, ge=2, le=250, description="SMA the extension is measured from.")
    atr_length: int = Field(14, ge=1, le=250, description="ATR length.")
    streak_days: int = Field(3, ge=1, le=20, description="Same-direction closes before today.")
    rsi_length: int = Field(14, ge=2, le=100, description="RSI length.")
    rsi_high: float = Field(75.0, gt=50, lt=100, description="Overbought RSI (up runs).")
    rsi_low: float = Field(25.0, gt=0, lt=50, description="Oversold RSI (down runs).")
    close_zone: float = Field(0.4, gt=0, le=0.5, description="Close within this far part of "
                                                             "the day's range.")
    stop_atr: float = Field(0.1, ge=0, le=5, description="Stop this many ATRs beyond the extreme.")


class ExhaustionReversal(Screener):
    """Exhaustion Reversal: short after up-exhaustion, long after down-exhaustion.

    On the evaluated daily bar, for an up-exhaustion (short; mirrored for long):

    * extension: today's high >= SMA(``sma_length``) + ``extension_atr`` x ATR, the ATR taken
      as of the prior session so the reversal day's own range does not dilute it; or at least
      ``streak_days`` consecutive higher closes up to the prior session with the prior
      session's RSI >= ``rsi_high``;
    * volume (pace) >= ``volume_spike_threshold`` x the average of the prior
      ``volume_length`` sessions;
    * reversal candle: the close is in the bottom ``close_zone`` of the day's range.

    Entry = close; stop = the day's high + ``stop_atr`` x ATR; targets SMA10 and SMA20 where
    they lie below entry (2R if neither does).

    Score (0-10): extension 0-3 (1 ATR → 0, ``extension_atr`` + 2 → 3), volume 0-3 (threshold →
    0, twice the threshold → 3), RSI extremity 0-2 (60 → 0, 85 → 2; mirrored), close location
    0-2 (edge of the zone → 0, the very extreme → 2).
    """

    name = "exhaustion_reversal"
    params_model = ExhaustionParams
    summary = "run >= 3 ATR from SMA50 (or RSI streak) ends in a 2x-volume reversal candle"

    def find(self, data: ScreenInput, params: ExhaustionParams) -> list[Signal]:
        """Reversal candles after extended runs, both directions."""
        view = views.daily_view(data)
        d = view.panel
        if not enough_rows(len(d.index), params):
            return []
        x = exhaustion_inputs(data, params)
        e = evaluate_exhaustion(x, params, view.pace)
        return exhaustion_signals(data, view.newest, d.close.columns, x, e, params)


def enough_rows(n: int, p: ExhaustionParams) -> bool:
    """Whether ``n`` daily rows (the evaluated one included) are enough to screen at all."""
    return n >= max(p.sma_length, p.volume_length + 1, p.streak_days + 2, 21)


def exhaustion_inputs(data: ScreenInput, p: ExhaustionParams) -> dict[str, np.ndarray]:
    """Per symbol, the numbers of the daily view's last (evaluated) row and the run before it."""
    d = views.daily_view(data).panel
    x = {f: getattr(d, f).iloc[-1].to_numpy() for f in ("open", "high", "low", "close", "volume")}
    tail20 = d.close.iloc[-20:]
    avg_vol = average_volume(d.volume.iloc[-(p.volume_length + 1):], p.volume_length)
    x.update(
        base=sma(d.close.iloc[-p.sma_length:], p.sma_length).iloc[-1].to_numpy(),
        sma10=sma(tail20.iloc[-10:], 10).iloc[-1].to_numpy(),
        sma20=sma(tail20, 20).iloc[-1].to_numpy(),
        atr_prev=views.daily_atr(data, p.atr_length).iloc[-2].to_numpy(),
        rsi_prev=rsi(d.close, p.rsi_length).iloc[-2].to_numpy(),
        avg_volume=avg_vol.iloc[-1].to_numpy(),
        steps=np.diff(d.close.iloc[-(p.streak_days + 2):-1].to_numpy(), axis=0),
    )
    return x


def evaluate_exhaustion(x: Mapping[str, np.ndarray], p: ExhaustionParams,
                        pace: float) -> dict[str, Any]:
    """Conditions and scores of :func:`exhaustion_inputs`, element-wise.

    Conditions and scores of :func:`exhaustion_inputs`, element-wise (``steps`` has the streak's
    closes on its first axis, the rest of its shape like the other inputs).
    """
    h, lo, c, base = x["high"], x["low"], x["close"], x["base"]
    atr_prev, rsi_prev, steps = x["atr_prev"], x["rsi_prev"], x["steps"]
    with np.errstate(invalid="ignore", divide="ignore"):
        mult = x["volume"] / pace / x["avg_volume"]
        close_pos = np.where(h > lo, (c - lo) / (h - lo), 0.5)
        ext_up = (h - base) / atr_prev
        ext_down = (base - lo) / atr_prev
        streak_up = (steps > 0).all(axis=0) & (rsi_prev >= p.rsi_high)
        streak_down = (steps < 0).all(axis=0) & (rsi_prev <= p.rsi_low)
        loud = mult >= p.volume_spike_threshold
        short = ((ext_up >= p.extension_atr) | streak_up) & loud & (close_pos <= p.close_zone)
        long = ((ext_down >= p.extension_atr) | streak_down) & loud & (
            close_pos >= 1 - p.close_zone
        )
        vol_pts = ramp(mult, p.volume_spike_threshold, 2 * p.volume_spike_threshold, 3.0)
        score_short = (
            ramp(ext_up, 1.0, p.extension_atr + 2.0, 3.0) + vol_pts
            + ramp(rsi_prev, 60.0, 85.0, 2.0)
            + ramp(p.close_zone - close_pos, 0, p.close_zone, 2.0)
        )
        score_long = (
            ramp(ext_down, 1.0, p.extension_atr + 2.0, 3.0) + vol_pts
            + ramp(100.0 - rsi_prev, 60.0, 85.0, 2.0)
            + ramp(close_pos - (1 - p.close_zone), 0, p.close_zone, 2.0)
        )
    return {"mult": mult, "close_pos": close_pos, "ext_up": ext_up, "ext_down": ext_down,
            "streak_up": streak_up, "streak_down": streak_down, "short": short, "long": long,
            "score_short": score_short, "score_long": score_long}


def exhaustion_signals(data: ScreenInput, newest: pd.Series, symbols: pd.Index,
                       x: Mapping[str, np.ndarray], e: Mapping[str, Any],
                       p: ExhaustionParams) -> list[Signal]:
    """The signals of the symbols :func:`evaluate_exhaustion` hit (1-D arrays, one per symbol)."""
    o, h, lo, c, vol = (x[f] for f in ("open", "high", "low", "close", "volume"))
    base, sma10, sma20 = x["base"], x["sma10"], x["sma20"]
    atr_prev, rsi_prev, avg_vol = x["atr_prev"], x["rsi_prev"], x["avg_volume"]
    mult, close_pos = e["mult"], e["close_pos"]
    signals = []
    for i, setup in exhaustion_setups(symbols, x, e, p):
        is_long, stop = setup.direction == "long", setup.stop
        ext = e["ext_down"][i] if is_long else e["ext_up"][i]
        run = "down" if is_long else "up"
        extreme = lo[i] if is_long else h[i]
        streak = e["streak_down"][i] if is_long else e["streak_up"][i]
        streak_text = (
            f"; {p.streak_days} {'lower' if is_long else 'higher'} closes in a row with "
            f"RSI{p.rsi_length} {rsi_prev[i]:.0f}" if streak else
            f"; RSI{p.rsi_length} {rsi_prev[i]:.0f} before today"
        )
        zone = "top" if is_long else "bottom"
        reasons = [
            f"{run}-run extension: {'low' if is_long else 'high'} {fmt_price(extreme)} is "
            f"{ext:.1f} ATR from SMA{p.sma_length} {fmt_price(base[i])} (ATR "
            f"{fmt_price(atr_prev[i])}, need {p.extension_atr:g}){streak_text}",
            f"volume {fmt_volume(vol[i])} = {fmt_mult(mult[i])} the {p.volume_length}-day "
            f"average {fmt_volume(avg_vol[i])} (need {fmt_mult(p.volume_spike_threshold)})",
            f"reversal candle: close {fmt_price(c[i])} at {close_pos[i]:.0%} of the day's "
            f"range {fmt_price(lo[i])}-{fmt_price(h[i])} (the {zone} "
            f"{p.close_zone:.0%} needed)",
            f"stop {fmt_price(stop)} = {p.stop_atr:g} ATR beyond the day's "
            f"{'low' if is_long else 'high'}; targets SMA10 {fmt_price(sma10[i])} / SMA20 "
            f"{fmt_price(sma20[i])}",
        ]
        signal = build_setup(
            setup, screener=ExhaustionReversal.name, data=data, reasons=reasons,
            metrics={LAST_PRICE_METRIC: c[i],
                     "extension_atr": ext, "volume_multiple": mult[i], "volume": vol[i],
                     "rsi_prior": rsi_prev[i], "close_position": close_pos[i],
                     "sma_base": base[i], "sma10": sma10[i], "sma20": sma20[i],
                     "atr": atr_prev[i], "open": o[i]},
            data_as_of=newest.get(setup.symbol),
        )
        if signal is not None:
            signals.append(signal)
    return signals


def exhaustion_setups(symbols: Sequence[str], x: Mapping[str, np.ndarray],
                      e: Mapping[str, Any], p: ExhaustionParams) -> list[tuple[int, Setup]]:
    """The setup of each symbol :func:`evaluate_exhaustion` hit, with its position.

    The stop beyond the day's extreme, targets SMA10/SMA20 on the right side (else 2R).
    """
    h, lo, c, atr_prev = x["high"], x["low"], x["close"], x["atr_prev"]
    sma10, sma20, long = x["sma10"], x["sma20"], e["long"]
    found = []
    for i in np.flatnonzero(e["short"] | long):
        is_long = bool(long[i])
        sign = 1.0 if is_long else -1.0
        stop = lo[i] - p.stop_atr * atr_prev[i] if is_long else h[i] + p.stop_atr * atr_prev[i]
        risk = (c[i] - stop) * sign
        targets = [t for t in (sma10[i], sma20[i]) if (t - c[i]) * sign > 0]
        targets = targets or [c[i] + sign * 2 * risk]
        direction = "long" if is_long else "short"
        score = e["score_long"][i] if is_long else e["score_short"][i]
        found.append((i, Setup(symbols[i], direction, score, c[i], stop, f"reversal-{direction}",
                               targets)))
    return found
