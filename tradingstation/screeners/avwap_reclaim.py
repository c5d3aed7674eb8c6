"""AVWAP Reclaim: a close back above an anchored VWAP that price had been trading below."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from tradingstation.anchors import find_anchors
from tradingstation.data.panel import Panel
from tradingstation.indicators import anchored_vwap, average_volume, sma
from tradingstation.screeners import views
from tradingstation.screeners.base import (
    Screener,
    ScreenerParams,
    ScreenInput,
    Setup,
    build_setup,
    fmt_date,
    fmt_mult,
    fmt_price,
)
from tradingstation.signals import LAST_PRICE_METRIC, Signal

# Anchor significance 0-2: the events the market remembers most score 2 outright; the others
# score 2 when their strength (see tradingstation.anchors) clears the bar below, else 1.
# Every symbol has a highest-volume day in any window, so it is major only when it stands out.
ALWAYS_MAJOR = {"high_52w", "low_52w", "earnings"}
MAJOR_STRENGTH = {"gap_up": 0.06, "gap_down": 0.06, "volume_spike": 3.0, "highest_volume": 2.0,
                  "swing_high": 0.10, "swing_low": 0.10}


class AvwapReclaimParams(ScreenerParams):
    """Score threshold and the knobs of the seven score components."""

    min_score: float = Field(7.0, ge=0, le=10, description="Lowest score reported (0-10).")
    lookback_days: int = Field(30, ge=1, le=250, description="Anchor lookback when anchors "
                                                             "are computed here.")
    reclaim_days: int = Field(1, ge=1, le=20, description="Closed below within this many "
                                                          "sessions before today (1 = the "
                                                          "reclaim happens today).")
    atr_length: int = Field(14, ge=1, le=250, description="ATR length.")
    volume_length: int = Field(20, ge=1, le=250, description="Sessions in the volume average.")
    volume_full: float = Field(1.5, gt=0, description="Volume multiple worth 2 points.")
    volume_half: float = Field(1.2, gt=0, description="Volume multiple worth 1 point.")
    slope_days: int = Field(5, ge=1, le=60, description="AVWAP rising over this many sessions.")
    max_extension_atr: float = Field(1.0, gt=0, description="Not extended: close - AVWAP <= this "
                                                            "x ATR.")
    confluence_atr: float = Field(0.25, gt=0, description="Another level within this x ATR.")
    strong_close: float = Field(0.7, ge=0, le=1, description="Close in the top (1 - this) of "
                                                             "the range: 1 quality point.")
    decisive_atr: float = Field(0.25, ge=0, description="Close this many ATRs above the AVWAP: "
                                                       "1 quality point.")
    trend_sma: int = Field(50, ge=2, le=250, description="Trend SMA.")
    stop_atr: float = Field(0.25, ge=0, le=5, description="Stop this many ATRs under the AVWAP.")


class AvwapReclaim(Screener):
    """AVWAP Reclaim (long only).

    For every anchor of a symbol (``data.anchors``, else ``anchors.find_anchors`` on the
    daily bars with ``lookback_days``) dated before the evaluated bar, the anchored VWAP is
    computed over the daily bars (today's bar built from 1-min bars when the session is in
    progress, see ``views.daily_view``). A reclaim: today's close > AVWAP and at least one
    close below it during the prior ``reclaim_days`` sessions.

    Anchors dated the same day count as one level for confluence.

    Score (0-10) = anchor significance 0-2 (52-week extremes and earnings 2; gaps >= 6%,
    volume spikes >= 3x, a highest-volume day >= 2x the window mean, swings >= 10% prominent 2;
    other anchors 1) + reclaim quality 0-2 (1 for closing at or above ``strong_close`` of the
    day's range, 1 for closing at least ``decisive_atr`` ATR above the AVWAP)
    + volume 0-2 (pace >= ``volume_full`` x the prior
    ``volume_length``-day average: 2; >= ``volume_half``: 1) + AVWAP slope 0-1 (above its value
    ``slope_days`` sessions ago) + not extended 0-1 (close - AVWAP <= ``max_extension_atr``
    ATR) + confluence 0-1 (another anchor's AVWAP or the SMA(``trend_sma``) within
    ``confluence_atr`` ATR of this AVWAP) + trend 0-1 (close > SMA(``trend_sma``)).
    The best-scoring anchor of each symbol is reported when it scores >= ``min_score``.

    Entry = close; stop = AVWAP - ``stop_atr`` x ATR (capped below the day's low is not
    needed: the close is above the AVWAP); targets 1R/2R/3R.
    """

    name = "avwap_reclaim"
    params_model = AvwapReclaimParams
    summary = "close back above an anchored VWAP, scored 0-10 on seven components"

    def find(self, data: ScreenInput, params: AvwapReclaimParams) -> list[Signal]:
        """Reclaims of anchored VWAPs scoring at least ``min_score``."""
        view = views.daily_view(data)
        d = view.panel
        if len(d.index) < params.reclaim_days + 2:
            return []
        anchors = session_anchors(data, view, params)
        if anchors.empty:
            return []
        x = reclaim_inputs(data, params)
        levels = anchor_levels(d, anchors, params)
        scores = score_reclaims(x, levels, params, view.pace)
        return reclaim_signals(data, view.newest, d.close.columns, x, levels, scores, params)


def session_anchors(data: ScreenInput, view: views.DailyView,
                    p: AvwapReclaimParams) -> pd.DataFrame:
    """Anchors dated before the evaluated bar, sorted by symbol and date.

    Anchors dated before the evaluated bar, with a ``start`` timestamp column, sorted by symbol and
    date (``data.anchors``, else :func:`find_anchors` on the bars before it).
    """
    anchors = data.anchors
    if anchors is None:
        history = views.rows(view.panel, view.panel.index < view.when)
        anchors = find_anchors(history, lookback_days=p.lookback_days)
    if anchors.empty:
        return anchors
    out = anchors[anchors["symbol"].isin(view.panel.close.columns)].copy()
    codes, days = pd.factorize(out["anchor_date"])  # few distinct days: parse each once
    stamps = pd.to_datetime([str(day)[:10] for day in days]).tz_localize("UTC")
    out["start"] = stamps[codes] if len(codes) else stamps
    out = out[out["start"] < view.when]
    return out.sort_values(["symbol", "start"], kind="stable").reset_index(drop=True)


def significance_points(kind: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Significance points 0-2 of anchors of types ``kind`` (see the class docstring)."""
    codes, kinds = pd.factorize(np.asarray(kind, dtype=object))  # a few types: look up each once
    bar = np.array([MAJOR_STRENGTH.get(k, np.inf) for k in kinds] + [np.inf], "float64")[codes]
    always = np.array([k in ALWAYS_MAJOR for k in kinds] + [False], bool)[codes]
    major = always | (np.asarray(strength, "float64") >= bar)
    return np.where(major, 2.0, 1.0)


def reclaim_inputs(data: ScreenInput, p: AvwapReclaimParams) -> dict[str, np.ndarray]:
    """Per symbol, the daily view's evaluated row and the closes of the ``reclaim_days`` before."""
    d = views.daily_view(data).panel
    x = {f: getattr(d, f).iloc[-1].to_numpy() for f in ("high", "low", "close", "volume")}
    avg_vol = average_volume(d.volume.iloc[-(p.volume_length + 1):], p.volume_length)
    x.update(
        atr=views.daily_atr(data, p.atr_length).iloc[-1].to_numpy(),
        trend=sma(d.close.iloc[-p.trend_sma:], p.trend_sma).iloc[-1].to_numpy(),
        avg_volume=avg_vol.iloc[-1].to_numpy(),
        prior_close=d.close.iloc[-1 - p.reclaim_days:-1].to_numpy(),
    )
    return x


@dataclass(frozen=True)
class AnchorLevels:
    """Each symbol's anchors as ``(rank, symbol)`` arrays.

    Rank k is a symbol's k-th anchor in date order. A symbol with fewer anchors has empty slots:
    kind None, day -1, NaN levels.

    Attributes:
        kind, date, strength: The anchor's type, date and strength (:mod:`tradingstation.anchors`).
        day: The anchor's start as int64 nanoseconds: anchors of one day are one level.
        age: Sessions (rows) from the anchor bar to the evaluated bar.
        significance: Points 0-2 (:func:`significance_points`).
        av_now: The AVWAP on the evaluated bar.
        av_then: The AVWAP ``slope_days`` rows earlier (a younger anchor's: its first value).
        was_below: A close under the AVWAP in the ``reclaim_days`` rows before.
    """

    kind: np.ndarray
    date: np.ndarray
    strength: np.ndarray
    day: np.ndarray
    age: np.ndarray
    significance: np.ndarray
    av_now: np.ndarray
    av_then: np.ndarray
    was_below: np.ndarray


def rank_table(ranks: np.ndarray, cols: np.ndarray, shape: tuple[int, int], values: Any,
               fill: Any, dtype: Any) -> np.ndarray:
    """A ``(rank, symbol)`` array holding ``values`` at ``(ranks, cols)`` and ``fill`` elsewhere."""
    out = np.full(shape, fill, dtype=dtype)
    out[ranks, cols] = values
    return out


def anchor_levels(d: Panel, anchors: pd.DataFrame, p: AvwapReclaimParams) -> AnchorLevels:
    """The anchors of :func:`session_anchors` and their AVWAPs on the panel's last rows."""
    col_of = {s: i for i, s in enumerate(d.close.columns)}
    ranks = anchors.groupby("symbol").cumcount().to_numpy()
    cols = anchors["symbol"].map(col_of).to_numpy()
    shape = (int(ranks.max()) + 1, len(col_of))
    starts = pd.DatetimeIndex(anchors["start"])
    kind = anchors["anchor_type"].to_numpy(dtype=object)
    strength = anchors["strength"].to_numpy(dtype="float64")
    ages = len(d.index) - 1 - np.searchsorted(d.index, starts)
    av_now, av_then, was_below = _avwaps(d, anchors, ranks, cols, shape, p)
    return AnchorLevels(
        kind=rank_table(ranks, cols, shape, kind, None, object),
        date=rank_table(ranks, cols, shape, anchors["anchor_date"].to_numpy(), None, object),
        strength=rank_table(ranks, cols, shape, strength, np.nan, "float64"),
        day=rank_table(ranks, cols, shape, starts.as_unit("ns").asi8, -1, np.int64),
        age=rank_table(ranks, cols, shape, ages, -1, np.int64),
        significance=rank_table(ranks, cols, shape, significance_points(kind, strength), 0.0,
                                "float64"),
        av_now=av_now, av_then=av_then, was_below=was_below,
    )


def _avwaps(d: Panel, anchors: pd.DataFrame, ranks: np.ndarray, cols: np.ndarray,
            shape: tuple[int, int], p: AvwapReclaimParams) -> tuple[np.ndarray, ...]:
    """``av_now``, ``av_then``, ``was_below`` of :class:`AnchorLevels`, one rank at a time."""
    symbols = d.close.columns
    av_now, av_then = np.full(shape, np.nan), np.full(shape, np.nan)
    was_below = np.zeros(shape, dtype=bool)
    prior_close = d.close.iloc[-1 - p.reclaim_days:-1].to_numpy()
    hlcv = [getattr(d, f) for f in ("high", "low", "close", "volume")]
    need = max(p.reclaim_days, p.slope_days) + 1
    start_arr = anchors["start"].array  # tz-aware; to_numpy() would box every timestamp
    for k in range(shape[0]):
        sel = ranks == k
        sub_cols = cols[sel]
        starts = pd.Series(start_arr[sel], index=symbols[sub_cols])
        # Only the symbols with a k-th anchor and the rows from the earliest such anchor on
        # matter; later ranks are recent anchors, so this keeps the work small.
        first_row = int(np.searchsorted(d.index, starts.min()))
        frame = anchored_vwap(*[f.iloc[first_row:, sub_cols] for f in hlcv], starts)
        av = frame.to_numpy()
        if len(av) < need + 1:
            av = np.vstack([np.full((need + 1 - len(av), len(sub_cols)), np.nan), av])
        av_now[k, sub_cols] = av[-1]
        # A younger anchor's slope is measured from its own first bar.
        then = av[-1 - p.slope_days]
        first = views.first_values(frame).to_numpy()
        av_then[k, sub_cols] = np.where(np.isnan(then), first, then)
        with np.errstate(invalid="ignore"):
            below = prior_close[:, sub_cols] < av[-1 - p.reclaim_days:-1]
        was_below[k, sub_cols] = below.any(axis=0)
    return av_now, av_then, was_below


def score_reclaims(x: Mapping[str, np.ndarray], lv: AnchorLevels, p: AvwapReclaimParams,
                   pace: float) -> dict[str, np.ndarray]:
    """The seven score components of every anchor and the best reclaim of each symbol."""
    h, lo, c, atr_now, trend = x["high"], x["low"], x["close"], x["atr"], x["trend"]
    av_now = lv.av_now
    with np.errstate(invalid="ignore", divide="ignore"):
        vol_mult = x["volume"] / pace / x["avg_volume"]
        close_pos = np.where(h > lo, (c - lo) / (h - lo), 0.5)
        gap_atr = (c - av_now) / atr_now
        reclaim = (c > av_now) & lv.was_below
        quality = (close_pos >= p.strong_close).astype(float) + (gap_atr >= p.decisive_atr)
        volume = np.where(vol_mult >= p.volume_full, 2.0,
                          np.where(vol_mult >= p.volume_half, 1.0, 0.0))
        slope = (av_now > lv.av_then).astype(float)
        not_extended = (gap_atr <= p.max_extension_atr).astype(float)
        near = np.abs(av_now[:, None, :] - av_now[None, :, :]) <= (p.confluence_atr * atr_now)
        near &= lv.day[:, None, :] != lv.day[None, :, :]
        near_sma = np.abs(av_now - trend) <= p.confluence_atr * atr_now
        confluence = (near.any(axis=1) | near_sma).astype(float)
        in_trend = (c > trend).astype(float)
        total = (lv.significance + quality + volume[None, :] + slope + not_extended
                 + confluence + in_trend[None, :])
        total = np.where(reclaim, total, -1.0)
    best = np.nan_to_num(total, nan=-1.0).argmax(axis=0)
    return {"vol_mult": vol_mult, "close_pos": close_pos, "gap_atr": gap_atr,
            "quality": quality, "volume": volume, "slope": slope, "not_extended": not_extended,
            "near": near, "confluence": confluence, "in_trend": in_trend, "total": total,
            "best": best}


def reclaim_setups(symbols: Sequence[str], x: Mapping[str, np.ndarray], lv: AnchorLevels,
                   e: Mapping[str, np.ndarray],
                   p: AvwapReclaimParams) -> list[tuple[int, int, Setup]]:
    """The setup of each symbol whose best reclaim scores at least ``min_score``.

    The setup of each symbol whose best reclaim scores at least ``min_score``, with its anchor rank
    and position: stop ``stop_atr`` ATR under the AVWAP, targets 1R/2R/3R.
    """
    best, total = e["best"], e["total"]
    found = []
    for j in np.flatnonzero(total[best, np.arange(len(symbols))] >= p.min_score):
        k = int(best[j])
        stop = lv.av_now[k, j] - p.stop_atr * x["atr"][j]
        trigger = f"{lv.kind[k, j]}-{fmt_date(lv.date[k, j])}"
        found.append((k, j, Setup(symbols[j], "long", total[k, j], x["close"][j], stop, trigger)))
    return found


def reclaim_signals(data: ScreenInput, newest: pd.Series, symbols: Sequence[str],
                    x: Mapping[str, np.ndarray], lv: AnchorLevels,
                    e: Mapping[str, np.ndarray], p: AvwapReclaimParams) -> list[Signal]:
    """The signal of each symbol whose best reclaim scores at least ``min_score``."""
    signals = []
    for k, j, setup in reclaim_setups(symbols, x, lv, e, p):
        signal = build_setup(setup, screener=AvwapReclaim.name, data=data,
                             reasons=_reclaim_reasons(setup, k, j, x, lv, e, p),
                             metrics=_reclaim_metrics(k, j, x, lv, e),
                             data_as_of=newest.get(setup.symbol))
        if signal is not None:
            signals.append(signal)
    return signals


def _score_parts(k: int, j: int, lv: AnchorLevels,
                 e: Mapping[str, np.ndarray]) -> dict[str, float]:
    return {"significance": lv.significance[k, j], "quality": e["quality"][k, j],
            "volume": e["volume"][j], "slope": e["slope"][k, j],
            "not_extended": e["not_extended"][k, j], "confluence": e["confluence"][k, j],
            "trend": e["in_trend"][j]}


def _reclaim_reasons(setup: Setup, k: int, j: int, x: Mapping[str, np.ndarray],
                     lv: AnchorLevels, e: Mapping[str, np.ndarray],
                     p: AvwapReclaimParams) -> list[str]:
    """The sentences of symbol ``j`` reclaiming its ``k``-th anchor's AVWAP."""
    c, trend = x["close"][j], x["trend"][j]
    av_k, av_then = lv.av_now[k, j], lv.av_then[k, j]
    kind, day, strength = lv.kind[k, j], lv.date[k, j], lv.strength[k, j]
    gap_atr, vol_mult, close_pos = e["gap_atr"][k, j], e["vol_mult"][j], e["close_pos"][j]
    score = _score_parts(k, j, lv, e)
    other = ("another AVWAP" if e["near"][k, :, j].any() else f"SMA{p.trend_sma}") \
        if score["confluence"] else "nothing"
    return [
        f"closed {fmt_price(c)} back above the AVWAP {fmt_price(av_k)} anchored at "
        f"the {kind.replace('_', ' ')} of {fmt_date(day)} "
        f"after closing below it within {p.reclaim_days} sessions; score "
        f"{e['total'][k, j]:.0f}/10 (need {p.min_score:g})",
        f"anchor significance {score['significance']:.0f}/2 ({kind} strength {strength:.2f})",
        f"reclaim quality {score['quality']:.0f}/2: close at {close_pos:.0%} of the "
        f"day's range, {gap_atr:.2f} ATR above the AVWAP",
        f"volume {score['volume']:.0f}/2: {fmt_mult(vol_mult)} the {p.volume_length}-day "
        f"average (2 at {fmt_mult(p.volume_full)}, 1 at {fmt_mult(p.volume_half)})",
        f"AVWAP slope {score['slope']:.0f}/1: {fmt_price(av_k)} vs "
        f"{fmt_price(av_then)} {min(p.slope_days, lv.age[k, j])} sessions ago",
        f"not extended {score['not_extended']:.0f}/1: {gap_atr:.2f} ATR above "
        f"(limit {p.max_extension_atr:g}); confluence {score['confluence']:.0f}/1: "
        f"{other} within {p.confluence_atr:g} ATR",
        f"trend {score['trend']:.0f}/1: close {fmt_price(c)} vs SMA{p.trend_sma} "
        f"{fmt_price(trend)}; stop {fmt_price(setup.stop)} = AVWAP - {p.stop_atr:g} ATR",
    ]


def _reclaim_metrics(k: int, j: int, x: Mapping[str, np.ndarray], lv: AnchorLevels,
                     e: Mapping[str, np.ndarray]) -> dict[str, float]:
    return {LAST_PRICE_METRIC: x["close"][j], "avwap": lv.av_now[k, j],
            "avwap_prior": lv.av_then[k, j], "atr": x["atr"][j],
            "volume_multiple": e["vol_mult"][j], "close_position": e["close_pos"][j],
            "sma_trend": x["trend"][j], "anchor_strength": lv.strength[k, j],
            **{f"score_{name}": value for name, value in _score_parts(k, j, lv, e).items()}}
