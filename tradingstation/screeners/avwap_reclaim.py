"""AVWAP Reclaim: a close back above an anchored VWAP that price had been trading below."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from tradingstation.anchors import find_anchors
from tradingstation.indicators import anchored_vwap, average_volume, sma
from tradingstation.screeners import views
from tradingstation.screeners.base import (
    Screener,
    ScreenerParams,
    ScreenInput,
    build_signal,
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
        p = params
        view = views.daily_view(data)
        d = view.panel
        n = len(d.index)
        if n < p.reclaim_days + 2:
            return []
        symbols = d.close.columns
        anchors = self._anchors(data, view, p)
        if anchors.empty:
            return []
        col_of = {s: i for i, s in enumerate(symbols)}
        m = len(symbols)

        h, lo, c = (getattr(d, f).iloc[-1].to_numpy() for f in ("high", "low", "close"))
        atr_now = views.daily_atr(data, p.atr_length).iloc[-1].to_numpy()
        trend = sma(d.close.iloc[-p.trend_sma:], p.trend_sma).iloc[-1].to_numpy()
        avg_vol = average_volume(d.volume.iloc[-(p.volume_length + 1):], p.volume_length)
        vol = d.volume.iloc[-1].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            vol_mult = vol / view.pace / avg_vol.iloc[-1].to_numpy()
            close_pos = np.where(h > lo, (c - lo) / (h - lo), 0.5)
        prior_close = d.close.iloc[-1 - p.reclaim_days:-1].to_numpy()

        ranks = anchors.groupby("symbol").cumcount().to_numpy()
        k_max = int(ranks.max()) + 1
        av_now = np.full((k_max, m), np.nan)
        av_then = np.full((k_max, m), np.nan)
        was_below = np.zeros((k_max, m), dtype=bool)
        cols_of = anchors["symbol"].map(col_of).to_numpy()
        anchor_row = np.full((k_max, m), -1)
        anchor_row[ranks, cols_of] = np.arange(len(anchors))
        significance = np.zeros((k_max, m))
        significance[ranks, cols_of] = self._significance(anchors)
        # Anchors of one date (a 52-week high that is also a swing high) are one level, not two.
        anchor_day = np.full((k_max, m), -1, dtype=np.int64)
        anchor_day[ranks, cols_of] = pd.DatetimeIndex(anchors["start"]).as_unit("ns").asi8
        hlcv = [getattr(d, f) for f in ("high", "low", "close", "volume")]
        need = max(p.reclaim_days, p.slope_days) + 1
        start_arr = anchors["start"].array  # tz-aware; to_numpy() would box every timestamp
        for k in range(k_max):
            sel = ranks == k
            sub_cols = cols_of[sel]
            starts = pd.Series(start_arr[sel], index=symbols[sub_cols])
            # Only the symbols with a k-th anchor and the rows from the earliest such anchor on
            # matter; later ranks are recent anchors, so this keeps the work small.
            first_row = int(np.searchsorted(d.index, starts.min()))
            part = [f.iloc[first_row:, sub_cols] for f in hlcv]
            frame = anchored_vwap(*part, starts)
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

        with np.errstate(invalid="ignore", divide="ignore"):
            gap_atr = (c - av_now) / atr_now
            reclaim = (c > av_now) & was_below
            quality = (close_pos >= p.strong_close).astype(float) + (gap_atr >= p.decisive_atr)
            volume = np.where(vol_mult >= p.volume_full, 2.0,
                              np.where(vol_mult >= p.volume_half, 1.0, 0.0))
            slope = (av_now > av_then).astype(float)
            not_extended = (gap_atr <= p.max_extension_atr).astype(float)
            near = np.abs(av_now[:, None, :] - av_now[None, :, :]) <= (p.confluence_atr * atr_now)
            near &= anchor_day[:, None, :] != anchor_day[None, :, :]
            near_sma = np.abs(av_now - trend) <= p.confluence_atr * atr_now
            confluence = (near.any(axis=1) | near_sma).astype(float)
            in_trend = (c > trend).astype(float)
            total = (significance + quality + volume[None, :] + slope + not_extended
                     + confluence + in_trend[None, :])
            total = np.where(reclaim, total, -1.0)
        best = np.nan_to_num(total, nan=-1.0).argmax(axis=0)
        cols = np.arange(m)
        best_score = total[best, cols]

        hits = np.flatnonzero(best_score >= p.min_score)
        picked = anchors.iloc[anchor_row[best[hits], hits]]
        ages = n - 1 - np.searchsorted(d.index, pd.DatetimeIndex(picked["start"]))
        records = picked[["anchor_type", "anchor_date", "strength"]].to_dict("records")
        signals = []
        for j, row, age in zip(hits, records, ages, strict=True):
            k, sym = best[j], symbols[j]
            av_k = av_now[k, j]
            stop = av_k - p.stop_atr * atr_now[j]
            other = ("another AVWAP" if near[k, :, j].any() else f"SMA{p.trend_sma}") \
                if confluence[k, j] else "nothing"
            reasons = [
                f"closed {fmt_price(c[j])} back above the AVWAP {fmt_price(av_k)} anchored at "
                f"the {row['anchor_type'].replace('_', ' ')} of {fmt_date(row['anchor_date'])} "
                f"after closing below it within {p.reclaim_days} sessions; score "
                f"{total[k, j]:.0f}/10 (need {p.min_score:g})",
                f"anchor significance {significance[k, j]:.0f}/2 "
                f"({row['anchor_type']} strength {row['strength']:.2f})",
                f"reclaim quality {quality[k, j]:.0f}/2: close at {close_pos[j]:.0%} of the "
                f"day's range, {gap_atr[k, j]:.2f} ATR above the AVWAP",
                f"volume {volume[j]:.0f}/2: {fmt_mult(vol_mult[j])} the {p.volume_length}-day "
                f"average (2 at {fmt_mult(p.volume_full)}, 1 at {fmt_mult(p.volume_half)})",
                f"AVWAP slope {slope[k, j]:.0f}/1: {fmt_price(av_k)} vs "
                f"{fmt_price(av_then[k, j])} {min(p.slope_days, age)} sessions ago",
                f"not extended {not_extended[k, j]:.0f}/1: {gap_atr[k, j]:.2f} ATR above "
                f"(limit {p.max_extension_atr:g}); confluence {confluence[k, j]:.0f}/1: "
                f"{other} within {p.confluence_atr:g} ATR",
                f"trend {in_trend[j]:.0f}/1: close {fmt_price(c[j])} vs SMA{p.trend_sma} "
                f"{fmt_price(trend[j])}; stop {fmt_price(stop)} = AVWAP - {p.stop_atr:g} ATR",
            ]
            signal = build_signal(
                screener=self.name, symbol=sym, data=data, direction="long",
                status="triggered", score=total[k, j], entry=c[j], stop=stop,
                trigger=f"{row['anchor_type']}-{fmt_date(row['anchor_date'])}", reasons=reasons,
                metrics={LAST_PRICE_METRIC: c[j],
                         "avwap": av_k, "avwap_prior": av_then[k, j], "atr": atr_now[j],
                         "volume_multiple": vol_mult[j], "close_position": close_pos[j],
                         "sma_trend": trend[j], "anchor_strength": row["strength"],
                         "score_significance": significance[k, j],
                         "score_quality": quality[k, j], "score_volume": volume[j],
                         "score_slope": slope[k, j], "score_not_extended": not_extended[k, j],
                         "score_confluence": confluence[k, j], "score_trend": in_trend[j]},
                data_as_of=view.newest.get(sym),
            )
            if signal is not None:
                signals.append(signal)
        return signals

    @staticmethod
    def _significance(anchors: pd.DataFrame) -> np.ndarray:
        """Significance points 0-2 of each anchor row (see the class docstring)."""
        kind = anchors["anchor_type"]
        bar = kind.map(MAJOR_STRENGTH).astype("float64").fillna(np.inf)
        major = kind.isin(ALWAYS_MAJOR) | (anchors["strength"].astype("float64") >= bar)
        return np.where(major, 2.0, 1.0)

    @staticmethod
    def _anchors(data: ScreenInput, view: views.DailyView, p: AvwapReclaimParams) -> pd.DataFrame:
        """Anchors dated before the evaluated bar, with a ``start`` timestamp column."""
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
