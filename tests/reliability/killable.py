"""The fetch stage's writes without Prefect, for worker processes a test SIGKILLs.

Everything else runs a fetch job through the flows' own composition
(:func:`tests.support.fetching.fetch_job`). A process killed while its flow run holds a
dataset's lock on a Prefect server leaves the server's slot taken until its lease expires
(60 s, :mod:`tasks.locks`), and a process in ephemeral mode starts its own server (about 15 s):
both would make tests that kill dozens of writers take many minutes. So those writers make the
calls the fetch stage's tasks make (plan, then one :func:`fetch_batch` per batch) under the OS
file lock the stage holds, which dies with them. That each flow holds that lock while it writes
is ``tests/reliability/test_locks.py::test_every_bars_writer_holds_its_lock``.
"""

from __future__ import annotations

from datetime import datetime

from tradingstation.config import Settings
from tradingstation.data.batch import BatchResult
from tradingstation.data.fetch import (
    fetch_batch,
    fetch_universe,
    job_dataset,
    prepare_job,
    split_batches,
)
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage.base import ObjectStore
from tradingstation.storage.locks import hold_dataset_locks


def write_fetch_job(
    job: str,
    store: ObjectStore,
    provider: MarketDataProvider,
    now: datetime,
    settings: Settings,
    refetch: bool = False,
    lock_timeout: float = 120.0,
) -> list[BatchResult]:
    """Write what fetch job ``job`` writes for ``now``, batch after batch; the batch results."""
    if job == "universe":
        fetch_universe(store, provider, now)
        return []
    with hold_dataset_locks(store, [job_dataset(job)], lock_timeout):
        plan = prepare_job(job, store, provider, now, settings, force=refetch)
        return [fetch_batch(store, provider, plan.dataset, batch, now, settings)
                for batch in split_batches(plan.requests, settings.batch_size)]
