"""Backup → damage → restore gives byte-identical data; bad dates and damaged backups refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.test_panel import bars
from tradingstation.errors import DataError, InputError, StorageError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectInfo
from tradingstation.storage.local import LocalStore
from tradingstation.upkeep.backup import (
    create_backup,
    data_keys,
    list_backups,
    parse_backup_date,
    restore_backup,
)

NOW = datetime(2025, 11, 24, 21, 0, tzinfo=UTC)
LABEL = keys.backup_label(date(2025, 11, 24))


def seeded_store(root: Path) -> LocalStore:
    store = LocalStore(root)
    for n, symbol in enumerate(["AAPL", "MSFT", "NVDA"]):
        store.put_frame(keys.bars_key("daily", symbol), bars("2025-11-03", [10.0 + n] * 15))
    store.put_json(keys.signals_key(date(2025, 11, 24), "breakout"), {"signals": [1, 2]})
    store.put_frame(keys.universe_key(), pd.DataFrame({"symbol": ["AAPL", "MSFT", "NVDA"]}))
    return store


def snapshot(store: LocalStore) -> dict[str, bytes]:
    return {k: store.get_bytes(k) for k in data_keys(store)}


def test_backup_damage_restore_is_byte_identical(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    before = snapshot(store)
    report = create_backup(store, LABEL, NOW)
    assert report.objects == len(before) and list_backups(store) == [LABEL]
    # damage: delete, truncate, flip bytes in place (bypassing the store), add a stray object
    store.delete(keys.bars_key("daily", "AAPL"))
    store.put_bytes(keys.bars_key("daily", "MSFT"), b"\x01" * 10)
    path = tmp_path / keys.bars_key("daily", "NVDA")
    path.write_bytes(b"\xff" + path.read_bytes()[1:])
    store.put_bytes(keys.bars_key("daily", "ZZZ"), b"new since backup")

    result = restore_backup(store, LABEL, NOW)
    assert snapshot(store) == before
    assert result.removed == [keys.bars_key("daily", "ZZZ")]
    # the state before the restore is kept in the safety backup, so nothing is lost
    safety = result.safety_label
    assert safety in list_backups(store)
    assert store.get_bytes(keys.backup_prefix(safety) + keys.bars_key("daily", "ZZZ")) == (
        b"new since backup"
    )


def test_restore_of_a_missing_date_fails_and_changes_nothing(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    create_backup(store, LABEL, NOW)
    everything = {i.key: i.sha256 for i in store.list_objects()}
    with pytest.raises(InputError, match=r"no complete backup for 2025-01-15 \(available: 2025"):
        restore_backup(store, keys.backup_label(date(2025, 1, 15)), NOW)
    assert {i.key: i.sha256 for i in store.list_objects()} == everything


def test_incomplete_backup_without_manifest_is_refused(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    create_backup(store, LABEL, NOW)
    store.delete(keys.backup_manifest_key(LABEL))
    with pytest.raises(InputError, match="no complete backup"):
        restore_backup(store, LABEL, NOW)


def test_damaged_backup_is_refused_before_touching_live_data(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    create_backup(store, LABEL, NOW)
    store.put_bytes(keys.backup_prefix(LABEL) + keys.universe_key(), b"rotten")
    store.put_bytes(keys.universe_key(), b"live changed")
    with pytest.raises(DataError, match="damaged"):
        restore_backup(store, LABEL, NOW)
    assert store.get_bytes(keys.universe_key()) == b"live changed"
    assert [b for b in list_backups(store) if b.startswith("pre-restore")] == []


class FailingStore(LocalStore):
    """Fails every write after ``budget`` writes, like a process killed mid-restore."""

    budget = 10**9

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        FailingStore.budget -= 1
        if FailingStore.budget < 0:
            raise StorageError("injected crash")
        return super().put_bytes(key, data, content_type)


def test_interrupted_restore_can_be_rerun(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    before = snapshot(store)
    create_backup(store, LABEL, NOW)
    store.put_bytes(keys.bars_key("daily", "AAPL"), b"damaged")
    crashing = FailingStore(tmp_path)
    FailingStore.budget = len(before) + 2  # safety backup completes, restore dies midway
    with pytest.raises(StorageError):
        restore_backup(crashing, LABEL, NOW)
    FailingStore.budget = 10**9
    restore_backup(store, LABEL, datetime(2025, 11, 24, 21, 5, tzinfo=UTC))
    assert snapshot(store) == before


@pytest.mark.parametrize("text", ["2025-02-30", "yesterday", "", "2025-13-01", "../2025-01-01"])
def test_bad_dates_are_one_line_errors(text: str) -> None:
    with pytest.raises(InputError, match="expected YYYY-MM-DD"):
        parse_backup_date(text)


def test_backup_labels_are_validated() -> None:
    with pytest.raises(InputError):
        keys.backup_prefix("../../etc")
    assert keys.safety_backup_label("20251124T210000Z") == "pre-restore-20251124T210000Z"
