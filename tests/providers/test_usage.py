"""UsageCounter thread safety and per-day read-merge-write persistence."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest

from tradingstation.errors import DataError, ObjectNotFoundError, StorageError
from tradingstation.providers.usage import (
    UsageCounter,
    load_usage,
    merge_usage,
    persist_usage,
    usage_day,
)
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectInfo, ObjectStore, sha256_hex

DAY = date(2024, 7, 17)


class MemoryStore(ObjectStore):
    """A complete in-memory ObjectStore (dict-backed) for exercising the store helpers."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.fail_writes = False

    def get_bytes(self, key: str) -> bytes:
        if key not in self.objects:
            raise ObjectNotFoundError(f"no object {key}")
        return self.objects[key]

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        if self.fail_writes:
            raise StorageError("store unavailable")
        self.objects[key] = bytes(data)
        return ObjectInfo(key, len(data), sha256_hex(data))

    def head(self, key: str) -> ObjectInfo | None:
        data = self.objects.get(key)
        return None if data is None else ObjectInfo(key, len(data), sha256_hex(data))

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        return [self.head(k) for k in sorted(self.objects) if k.startswith(prefix)]

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def copy(self, src: str, dst: str) -> ObjectInfo:
        return self.put_bytes(dst, self.get_bytes(src))

    def describe(self) -> str:
        return "memory"


def test_counter_counts_per_endpoint_across_threads():
    counter = UsageCounter()

    def work() -> None:
        for _ in range(500):
            counter.record_call("TIME_SERIES_DAILY")
        counter.record_throttle("TIME_SERIES_DAILY")
        counter.record_error("GLOBAL_QUOTE")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    snap = counter.snapshot()
    assert counter.totals() == {"calls": 4000, "throttles": 8, "errors": 8}
    assert snap["by_endpoint"]["TIME_SERIES_DAILY"] == {"calls": 4000, "throttles": 8,
                                                         "errors": 0}
    assert snap["by_endpoint"]["GLOBAL_QUOTE"]["errors"] == 8


def test_persist_merges_with_what_is_stored_and_drains():
    store = MemoryStore()
    first, second = UsageCounter(), UsageCounter()
    first.record("TIME_SERIES_DAILY", calls=10, throttles=1)
    second.record("TIME_SERIES_DAILY", calls=5)
    second.record("GLOBAL_QUOTE", calls=2, errors=2)
    persist_usage(store, first, DAY)
    merged = persist_usage(store, second, DAY)
    assert first.totals() == second.totals() == {"calls": 0, "throttles": 0, "errors": 0}
    loaded = load_usage(store, DAY)
    assert loaded == {k: v for k, v in merged.items() if k != "updated"}
    assert (loaded["calls"], loaded["throttles"], loaded["errors"]) == (17, 1, 2)
    assert loaded["by_endpoint"]["TIME_SERIES_DAILY"] == {"calls": 15, "throttles": 1,
                                                          "errors": 0}
    assert keys.api_usage_key(DAY) in store.objects
    persist_usage(store, UsageCounter(), DAY)  # persisting nothing changes nothing
    assert load_usage(store, DAY)["calls"] == 17


def test_failed_write_keeps_the_counts_for_later():
    store = MemoryStore()
    counter = UsageCounter()
    counter.record("GLOBAL_QUOTE", calls=3)
    store.fail_writes = True
    with pytest.raises(StorageError):
        persist_usage(store, counter, DAY)
    assert counter.totals()["calls"] == 3
    store.fail_writes = False
    persist_usage(store, counter, DAY)
    assert load_usage(store, DAY)["calls"] == 3


def test_missing_day_is_zero_and_corrupt_document_is_a_data_error():
    store = MemoryStore()
    assert load_usage(store, DAY) == {"day": "2024-07-17", "calls": 0, "throttles": 0,
                                      "errors": 0, "by_endpoint": {}}
    store.objects[keys.api_usage_key(DAY)] = b'{"calls": "many"}'
    with pytest.raises(DataError):
        load_usage(store, DAY)
    store.objects[keys.api_usage_key(DAY)] = b"not json"
    with pytest.raises(DataError):
        load_usage(store, DAY)


def test_merge_usage_and_usage_day():
    a = {"calls": 1, "throttles": 0, "errors": 0, "by_endpoint": {"X": {"calls": 1}}}
    b = {"calls": 2, "by_endpoint": {"X": {"calls": 2, "errors": 1}}}
    assert merge_usage(a, b)["by_endpoint"]["X"] == {"calls": 3, "throttles": 0, "errors": 1}
    # 02:00 UTC on the 18th is still the 17th in New York: AV's quota day.
    assert usage_day(datetime(2024, 7, 18, 2, 0, tzinfo=UTC)) == DAY
