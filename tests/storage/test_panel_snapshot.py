"""The universe panel snapshot on every backend: reused while the listing matches, and every
kind of change to the per-symbol objects (rewrite, add, delete, a broken snapshot) picked up."""

from __future__ import annotations

import io
import logging

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.stores import CountingStore
from tests.test_panel import bars
from tradingstation.data.panel import FIELDS, Panel, load_bars
from tradingstation.data.panel_store import load_panel
from tradingstation.errors import StorageError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

SNAPSHOT = keys.panel_snapshot_key("daily")


def put(store: ObjectStore, symbol: str, frame: pd.DataFrame) -> None:
    store.put_frame(keys.bars_key("daily", symbol), frame)


def assert_panel_of_objects(store: ObjectStore, panel: Panel) -> None:
    expected = Panel.from_bars(load_bars(store, "daily"))
    for field in FIELDS:
        pd.testing.assert_frame_equal(getattr(panel, field), getattr(expected, field))


@pytest.fixture
def counted(store: ObjectStore) -> CountingStore:
    for i, symbol in enumerate(("AAA", "BBB", "CCC", "DDD")):
        put(store, symbol, bars("2025-01-02", [10.0 + i, 11.0 + i, 12.0 + i]))
    return CountingStore(store)


def test_second_load_reads_only_the_listing_and_the_snapshot(counted: CountingStore) -> None:
    first = load_panel(counted, "daily")
    assert_panel_of_objects(counted, first)
    assert counted.writes_by_key == {SNAPSHOT: 1}
    counted.reset()
    second = load_panel(counted, "daily")
    assert counted.snapshot()["objects_read"] == 1 and counted.snapshot()["lists"] == 1
    assert counted.snapshot()["objects_written"] == 0
    for field in FIELDS:
        pd.testing.assert_frame_equal(getattr(second, field), getattr(first, field))


def test_rewritten_added_and_deleted_objects_are_picked_up(counted: CountingStore) -> None:
    load_panel(counted, "daily")
    put(counted.inner, "BBB", bars("2025-01-02", [50.0, 51.0, 52.5]))  # same size, new values
    put(counted.inner, "EEE", bars("2025-01-03", [7.0, 8.0]))
    counted.inner.delete(keys.bars_key("daily", "DDD"))
    counted.reset()
    panel = load_panel(counted, "daily")
    assert panel.symbols == ["AAA", "BBB", "CCC", "EEE"]
    assert panel.close["BBB"].tolist() == [50.0, 51.0, 52.5]
    assert_panel_of_objects(counted.inner, panel)
    # the snapshot plus the two changed objects; the two unchanged symbols came from it
    assert counted.snapshot()["objects_read"] == 3
    assert counted.writes_by_key == {SNAPSHOT: 1}
    counted.reset()
    load_panel(counted, "daily")
    assert counted.snapshot()["objects_read"] == 1 and not counted.writes_by_key


def test_a_broken_snapshot_costs_one_full_read_and_is_replaced(
    counted: CountingStore, caplog: pytest.LogCaptureFixture
) -> None:
    load_panel(counted, "daily")
    counted.inner.put_bytes(SNAPSHOT, b"garbage")
    counted.reset()
    with caplog.at_level(logging.WARNING):
        panel = load_panel(counted, "daily")
    assert "unusable" in caplog.text
    assert_panel_of_objects(counted.inner, panel)
    assert counted.snapshot()["objects_read"] == 5 and counted.writes_by_key == {SNAPSHOT: 1}


def test_a_subset_load_reads_its_objects_and_no_snapshot(counted: CountingStore) -> None:
    panel = load_panel(counted, "daily", ["CCC", "NOPE"])
    assert panel.symbols == ["CCC"]
    assert counted.snapshot()["objects_read"] == 1 and counted.snapshot()["lists"] == 0
    assert not counted.writes_by_key
    assert len(load_panel(counted, "1min")) == 0


def test_a_snapshot_without_bar_columns_is_ignored(counted: CountingStore) -> None:
    load_panel(counted, "daily")
    table = pq.read_table(pa.BufferReader(counted.inner.get_bytes(SNAPSHOT)))
    stripped = table.select(["symbol", "close"]).replace_schema_metadata(table.schema.metadata)
    buffer = io.BytesIO()
    pq.write_table(stripped, buffer)
    counted.inner.put_bytes(SNAPSHOT, buffer.getvalue())
    counted.reset()
    panel = load_panel(counted, "daily")
    assert_panel_of_objects(counted.inner, panel)
    assert counted.writes_by_key == {SNAPSHOT: 1}


def test_a_failed_snapshot_read_propagates_instead_of_reading_every_object(
    counted: CountingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_panel(counted, "daily")
    real = counted.inner.get_bytes

    def flaky(key: str) -> bytes:
        if key == SNAPSHOT:
            raise StorageError("connection reset")
        return real(key)

    monkeypatch.setattr(counted.inner, "get_bytes", flaky)
    counted.reset()
    with pytest.raises(StorageError):
        load_panel(counted, "daily")
    assert counted.snapshot()["objects_read"] == 0 and not counted.writes_by_key
