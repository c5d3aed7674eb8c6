"""Track-record tasks: a walk-forward backtest (with its artifact) and the live-record update."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from tasks.policy import retry_options, run_ids
from tradingstation import logs
from tradingstation.storage.base import ObjectStore
from tradingstation.track.outcome import OutcomeRules
from tradingstation.track.report import backtest_markdown
from tradingstation.track.run import BacktestResult, LiveUpdate, backtest_store, update_live_record

log = logging.getLogger("tradingstation.tasks")

ARTIFACT_KEY = "backtest"


# The result holds every signal of the run: an in-memory hand-off, never persisted.
@task(name="backtest", cache_policy=NO_CACHE, persist_result=False, **retry_options())
def backtest(store: ObjectStore, now: datetime, names: Sequence[str] | None,
             sessions: int | None, tickers: Sequence[str] | None,
             demo: bool, rules: OutcomeRules) -> BacktestResult:
    """Replay the screeners over the stored history, store the outcomes, publish the artifact."""
    with logs.set_run_context(**run_ids()):
        result = backtest_store(store, now, names=names, sessions=sessions, tickers=tickers,
                                rules=rules, demo=demo)
        create_markdown_artifact(key=ARTIFACT_KEY, markdown=backtest_markdown(result.summary),
                                 description="Backtest: outcomes of every screener's signals, in R")
        log.info("backtest: %d signals over %s sessions -> %s", result.summary["signals"],
                 result.summary["sessions"]["count"], result.key)
        return result


@task(name="update-track-record", cache_policy=NO_CACHE, **retry_options())
def update_track_record(store: ObjectStore, now: datetime, rules: OutcomeRules,
                        minute_days: int) -> LiveUpdate:
    """Fill in the outcomes of published signals as later bars arrive (the live record)."""
    with logs.set_run_context(**run_ids()):
        update = update_live_record(store, now, rules, minute_days)
        log.info("track record: %d added, %d resolved, %d still open, %d rows", update.added,
                 update.resolved, update.pending, update.total)
        return update
