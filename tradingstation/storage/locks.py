"""Write locks of a store.

An OS file lock per dataset across processes, a thread lock per object inside one process.

Why a file lock: every writer of a bars object (fetch, cleanup, fill-gaps, rebuild swap, restore,
split adjustment) reads, changes and writes the object back; two processes doing that at once
lose one side's bars. ``fcntl.flock`` belongs to the open file, so the kernel releases it the
moment its holder exits, however it exits (SIGKILL included): a killed command never blocks the
next one. The lock files live beside the data for a local store (``<data dir>/.locks/``, hidden
from listings) and in a machine-local directory for any other store (S3), where they only
exclude processes of the same machine (see the README's "Overlapping runs").

Threads of one process take the same file lock through their own open file, so they exclude
each other too; :func:`object_lock` is the finer in-process lock a batch of one run takes around
each object it writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore
from tradingstation.storage.local import LocalStore

LOCK_DIR_NAME = ".locks"
# How long a waiting writer sleeps between tries, at most (it starts at a twentieth of this).
_POLL_MAX_SECONDS = 0.5

# Weak values: a lock lives while someone holds (or is about to take) it, then its entry goes,
# so a long-lived worker touching many stores and objects does not accumulate locks.
_THREAD_LOCKS: weakref.WeakValueDictionary[tuple[str, str], threading.Lock] = (
    weakref.WeakValueDictionary()
)
_THREAD_LOCKS_GUARD = threading.Lock()


def object_lock(store: ObjectStore, name: str) -> threading.Lock:
    """The process-wide thread lock called ``name`` of the data ``store`` describes.

    Keyed by :meth:`ObjectStore.describe`, so two store objects on the same data share it.
    Keep the returned lock referenced while using it (``with object_lock(...):`` does).
    """
    key = (store.describe(), name)
    with _THREAD_LOCKS_GUARD:
        lock = _THREAD_LOCKS.get(key)
        if lock is None:
            lock = _THREAD_LOCKS[key] = threading.Lock()
        return lock


def lock_directory(store: ObjectStore) -> Path:
    """Where the lock files of ``store`` live.

    ``<root>/.locks`` for a local store, else a machine-local directory named after the store's
    location.
    """
    if isinstance(store, LocalStore):
        return store.root / LOCK_DIR_NAME
    digest = hashlib.sha256(store.describe().encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "tradingstation-locks" / digest


def lock_path(store: ObjectStore, dataset: str) -> Path:
    """The lock file guarding writes of ``dataset`` in ``store``."""
    keys.validate_dataset(dataset)
    return lock_directory(store) / f"{dataset}.lock"


def _holder(handle) -> str:
    handle.seek(0)
    text = handle.read().strip()
    return text or "an unknown process"


def _acquire(path: Path, deadline: float) -> object:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - kept open while the lock is held
    delay = _POLL_MAX_SECONDS / 20
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"write lock {path} still held by {_holder(handle)}"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, _POLL_MAX_SECONDS)
        # Who holds it, for the message of a writer that gives up waiting (diagnostics only).
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since "
                      f"{datetime.now(UTC).isoformat(timespec='seconds')}\n")
        handle.flush()
        return handle
    except BaseException:
        handle.close()
        raise


@contextlib.contextmanager
def hold_dataset_locks(
    store: ObjectStore, datasets: Iterable[str], timeout_seconds: float = 3600
) -> Iterator[None]:
    """Hold the write locks of ``datasets`` in ``store`` for the block.

    Hold the write locks of ``datasets`` in ``store`` for the block, taken in sorted order (one
    order everywhere: two writers never wait on each other in a cycle).

    Raises:
        TimeoutError: A lock was still held by another writer after ``timeout_seconds``.
    """
    deadline = time.monotonic() + timeout_seconds
    with contextlib.ExitStack() as stack:
        for dataset in sorted(set(datasets)):
            handle = _acquire(lock_path(store, dataset), deadline)
            stack.callback(handle.close)  # closing the file releases the lock
        yield
