"""Opening Range Breakout: a 1-min close beyond the first N minutes' range on expanding volume."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from tradingstation.indicators import atr, sma
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

REGULAR_MINUTES = 390
OPEN_MINUTE = 9 * 60 + 30


class OrbParams(ScreenerParams):
    """ORB window, trigger and filters."""

    or_window: int = Field(15, description="Opening-range minutes: 5, 15 or 30 (or a divisor "
                                           "of 390 up to 60).")
    volume_multiple: float = Field(1.5, gt=0, description="Trigger bar volume vs OR avg minute.")
    min_price: float = Field(5.0, ge=0, description="Price must be above this.")
    adv_length: int = Field(14, ge=1, le=250, description="Sessions in the average volume.")
    min_adv: float = Field(1_000_000, ge=0, description="Average daily volume (shares).")
    atr_length: int = Field(14, ge=1, le=250, description="ATR length (daily bars).")
    min_atr: float = Field(0.50, ge=0, description="ATR must be above this (dollars).")
    min_or_rvol: float = Field(1.0, ge=0, description="OR volume vs the same window before.")
    rvol_sessions: int = Field(10, ge=1, le=60, description="Prior sessions for the OR rvol.")
    stop_mode: Literal["range", "atr"] = Field(
        "range", description="range: opposite side of the OR; atr: entry -/+ stop_atr x ATR."
    )
    stop_atr: float = Field(0.1, gt=0, le=5, description="ATR fraction for stop_mode=atr.")
    watch_min_gap: float = Field(
        0.02, ge=0, lt=1, description="Before the range forms: |move vs prior close| to watch."
    )

    @field_validator("or_window")
    @classmethod
    def _window(cls, value: int) -> int:
        if value <= 0 or value > 60 or REGULAR_MINUTES % value:
            raise ValueError("or_window must be 5, 15 or 30 (or a divisor of 390 up to 60)")
        return value


class OpeningRangeBreakout(Screener):
    """Opening Range Breakout, long and short.

    Daily filters (prior sessions): price > ``min_price`` (current price: last 1-min close or
    quote, else prior close), ``adv_length``-day average volume >= ``min_adv``, ATR >
    ``min_atr``.

    Before the range is complete (premarket, or during the first ``or_window`` minutes) the
    screen emits ``watch`` candidates: symbols passing the daily filters that trade today and
    have moved at least ``watch_min_gap`` from the prior close; direction follows that move,
    entry/stop are the provisional range so far (today's high + 0.01 / low, mirrored for
    shorts). Watch scores are 2 + move (0-4) + liquidity (0-2): at most 8.

    After the range: OR high/low over ``[09:30, 09:30 + or_window)``. The first later 1-min bar
    that closes above the OR high (long) or below the OR low (short) with volume >=
    ``volume_multiple`` x the OR's average minute volume triggers, if the OR relative volume
    (OR volume today / mean OR volume of the prior ``rvol_sessions`` sessions in the 1-min
    panel; unknown without prior sessions = no signal) is >= ``min_or_rvol``. Entry = trigger
    close; stop = the opposite side of the range, or entry ∓ ``stop_atr`` x ATR with
    ``stop_mode="atr"``; targets 1R/2R/3R. Symbols whose range formed without a trigger yet
    emit nothing. Triggered score = 3 + OR rvol (0-4, full at ``min_or_rvol`` + 2) + trigger
    volume (0-3, full at 2.5x ``volume_multiple``).
    """

    name = "orb"
    params_model = OrbParams
    summary = "1-min close beyond the first N minutes' range on 1.5x volume; watch before"

    def find(self, data: ScreenInput, params: OrbParams) -> list[Signal]:
        """Watch candidates before the range forms, triggered breakouts after."""
        p = params
        intraday = views.intraday_seen(data)
        ctx = self._daily_context(data, p)
        if ctx is None:
            return []
        prev_close, atr_now, adv = ctx["prev_close"], ctx["atr"], ctx["adv"]
        hours = views.session_hours(data.session)
        or_end = hours.market_open + pd.Timedelta(minutes=p.or_window)
        if intraday is None or not len(intraday.index):
            return []
        today = views.day_window(intraday, data.session, hours.premarket_open, hours.market_close)
        price = views.last_values(today.close).reindex(prev_close.index)
        quotes = views.latest_quotes(data)
        quotes = quotes[quotes["timestamp"] >= hours.premarket_open]
        price = price.fillna(quotes["price"].astype("float64").reindex(price.index))
        daily_ok = (price > p.min_price) & (adv >= p.min_adv) & (atr_now > p.min_atr)
        ctx["price"] = price
        if data.as_of_ts < or_end:
            return self._watch(data, p, today, daily_ok, ctx)
        return self._triggered(data, p, intraday, hours, or_end, daily_ok, ctx)

    def in_play(self, data: ScreenInput, **params: object) -> list[str]:
        """Symbols this screener needs 1-min bars of in a market cycle (its candidates).

        A symbol is in play when it passes the daily filters (``min_price`` at its newest
        price, ``min_adv``, ``min_atr``) and has moved at least ``watch_min_gap`` from the
        prior close at its newest premarket quote (``data.quotes``: a premarket reason, the
        move that made it a premarket watch candidate) or at its newest session quote
        (``data.session_quotes``: in play now). Newest price: the session quote, else the
        premarket quote. Only quotes of ``data.session`` stamped at or before ``as_of`` count.
        """
        p = self.parse_params(**params)
        ctx = self._daily_context(data, p)
        if ctx is None:
            return []
        prev_close = ctx["prev_close"]
        opened = views.session_hours(data.session).premarket_open
        prices = [_quote_prices(q, opened, prev_close.index)
                  for q in (data.quotes, data.session_quotes)]
        moved = pd.concat([(q / prev_close - 1.0).abs() for q in prices], axis=1).max(axis=1)
        price = prices[1].fillna(prices[0])
        ok = (price > p.min_price) & (ctx["adv"] >= p.min_adv) & (ctx["atr"] > p.min_atr)
        return sorted(prev_close.index[(ok & (moved >= p.watch_min_gap)).to_numpy()])

    @staticmethod
    def _daily_context(data: ScreenInput, p: OrbParams) -> dict | None:
        """Prior close, ATR and average volume from the sessions before the session.

        Prior close, ATR and average volume from the sessions before ``data.session`` (None without
        any).
        """
        prior = views.prior_daily(data)
        if not len(prior.index):
            return None
        return {"prev_close": views.last_values(prior.close),
                "atr": views.last_values(atr(prior.high, prior.low, prior.close, p.atr_length)),
                "adv": views.last_values(sma(prior.volume, p.adv_length))}

    def _watch(
        self, data: ScreenInput, p: OrbParams, today: object, daily_ok: pd.Series, ctx: dict
    ) -> list[Signal]:
        price, prev_close = ctx["price"], ctx["prev_close"]
        high = today.high.max().reindex(price.index)
        low = today.low.min().reindex(price.index)
        move = price / prev_close - 1.0
        candidate = daily_ok & (move.abs() >= p.watch_min_gap) & high.notna()
        long = move >= 0
        score = 2.0 + ramp(move.abs(), p.watch_min_gap, 0.10, 4.0) + ramp(
            np.log10(ctx["adv"] / max(p.min_adv, 1.0)), 0, 1, 2.0
        )
        newest = views.last_times(today.close)
        signals = []
        for sym in price.index[candidate.to_numpy()]:
            direction = "long" if long[sym] else "short"
            entry = high[sym] + 0.01 if long[sym] else low[sym] - 0.01
            if p.stop_mode == "atr":
                stop = entry - p.stop_atr * ctx["atr"][sym] * (1 if long[sym] else -1)
            else:
                stop = low[sym] if long[sym] else high[sym]
            reasons = [
                f"watch: the {p.or_window}-minute opening range ({self._range_label(p)}) "
                "is not complete yet",
                f"moved {fmt_pct(move[sym])} vs prior close {fmt_price(prev_close[sym])} "
                f"(now {fmt_price(price[sym])}); range so far {fmt_price(low[sym])}-"
                f"{fmt_price(high[sym])}",
                f"filters: price {fmt_price(price[sym])} > {fmt_price(p.min_price)}, "
                f"{p.adv_length}-day ADV {fmt_volume(ctx['adv'][sym])} >= "
                f"{fmt_volume(p.min_adv)}, ATR{p.atr_length} {fmt_price(ctx['atr'][sym])} > "
                f"{fmt_price(p.min_atr)}",
            ]
            signal = build_signal(
                screener=self.name, symbol=sym, data=data, direction=direction, status="watch",
                score=min(score[sym], 8.0), entry=entry, stop=stop,
                trigger=f"{p.or_window}m-watch-{direction}", reasons=reasons,
                metrics={LAST_PRICE_METRIC: price[sym],
                         "move_pct": move[sym] * 100, "prior_close": prev_close[sym],
                         "atr": ctx["atr"][sym], "adv": ctx["adv"][sym],
                         "range_high": high[sym], "range_low": low[sym]},
                data_as_of=newest.get(sym),
            )
            if signal is not None:
                signals.append(signal)
        return signals

    @staticmethod
    def _range_label(p: OrbParams) -> str:
        end = OPEN_MINUTE + p.or_window
        return f"09:30-{end // 60:02d}:{end % 60:02d} New York"

    def _triggered(
        self, data: ScreenInput, p: OrbParams, intraday: object, hours: views.Hours,
        or_end: pd.Timestamp, daily_ok: pd.Series, ctx: dict,
    ) -> list[Signal]:
        symbols = ctx["price"].index
        window = views.day_window(intraday, data.session, hours.market_open, or_end)
        after = views.day_window(intraday, data.session, or_end, hours.market_close)
        if not len(window.index) or not len(after.index):
            return []
        or_high = window.high.max().reindex(symbols)
        or_low = window.low.min().reindex(symbols)
        or_volume = window.volume.sum(min_count=1).reindex(symbols)
        avg_minute = or_volume / p.or_window
        or_rvol = or_volume / self._prior_or_volume(intraday, data, p).reindex(symbols)

        close = after.close.reindex(columns=symbols)
        volume = after.volume.reindex(columns=symbols)
        loud = volume.ge(p.volume_multiple * avg_minute, axis=1)
        up = close.gt(or_high, axis=1) & loud
        down = close.lt(or_low, axis=1) & loud
        fired = up | down
        ok = daily_ok & (or_rvol >= p.min_or_rvol) & fired.any()
        first = fired.to_numpy().argmax(axis=0)
        cols = np.arange(len(symbols))
        is_long = pd.Series(up.to_numpy()[first, cols], symbols)
        t_close = pd.Series(close.to_numpy()[first, cols], symbols)
        t_volume = pd.Series(volume.to_numpy()[first, cols], symbols)
        t_time = pd.Series(after.index[first], symbols)
        mult = t_volume / avg_minute
        score = 3.0 + ramp(or_rvol, p.min_or_rvol, p.min_or_rvol + 2.0, 4.0) + ramp(
            mult, p.volume_multiple, 2.5 * p.volume_multiple, 3.0
        )
        newest = views.last_times(intraday.close)
        signals = []
        for sym in symbols[ok.to_numpy()]:
            long = bool(is_long[sym])
            direction = "long" if long else "short"
            entry = t_close[sym]
            if p.stop_mode == "atr":
                stop = entry - p.stop_atr * ctx["atr"][sym] * (1 if long else -1)
                stop_text = f"{p.stop_atr:g} ATR ({fmt_price(ctx['atr'][sym])}) from entry"
            else:
                stop = or_low[sym] if long else or_high[sym]
                stop_text = f"the range {'low' if long else 'high'}"
            level = or_high[sym] if long else or_low[sym]
            reasons = [
                f"opening range {self._range_label(p)}: high {fmt_price(or_high[sym])}, low "
                f"{fmt_price(or_low[sym])}, {fmt_volume(avg_minute[sym])} shares per minute",
                f"1-min close {fmt_price(entry)} at {fmt_time(t_time[sym])} "
                f"{'above the range high' if long else 'below the range low'} "
                f"{fmt_price(level)} on {fmt_volume(t_volume[sym])} shares = "
                f"{fmt_mult(mult[sym])} the range's average minute (need "
                f"{fmt_mult(p.volume_multiple)})",
                f"opening-range volume {fmt_volume(or_volume[sym])} = {fmt_mult(or_rvol[sym])} "
                f"the same window over prior sessions (need {fmt_mult(p.min_or_rvol)})",
                f"filters: price {fmt_price(ctx['price'][sym])}, {p.adv_length}-day ADV "
                f"{fmt_volume(ctx['adv'][sym])}, ATR{p.atr_length} {fmt_price(ctx['atr'][sym])}; "
                f"stop {fmt_price(stop)} = {stop_text}",
            ]
            signal = build_signal(
                screener=self.name, symbol=sym, data=data, direction=direction,
                status="triggered", score=score[sym], entry=entry, stop=stop,
                trigger=f"{p.or_window}m-{direction}", reasons=reasons,
                metrics={LAST_PRICE_METRIC: ctx["price"][sym],
                         "or_high": or_high[sym], "or_low": or_low[sym],
                         "or_volume": or_volume[sym], "or_rvol": or_rvol[sym],
                         "trigger_volume": t_volume[sym], "volume_multiple": mult[sym],
                         "atr": ctx["atr"][sym], "adv": ctx["adv"][sym]},
                data_as_of=newest.get(sym),
                timestamp=t_time[sym] + views.ONE_MINUTE,
            )
            if signal is not None:
                signals.append(signal)
        return signals

    @staticmethod
    def _prior_or_volume(intraday: object, data: ScreenInput, p: OrbParams) -> pd.Series:
        """Mean opening-range volume of the prior ``rvol_sessions`` sessions with OR bars."""
        idx = intraday.index
        minutes = views.ny_minutes(idx)
        dates = views.ny_dates(idx)
        mask = (minutes >= OPEN_MINUTE) & (minutes < OPEN_MINUTE + p.or_window)
        mask &= dates < np.datetime64(data.session, "D")
        if not mask.any():
            return pd.Series(np.nan, index=intraday.close.columns)
        per_day = intraday.volume.loc[mask].groupby(dates[mask]).sum(min_count=1)
        return per_day.tail(p.rvol_sessions).mean()


def _quote_prices(quotes: pd.DataFrame | None, since: pd.Timestamp, symbols: pd.Index
                  ) -> pd.Series:
    """Newest price per symbol of ``quotes`` stamped from ``since`` on.

    Newest price per symbol of ``quotes`` (already cut to ``as_of``) stamped from ``since`` on, over
    ``symbols`` (NaN without one).
    """
    if quotes is None or quotes.empty:
        return pd.Series(np.nan, index=symbols, dtype="float64")
    stamps = pd.to_datetime(quotes["timestamp"], utc=True)
    seen = quotes.loc[(stamps >= since).to_numpy()].assign(timestamp=stamps)
    newest = seen.sort_values("timestamp", kind="stable").drop_duplicates("symbol", keep="last")
    return newest.set_index("symbol")["price"].astype("float64").reindex(symbols)
