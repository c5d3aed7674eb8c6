"""The daily panel as of every replayed session at once: what each session's cut computes.

The per-session replay (:func:`tradingstation.track.replay.replay_daily_by_session`) cuts the
panel to each session and screens the cut with the screeners' own code, once per session. The
fast replay (:mod:`~tradingstation.track.sweep_screens`, :mod:`~tradingstation.track.sweep_avwap`)
computes the same inputs for every (session, symbol) from the whole panel in one pass and hands
them to the screeners' own condition, score and signal code. It rests on four facts, used here:

* a session's cut is a **prefix** of the panel's rows (:func:`point_in_time.cut_daily` keeps
  every symbol), so a causal indicator (EMA, ATR, RSI, the pivots' left side, the prior-volume
  average of :func:`find_anchors`) of the cut equals the whole panel's on the cut's rows; except
  that an indicator blanks a symbol with too few bars *in the cut* (:meth:`Sweep.as_of`);
* the screeners' windows over the last rows (the SMA of the last 50 closes) are sums the
  indicator code adds row after row from the window's first row: :meth:`Sweep.window_sum`
  adds the same numbers in the same order, so the floats agree to the last bit and a tie is
  decided the same way;
* volumes are whole share counts, so their sums are exact in any order;
* minima and maxima are exact in any order.

tests/track/test_sweep.py checks the fast replay against the per-session one, field by field.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from tradingstation.calendar import get_calendar
from tradingstation.data.panel import FIELDS, Panel
from tradingstation.data.point_in_time import utc_day
from tradingstation.screeners.base import ScreenInput, Setup, rank_signals
from tradingstation.screeners.views import ViewTimes
from tradingstation.signals import make_signal_id

_EMPTY = Panel(*(pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC"), dtype="float64")
                 for _ in FIELDS))


@dataclass(frozen=True)
class Sweep:
    """A daily panel and the rows of the sessions replayed on it.

    Arrays named ``(S, m)`` have one row per replayed session and one column per symbol.

    Attributes:
        panel: The daily bars (rows beyond the last session may exist; they are never read
            for an earlier session).
        sessions: The replayed sessions, each one a row of the panel.
        rows: Row of each session in the panel.
        demo: Copied onto every signal.
        text: Build whole signals (reasons, metrics); False: only their rows
            (:data:`~tradingstation.track.paths.SIGNAL_COLUMNS`: what an outcome needs), the
            same numbers without the text a backtest does not keep.
    """

    panel: Panel
    sessions: tuple[date, ...]
    rows: np.ndarray
    demo: bool = False
    text: bool = True
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def over(cls, panel: Panel, sessions: Sequence[date], demo: bool = False,
             text: bool = True) -> Sweep:
        """The sweep of ``sessions`` (each must have a row in ``panel``)."""
        stamps = pd.DatetimeIndex([utc_day(d) for d in sessions])
        rows = panel.index.get_indexer(stamps) if len(stamps) else np.array([], dtype=int)
        if (rows < 0).any():
            missing = [d for d, r in zip(sessions, rows, strict=True) if r < 0][:3]
            raise ValueError(f"sessions without a daily row: {missing}")
        return cls(panel, tuple(sessions), np.asarray(rows, dtype=np.int64), demo, text)

    @cached_property
    def bars(self) -> dict[str, np.ndarray]:
        """The panel's fields as float arrays (rows x symbols)."""
        return {f: getattr(self.panel, f).to_numpy(dtype="float64") for f in FIELDS}

    @cached_property
    def symbols(self) -> np.ndarray:
        """The panel's symbols (columns), as an array of str (quick to index one by one)."""
        return np.asarray(self.panel.close.columns, dtype=object)

    @cached_property
    def dates(self) -> np.ndarray:
        """The date of each panel row (objects, for anchor dates)."""
        return np.asarray(self.panel.index.date, dtype=object)

    @cached_property
    def stamps_ns(self) -> np.ndarray:
        """Each panel row's timestamp as int64 nanoseconds."""
        return self.panel.index.as_unit("ns").asi8

    @cached_property
    def _consecutive(self) -> bool:
        return bool(len(self.rows)) and bool(np.all(np.diff(self.rows) == 1))

    def at(self, arr: np.ndarray, offset: int = 0) -> np.ndarray:
        """``(S, m)``.

        ``arr`` at each session's row + ``offset`` (NaN before the first row); read-only (a view of
        ``arr`` when the sessions are consecutive rows).
        """
        rows = self.rows + offset
        if self._consecutive and rows[0] >= 0:
            out = arr[rows[0]:rows[-1] + 1]
        else:
            out = np.take(arr, np.maximum(rows, 0), axis=0)
            out[rows < 0] = np.nan
        out = out.view()
        out.flags.writeable = False
        return out

    def window_sum(self, arr: np.ndarray, first: int, length: int) -> np.ndarray:
        """``(S, m)``.

        The sum of ``arr`` over ``length`` rows from each session's row + ``first``, added row after
        row from the first (the order of a cumulative sum over a window's rows); NaN where a row is
        NaN or before the panel's first row.
        """
        total = self.at(arr, first)
        for k in range(1, length):
            total = total + self.at(arr, first + k)
        return total

    def window_reduce(self, arr: np.ndarray, first: int, length: int,
                      how: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """``(S, m)``.

        ``how`` (``np.fmax``/``np.fmin``: NaN skipped) over ``length`` rows from each session's row
        + ``first``; rows before the panel's first are left out.
        """
        out = self.at(arr, first)
        for k in range(1, length):
            out = how(out, self.at(arr, first + k))
        return out

    @cached_property
    def col_of(self) -> dict[str, int]:
        """Each symbol's column."""
        return {s: j for j, s in enumerate(self.symbols)}

    def counts(self, fields: tuple[str, ...]) -> np.ndarray:
        """``(S, m)``.

        Each symbol's number of rows with all of ``fields`` up to each session (included): its bars
        as an indicator of those fields counts them.
        """
        def count() -> np.ndarray:
            valid = np.logical_and.reduce([~np.isnan(self.bars[f]) for f in fields])
            return np.cumsum(valid, axis=0, dtype=np.int64)[self.rows]

        return self.memo(("counts", fields), count)

    def memo[T](self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per sweep and ``key`` (an indicator several screeners read)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def as_of(self, whole: pd.DataFrame, fields: tuple[str, ...], minimum: int,
              offset: int = 0) -> np.ndarray:
        """``(S, m)``.

        A causal indicator of the whole panel's ``fields`` at each session's row + ``offset`` as the
        session's cut computed it: blank for a symbol with fewer than ``minimum`` bars in the cut
        (the indicators blank a symbol shorter than they need).
        """
        out = self.at(whole.to_numpy(dtype="float64"), offset).copy()
        out[self.counts(fields) < minimum] = np.nan
        return out

    @cached_property
    def newest_rows(self) -> np.ndarray:
        """``(S, m)``: each symbol's last row with a close up to each session (-1: none)."""
        valid = ~np.isnan(self.bars["close"])
        seen = np.where(valid, np.arange(len(valid))[:, None], -1)
        return np.maximum.accumulate(seen, axis=0)[self.rows]

    def view(self, i: int) -> ViewTimes:
        """What session ``i``'s daily view tells the signal builders (a complete bar)."""
        return ViewTimes(pace=1.0, partial=False, newest=_Newest(self, i))  # type: ignore[arg-type]

    def records(self, i: int, screener: str, setups: Iterable[Setup]) -> dict[str, np.ndarray]:
        """Session ``i``'s signal rows of ``setups`` as columns, without the text.

        Session ``i``'s signal rows of ``setups`` as columns
        (:data:`~tradingstation.track.paths.SIGNAL_COLUMNS`): the numbers
        :func:`~tradingstation.screeners.base.build_signal` gives them (cent-rounded levels, nearest
        target first, score, id), computed for all at once, without the text.
        """
        found = list(setups)
        day = self.sessions[i]
        direction = np.array([s.direction for s in found], dtype=object)
        sign = np.where(direction == "long", 1.0, -1.0)
        entry = cents(np.array([s.entry for s in found], dtype="float64") + 0.0)
        stop = cents(np.array([s.stop for s in found], dtype="float64") + 0.0)
        with np.errstate(invalid="ignore"):
            risk = cents((entry - stop) * sign)
            ok = np.isfinite(entry) & np.isfinite(stop) & (risk > 0) & (stop > 0)
        target, target2 = _targets(found, entry, risk, sign)
        score = np.array([s.score for s in found], dtype="float64")
        score = cents(np.where(np.isnan(score), 0.0, np.clip(score, 0.0, 10.0)), digits=1)
        keep = np.flatnonzero(ok)
        when = pd.Timestamp(get_calendar().session_times(day).market_close).tz_convert("UTC")
        return {
            "id": np.array([make_signal_id(screener, found[j].symbol, day, found[j].trigger)
                            for j in keep], dtype=object),
            "screener": np.full(len(keep), screener, dtype=object),
            "symbol": np.array([found[j].symbol for j in keep], dtype=object),
            "session": np.full(len(keep), day.isoformat(), dtype=object),
            "timestamp": np.full(len(keep), when, dtype=object),
            "direction": direction[keep], "status": np.full(len(keep), "triggered", dtype=object),
            "score": score[keep], "entry": entry[keep], "stop": stop[keep],
            "target": target[keep], "target2": target2[keep], "risk_per_share": risk[keep],
        }

    @staticmethod
    def ranked(found: Any) -> Any:
        """Signals in a screen's order (by score, best first, then symbol); rows as they are."""
        return found if isinstance(found, dict) else rank_signals(found)

    def screen_input(self, i: int) -> ScreenInput:
        """Session ``i``'s screening input as far as a signal reads it (session, as-of, demo).

        The bars are already in the arrays, so it carries none.
        """
        day = self.sessions[i]
        as_of = get_calendar().session_times(day).market_close
        return ScreenInput(session=day, as_of=as_of, daily=_EMPTY, demo=self.demo)


def cents(values: np.ndarray, digits: int = 2) -> np.ndarray:
    """``round(v, digits)`` of every value, exactly as Python's ``round`` gives it.

    ``round(v, digits)`` of every value, exactly as Python's correctly rounded ``round`` gives it:
    numpy's ``rint(v * 10**digits) / 10**digits`` agrees except where the scaled value lies within
    rounding error of a half, and those few are rounded by Python.
    """
    scale = 10.0 ** digits
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * scale
        out = np.rint(scaled) / scale
        near = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    for j in np.flatnonzero(near):
        out[j] = round(float(values[j]), digits)
    return out


def _targets(found: list[Setup], entry: np.ndarray, risk: np.ndarray,
             sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and second target of each setup as ``signal_levels`` orders them.

    1R and 2R without explicit targets, else the explicit ones rounded, beyond the entry, distinct,
    nearest first (setups have at most two explicit targets).
    """
    raw = np.full((len(found), 2), np.nan)
    default = np.array([s.targets is None for s in found], dtype=bool)
    for j, setup in enumerate(found):
        if setup.targets is not None:
            if len(setup.targets) > 2:
                raise ValueError("a sweep setup has at most two explicit targets")
            raw[j, : len(setup.targets)] = [np.nan if t is None else t for t in setup.targets]
    with np.errstate(invalid="ignore"):
        raw[~np.isfinite(raw)] = np.nan
        rounded = np.stack([cents(raw[:, 0] + 0.0), cents(raw[:, 1] + 0.0)], axis=1)
        gap = (rounded - entry[:, None]) * sign[:, None]
        beyond = gap > 0
        rounded[~beyond] = np.nan
        rounded[beyond[:, 0] & beyond[:, 1] & (rounded[:, 0] == rounded[:, 1]), 1] = np.nan
        gap[np.isnan(rounded)] = np.inf
        swap = gap[:, 1] < gap[:, 0]
        first = np.where(swap, rounded[:, 1], rounded[:, 0])
        second = np.where(swap, rounded[:, 0], rounded[:, 1])
        first, second = (np.where(np.isnan(first), second, first),
                         np.where(np.isnan(first), np.nan, second))
        one = cents(entry + sign * 1.0 * risk + 0.0)
        two = cents(entry + sign * 2.0 * risk + 0.0)
    return np.where(default, one, first), np.where(default, two, second)


class _Newest(Mapping[str, Any]):
    """Per symbol, the timestamp of its newest bar as of a session.

    Per symbol, the timestamp of its newest bar as of a session (``DailyView.newest``), looked up
    only for the symbols a signal is built for.
    """

    def __init__(self, sweep: Sweep, i: int) -> None:
        self._sweep, self._i = sweep, i

    def __getitem__(self, symbol: str) -> pd.Timestamp:
        row = self._sweep.newest_rows[self._i, self._sweep.col_of[symbol]]
        return self._sweep.panel.index[row] if row >= 0 else pd.NaT

    def __iter__(self) -> Iterator[str]:
        return iter(self._sweep.symbols)

    def __len__(self) -> int:
        return len(self._sweep.symbols)
