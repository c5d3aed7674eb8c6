"""Backtest and live-record runs against a store: read what is stored, replay or update, write.

Both see the store as it was at ``now`` (:mod:`tradingstation.data.point_in_time`): a backtest
or live update run ``--as-of`` an earlier moment ignores everything stored since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from tradingstation.config import Settings
from tradingstation.data import point_in_time as pit
from tradingstation.data.panel import Panel
from tradingstation.data.panel_store import load_panel
from tradingstation.errors import InputError, ObjectNotFoundError
from tradingstation.screeners import INTRADAY_SCREENERS
from tradingstation.screeners.store import load_signals
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore
from tradingstation.track import stats
from tradingstation.track.outcome import OPEN, OutcomeRules
from tradingstation.track.paths import SIGNAL_COLUMNS, evaluate_signals, signal_rows
from tradingstation.track.replay import Progress, check_names, intraday_sessions, run_backtest
from tradingstation.track.store import (
    RECORD_COLUMNS,
    jsonable,
    read_live,
    run_id,
    save_backtest,
)

NO_HISTORY = ("no daily bars stored to replay: run `tradingstation fetch universe` and "
              "`tradingstation fetch daily` (or `./dev premarket`) first")
LIVE_LOOKBACK = timedelta(days=40)  # published signals read each update (retention: 30 days)
EXPIRE_AFTER = timedelta(days=60)  # an outcome window is at most ~21 sessions (fill + hold)
EXPIRED = "expired"


def rules_from_settings(settings: Settings, **overrides: float | int | None) -> OutcomeRules:
    """The outcome rules of ``TS_TRACK_*`` settings, with command-line overrides where given.

    Raises:
        InputError: an override out of range (one line naming it).
    """
    values = {
        "fill_sessions": settings.track_fill_sessions,
        "time_stop_sessions": settings.track_time_stop_sessions,
        "slippage_bps": settings.track_slippage_bps,
        "commission_per_share": settings.track_commission_per_share,
        "scale_out": settings.track_scale_out,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return OutcomeRules(**values)


@dataclass(frozen=True)
class BacktestResult:
    """A finished backtest: its outcome rows, summary document and where it was stored."""

    outcomes: pd.DataFrame
    summary: dict[str, Any]
    key: str


def _quotes(store: ObjectStore, sessions: Sequence[date]) -> dict[date, pd.DataFrame]:
    found = {}
    for day in sessions:
        try:
            found[day] = store.get_frame(keys.quotes_key(day))
        except ObjectNotFoundError:
            continue
    return found


def summarize_backtest(outcomes: pd.DataFrame, rules: OutcomeRules) -> dict[str, Any]:
    """The summary document of a backtest's outcome rows (statistics, calibration, rules)."""
    sessions = sorted(outcomes["session"].unique()) if len(outcomes) else []
    return {
        "sessions": {"first": sessions[0] if sessions else None,
                     "last": sessions[-1] if sessions else None, "count": len(sessions)},
        "signals": len(outcomes),
        "rules": asdict(rules),
        "min_outcomes": stats.MIN_OUTCOMES,
        "by_screener": jsonable(stats.summarize(outcomes, ("screener",))),
        "stats": jsonable(stats.summarize(outcomes)),
        "calibration": jsonable(stats.calibration(outcomes)),
    }


def backtest_store(store: ObjectStore, now: datetime, *, names: Sequence[str] | None = None,
                   sessions: int | None = None, tickers: Sequence[str] | None = None,
                   params: Mapping[str, Mapping[str, Any]] | None = None,
                   rules: OutcomeRules | None = None, demo: bool = False,
                   progress: Progress | None = None) -> BacktestResult:
    """Replay the stored history (as known at ``now``), store outcomes and summary.

    Raises:
        InputError: an unknown screener, a bad session count, or no daily bars stored.
    """
    names = check_names(names)
    rules = rules or OutcomeRules()
    daily = pit.cut_daily(load_panel(store, "daily", tickers), now)
    if daily.close.empty:
        raise InputError(NO_HISTORY)
    intraday = None
    if any(n in INTRADAY_SCREENERS for n in names):
        intraday = pit.cut_intraday(load_panel(store, "1min", tickers), now)
    quotes = _quotes(store, intraday_sessions(intraday, daily, sessions))
    outcomes = run_backtest(daily, intraday, names=names, sessions=sessions, quotes=quotes,
                            params=params, rules=rules, demo=demo, progress=progress)
    summary = {"generated_at": pd.Timestamp(now).tz_convert("UTC").isoformat(), "demo": demo,
               "screeners": names, **summarize_backtest(outcomes, rules)}
    run = run_id(now)
    summary["run"] = run
    key = save_backtest(store, run, outcomes, summary)
    return BacktestResult(outcomes, summary, key)


