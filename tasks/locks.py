"""Cross-run write locks: one Prefect global concurrency slot per dataset being written.

Why: a bars write is read-merge-write. Inside one run the batches hold disjoint symbols, so they
never touch the same object; two *runs* (a rerun of premarket while the scheduled one runs, an
operator's ``fetch`` during a session) could. Holding the dataset's slot for the fetch stage
serializes those runs: the second one plans after the first one wrote, finds the symbols fresh
and makes no call, so no bar is lost and no call is wasted. Merge-by-timestamp and atomic writes
remain the second line of defence.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency

log = logging.getLogger("tradingstation.tasks")

LOCK_PREFIX = "tradingstation-write-"
# Lease renewed in the background while held; a crashed holder frees the slot after this.
LEASE_SECONDS = 300


def lock_name(dataset: str) -> str:
    """Name of the global concurrency limit guarding writes of ``dataset``."""
    return f"{LOCK_PREFIX}{dataset}"


def ensure_lock(name: str) -> None:
    """Create the one-slot limit ``name`` if it does not exist (idempotent, race-tolerant)."""
    with get_client(sync_client=True) as client:
        try:
            client.upsert_global_concurrency_limit_by_name(name, limit=1)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 409:  # another run created it first
                raise


@contextmanager
def dataset_lock(dataset: str, timeout_seconds: float = 3600) -> Iterator[None]:
    """Hold the write slot of ``dataset`` for the duration of the block.

    Raises:
        TimeoutError: Another run held the slot for longer than ``timeout_seconds``.
    """
    name = lock_name(dataset)
    ensure_lock(name)
    with concurrency(name, occupy=1, timeout_seconds=timeout_seconds,
                     lease_duration=LEASE_SECONDS, strict=True):
        log.debug("holding %s", name)
        yield
