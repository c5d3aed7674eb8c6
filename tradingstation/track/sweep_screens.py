"""Breakout, EMA Pullback and Exhaustion Reversal evaluated on every replayed session at once.

Each function computes its screener's inputs (``*_inputs`` in the screener's module) for every
(session, symbol) cell from the whole panel (:class:`~tradingstation.track.sweep.Sweep`), runs
the screener's own condition and score code on those ``(S, m)`` arrays, and builds the signals
of each session with the screener's own builder (or, for a backtest, their rows from the
screener's setups: :meth:`Sweep.records`): only the inputs are computed differently, and they
equal what the session's cut computed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tradingstation.indicators import atr, ema, rsi
from tradingstation.screeners import breakout as bo
from tradingstation.screeners import ema_pullback as ep
from tradingstation.screeners import exhaustion_reversal as ex
from tradingstation.signals import Signal
from tradingstation.track.sweep import Sweep

# Per session: its signals, or the columns of their rows (Sweep.text False); [] for none.
PerSession = list[list[Signal] | dict[str, np.ndarray]]
Builder = Callable[[Sweep, int, dict[str, np.ndarray], dict[str, Any]], list]


def atr_as_of(sweep: Sweep, length: int, offset: int = 0) -> np.ndarray:
    """``(S, m)``: the ATR of each session's cut at its row + ``offset``."""
    whole = sweep.memo(("atr", length), lambda: atr(sweep.panel.high, sweep.panel.low,
                                                     sweep.panel.close, length))
    return sweep.as_of(whole, ("high", "low", "close"), length + 1, offset)


def prior_volume_mean(sweep: Sweep, length: int) -> np.ndarray:
    """``(S, m)``.

    ``average_volume`` of a cut's ``length + 1`` last rows at its last row: the mean of the
    ``length`` volumes before it, blank unless all of them and the last exist.
    """
    v = sweep.bars["volume"]
    mean = sweep.window_sum(v, -length, length) / length
    mean[np.isnan(sweep.at(v))] = np.nan
    return mean


def _per_session(sweep: Sweep, ok: np.ndarray, x: Mapping[str, np.ndarray],
                 e: Mapping[str, Any], hits: np.ndarray, build: Builder) -> PerSession:
    """Each session's signals (or rows), built only where its rows were enough and something hit."""
    out: PerSession = []
    for i in range(len(sweep.rows)):
        if not ok[i] or not hits[i].any():
            out.append([])
            continue
        row = {k: v[..., i, :] for k, v in x.items()}
        out.append(sweep.ranked(build(sweep, i, row, {k: v[i] for k, v in e.items()})))
    return out


def sweep_ema_pullback(sweep: Sweep, p: ep.EmaPullbackParams) -> PerSession:
    """EMA Pullback of every session.

    EMA Pullback of every session (:class:`~tradingstation.screeners.ema_pullback.EmaPullback`).
    """
    b, close = sweep.bars, sweep.panel.close
    ema_whole = ema(close, p.ema_period)
    x = {f: sweep.at(b[f]) for f in ("open", "high", "low", "close")}
    x.update(
        ema=sweep.as_of(ema_whole, ("close",), p.ema_period),
        ema_prior=sweep.as_of(ema_whole, ("close",), p.ema_period, -p.slope_days),
        trend=sweep.window_sum(b["close"], 1 - p.trend_sma, p.trend_sma) / p.trend_sma,
        atr=atr_as_of(sweep, p.atr_length),
        prev_close=sweep.at(b["close"], -1),
        stop=sweep.window_reduce(b["low"], 1 - p.pullback_days, p.pullback_days, np.fmin),
        swing=sweep.window_reduce(b["high"], -p.swing_days, p.swing_days, np.fmax),
    )
    e = ep.evaluate_pullback(x, p)
    ok = np.array([ep.enough_rows(int(r) + 1, p) for r in sweep.rows], dtype=bool)

    def build(sw: Sweep, i: int, row: dict, ev: dict) -> list:
        if not sw.text:
            setups = ep.pullback_setups(sw.symbols, row, ev, p)
            return sw.records(i, ep.EmaPullback.name, (s for _, s in setups))
        return ep.pullback_signals(sw.screen_input(i), sw.view(i).newest, sw.symbols, row, ev, p)

    return _per_session(sweep, ok, x, e, e["hit"], build)