@dataclass(frozen=True)
class LiveUpdate:
    """What one live-record update did."""

    added: int
    resolved: int
    pending: int
    total: int

    def to_dict(self) -> dict[str, int]:
        """JSON-ready counts."""
        return asdict(self)


def _minute_panel(store: ObjectStore, todo: pd.DataFrame, now: datetime,
                  minute_days: int) -> Panel | None:
    """1-min bars of the symbols whose signal's own session may still have them stored.

    Only symbols that have a 1-min object (one listing) and a signal of the last
    ``minute_days`` (+1) days are read: most pending signals are daily ones without minutes.
    """
    recent = pd.to_datetime(todo["session"]) >= (
        pd.Timestamp(now).tz_convert("UTC").tz_localize(None).normalize()
        - pd.Timedelta(days=minute_days + 1))
    wanted = set(todo.loc[recent.to_numpy(), "symbol"])
    if not wanted:
        return None
    stored = {keys.symbol_from_bars_key(i.key)
              for i in store.list_objects(keys.bars_prefix("1min"))}
    symbols = sorted(wanted & stored)
    return pit.cut_intraday(load_panel(store, "1min", symbols), now) if symbols else None


def update_live_record(store: ObjectStore, now: datetime, rules: OutcomeRules | None = None,
                       minute_days: int = 7) -> LiveUpdate:
    """Add newly published signals to the live record and resolve the ones still open.

    Decided rows are never recomputed (their bars may since have left retention); open rows
    are re-evaluated from the bars stored for their symbols only, as known at ``now``.
    ``minute_days`` is the 1-min retention (``TS_RETENTION_1MIN_DAYS``): older signals' entry
    days have no 1-min bars left to read.
    """
    record = read_live(store)
    published = pit.cut_signals(load_signals(store, pd.Timestamp(now) - LIVE_LOOKBACK), now)
    known = set(record["id"])
    new = [s for s in published if s.id not in known]
    fresh = signal_rows(new)
    fresh["demo"] = [s.demo for s in new]
    waiting = record[record["exit_reason"] == OPEN]
    todo = pd.concat([waiting.reindex(columns=[*SIGNAL_COLUMNS, "demo"]), fresh],
                     ignore_index=True) if len(waiting) else fresh
    if todo.empty:
        return LiveUpdate(0, 0, 0, len(record))
    symbols = sorted(set(todo["symbol"]))
    daily = pit.cut_daily(load_panel(store, "daily", symbols), now)
    intraday = _minute_panel(store, todo, now, minute_days)
    todo["timestamp"] = pd.to_datetime(todo["timestamp"], utc=True)
    demo = todo.pop("demo").astype(bool).to_numpy()
    evaluated = evaluate_signals(todo, daily, intraday, rules).assign(demo=demo)
    # Still open long after its window could have closed: its symbol's bars stopped coming
    # (delisted, or no longer fetched). Counted nowhere, and no longer re-read every day.
    stale = (evaluated["exit_reason"] == OPEN) & (
        pd.to_datetime(evaluated["timestamp"], utc=True) < pd.Timestamp(now) - EXPIRE_AFTER)
    evaluated.loc[stale.to_numpy(), "exit_reason"] = EXPIRED
    kept = record[record["exit_reason"] != OPEN]
    merged = pd.concat([kept, evaluated.reindex(columns=list(RECORD_COLUMNS))],
                       ignore_index=True) if len(kept) else evaluated
    merged = merged.reindex(columns=list(RECORD_COLUMNS))
    merged = merged.sort_values(["timestamp", "id"], kind="stable").reset_index(drop=True)
    store.put_frame(keys.live_outcomes_key(), merged)
    still = int((evaluated["exit_reason"] == OPEN).sum())
    resolved = int(np.sum(evaluated["exit_reason"].to_numpy() != OPEN))
    return LiveUpdate(len(fresh), resolved, still, len(merged))
