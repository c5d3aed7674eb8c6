"""Intraday watchlist priorities and premarket quotes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from tests.data.counting_provider import CountingProvider
from tests.data.memory_store import MemoryStore
from tests.data.test_bars import make_bars
from tradingstation.data.watchlist import fetch_quotes, select_watchlist
from tradingstation.errors import InputError
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


def test_fetch_quotes_in_chunks_keeps_newest_per_symbol_and_skips_unchanged_writes():
    symbols = [f"Q{i:03d}" for i in range(230)]
    now = datetime(2024, 6, 18, 12, 0, tzinfo=UTC)
    provider = CountingProvider(symbols, now)
    store = MemoryStore()
    quotes = fetch_quotes(store, provider, SESSION, [*symbols, "NOPE"])
    assert provider.total_calls == 3  # 100 + 100 + 31
    assert sorted(quotes["symbol"]) == symbols
    assert store.get_frame(keys.quotes_key(SESSION)).equals(quotes)
    store.reset_counts()
    fetch_quotes(store, provider, SESSION, symbols[:5])
    assert store.total_puts == 0  # same quotes again: nothing rewritten
    provider.now = datetime(2024, 6, 18, 12, 30, tzinfo=UTC)
    newer = fetch_quotes(store, provider, SESSION, ["Q001"])
    row = newer.set_index("symbol").loc["Q001"]
    assert row["timestamp"] == pd.Timestamp("2024-06-18 12:30", tz="UTC")
    assert len(newer) == 230
    calls = provider.total_calls
    with pytest.raises(InputError):
        fetch_quotes(store, provider, SESSION, ["AAA", "ok?"])
    assert provider.total_calls == calls
