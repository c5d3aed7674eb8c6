"""Gap & Go: stocks gapping up on heavy premarket volume, bought over the premarket high."""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from tradingstation.data.volume_profile import usual_premarket_volume
from tradingstation.indicators import vwap_session
from tradingstation.screeners import views
from tradingstation.screeners.base import (
    Screener,
    ScreenerParams,
    ScreenInput,
    build_signal,
    fmt_mult,
    fmt_pct,
    fmt_price,
    fmt_time,
    fmt_volume,
    ramp,
)
from tradingstation.signals import LAST_PRICE_METRIC, Signal


class GapAndGoParams(ScreenerParams):
    """Gap & Go thresholds (fractions, shares, dollars)."""

    min_gap: float = Field(0.04, gt=0, lt=1, description="Gap vs prior close (0.04 = 4%).")
    min_premarket_volume: float = Field(100_000, ge=0, description="Shares traded 04:00-now.")
    min_premarket_rvol: float = Field(
        2.0, ge=0, description="Premarket volume vs the same time of day on recent sessions."
    )
    rvol_sessions: int = Field(10, ge=1, le=60, description="Sessions averaged for the rvol.")
    min_price: float = Field(2.0, gt=0, description="Lowest price traded.")
    max_price: float = Field(500.0, gt=0, description="Highest price traded.")

    @model_validator(mode="after")
    def _band(self) -> Self:
        if self.min_price >= self.max_price:
            raise ValueError(f"min_price {self.min_price} must be below max_price {self.max_price}")
        return self