def _base(sweep: Sweep, p: bo.BreakoutParams) -> dict[str, np.ndarray]:
    """The breakout base shape and the base picked from it, for every session.

    :func:`~tradingstation.screeners.breakout.base_shape` and the base picked from it, for every
    session: walks back one row at a time from the row before each session's.
    """
    b = sweep.bars
    limit = np.minimum(p.max_base_days, sweep.rows)[:, None]  # rows the cut looks back over
    run_high, run_low = sweep.at(b["high"], -1).copy(), sweep.at(b["low"], -1).copy()
    whole = ~np.isnan(run_high) & ~np.isnan(run_low)
    with np.errstate(invalid="ignore", divide="ignore"):
        depth = (run_high - run_low) / run_high
    still = whole & (depth <= p.max_depth) & (limit > 0)
    base = {"base_len": still.astype(np.int64), "base_high": run_high.copy(),
            "base_low": run_low.copy(), "depth": depth.copy(), "tight": depth.copy()}
    for k in range(1, int(limit.max(initial=0))):
        h, lo = sweep.at(b["high"], -1 - k), sweep.at(b["low"], -1 - k)
        whole &= ~np.isnan(h) & ~np.isnan(lo)
        np.fmax(run_high, h, out=run_high)
        np.fmin(run_low, lo, out=run_low)
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(run_high - run_low, run_high, out=depth)
        still &= whole & (depth <= p.max_depth) & (k < limit)
        base["base_len"] += still
        for name, value in (("base_high", run_high), ("base_low", run_low), ("depth", depth)):
            np.copyto(base[name], value, where=still)
        if k < p.tight_days:
            np.copyto(base["tight"], depth, where=still)
    return base


def sweep_breakout(sweep: Sweep, p: bo.BreakoutParams) -> PerSession:
    """Breakout of every session (:class:`~tradingstation.screeners.breakout.Breakout`)."""
    b = sweep.bars
    x = {f: sweep.at(b[f]) for f in ("open", "high", "low", "close", "volume")}
    x.update(_base(sweep, p), avg_volume=prior_volume_mean(sweep, p.volume_length))
    e = bo.evaluate_breakout(x, p, 1.0)
    ok = sweep.rows + 1 >= p.min_consolidation_days + 1

    def build(sw: Sweep, i: int, row: dict, ev: dict) -> list:
        if not sw.text:
            setups = bo.breakout_setups(sw.symbols, row, ev)
            return sw.records(i, bo.Breakout.name, (s for _, s in setups))
        return bo.breakout_signals(sw.screen_input(i), sw.view(i), sw.symbols, row, ev, p)

    return _per_session(sweep, ok, x, e, e["hit"], build)


def sweep_exhaustion_reversal(sweep: Sweep, p: ex.ExhaustionParams) -> PerSession:
    """Exhaustion Reversal of every session.

    Exhaustion Reversal of every session
    (:class:`~tradingstation.screeners.exhaustion_reversal.ExhaustionReversal`).
    """
    b = sweep.bars
    c = b["close"]
    x = {f: sweep.at(b[f]) for f in ("open", "high", "low", "close", "volume")}
    closes = [sweep.at(c, k) for k in range(-p.streak_days - 1, 0)]
    x.update(
        base=sweep.window_sum(c, 1 - p.sma_length, p.sma_length) / p.sma_length,
        sma10=sweep.window_sum(c, -9, 10) / 10,
        sma20=sweep.window_sum(c, -19, 20) / 20,
        atr_prev=atr_as_of(sweep, p.atr_length, -1),
        rsi_prev=sweep.as_of(rsi(sweep.panel.close, p.rsi_length), ("close",),
                             p.rsi_length + 1, -1),
        avg_volume=prior_volume_mean(sweep, p.volume_length),
        steps=np.diff(np.stack(closes), axis=0),
    )
    e = ex.evaluate_exhaustion(x, p, 1.0)
    ok = np.array([ex.enough_rows(int(r) + 1, p) for r in sweep.rows], dtype=bool)

    def build(sw: Sweep, i: int, row: dict, ev: dict) -> list:
        if not sw.text:
            setups = ex.exhaustion_setups(sw.symbols, row, ev, p)
            return sw.records(i, ex.ExhaustionReversal.name, (s for _, s in setups))
        return ex.exhaustion_signals(sw.screen_input(i), sw.view(i).newest, sw.symbols, row,
                                     ev, p)

    return _per_session(sweep, ok, x, e, e["short"] | e["long"], build)
