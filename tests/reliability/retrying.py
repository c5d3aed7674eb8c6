"""The task layer's retry policy, without Prefect: for driving core jobs under injected faults.

``tasks/`` retries a task run when it fails with a ``TransientError``; a ``fetch-batch`` retry
re-plans from the ledger (``retry_batch``) and fetches only what the run has not settled.
These helpers do the same in-process, so core code can be exercised against a faulty store or
provider exactly as a flow would drive it, with the backoff left out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tradingstation.config import Settings
from tradingstation.data.batch_retry import retry_batch
from tradingstation.data.fetch import (
    JobReport,
    fetch_batch,
    fetch_universe,
    prepare_job,
    split_batches,
    summarize_job,
)
from tradingstation.errors import TransientError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage.base import ObjectStore

RETRIES = 12


class Attempts:
    """Counts attempts and transient failures seen by :func:`retry`."""

    def __init__(self) -> None:
        self.attempts = 0
        self.transient = 0


def retry[T](fn: Callable[[], T], budget: int = RETRIES, attempts: Attempts | None = None) -> T:
    """Call ``fn`` until it does not raise a ``TransientError``, at most ``budget + 1`` times."""
    for number in range(budget + 1):
        if attempts is not None:
            attempts.attempts += 1
        try:
            return fn()
        except TransientError:
            if attempts is not None:
                attempts.transient += 1
            if number == budget:
                raise
    raise AssertionError("unreachable")


def run_job_with_retries(
    job: str,
    store: ObjectStore,
    provider: MarketDataProvider,
    now: datetime,
    settings: Settings,
    tickers: list[str] | None = None,
    force: bool = False,
    budget: int = RETRIES,
    attempts: Attempts | None = None,
) -> JobReport:
    """A fetch job the way ``flows/session.fetch_stage`` runs it, with task-layer retries."""
    if job == "universe":
        def universe() -> JobReport:
            report = fetch_universe(store, provider, now, force=force)
            if report.failed and report.failed[0].transient:
                raise TransientError(report.failed[0].reason)
            return report

        return retry(universe, budget, attempts)
    plan = retry(lambda: prepare_job(job, store, provider, now, settings, tickers, force),
                 budget, attempts)
    results = []
    for batch in split_batches(plan.requests, settings.batch_size):
        started = datetime.now(UTC)  # what Prefect keeps as the task run's start time
        for number in range(budget + 1):
            if attempts is not None:
                attempts.attempts += 1
            try:
                if number == 0:
                    result = fetch_batch(store, provider, plan.dataset, batch, now, settings)
                else:
                    result = retry_batch(store, provider, plan.dataset, batch, now, settings,
                                         since=started)
            except TransientError:  # e.g. the ledger write failed: the whole attempt reruns
                if attempts is not None:
                    attempts.transient += 1
                continue
            if result.retry_requests and number < budget:
                if attempts is not None:
                    attempts.transient += 1
                continue
            results.append(result)
            break
    return summarize_job(plan, results, provider)
