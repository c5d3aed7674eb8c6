"""Backups are never overwritten (issue 14 §5): a second backup the same day gets its own label
and restore takes the newest, a rerun restore keeps every earlier safety backup, a backup that
runs out of disk leaves nothing behind, and a damaged state is not backed up silently."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.reliability.cli_harness import invoke
from tests.test_panel import bars
from tests.upkeep.test_backup import FailingStore
from tradingstation.data.ledger import rebuild_ledger
from tradingstation.errors import DataError, StorageError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectInfo
from tradingstation.storage.local import LocalStore
from tradingstation.upkeep.backup import (
    create_backup,
    data_keys,
    list_backups,
    load_manifest,
    newest_backup,
    restore_backup,
)

DAY = date(2025, 11, 24)
NOW = datetime(2025, 11, 24, 21, 0, tzinfo=UTC)
LATER = datetime(2025, 11, 24, 22, 0, tzinfo=UTC)
LABEL = keys.backup_label(DAY)
SYMBOLS = ["AAPL", "MSFT", "NVDA", "TSLA"]


def seeded(root: Path) -> LocalStore:
    store = LocalStore(root)
    for n, symbol in enumerate(SYMBOLS):
        store.put_frame(keys.bars_key("daily", symbol), bars("2025-10-01", [10.0 + n] * 40))
    rebuild_ledger(store, "daily")
    store.put_json(keys.signals_key(DAY, "breakout"), {"signals": [1, 2]})
    return store


def state(store: LocalStore) -> dict[str, bytes]:
    return {k: store.get_bytes(k) for k in data_keys(store)}


def backup_files(store: LocalStore, label: str) -> dict[str, bytes]:
    prefix = keys.backup_prefix(label)
    return {i.key: store.get_bytes(i.key) for i in store.list_objects(prefix)}


def truncate_behind_the_store(store: LocalStore, key: str) -> None:
    path = store.root / key
    path.write_bytes(path.read_bytes()[:500])


def test_second_backup_the_same_day_gets_its_own_label(tmp_path: Path) -> None:
    store = seeded(tmp_path)
    good = state(store)
    first = create_backup(store, LABEL, NOW)
    kept = backup_files(store, LABEL)
    store.put_frame(keys.bars_key("daily", "AAPL"), bars("2025-10-01", [20.0] * 41))
    second = create_backup(store, LABEL, LATER)
    assert (first.label, second.label) == (LABEL, f"{LABEL}-2")
    assert backup_files(store, LABEL) == kept  # the complete first backup is untouched
    assert newest_backup(store, DAY) == (f"{LABEL}-2", [LABEL])
    # labels sort by number, not text: the 10th backup is newer than the 9th
    for _ in range(8):
        create_backup(store, LABEL, LATER)
    assert newest_backup(store, DAY)[0] == f"{LABEL}-10"
    restore_backup(store, LABEL, LATER)  # an older one can still be restored by its label
    assert state(store) == good


def test_damaged_state_is_refused_unless_allowed_and_never_replaces_the_good_backup(
    tmp_path: Path,
) -> None:
    store = seeded(tmp_path)
    good = state(store)
    create_backup(store, LABEL, NOW)
    kept = backup_files(store, LABEL)
    truncate_behind_the_store(store, keys.bars_key("daily", "MSFT"))
    with pytest.raises(DataError, match=r"backup refused: 1 damaged.*MSFT.*--allow-problems"):
        create_backup(store, LABEL, LATER)
    assert list_backups(store) == [LABEL]
    assert store.list_objects(keys.backup_prefix(f"{LABEL}-2")) == []
    allowed = create_backup(store, LABEL, LATER, allow_problems=True)
    assert allowed.label == f"{LABEL}-2"
    assert [p.split(":")[0] for p in allowed.problems] == [keys.bars_key("daily", "MSFT")]
    assert load_manifest(store, allowed.label)["problems"] == allowed.problems
    assert backup_files(store, LABEL) == kept
    restore_backup(store, LABEL, LATER)
    assert state(store) == good


def test_rerun_restore_at_the_same_stamp_keeps_the_first_safety_backup(tmp_path: Path) -> None:
    store = seeded(tmp_path)
    good = state(store)
    create_backup(store, LABEL, NOW)
    store.put_frame(keys.bars_key("daily", "AAPL"), bars("2025-10-01", [30.0] * 42))
    store.put_json(keys.signals_key(DAY, "orb"), {"signals": [3]})
    before_restore = state(store)
    dying = FailingStore(tmp_path)  # its writes fail after FailingStore.budget puts
    FailingStore.budget = len(before_restore) + 1 + 2  # safety backup + manifest, then 2 writes
    with pytest.raises(StorageError):
        restore_backup(dying, LABEL, LATER)
    FailingStore.budget = 10**9
    assert state(store) != before_restore  # half restored
    rerun = restore_backup(store, LABEL, LATER)  # same --as-of, so the same stamp
    assert state(store) == good
    first_safety = keys.safety_backup_label(LATER.strftime("%Y%m%dT%H%M%SZ"))
    assert rerun.safety_label == f"{first_safety}-2"
    # the first safety backup still holds the state from before any restore
    manifest = load_manifest(store, first_safety)
    prefix = keys.backup_prefix(first_safety)
    assert {e["key"]: store.get_bytes(prefix + e["key"]) for e in manifest["objects"]} == (
        before_restore)


class FullDiskStore(LocalStore):
    """A local store on a disk with ``free`` bytes left: a write beyond them fails as the
    filesystem would (ENOSPC), deterministically; deletes give the space back."""

    def __init__(self, root: Path, free: int) -> None:
        super().__init__(root)
        self.free = free

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        if len(data) > self.free:
            raise StorageError(f"cannot write {key} in {self.describe()}: "
                               "No space left on device")
        info = super().put_bytes(key, data, content_type)
        self.free -= len(data)
        return info

    def delete(self, key: str) -> None:
        info = self.head(key)
        super().delete(key)
        self.free += info.size if info else 0


def test_backup_that_runs_out_of_disk_removes_its_partial_files(tmp_path: Path) -> None:
    seeded(tmp_path)
    store = FullDiskStore(tmp_path, free=0)
    total = sum(len(v) for v in state(store).values())
    store.free = total // 2
    live = state(store)
    with pytest.raises(StorageError, match="No space left"):
        create_backup(store, LABEL, NOW)
    assert store.list_objects("backups/") == []
    assert store.free == total // 2  # all the space the partial backup took is free again
    assert state(store) == live
    store.free = total * 2  # space freed: the same label is taken by the complete backup
    assert create_backup(store, LABEL, NOW).label == LABEL


@pytest.mark.slow
def test_backup_command_exits_1_on_damage_and_restore_lists_the_days_backups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_api: str
) -> None:
    store = seeded(tmp_path)
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path))
    as_of = ["--as-of", "2025-11-24T16:30-05:00"]
    first = invoke(["data", "backup", *as_of, "--json"])
    assert first.code == 0 and json.loads(first.stdout)["label"] == LABEL, first.stderr
    truncate_behind_the_store(store, keys.bars_key("daily", "NVDA"))
    refused = invoke(["data", "backup", *as_of])
    assert refused.code == 1
    assert "backup refused" in refused.last_line and "--allow-problems" in refused.last_line
    assert list_backups(store) == [LABEL]
    allowed = invoke(["data", "backup", "--allow-problems", *as_of])
    assert allowed.code == 0 and f"backup {LABEL}-2" in allowed.stdout
    assert "warning" in allowed.stdout and "NVDA" in allowed.stdout
    restored = invoke(["data", "restore", "--date", DAY.isoformat(), *as_of])
    assert restored.code == 0, restored.stderr
    assert f"from backup {LABEL}-2" in restored.stdout
    assert f"older complete backups of that date (kept): {LABEL}" in restored.stdout
