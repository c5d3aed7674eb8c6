"""AVWAP Reclaim on every replayed session at once.

Anchors come from :func:`~tradingstation.track.sweep_anchors.session_anchors`. One anchor bar
stays an anchor for up to ``lookback_days`` sessions, so its AVWAP is accumulated once: for each
distinct (symbol, anchor row) of the replay, Σ TP·V and Σ V are added row after row from the
anchor bar (the order :func:`~tradingstation.indicators.anchored_vwap`'s cumulative sum adds
them, so the AVWAPs are the per-session screen's to the last bit), keeping the AVWAP of every
row up to the last session that uses it. Each session then looks up its anchors' AVWAPs today,
``slope_days`` ago and over the ``reclaim_days`` before, and the screener's own scoring and
signal code (:mod:`tradingstation.screeners.avwap_reclaim`) does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradingstation.anchors import ANCHOR_TYPES
from tradingstation.screeners import avwap_reclaim as ar
from tradingstation.track.sweep import Sweep
from tradingstation.track.sweep_anchors import Anchors, session_anchors
from tradingstation.track.sweep_screens import PerSession, atr_as_of, prior_volume_mean

KINDS = np.array(ANCHOR_TYPES, dtype=object)


@dataclass(frozen=True)
class _Paths:
    """The AVWAP of each distinct (row, col) anchor at each row from it.

    ``flat[base + j]`` is its AVWAP ``j`` rows after the anchor bar (NaN where the symbol has no bar
    or no volume yet); ``first`` the first ``j`` with a value (-1: none).
    """

    flat: np.ndarray
    base: np.ndarray
    first: np.ndarray

    def at(self, pair: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """AVWAP of ``pair`` ``offset`` rows after its anchor bar (NaN before the bar)."""
        out = self.flat[self.base[pair] + np.maximum(offset, 0)]
        return np.where(offset >= 0, out, np.nan)


def _paths(sweep: Sweep, rows: np.ndarray, cols: np.ndarray, length: np.ndarray) -> _Paths:
    """AVWAPs of the anchors ``(rows, cols)`` over their first ``length`` rows each."""
    b = sweep.bars
    h, lo, c, v = b["high"], b["low"], b["close"], b["volume"]
    valid = ~(np.isnan(h) | np.isnan(lo) | np.isnan(c) | np.isnan(v))
    with np.errstate(invalid="ignore"):
        pv = np.where(valid, (h + lo + c) / 3.0 * v, 0.0).ravel()
    vol, valid = np.where(valid, v, 0.0).ravel(), valid.ravel()
    order = np.argsort(-length, kind="stable")  # longest first: the live ones are a prefix
    cell, size = rows[order] * h.shape[1] + cols[order], length[order]  # flat index
    base = np.r_[0, np.cumsum(size)[:-1]]
    flat = np.full(int(size.sum()), np.nan)
    first = np.full(len(order), -1)
    sum_pv, sum_v = np.zeros(len(order)), np.zeros(len(order))
    live = np.searchsorted(-size, -np.arange(int(size.max(initial=0))))  # sizes > j
    for j, k in enumerate(live.tolist()):
        at = cell[:k] + j * h.shape[1]
        sum_pv[:k] += pv.take(at)
        sum_v[:k] += vol.take(at)
        ok = valid.take(at) & (sum_v[:k] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            flat[base[:k] + j] = np.where(ok, sum_pv[:k] / sum_v[:k], np.nan)
        fresh = ok & (first[:k] < 0)
        first[:k][fresh] = j
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return _Paths(flat, base[back], first[back])


def _levels(sweep: Sweep, i: int, found: Anchors, pair: np.ndarray, paths: _Paths,
            p: ar.AvwapReclaimParams) -> tuple[np.ndarray, ar.AnchorLevels | None]:
    """Session ``i``'s anchor levels of the symbols with a reclaimed anchor.

    Session ``i``'s :class:`~tradingstation.screeners.avwap_reclaim.AnchorLevels` of the symbols
    (columns, returned first) with at least one reclaimed anchor: a symbol without one scores -1
    throughout and never signals, and every score is computed within one symbol's anchors, so
    leaving the others out changes nothing for these.
    """
    t, close = int(sweep.rows[i]), sweep.bars["close"]
    age = t - found.row
    av_now = paths.at(pair, age)
    below = np.zeros(len(found.col), dtype=bool)
    with np.errstate(invalid="ignore"):
        for back in range(1, p.reclaim_days + 1):
            prior = close[t - back, found.col] if t - back >= 0 else np.nan
            below |= prior < paths.at(pair, age - back)
        reclaimed = (close[t, found.col] > av_now) & below
    cols = np.unique(found.col[reclaimed])
    if not len(cols):
        return cols, None
    keep = np.isin(found.col, cols)
    col = np.searchsorted(cols, found.col[keep])
    pair, age, av_now, below = pair[keep], age[keep], av_now[keep], below[keep]
    rows, code, strength = found.row[keep], found.code[keep], found.strength[keep]
    starts = np.r_[0, np.flatnonzero(np.diff(col)) + 1]
    ranks = np.arange(len(col)) - np.repeat(starts, np.diff(np.r_[starts, len(col)]))
    shape = (int(ranks.max()) + 1, len(cols))
    then = paths.at(pair, age - p.slope_days)
    first = paths.first[pair]
    first_value = np.where((first >= 0) & (first <= age), paths.at(pair, first), np.nan)
    kind = KINDS[code]
    return cols, ar.AnchorLevels(
        kind=ar.rank_table(ranks, col, shape, kind, None, object),
        date=ar.rank_table(ranks, col, shape, sweep.dates[rows], None, object),
        strength=ar.rank_table(ranks, col, shape, strength, np.nan, "float64"),
        day=ar.rank_table(ranks, col, shape, sweep.stamps_ns[rows], -1, np.int64),
        age=ar.rank_table(ranks, col, shape, age, -1, np.int64),
        significance=ar.rank_table(ranks, col, shape, ar.significance_points(kind, strength),
                                   0.0, "float64"),
        av_now=ar.rank_table(ranks, col, shape, av_now, np.nan, "float64"),
        av_then=ar.rank_table(ranks, col, shape, np.where(np.isnan(then), first_value, then),
                              np.nan, "float64"),
        was_below=ar.rank_table(ranks, col, shape, below, False, bool),
    )


def sweep_avwap_reclaim(sweep: Sweep, p: ar.AvwapReclaimParams) -> PerSession:
    """AVWAP Reclaim of every session.

    AVWAP Reclaim of every session (:class:`~tradingstation.screeners.avwap_reclaim.AvwapReclaim`,
    anchors found on the bars before each session with ``lookback_days``).
    """
    b = sweep.bars
    found = session_anchors(sweep, p.lookback_days)
    # Each distinct anchor bar once, its AVWAP kept up to the last session that uses it.
    last_use = np.full(b["close"].shape, -1, dtype=np.int64)
    for t, f in zip(sweep.rows.tolist(), found, strict=True):
        last_use[f.row, f.col] = np.maximum(last_use[f.row, f.col], t)
    rows, cols = np.nonzero(last_use >= 0)
    pair_of = np.full(last_use.shape, -1, dtype=np.int64)
    pair_of[rows, cols] = np.arange(len(rows))
    paths = _paths(sweep, rows, cols, last_use[rows, cols] - rows + 1)
    x = {f: sweep.at(b[f]) for f in ("high", "low", "close", "volume")}
    x.update(
        atr=atr_as_of(sweep, p.atr_length),
        trend=sweep.window_sum(b["close"], 1 - p.trend_sma, p.trend_sma) / p.trend_sma,
        avg_volume=prior_volume_mean(sweep, p.volume_length),
    )
    out: PerSession = []
    for i, anchors in enumerate(found):
        if sweep.rows[i] + 1 < p.reclaim_days + 2 or not len(anchors.col):
            out.append([])
            continue
        cols, levels = _levels(sweep, i, anchors, pair_of[anchors.row, anchors.col], paths, p)
        if levels is None:
            out.append([])
            continue
        row = {k: v[i, cols] for k, v in x.items()}
        symbols = sweep.symbols[cols]
        scores = ar.score_reclaims(row, levels, p, 1.0)
        if sweep.text:
            found_i: list = ar.reclaim_signals(sweep.screen_input(i), sweep.view(i).newest,
                                               symbols, row, levels, scores, p)
        else:
            setups = ar.reclaim_setups(symbols, row, levels, scores, p)
            found_i = sweep.records(i, ar.AvwapReclaim.name, (s for _, _, s in setups))
        out.append(sweep.ranked(found_i))
    return out
