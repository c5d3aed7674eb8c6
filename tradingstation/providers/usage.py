"""Provider usage counters (calls, throttles, errors) and their per-day persistence."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from tradingstation.calendar import NY
from tradingstation.errors import DataError, ObjectNotFoundError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

COUNTERS = ("calls", "throttles", "errors")

# One process persisting twice at once must not lose counts between its own read and write.
_persist_lock = threading.Lock()


def empty_usage() -> dict[str, Any]:
    """A usage document with every counter at zero."""
    return {"calls": 0, "throttles": 0, "errors": 0, "by_endpoint": {}}


def usage_day(now: datetime | None = None) -> date:
    """The quota day (New York date) that ``now`` (default: the current time) belongs to."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(NY).date()


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DataError(f"usage counter {where} is not a non-negative integer: {value!r}")
    return value


def normalize_usage(document: Mapping[str, Any]) -> dict[str, Any]:
    """Check a usage document's shape and return a clean copy with every counter present.

    Raises:
        DataError: A counter is missing its integer type or ``by_endpoint`` is malformed.
    """
    if not isinstance(document, Mapping):
        raise DataError("usage document is not a JSON object")
    out = empty_usage()
    for name in COUNTERS:
        out[name] = _count(document.get(name, 0), name)
    endpoints = document.get("by_endpoint", {})
    if not isinstance(endpoints, Mapping):
        raise DataError("usage document 'by_endpoint' is not an object")
    for endpoint, counts in endpoints.items():
        if not isinstance(counts, Mapping):
            raise DataError(f"usage counters of {endpoint!r} are not an object")
        out["by_endpoint"][str(endpoint)] = {
            name: _count(counts.get(name, 0), f"{endpoint}.{name}") for name in COUNTERS
        }
    return out


def merge_usage(*documents: Mapping[str, Any]) -> dict[str, Any]:
    """Sum usage documents counter by counter (totals and per endpoint)."""
    out = empty_usage()
    for document in documents:
        clean = normalize_usage(document)
        for name in COUNTERS:
            out[name] += clean[name]
        for endpoint, counts in clean["by_endpoint"].items():
            slot = out["by_endpoint"].setdefault(endpoint, dict.fromkeys(COUNTERS, 0))
            for name in COUNTERS:
                slot[name] += counts[name]
    return out


class UsageCounter:
    """Thread-safe counters of provider requests, throttle answers and errors per endpoint.

    One counter is shared by every thread of a fetch; ``drain`` hands the counts over for
    persisting and starts again from zero, so persisting twice never double-counts.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = empty_usage()

    def __repr__(self) -> str:
        totals = self.totals()
        return f"UsageCounter({', '.join(f'{k}={v}' for k, v in totals.items())})"

    def record(self, endpoint: str, *, calls: int = 0, throttles: int = 0, errors: int = 0) -> None:
        """Add to the counters of ``endpoint`` (and to the totals)."""
        added = {"calls": calls, "throttles": throttles, "errors": errors}
        with self._lock:
            slot = self._usage["by_endpoint"].setdefault(endpoint, dict.fromkeys(COUNTERS, 0))
            for name, value in added.items():
                slot[name] += value
                self._usage[name] += value

    def record_call(self, endpoint: str) -> None:
        """Count one HTTP request to ``endpoint``."""
        self.record(endpoint, calls=1)

    def record_throttle(self, endpoint: str) -> None:
        """Count one throttle answer from ``endpoint``."""
        self.record(endpoint, throttles=1)

    def record_error(self, endpoint: str) -> None:
        """Count one failed request (other than a throttle) to ``endpoint``."""
        self.record(endpoint, errors=1)

    def totals(self) -> dict[str, int]:
        """``{"calls": .., "throttles": .., "errors": ..}`` since creation or the last drain."""
        with self._lock:
            return {name: self._usage[name] for name in COUNTERS}

    def snapshot(self) -> dict[str, Any]:
        """A copy of the full usage document (totals and ``by_endpoint``)."""
        with self._lock:
            return copy.deepcopy(self._usage)

    def drain(self) -> dict[str, Any]:
        """Return the counts so far and reset the counter to zero."""
        with self._lock:
            out, self._usage = self._usage, empty_usage()
            return out

    def add(self, document: Mapping[str, Any]) -> None:
        """Add a usage document back (e.g. a drained one whose persisting failed)."""
        clean = normalize_usage(document)
        with self._lock:
            self._usage = merge_usage(self._usage, clean)


def load_usage(store: ObjectStore, day: date) -> dict[str, Any]:
    """The persisted usage of ``day`` (all zeros when nothing was recorded that day).

    Raises:
        DataError: The stored document is not valid usage JSON.
    """
    try:
        document = store.get_json(keys.api_usage_key(day))
    except ObjectNotFoundError:
        return {"day": day.isoformat(), **empty_usage()}
    return {"day": day.isoformat(), **normalize_usage(document)}


def persist_usage(
    store: ObjectStore, usage: UsageCounter | Mapping[str, Any], day: date | None = None
) -> dict[str, Any]:
    """Add ``usage`` to the stored counters of ``day`` (read-merge-write) and return the result.

    A ``UsageCounter`` is drained; if writing fails its counts are put back so a later call
    persists them. Concurrent writers in one process are serialized; across processes the
    store offers no compare-and-swap, so two exactly simultaneous writers may lose one update.

    Args:
        store: The object store.
        usage: A counter (drained) or a usage document.
        day: The quota day; default: today in New York.
    """
    day = day or usage_day()
    counter = usage if isinstance(usage, UsageCounter) else None
    document = counter.drain() if counter is not None else normalize_usage(usage)  # type: ignore[arg-type]
    try:
        with _persist_lock:
            stored = load_usage(store, day)
            merged = merge_usage(stored, document)
            merged["day"] = day.isoformat()
            merged["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
            store.put_json(keys.api_usage_key(day), merged)
    except BaseException:
        if counter is not None:
            counter.add(document)
        raise
    return merged
