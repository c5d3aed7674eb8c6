"""A whole fetch job in this process, by the core calls the flow's fetch stage makes.

``flows.session.fetch_stage`` (used by every session flow and the ``fetch`` flow) runs, as
Prefect tasks: ``plan-fetch`` (:func:`~tradingstation.data.fetch.prepare_job`), one
``fetch-batch`` per batch of :func:`~tradingstation.data.fetch.split_batches`
(:func:`~tradingstation.data.fetch.fetch_batch` on the first attempt), ``summarize-fetch``
(:func:`~tradingstation.data.fetch.summarize_job`) and, for split-scanned datasets,
``reconcile-splits`` (:func:`~tradingstation.data.corporate_actions.reconcile_splits`); the
universe job is ``fetch-universe`` (:func:`~tradingstation.data.fetch.fetch_universe`).
:func:`fetch_job` makes the same calls in the same order, without Prefect (no task retries),
for tests and benches that need many fetches or run them in killed worker processes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from tradingstation.calendar import MarketCalendar
from tradingstation.config import Settings
from tradingstation.data.batch import BatchResult
from tradingstation.data.corporate_actions import reconcile_splits
from tradingstation.data.fetch import (
    JOBS,
    FetchRequest,
    JobReport,
    fetch_batch,
    fetch_universe,
    prepare_job,
    split_batches,
    summarize_job,
)
from tradingstation.data.symbol_fetch import SPLIT_SCANNED, SymbolOutcome
from tradingstation.errors import InputError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage.base import ObjectStore


def fetch_job(
    job: str,
    store: ObjectStore,
    provider: MarketDataProvider,
    now: datetime,
    settings: Settings,
    tickers: Sequence[str] | str | None = None,
    force: bool = False,
    force_compact: bool = False,
    progress: Callable[[int, int], None] | None = None,
    calendar: MarketCalendar | None = None,
) -> JobReport:
    """Run fetch job ``job`` for ``now`` as the fetch stage does (see the module docstring).

    ``progress(done, total)`` is called after each symbol that needed a call.

    Raises:
        InputError: Unknown job or malformed ticker; nothing was called or written.
    """
    if job not in JOBS:
        raise InputError(f"unknown fetch job {job!r}: expected one of {', '.join(JOBS)}")
    if JOBS[job] is None:
        if tickers:
            raise InputError("--tickers does not apply to the universe job")
        return fetch_universe(store, provider, now, force=force)
    plan = prepare_job(job, store, provider, now, settings, tickers, force, force_compact,
                       calendar)
    total, done = len(plan.to_fetch), 0

    def tick(_request: FetchRequest, _outcome: SymbolOutcome) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    results: list[BatchResult] = []
    for batch in split_batches(plan.requests, settings.batch_size):
        result = fetch_batch(store, provider, plan.dataset, batch, plan.now.to_pydatetime(),
                             settings, progress=tick)
        results.append(result)
        if result.fatal_error:
            break  # the rest would be refused too; summarize_job lists them as not attempted
    report = summarize_job(plan, results, provider)
    if plan.dataset in SPLIT_SCANNED and not report.fatal_error:
        splits = reconcile_splits(store, provider, report.split_candidates, plan.now)
        report.calls += splits.calls
        report.details["splits"] = splits.to_dict()
    return report
