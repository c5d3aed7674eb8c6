"""Panel: wide frames from per-symbol bars and back, selection, loading from a store."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.data.memory_store import MemoryStore
from tradingstation.data.panel import FIELDS, Panel, load_bars
from tradingstation.data.panel_store import load_panel
from tradingstation.errors import DataError
from tradingstation.storage import keys


def bars(start: str, closes: list[float]) -> pd.DataFrame:
    ts = pd.date_range(start, periods=len(closes), freq="D", tz="UTC")
    close = pd.Series(closes, dtype="float64")
    return pd.DataFrame({
        "timestamp": ts, "open": close - 0.5, "high": close + 1, "low": close - 1,
        "close": close, "volume": (close * 1000).astype("int64"),
    })


def test_from_bars_aligns_symbols_on_one_index() -> None:
    panel = Panel.from_bars(
        {"MSFT": bars("2025-01-03", [10, 11]), "AAPL": bars("2025-01-02", [1, 2, 3])}
    )
    assert panel.symbols == ["AAPL", "MSFT"]
    assert len(panel.index) == 3
    assert str(panel.index.tz) == "UTC"
    assert pd.isna(panel.close.loc[pd.Timestamp("2025-01-02", tz="UTC"), "MSFT"])
    assert panel.close["MSFT"].dropna().tolist() == [10, 11]
    assert panel.volume["AAPL"].tolist() == [1000, 2000, 3000]


def test_bars_round_trip_and_select() -> None:
    original = bars("2025-01-02", [1, 2, 3])
    panel = Panel.from_bars({"AAPL": original, "MSFT": bars("2025-01-10", [5])})
    back = panel.bars("AAPL")
    pd.testing.assert_frame_equal(back, original, check_freq=False, check_names=False)
    only = panel.select(["MSFT", "NOPE"])
    assert only.symbols == ["MSFT"]
    assert len(only.index) == 1


def test_empty_panel() -> None:
    panel = Panel.from_bars({})
    assert len(panel) == 0 and len(panel.index) == 0


def test_load_panel_from_a_store_equals_the_panel_of_its_bars() -> None:
    store = MemoryStore()
    stored = {"AAPL": bars("2025-01-02", [1, 2, 3]), "MSFT": bars("2025-01-03", [10, 11]),
              "EMPTY": bars("2025-01-02", [])}
    for symbol, frame in stored.items():
        store.put_frame(keys.bars_key("daily", symbol), frame)
    loaded = load_panel(store, "daily")
    expected = Panel.from_bars(load_bars(store, "daily"))
    for field in FIELDS:
        pd.testing.assert_frame_equal(getattr(loaded, field), getattr(expected, field))
    assert loaded.symbols == ["AAPL", "MSFT"]
    assert load_panel(store, "daily", ["MSFT", "NOPE"]).symbols == ["MSFT"]
    assert len(load_panel(MemoryStore(), "daily")) == 0


def test_load_panel_names_the_object_that_is_not_bars() -> None:
    store = MemoryStore()
    store.put_frame(keys.bars_key("daily", "AAPL"), bars("2025-01-02", [1, 2]))
    store.put_bytes(keys.bars_key("daily", "JUNK"), b"not parquet")
    with pytest.raises(DataError, match=r"bars/daily/JUNK\.parquet"):
        load_panel(store, "daily")
    store.put_frame(keys.bars_key("daily", "JUNK"), pd.DataFrame({"x": [1]}))
    with pytest.raises(DataError, match=r"bars/daily/JUNK\.parquet"):
        load_panel(store, "daily")
