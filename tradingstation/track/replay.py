"""Walk-forward replay: the screeners as of every stored session, then each signal's outcome.

Each session is screened with the same screener code the live sessions run, on the stored data
cut to what existed at that moment (:mod:`tradingstation.data.point_in_time`), so the signals of
a session never depend on how much later history is stored:

* **Daily screeners** (AVWAP Reclaim, Breakout, EMA Pullback, Exhaustion Reversal) as of the
  regular close of every stored session after ``warmup`` sessions of indicator history (the
  postmarket view: the session's daily bar complete). Each screen covers the whole universe at
  once; a run is one in-process screen per session, never a ``screen`` command per session.
* **Intraday screeners** over the sessions whose regular-session 1-min bars are stored: Gap &
  Go as of ``GAP_AND_GO_LEAD`` before the open (the premarket plan), ORB as of the close (its
  triggered signals carry the minute they fired; the outcome starts there).

Outcomes come from :func:`tradingstation.track.paths.evaluate_signals` over all signals at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from tradingstation.calendar import NY, get_calendar
from tradingstation.data import point_in_time as pit
from tradingstation.data.panel import Panel
from tradingstation.errors import InputError
from tradingstation.screeners import DAILY_SCREENERS, INTRADAY_SCREENERS, ScreenInput, get_screener
from tradingstation.signals import Signal
from tradingstation.track.outcome import OutcomeRules
from tradingstation.track.paths import evaluate_signals, rows_frame, signal_rows
from tradingstation.track.sweep import Sweep
from tradingstation.track.sweep_avwap import sweep_avwap_reclaim
from tradingstation.track.sweep_screens import (
    PerSession,
    sweep_breakout,
    sweep_ema_pullback,
    sweep_exhaustion_reversal,
)

WARMUP_SESSIONS = 60  # SMA50 + the EMA slope window + room: no daily screen before this
GAP_AND_GO_LEAD = pd.Timedelta(minutes=5)  # Gap & Go is replayed at 09:25 New York

Progress = Callable[[int], None]
ROW_ORDER = ["session", "screener", "symbol", "direction"]  # a backtest's signal rows
# Symbols per pass of replay_daily_rows: a block's (session, symbol) arrays reuse memory the
# process already touched instead of fresh pages for the whole universe (see find_anchors).
BLOCK_SYMBOLS = 2000

# The daily screeners evaluated on every (session, symbol) of the panel at once.
SWEEPS: dict[str, Callable[[Sweep, Any], PerSession]] = {
    "avwap_reclaim": sweep_avwap_reclaim,
    "breakout": sweep_breakout,
    "ema_pullback": sweep_ema_pullback,
    "exhaustion_reversal": sweep_exhaustion_reversal,
}


def daily_sessions(daily: Panel, count: int | None = None,
                   warmup: int = WARMUP_SESSIONS) -> list[date]:
    """Stored sessions a daily replay covers: after ``warmup``, the last ``count`` (None: all)."""
    days = [d.date() for d in daily.index[warmup:]]
    return days if count is None else days[-count:] if count > 0 else []


def intraday_sessions(intraday: Panel | None, daily: Panel,
                      count: int | None = None) -> list[date]:
    """Sessions with regular-session 1-min bars stored and prior daily bars to screen against."""
    if intraday is None or intraday.close.empty or daily.close.empty:
        return []
    cal = get_calendar()
    first = daily.index[0].date()
    local = pd.DatetimeIndex(intraday.index.tz_convert(NY))
    minute = local.hour * 60 + local.minute
    days = sorted({d for d, m in zip(local.date, minute, strict=True)
                   if 570 <= m < 960 and d > first and cal.is_session(d)})
    return days if count is None else days[-count:] if count > 0 else []


def _screen(names: Sequence[str], data: ScreenInput,
            params: Mapping[str, Mapping[str, Any]]) -> list[Signal]:
    found: list[Signal] = []
    for name in names:
        found += get_screener(name).screen(data, **params.get(name, {}))
    return found


def replay_daily_by_session(daily: Panel, sessions: Sequence[date], names: Sequence[str], *,
                            params: Mapping[str, Mapping[str, Any]] | None = None,
                            demo: bool = False,
                            progress: Progress | None = None) -> list[Signal]:
    """Signals of the daily screeners ``names`` as of the close of each of ``sessions``.

    One screen of the universe per session, on the panel cut to that session (the simple path, and
    the reference :func:`replay_daily` is checked against).
    """
    params = params or {}
    cal = get_calendar()
    found: list[Signal] = []
    for day in sessions:
        as_of = cal.session_times(day).market_close
        data = ScreenInput(session=day, as_of=as_of, daily=pit.cut_daily(daily, as_of), demo=demo)
        found += _screen(names, data, params)
        if progress:
            progress(1)
    return found


def _sweep_daily(daily: Panel, sessions: Sequence[date], names: Sequence[str],
                 params: Mapping[str, Mapping[str, Any]] | None, demo: bool,
                 progress: Progress | None, text: bool) -> list:
    """Per session, per name in order: signals (``text``) or column dicts of signal rows."""
    params = params or {}
    parsed = {n: get_screener(n).parse_params(**params.get(n, {})) for n in names}
    unknown = [n for n in names if n not in SWEEPS]
    if unknown:
        raise InputError(f"not a daily screener: {', '.join(unknown)}")
    sweep = Sweep.over(daily, sessions, demo, text)
    per_name = {name: SWEEPS[name](sweep, parsed[name]) for name in names}
    found: list = []
    for i in range(len(sessions)):
        for name in names:
            part = per_name[name][i]
            if text:
                found += part
            elif len(part):
                found.append(part)
        if progress:
            progress(1)
    return found


def replay_daily(daily: Panel, sessions: Sequence[date], names: Sequence[str], *,
                 params: Mapping[str, Mapping[str, Any]] | None = None, demo: bool = False,
                 progress: Progress | None = None) -> list[Signal]:
    """The signals :func:`replay_daily_by_session` finds, computed for all sessions at once.

    Each daily screener (:data:`SWEEPS`) evaluated on every (session, symbol) of the panel in one
    pass. Same order: per session, ``names`` in order.

    Raises:
        InputError: a bad parameter or a screener that is not a daily one (before anything is
            computed).
    """
    return _sweep_daily(daily, sessions, names, params, demo, progress, text=True)


def replay_daily_rows(daily: Panel, sessions: Sequence[date], names: Sequence[str], *,
                      params: Mapping[str, Mapping[str, Any]] | None = None,
                      progress: Progress | None = None) -> pd.DataFrame:
    """The signal rows of :func:`replay_daily`'s signals, without their text.

    :func:`~tradingstation.track.paths.signal_rows` of :func:`replay_daily`'s signals, without
    building their reasons and metrics (a backtest keeps only these columns), ordered by
    :data:`ROW_ORDER`.

    Raises:
        InputError: as :func:`replay_daily`.
    """
    blocks = list(daily.column_blocks(BLOCK_SYMBOLS)) or [daily]
    parts: list = []
    for number, block in enumerate(blocks, 1):  # a signal row depends on its symbol's bars only
        parts += _sweep_daily(block, sessions, names, params, False, None, text=False)
        if progress:  # the sessions' share of this block, so the count ends at len(sessions)
            progress(len(sessions) * number // len(blocks)
                     - len(sessions) * (number - 1) // len(blocks))
    if not parts:
        return rows_frame([])
    frame = rows_frame({c: np.concatenate([p[c] for p in parts]).tolist() for c in parts[0]})
    return frame.sort_values(ROW_ORDER, kind="stable", ignore_index=True)


def replay_intraday(daily: Panel, intraday: Panel, sessions: Sequence[date],
                    names: Sequence[str], *, quotes: Mapping[date, pd.DataFrame] | None = None,
                    params: Mapping[str, Mapping[str, Any]] | None = None, demo: bool = False,
                    progress: Progress | None = None) -> list[Signal]:
    """Signals of Gap & Go (before the open) and ORB (at the close) on each of ``sessions``."""
    params, quotes = params or {}, quotes or {}
    cal = get_calendar()
    found: list[Signal] = []
    for day in sessions:
        times = cal.session_times(day)
        for name in names:
            as_of = (pd.Timestamp(times.market_open) - GAP_AND_GO_LEAD
                     if name == "gap_and_go" else pd.Timestamp(times.market_close))
            data = ScreenInput(
                session=day, as_of=as_of.to_pydatetime(), daily=pit.cut_daily(daily, as_of),
                intraday_1min=pit.cut_intraday(intraday, as_of),
                quotes=pit.cut_quotes(quotes.get(day), as_of), demo=demo,
            )
            found += _screen([name], data, params)
        if progress:
            progress(1)
    return found


def check_names(names: Sequence[str] | None) -> list[str]:
    """Screener names to replay (all six when None), validated.

    Raises:
        InputError: an unknown screener (the message lists the valid ones).
    """
    if not names:
        return [*DAILY_SCREENERS, *INTRADAY_SCREENERS]
    for name in names:
        get_screener(name)
    return list(dict.fromkeys(names))


def run_backtest(daily: Panel, intraday: Panel | None = None, *,
                 names: Sequence[str] | None = None, sessions: int | None = None,
                 quotes: Mapping[date, pd.DataFrame] | None = None,
                 params: Mapping[str, Mapping[str, Any]] | None = None,
                 rules: OutcomeRules | None = None, demo: bool = False,
                 progress: Progress | None = None) -> pd.DataFrame:
    """Replay ``names`` over the last ``sessions`` stored sessions and resolve every outcome.

    Returns:
        One row per signal: :data:`~tradingstation.track.paths.SIGNAL_COLUMNS` and
        :data:`~tradingstation.track.paths.OUTCOME_COLUMNS`, ordered by session, screener,
        symbol.

    Raises:
        InputError: an unknown screener or a negative session count.
    """
    names = check_names(names)
    if sessions is not None and sessions < 0:
        raise InputError(f"--sessions must be positive, got {sessions}")
    daily_names = [n for n in names if n in DAILY_SCREENERS]
    intraday_names = [n for n in names if n in INTRADAY_SCREENERS]
    frames = []
    if daily_names:
        frames.append(replay_daily_rows(daily, daily_sessions(daily, sessions), daily_names,
                                        params=params, progress=progress))
    if intraday_names and intraday is not None:
        days = intraday_sessions(intraday, daily, sessions)
        frames.append(signal_rows(replay_intraday(
            daily, intraday, days, intraday_names, quotes=quotes, params=params, demo=demo,
            progress=progress)))
    frames = [f for f in frames if len(f)]
    frame = pd.concat(frames, ignore_index=True) if frames else signal_rows([])
    frame = frame.sort_values(ROW_ORDER, kind="stable")
    out = evaluate_signals(frame, daily, intraday, rules)
    out["demo"] = np.bool_(demo)
    return out
