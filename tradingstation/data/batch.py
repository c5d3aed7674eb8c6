"""Fetch batches: one batch of symbols per call, incremental and self-healing via the ledger.

Retry ownership: nothing here retries. :func:`fetch_batch` returns every symbol's outcome and
lists the symbols that failed with a ``TransientError`` (``BatchResult.retry_requests``); the
task layer retries the batch, and a retry fetches *those requests only*, re-planned from the
ledger (:mod:`tradingstation.data.batch_retry`: a symbol already fetched is never fetched twice).
Permanent failures are reported once and not retried. A permanent provider-wide error (bad API
key, configuration) stops further calls of the batch and, through the job's shared
:class:`~tradingstation.data.symbol_fetch.Stops`, of its other batches (``fatal_error``); a
premium-only refusal of full history stops further full/month requests the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from tradingstation.calendar import get_calendar
from tradingstation.config import Settings
from tradingstation.data.fetch_plan import FetchRequest, expected_bar, to_utc
from tradingstation.data.ledger import update_ledger
from tradingstation.data.split_ledger import applied_splits
from tradingstation.data.symbol_fetch import Stops, SymbolOutcome, process_symbol
from tradingstation.errors import DataError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """Outcome of :func:`fetch_batch`.

    Attributes:
        dataset: The dataset fetched.
        outcomes: One per request, in request order.
        calls: Provider calls made.
        writes: Bars objects written.
        quarantined: Keys of rejected provider data kept for inspection.
        ledger_written: Whether the ledger object was written.
        retry_requests: Requests that failed transiently; retry exactly these.
        fatal_error: A provider-wide permanent error (bad key, config), if one occurred.
    """

    dataset: str
    outcomes: list[SymbolOutcome] = field(default_factory=list)
    calls: int = 0
    writes: int = 0
    quarantined: list[str] = field(default_factory=list)
    ledger_written: bool = False
    retry_requests: list[FetchRequest] = field(default_factory=list)
    fatal_error: str | None = None

    @property
    def transient_failures(self) -> list[str]:
        """Symbols that failed with a TransientError."""
        return [r.symbol for r in self.retry_requests]

def fetch_batch(
    store: ObjectStore,
    provider: MarketDataProvider,
    dataset: str,
    requests: Sequence[FetchRequest],
    now: datetime,
    settings: Settings,
    max_workers: int | None = None,
    stops: Stops | None = None,
) -> BatchResult:
    """Fetch one batch of symbols: the unit of work of one Prefect task.

    Provider calls run concurrently (``max_workers``, default ``settings.http_concurrency``);
    the provider applies the shared rate limiter. Per symbol: read stored bars, call, validate
    (invalid data is quarantined under ``keys.quarantine_key`` and nothing is merged), merge
    (newest fetch wins, nothing dropped), apply retention, write only if the content changed.
    A failing symbol never blocks the others. The ledger is updated once, at the end.

    Args:
        store: Object store.
        provider: Market data provider.
        dataset: ``daily``, ``1min`` or ``30min``.
        requests: Planned requests (those that need no call are ignored).
        now: Time of the fetch (tz-aware): retention and ``last_fetch`` use it.
        settings: Settings (concurrency, retention, secrets for redaction).
        max_workers: Concurrency override.
        stops: The job's refusals, shared by its batches (default: this batch's own). A
            provider-wide refusal seen by one batch leaves the calls of every batch of the job
            that has not made them yet unattempted.

    Returns:
        The batch result; ``retry_requests`` holds what a retry should fetch again.
    """
    keys.validate_dataset(dataset)
    now_ts = to_utc(now)
    todo = [r for r in requests if r.needs_call]
    wrong = sorted({r.dataset for r in todo} - {dataset})
    if wrong:
        raise DataError(f"requests for {', '.join(wrong)} given to a {dataset} batch")
    result = BatchResult(dataset=dataset)
    stops = stops if stops is not None else Stops()
    # A retried batch may run well after planning: bars completed since then are welcome.
    cutoff = expected_bar(dataset, now_ts.to_pydatetime(), get_calendar())
    secrets = settings.secret_values()
    rows: list[dict] = []
    workers = max(1, min(max_workers or settings.http_concurrency, len(todo) or 1))
    known = applied_splits(store) if todo else {}
    outcomes: dict[int, SymbolOutcome] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        futures = {
            pool.submit(process_symbol, store, provider, r, now_ts, settings, stops, secrets,
                        max(cutoff, r.expected_bar), known.get(r.symbol, [])): i
            for i, r in enumerate(todo)
        }
        for future in as_completed(futures):
            index = futures[future]
            outcome, row, quarantined, retry = future.result()
            outcomes[index] = outcome
            result.calls += outcome.calls
            result.writes += int(outcome.written)
            if row is not None:
                rows.append(row)
            if quarantined:
                result.quarantined.append(quarantined)
            if retry is not None:
                result.retry_requests.append(retry)
    result.outcomes = [outcomes[i] for i in range(len(todo))]
    order = {r.symbol: i for i, r in enumerate(todo)}
    result.retry_requests.sort(key=lambda r: order[r.symbol])
    result.fatal_error = stops.fatal
    if rows:
        result.ledger_written = update_ledger(store, dataset, pd.DataFrame(rows))
    return result
