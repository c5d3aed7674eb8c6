"""Frames in a store: one parquet serializer, and writes skipped when nothing changed."""

from __future__ import annotations

import pytest

from tests.data.memory_store import CountingLocalStore, MemoryStore
from tests.data.test_bars import make_bars
from tradingstation.data.provenance import with_source
from tradingstation.storage.base import frame_to_parquet, put_frame_if_changed

KEY = "bars/daily/AAA.parquet"


@pytest.fixture(params=["memory", "local"])
def store(request, tmp_path):
    return MemoryStore() if request.param == "memory" else CountingLocalStore(tmp_path / "s")


def test_put_frame_if_changed_detects_equal_content(store):
    frame = make_bars(3)
    assert put_frame_if_changed(store, KEY, frame)
    assert not put_frame_if_changed(store, KEY, frame.copy())
    changed = frame.copy()
    changed.loc[1, "close"] += 0.01
    assert put_frame_if_changed(store, KEY, changed)
    assert store.puts[KEY] == 2


def test_put_frame_stores_the_bytes_put_frame_if_changed_compares(store):
    frame = with_source(make_bars(3), "demo")
    store.put_frame(KEY, frame)
    assert store.get_bytes(KEY) == frame_to_parquet(frame)
    assert not put_frame_if_changed(store, KEY, frame.copy())
    assert store.puts[KEY] == 1


def test_the_same_bars_from_another_provider_change_the_object(store):
    frame = with_source(make_bars(3), "demo")
    store.put_frame(KEY, frame)
    stored = store.get_frame(KEY)
    assert put_frame_if_changed(store, KEY, with_source(frame.copy(), "alphavantage"),
                                stored=stored)
    assert store.get_frame(KEY).attrs["source"] == "alphavantage"
