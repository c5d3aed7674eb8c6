"""Intraday watchlist priorities."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.data.memory_store import MemoryStore
from tests.data.test_bars import make_bars
from tradingstation.data.panel_store import load_panel
from tradingstation.data.watchlist import select_watchlist
from tradingstation.storage import keys

SESSION = date(2024, 6, 18)


def put_daily(store, symbol, close, volume, days=25):
    frame = make_bars(days, start="2024-05-13", freq="B", base=close)
    frame["close"] = close
    frame["open"] = close
    frame["high"] = close + 1
    frame["low"] = close - 1
    frame["volume"] = volume
    store.put_frame(keys.bars_key("daily", symbol), frame)


def test_priority_signals_then_gappers_then_anchors_capped():
    store = MemoryStore()
    store.put_json(keys.signals_key(SESSION, "gap_and_go"),
                   [{"symbol": "GAP1", "score": 6.0}, {"symbol": "TOP", "score": 9.5},
                    {"symbol": "bad sym", "score": 10}])
    store.put_json(keys.signals_key(SESSION, "orb"), {"signals": [{"symbol": "ORB", "score": 7}]})
    store.put_json(keys.signals_key(SESSION, "breakout"), [{"symbol": "IGNORED", "score": 10}])
    for symbol in ("UPX", "DNX", "FLAT", "GAP1"):
        put_daily(store, symbol, 100.0, 1000)
    store.put_frame(keys.quotes_key(SESSION), pd.DataFrame({
        "symbol": ["UPX", "DNX", "FLAT", "GAP1"],
        "timestamp": pd.Timestamp("2024-06-18 12:00", tz="UTC"),
        "price": [106.0, 91.0, 101.0, 120.0], "volume": [1, 1, 1, 1]}))
    store.put_frame(keys.anchors_key(SESSION), pd.DataFrame(
        {"symbol": ["ANC1", "ANC2", "ANC2", "UPX"]}))
    full = select_watchlist(store, SESSION, cap=50)
    assert full == ["TOP", "ORB", "GAP1", "DNX", "UPX", "ANC2", "ANC1"]
    assert select_watchlist(store, SESSION, cap=4) == full[:4]


def test_fallback_is_top_dollar_volume_before_the_session():
    store = MemoryStore()
    put_daily(store, "BIG", 200.0, 1_000_000)
    put_daily(store, "MID", 50.0, 1_000_000)
    put_daily(store, "SMALL", 5.0, 10_000)
    assert select_watchlist(store, SESSION, cap=2) == ["BIG", "MID"]
    assert select_watchlist(MemoryStore(), SESSION, cap=2) == []
    with pytest.raises(ValueError):
        select_watchlist(store, SESSION, cap=0)


def test_a_loaded_daily_panel_gives_the_same_watchlist_without_reading_daily_bars():
    store = MemoryStore()
    for symbol, close, volume in (("BIG", 200.0, 1_000_000), ("MID", 50.0, 1_000_000),
                                  ("SMALL", 5.0, 10_000), ("GAPPY", 20.0, 5_000)):
        put_daily(store, symbol, close, volume)
    # a bar on the session itself must not count as "before the session"
    late = make_bars(1, start="2024-06-18", freq="B", base=1.0)
    late["volume"] = 10**12
    store.put_frame(keys.bars_key("daily", "LATE"), late)
    daily = load_panel(store, "daily")
    assert select_watchlist(store, SESSION, cap=2, daily=daily) == ["BIG", "MID"]
    store.put_frame(keys.quotes_key(SESSION), pd.DataFrame({
        "symbol": ["SMALL", "GAPPY", "LATE"],
        "timestamp": pd.Timestamp("2024-06-18 12:00", tz="UTC"),
        "price": [5.1, 23.0, 9.0], "volume": [1, 1, 1]}))
    expected = select_watchlist(store, SESSION, cap=5)
    assert expected == ["GAPPY"]
    store.reset_counts()
    assert select_watchlist(store, SESSION, cap=5, daily=daily) == expected
    assert not any(k.startswith("bars/") for k in store.gets)
