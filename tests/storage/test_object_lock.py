"""The in-process object lock registry: one lock per (store location, object), never a leak."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from tradingstation.storage.local import LocalStore
from tradingstation.storage.locks import object_lock


def test_two_store_objects_on_one_location_share_the_lock(tmp_path: Path) -> None:
    first, second = LocalStore(tmp_path / "data"), LocalStore(tmp_path / "data")
    elsewhere = LocalStore(tmp_path / "other")
    with object_lock(first, "ledger/daily.parquet"):
        assert object_lock(second, "ledger/daily.parquet").locked()
        assert not object_lock(second, "ledger/intraday_1min.parquet").locked()
        assert not object_lock(elsewhere, "ledger/daily.parquet").locked()
    assert not object_lock(second, "ledger/daily.parquet").locked()


def test_a_lock_nobody_holds_is_not_kept_for_each_store_object(tmp_path: Path) -> None:
    locks = []
    for n in range(20):
        lock = object_lock(LocalStore(tmp_path / f"data{n}"), "bars/daily/NVDA.parquet")
        with lock:
            pass
        locks.append(weakref.ref(lock))
    del lock
    gc.collect()
    assert [ref for ref in locks if ref() is not None] == []