class GapAndGo(Screener):
    """Gap & Go (long only).

    Conditions, all per symbol at ``as_of``:

    * gap = price / prior close - 1 >= ``min_gap``. Before the open the price is the newest
      premarket quote (quotes stamped today) or else the last premarket 1-min close; after
      the open it is the regular-session open.
    * premarket volume (04:00 up to now, or up to 09:30 after the open) >= ``min_premarket_volume``.
    * premarket relative volume >= ``min_premarket_rvol``: cumulative volume since the New York
      day start vs the mean at the same time of day over the prior ``rvol_sessions`` sessions
      on which the symbol traded: the sessions the 1-min panel holds, and the older ones from
      the stored premarket volume profile (``data.volume_profile``), since 1-min retention
      keeps only about a week. Without prior sessions the relative volume is unknown and the
      symbol does not qualify.
    * ``min_price <= price <= max_price``.

    Levels: entry = premarket high + 0.01 (a buy stop over the premarket range); stop = the
    higher of premarket low and premarket VWAP (the tighter of the two textbook stops; VWAP never
    exceeds the premarket high, so the stop stays below entry); targets 1R/2R/3R.

    Status: ``watch`` before 09:30. After the open ``triggered`` once a regular-session 1-min
    high reaches the entry; a setup whose price trades through the stop before triggering is
    dropped; otherwise it stays ``watch``.

    Score (4-10): gap 2-4 (4 at twice ``min_gap``), premarket volume 1-3 (3 at ten times the
    minimum), relative volume 1-3 (3 at ``min_premarket_rvol`` + 3).
    """

    name = "gap_and_go"
    params_model = GapAndGoParams
    summary = "gap >= 4% on premarket volume >= 100k and rvol; entry over the premarket high"

    def find(self, data: ScreenInput, params: GapAndGoParams) -> list[Signal]:
        """Signals of stocks gapping up on heavy premarket volume."""
        p = params
        intraday = views.intraday_seen(data)
        if intraday is None:
            return []
        hours = views.session_hours(data.session)
        opened = data.as_of_ts >= hours.market_open
        pm = views.day_window(intraday, data.session, hours.premarket_open, hours.market_open)
        if not len(pm.index):
            return []
        symbols = pm.close.columns
        prev_close = views.last_values(views.prior_daily(data).close).reindex(symbols)

        pm_high, pm_low = pm.high.max(), pm.low.min()
        pm_volume = pm.volume.sum(min_count=1)
        pm_vwap = views.last_values(vwap_session(pm.high, pm.low, pm.close, pm.volume))
        pm_last_time = views.last_times(pm.volume.where(pm.volume > 0))
        last_bar = views.last_times(pm.volume).reindex(symbols)
        minute = (last_bar - hours.premarket_open) // views.ONE_MINUTE
        usual = usual_premarket_volume(intraday.volume, data.session, minute, p.rvol_sessions,
                                       data.volume_profiles)
        rvol = (pm.volume.sum() / usual.where(usual > 0)).reindex(symbols)

        quotes = views.latest_quotes(data)
        quotes = quotes[quotes["timestamp"] >= hours.premarket_open]
        price = quotes["price"].astype("float64").reindex(symbols)
        source = pd.Series(np.where(price.notna(), "premarket quote", "premarket price"), symbols)
        price = price.fillna(views.last_values(pm.close))
        regular = views.day_window(intraday, data.session, hours.market_open, hours.market_close)
        if opened and len(regular.index):
            open_price = views.first_values(regular.open).reindex(symbols)
            source = source.where(open_price.isna(), "open")
            price = open_price.fillna(price)

        gap = price / prev_close - 1.0
        entry = pm_high + 0.01
        stop = np.maximum(pm_low, pm_vwap.fillna(pm_low))
        hit = (
            (gap >= p.min_gap)
            & (pm_volume >= p.min_premarket_volume)
            & (rvol >= p.min_premarket_rvol)
            & (price >= p.min_price)
            & (price <= p.max_price)
            & (stop < entry)
        )
        score = (
            2.0 + ramp(gap, p.min_gap, 2 * p.min_gap, 2.0)
            + 1.0 + ramp(np.log10(pm_volume / max(p.min_premarket_volume, 10_000.0)), 0, 1, 2.0)
            + 1.0 + ramp(rvol, p.min_premarket_rvol, p.min_premarket_rvol + 3.0, 2.0)
        )
        if opened and len(regular.index):
            crossed = regular.high.reindex(columns=symbols).ge(entry, axis=1)
            # A stop hit before the entry ever traded invalidates the setup for the day.
            stopped = regular.low.reindex(columns=symbols).le(stop, axis=1) & ~crossed.cummax()
            triggered = crossed.any()
            failed = stopped.any() & ~triggered
            trigger_time = crossed.idxmax()
        else:
            triggered = pd.Series(False, index=symbols)
            failed = pd.Series(False, index=symbols)
            trigger_time = pd.Series(pd.NaT, index=symbols)
        newest = views.last_times(intraday.close).reindex(symbols)

        signals = []
        for sym in symbols[(hit & ~failed).to_numpy()]:
            by = pm_last_time[sym] + views.ONE_MINUTE
            reasons = [
                f"gap {fmt_pct(gap[sym])} vs prior close {fmt_price(prev_close[sym])} "
                f"({source[sym]} {fmt_price(price[sym])}); premarket volume "
                f"{fmt_volume(pm_volume[sym])} = {fmt_mult(rvol[sym])} usual by {fmt_time(by)}",
                f"entry {fmt_price(entry[sym])} = premarket high {fmt_price(pm_high[sym])} + 0.01; "
                f"stop {fmt_price(stop[sym])} = higher of premarket low {fmt_price(pm_low[sym])} "
                f"and premarket VWAP {fmt_price(pm_vwap[sym])}",
            ]
            if triggered[sym]:
                when = trigger_time[sym]
                reasons.append(f"triggered: traded at entry {fmt_price(entry[sym])} at "
                               f"{fmt_time(when)}")
            elif opened:
                reasons.append(f"watch: has not traded at entry {fmt_price(entry[sym])} yet")
            else:
                reasons.append("watch: the market opens at 09:30 New York")
            signal = build_signal(
                screener=self.name, symbol=sym, data=data, direction="long",
                status="triggered" if triggered[sym] else "watch", score=score[sym],
                entry=entry[sym], stop=stop[sym], trigger="premarket-high", reasons=reasons,
                metrics={
                    "gap_pct": gap[sym] * 100, "prior_close": prev_close[sym],
                    "price": price[sym], LAST_PRICE_METRIC: price[sym],
                    "premarket_volume": pm_volume[sym],
                    "premarket_rvol": rvol[sym], "premarket_high": pm_high[sym],
                    "premarket_low": pm_low[sym], "premarket_vwap": pm_vwap[sym],
                },
                data_as_of=newest[sym],
            )
            if signal is not None:
                signals.append(signal)
        return signals
