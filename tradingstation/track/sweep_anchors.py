"""AVWAP anchors as of every replayed session.

What :func:`find_anchors` finds on the bars before each session, from the whole panel in one pass.

An anchor known "as of" a session is found on the bars before it. Most anchor types are events
of one bar that a later bar cannot change (a gap, a volume spike): they are found once on the
whole panel (causal indicators, see :mod:`tradingstation.track.sweep`) and each session takes
those in its lookback window. A swing needs the ``PIVOT_BARS`` bars after it, so a session
only sees the swings whose following bars it has (``ready``). The highest-volume day and the
52-week extremes depend on the window itself and are found per session on its rows.

:func:`session_anchors` returns each session's anchors as flat arrays sorted the way
``find_anchors`` and :func:`~tradingstation.screeners.avwap_reclaim.session_anchors` sort them
(symbol, date, type), so each symbol's anchor ranks match the per-session screen's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradingstation import indicators as ind
from tradingstation.anchors import (
    ANCHOR_TYPES,
    GAP_THRESHOLD,
    PIVOT_BARS,
    SESSIONS_52W,
    VOLUME_AVG_DAYS,
    VOLUME_SPIKE,
)
from tradingstation.track.sweep import Sweep

CODE = {kind: np.int8(i) for i, kind in enumerate(ANCHOR_TYPES)}  # find_anchors' type order


@dataclass(frozen=True)
class Anchors:
    """Anchors of one session, sorted by symbol, row, type; one entry per anchor.

    Attributes:
        col: The symbol's column.
        row: The anchor bar's panel row.
        code: The anchor type (index into :data:`~tradingstation.anchors.ANCHOR_TYPES`).
        strength: As :func:`find_anchors` reports it as of the session.
    """

    col: np.ndarray
    row: np.ndarray
    code: np.ndarray
    strength: np.ndarray


@dataclass(frozen=True)
class _Events:
    """Fixed-strength anchor bars of the whole panel, sorted by row."""

    row: np.ndarray
    col: np.ndarray
    code: np.ndarray
    strength: np.ndarray
    ready: np.ndarray  # first session row that may see the anchor


def _next_rows(valid: np.ndarray, rows: np.ndarray, cols: np.ndarray, steps: int) -> np.ndarray:
    """Row of the ``steps``-th ``valid`` row after each ``(rows, cols)`` (len(valid) if none)."""
    n = len(valid)
    at_or_after = np.where(valid, np.arange(n)[:, None], n)
    at_or_after = np.minimum.accumulate(at_or_after[::-1], axis=0)[::-1]
    at_or_after = np.vstack([at_or_after, np.full((1, valid.shape[1]), n)])
    out = rows.copy()
    for _ in range(steps):
        out = at_or_after[np.minimum(out + 1, n), cols]
    return out


def _events(sweep: Sweep) -> _Events:
    """Gaps, volume spikes and swings of the whole panel (``find_anchors`` defaults)."""
    panel, b = sweep.panel, sweep.bars
    h, lo, c, v = b["high"], b["low"], b["close"], b["volume"]
    valid = ~(np.isnan(h) | np.isnan(lo) | np.isnan(c) | np.isnan(v))
    prev_close = ind.shift_bars(panel.close, 1).to_numpy()
    right = PIVOT_BARS
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = b["open"] / prev_close - 1.0
        multiple = v / ind.average_volume(panel.volume, VOLUME_AVG_DAYS).to_numpy()
        swing_high, swing_low = (s.to_numpy() for s in
                                 ind.pivots(panel.high, panel.low, PIVOT_BARS, right))
        span = PIVOT_BARS + right + 1
        around_low = ind.shift_bars(ind.rolling_min(panel.low, span), -right).to_numpy()
        around_high = ind.shift_bars(ind.rolling_max(panel.high, span), -right).to_numpy()
        kinds = (
            ("gap_up", gap >= GAP_THRESHOLD, np.abs(gap), False),
            ("gap_down", gap <= -GAP_THRESHOLD, np.abs(gap), False),
            ("volume_spike", multiple >= VOLUME_SPIKE, multiple, False),
            ("swing_high", swing_high, (h - around_low) / h, True),
            ("swing_low", swing_low, (around_high - lo) / lo, True),
        )
    # A pivot is one only once the bars after it exist (a cut ending sooner has NaN there).
    pivot_bars = ~(np.isnan(h) | np.isnan(lo))
    parts = []
    for kind, mask, strength, swing in kinds:
        rows, cols = np.nonzero(mask & valid)
        ready = _next_rows(pivot_bars, rows, cols, right) if swing else rows
        parts.append((rows, cols, np.full(len(rows), CODE[kind]), strength[rows, cols],
                      ready + 1))
    rows, cols, codes, strengths, ready = (np.concatenate(p) for p in zip(*parts, strict=True))
    order = np.argsort(rows, kind="stable")
    return _Events(rows[order], cols[order], codes[order], strengths[order], ready[order])


def _extreme_rows(values: np.ndarray, allowed: np.ndarray, largest: bool) -> np.ndarray:
    """Per column, the latest row of the max (min) of ``values`` where allowed.

    -1 if none (``find_anchors``' ``_argextreme``).
    """
    fill = -np.inf if largest else np.inf
    arr = np.where(allowed, values, fill)[::-1]
    pos = np.argmax(arr, axis=0) if largest else np.argmin(arr, axis=0)
    return np.where(allowed.any(axis=0), len(values) - 1 - pos, -1)


def _one_per_column(kind: str, rows: np.ndarray, first: int,
                    strength: np.ndarray) -> tuple[np.ndarray, ...]:
    """(cols, panel rows, codes, strengths) of per-column hits ``rows`` (relative to ``first``.

    -1: none); ``strength`` is per column.
    """
    cols = np.flatnonzero(rows >= 0)
    return cols, rows[cols] + first, np.full(len(cols), CODE[kind]), strength[cols]


def _window_anchors(b: dict[str, np.ndarray], valid: np.ndarray, t: int,
                    lookback: int) -> list[tuple[np.ndarray, ...]]:
    """The highest-volume day before row ``t`` and the 52-week extremes.

    The highest-volume day of the lookback window before row ``t`` and the 52-week extremes (only
    for symbols with a whole year of bars before ``t``).
    """
    if t == 0:  # no bars before the panel's first session: no anchors
        return []
    first = max(t - lookback, 0)
    v, allowed = b["volume"][first:t], valid[first:t]
    top = _extreme_rows(v, allowed, largest=True)
    hits = top >= 0
    # Whole share counts: their sum is exact in any order, so this is find_anchors' mean.
    total = np.where(allowed, v, 0.0).sum(axis=0)
    count = allowed.sum(axis=0)
    strength = np.full(v.shape[1], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        strength[hits] = v[top[hits], np.flatnonzero(hits)] / (total[hits] / count[hits])
    found = [_one_per_column("highest_volume", top, first, strength)]
    if t < SESSIONS_52W:
        return found
    seen = valid[:t]
    first_bar = np.where(seen.any(axis=0), np.argmax(seen, axis=0), t)
    year = valid[t - SESSIONS_52W:t] & (first_bar <= t - SESSIONS_52W)[None, :]
    h, lo = b["high"][t - SESSIONS_52W:t], b["low"][t - SESSIONS_52W:t]
    last = np.where(seen.any(axis=0), t - 1 - np.argmax(seen[::-1], axis=0), 0)
    last_close = np.where(seen.any(axis=0), b["close"][last, np.arange(len(last))], np.nan)
    top, bottom = _extreme_rows(h, year, True), _extreme_rows(lo, year, False)
    cols = np.arange(len(last))
    with np.errstate(invalid="ignore", divide="ignore"):
        found.append(_one_per_column("high_52w", top, t - SESSIONS_52W,
                                     last_close / h[np.maximum(top, 0), cols]))
        found.append(_one_per_column("low_52w", bottom, t - SESSIONS_52W,
                                     lo[np.maximum(bottom, 0), cols] / last_close))
    return found


def session_anchors(sweep: Sweep, lookback: int) -> list[Anchors]:
    """Each replayed session's anchors: ``find_anchors(bars before it, lookback)``."""
    b = sweep.bars
    valid = ~(np.isnan(b["high"]) | np.isnan(b["low"]) | np.isnan(b["close"])
              | np.isnan(b["volume"]))
    events = _events(sweep)
    out = []
    for t in sweep.rows.tolist():
        lo, hi = np.searchsorted(events.row, [t - lookback, t])
        seen = events.ready[lo:hi] <= t
        parts = [(events.col[lo:hi][seen], events.row[lo:hi][seen], events.code[lo:hi][seen],
                  events.strength[lo:hi][seen])]
        parts += _window_anchors(b, valid, t, lookback)
        col, row, code, strength = (np.concatenate(p) for p in zip(*parts, strict=True))
        # By symbol, row, type: one int64 key (unique: a type is found once per bar).
        order = np.argsort((col * (t + 1) + row) * len(CODE) + code)
        out.append(Anchors(col[order], row[order], code[order], strength[order]))
    return out
