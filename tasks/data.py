"""Data tasks: universe, planned bar batches (one task per batch, never per symbol), quotes."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.locks import dataset_locks
from tasks.policy import attempt, first_attempt_started, retry_options, run_ids
from tradingstation import logs
from tradingstation.config import Settings
from tradingstation.data import corporate_actions, fetch
from tradingstation.data.batch import BatchResult
from tradingstation.data.batch_retry import retry_batch
from tradingstation.data.panel import Panel
from tradingstation.data.provenance import foreign_note
from tradingstation.data.sources import foreign_data
from tradingstation.data.splits import SplitCandidate
from tradingstation.data.universe import load_universe
from tradingstation.errors import TransientError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.providers.usage import persist_usage
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

log = logging.getLogger("tradingstation.data.fetch")

@task(name="fetch-universe", cache_policy=NO_CACHE, **retry_options())
def refresh_universe(
    store: ObjectStore, provider: MarketDataProvider, now: datetime, force: bool = False
) -> fetch.JobReport:
    """Refresh the ticker universe (free when today's snapshot exists unless ``force``).

    Raises:
        TransientError: The listing call failed in a way a retry may fix (Prefect retries).
    """
    with logs.set_run_context(**run_ids()):
        report = fetch.fetch_universe(store, provider, now, force=force)
        persist_api_usage(store, provider)
        failed = report.failed
        if failed and failed[0].transient:
            raise TransientError(f"universe listing failed: {failed[0].reason}")
        log.info(report.summary())
        return report


@task(name="plan-fetch", cache_policy=NO_CACHE, **retry_options())
def plan_job(
    job: str,
    store: ObjectStore,
    provider: MarketDataProvider,
    now: datetime,
    settings: Settings,
    tickers: Sequence[str] | None = None,
    force: bool = False,
    force_compact: bool = False,
) -> fetch.JobPlan:
    """Plan a bars job: which symbols need which calls (no provider call)."""
    with logs.set_run_context(**run_ids()):
        plan = fetch.prepare_job(
            job, store, provider, now, settings, tickers, force=force, force_compact=force_compact
        )
        log.info("%s: %d symbols, %d to fetch", job, len(plan.symbols), len(plan.to_fetch))
        return plan


def _batch_name(parameters: dict[str, Any]) -> str:
    requests = parameters.get("requests") or []
    first = requests[0].symbol if requests else "-"
    return f"fetch-{parameters.get('dataset')}-{first}+{max(0, len(requests) - 1)}"


@task(name="fetch-batch", task_run_name=_batch_name, cache_policy=NO_CACHE, **retry_options())
def fetch_bars_batch(
    store: ObjectStore,
    provider: MarketDataProvider,
    dataset: str,
    requests: list[fetch.FetchRequest],
    now: datetime,
    settings: Settings,
    stops: fetch.Stops | None = None,
) -> BatchResult:
    """Fetch one batch of symbols; retry (via Prefect) only the symbols that failed transiently.

    ``stops`` holds the job's refusals, shared by its batches (a rejected key stops them all).

    An attempt that leaves transient failures raises ``TransientError`` while retries remain,
    so Prefect backs off and runs the task again, in this process or another; that attempt
    re-plans from the ledger and fetches only what this run has not settled
    (:func:`retry_batch`). The last attempt returns the combined result instead of failing:
    failed symbols are reported, and the flow keeps going with the rest.
    """
    number, allowed = attempt()
    with logs.set_run_context(**run_ids()):
        if number == 1:
            result = fetch.fetch_batch(store, provider, dataset, requests, now, settings,
                                       stops=stops)
        else:
            result = retry_batch(store, provider, dataset, requests, now, settings,
                                 since=first_attempt_started(), stops=stops)
        retry = result.retry_requests
        if retry and not result.fatal_error and number < allowed:
            raise TransientError(
                f"{len(retry)} of {len(requests)} {dataset} symbols failed transiently "
                f"(attempt {number}/{allowed}): {', '.join(r.symbol for r in retry[:10])}"
            )
        if retry:
            log.warning(
                "%s: %d symbols still failing after %d attempts: %s",
                dataset, len(retry), number, ", ".join(r.symbol for r in retry[:20]),
            )
        return result


@task(name="summarize-fetch", cache_policy=NO_CACHE, **retry_options())
def summarize(
    store: ObjectStore,
    plan: fetch.JobPlan,
    results: list[BatchResult],
    provider: MarketDataProvider,
) -> fetch.JobReport:
    """Combine the plan and the batch results into one job report; persist API usage."""
    with logs.set_run_context(**run_ids()):
        report = fetch.summarize_job(plan, results, provider)
        persist_api_usage(store, provider)
        log.info(report.summary())
        return report


def persist_api_usage(store: ObjectStore, provider: MarketDataProvider) -> None:
    """Add the provider's calls, throttles and errors so far to today's stored usage.

    Add the provider's calls/throttles/errors so far to today's stored usage (for ``health
    --api-usage``). The counter is drained, so calling again never double-counts.
    """
    counter = getattr(provider, "usage_counter", None)
    if counter is not None:
        persist_usage(store, counter)


@task(name="check-sources", cache_policy=NO_CACHE, **retry_options())
def check_sources(store: ObjectStore, source: str) -> str | None:
    """The summary line naming symbols whose stored data is not from ``source``.

    The summary line naming symbols whose stored data is not from ``source`` (None if there are
    none): they are not screened until refetched.
    """
    with logs.set_run_context(**run_ids()):
        found = foreign_data(store, source)
        if not found:
            return None
        note = foreign_note(found, source)
        log.warning("%s", note)
        return note


@task(name="select-watchlist", cache_policy=NO_CACHE, **retry_options())
def select_watchlist(
    store: ObjectStore, session: date, cap: int, daily: Panel | None = None,
    as_of: datetime | None = None,
) -> list[str]:
    """The session's intraday watchlist (premarket candidates, gappers, anchored names).

    ``daily`` is the session's daily panel when already loaded (read from ``store`` if None);
    ``as_of`` leaves out what did not exist yet at that instant (a replay sees what the live
    run saw).
    """
    with logs.set_run_context(**run_ids()):
        return fetch.select_watchlist(store, session, cap, daily=daily, as_of=as_of)


@task(name="fetch-quotes", cache_policy=NO_CACHE, **retry_options())
def fetch_quotes(
    store: ObjectStore,
    provider: MarketDataProvider,
    session: date,
    symbols: list[str] | None = None,
    max_age_seconds: float = 0.0,
    concurrency: int = 1,
    session_extremes: bool = False,
):
    """Fetch and store premarket (or session) quotes for ``symbols``.

    Fetch and store premarket quotes for ``symbols`` (the stored universe when None), in chunks of
    100 per provider call, ``concurrency`` at a time. Quotes stored less than ``max_age_seconds``
    ago are reused (0 = fetch every symbol). With ``session_extremes``: session quotes (the regular
    session's open, running high/low, volume; the market cycle's) at
    ``keys.market_quotes_key(session)`` instead.
    """
    with logs.set_run_context(**run_ids()):
        if symbols is None:
            symbols = load_universe(store)
        try:
            return fetch.fetch_quotes(store, provider, session, symbols, max_age_seconds,
                                      concurrency=concurrency,
                                      session_extremes=session_extremes)
        finally:
            persist_api_usage(store, provider)


def _every_dataset(store: ObjectStore):
    """The write locks of every dataset of ``store``, as a factory for the core to enter."""
    return functools.partial(dataset_locks, *keys.DATASETS, store=store)


@task(name="reconcile-splits", cache_policy=NO_CACHE, **retry_options())
def reconcile_splits(
    store: ObjectStore,
    provider: MarketDataProvider,
    candidates: list[SplitCandidate],
    now: datetime,
) -> corporate_actions.SplitReport:
    """Confirm the split-like moves a fetch saw and back-adjust the confirmed symbols.

    Confirm the split-like moves a daily fetch saw (one ``SPLITS`` call per symbol, none without a
    new candidate) and back-adjust every dataset of each confirmed symbol, holding every dataset's
    write lock (``dataset_locks``, one sorted order) only when there is something to write. Run it
    after the daily fetch released its lock.
    """
    with logs.set_run_context(**run_ids()):
        report = corporate_actions.reconcile_splits(store, provider, candidates, now,
                                                    locked=_every_dataset(store))
        persist_api_usage(store, provider)
        for line in report.notes():
            log.info(line)
        return report


@task(name="resolve-splits", cache_policy=NO_CACHE, **retry_options())
def resolve_symbol_splits(
    store: ObjectStore,
    provider: MarketDataProvider,
    symbol: str,
    now: datetime,
    day: date | None = None,
    factor: float | None = None,
    dismiss: bool = False,
) -> corporate_actions.SplitReport:
    """``tradingstation data splits``.

    Ask the provider again about ``symbol``'s unresolved split-like moves, or record an operator's
    confirmation (``factor``) or dismissal of the move on ``day``; every dataset's write lock is
    held throughout.
    """
    with logs.set_run_context(**run_ids()):
        report = corporate_actions.resolve_split(store, provider, symbol, now, day, factor,
                                                 dismiss, locked=_every_dataset(store))
        persist_api_usage(store, provider)
        return report
