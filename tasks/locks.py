"""Cross-run write locks of the datasets: every writer of a bars object holds its dataset's lock.

Why: a bars write is read-merge-write. Inside one run the batches hold disjoint symbols, so they
never touch the same object; two *runs* (a rerun of premarket while the scheduled one runs, an
operator's ``fetch`` or ``data cleanup`` during a session) could, and one would overwrite the
other's bars. Holding the dataset's lock for the whole stage serializes those runs: the second
one plans after the first one wrote.

Two layers, each released when its holder dies:

- Always, an OS file lock per dataset (:mod:`tradingstation.storage.locks`): the kernel drops
  it the moment the holding process exits, SIGKILL included. Beside the data for a local store;
  machine-local for S3 (it excludes runs of one machine only).
- With a Prefect server (``PREFECT_API_URL`` set), also one global concurrency slot per dataset,
  which excludes runs on every machine. Its lease is renewed while held; a killed holder's lease
  expires after ``LEASE_SECONDS`` and the server's repossessor frees the slot (within its
  ``PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS``, 15 s by default). Ephemeral mode (no
  server) takes no slot: its temporary server runs no repossessor, so a killed holder's slot
  would stay taken for good.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import httpx
from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency

from blocks.resolve import api_configured, resolve_store
from tradingstation.config import get_settings
from tradingstation.storage.base import ObjectStore
from tradingstation.storage.locks import hold_dataset_locks

log = logging.getLogger("tradingstation.locks")

LOCK_PREFIX = "tradingstation-write-"
# A killed holder's slot is free again this long after its last renewal (+ the repossessor's
# loop). 60 s is the shortest lease the Prefect server accepts.
LEASE_SECONDS = 60
DEFAULT_TIMEOUT_SECONDS = 3600


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


def _store_from_settings() -> ObjectStore:
    return resolve_store(get_settings())


@contextlib.contextmanager
def dataset_locks(
    *datasets: str,
    store: ObjectStore | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> Iterator[None]:
    """Hold the write locks of several datasets for the block, taken in one (sorted) order.

    Args:
        datasets: ``daily``, ``1min``, ``30min`` (duplicates are fine).
        store: The store written (default: the configured one).
        timeout_seconds: How long to wait for another run to finish.

    Raises:
        TimeoutError: Another run held a lock for longer than ``timeout_seconds``.
    """
    names = sorted(set(datasets))
    store = store if store is not None else _store_from_settings()
    with hold_dataset_locks(store, names, timeout_seconds):
        if not names or not api_configured():
            yield
            return
        slots = [lock_name(d) for d in names]
        for name in slots:
            ensure_lock(name)
        # One request for every slot: the server grants all of them or none (no partial hold).
        with concurrency(slots, occupy=1, timeout_seconds=timeout_seconds,
                         lease_duration=LEASE_SECONDS, strict=True):
            log.debug("holding %s", ", ".join(slots))
            yield


@contextlib.contextmanager
def dataset_lock(
    dataset: str,
    store: ObjectStore | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> Iterator[None]:
    """Hold the write lock of ``dataset`` for the block (see :func:`dataset_locks`).

    Raises:
        TimeoutError: Another run held the lock for longer than ``timeout_seconds``.
    """
    with dataset_locks(dataset, store=store, timeout_seconds=timeout_seconds):
        yield
