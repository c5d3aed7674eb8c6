"""Intraday watchlist priorities."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from tests.data.memory_store import MemoryStore
from tests.data.test_bars import make_bars
from tradingstation.data.panel_store import load_panel
from tradingstation.data.watchlist import select_watchlist
from tradingstation.screeners.gap_and_go import GapAndGo
from tradingstation.screeners.orb import OpeningRangeBreakout
from tradingstation.screeners.store import save_signals
from tradingstation.signals import Signal, make_signal_id
from tradingstation.storage import keys

SESSION = date(2024, 6, 18)
PREMARKET = datetime(2024, 6, 18, 12, 0, tzinfo=UTC)


def save(store: MemoryStore, screener: str, scores: dict[str, float],
         at: datetime = PREMARKET) -> None:
    """Store ``screener``'s signals of SESSION (one per symbol, with that score) as it does."""
    save_signals(store, SESSION, screener, [
        Signal(id=make_signal_id(screener, symbol, SESSION, "t"), screener=screener,
               symbol=symbol, session=SESSION, timestamp=at, direction="long",
               status="watch", score=score, entry=10.0, stop=9.0, risk_per_share=1.0,
               data_as_of=at)
        for symbol, score in scores.items()])


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
    save(store, "gap_and_go", {"GAP1": 6.0, "TOP": 9.5, "bad sym": 10})
    save(store, "orb", {"ORB": 7})
    save(store, "breakout", {"IGNORED": 10})
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


def test_signals_are_those_the_premarket_screeners_store_under_their_registry_names():
    # data/watchlist.py had its own premarket list naming "opening_range_breakout", which no
    # screener is: it read an object no screener writes (and listed whatever it held).
    store = MemoryStore()
    save(store, GapAndGo.name, {"GAP": 8.0})
    save(store, OpeningRangeBreakout.name, {"ORB": 7.0})
    save(store, "opening_range_breakout", {"STRAY": 10.0})
    store.reset_counts()
    assert select_watchlist(store, SESSION, cap=10) == ["GAP", "ORB"]
    assert not any("opening_range_breakout" in key for key in store.gets)


def test_signals_stamped_after_as_of_did_not_exist_yet():
    store = MemoryStore()
    save(store, "orb", {"EARLY": 6.0})
    save(store, "gap_and_go", {"LATE": 9.0}, at=PREMARKET + timedelta(hours=2))
    assert select_watchlist(store, SESSION, cap=10, as_of=PREMARKET) == ["EARLY"]
    assert select_watchlist(store, SESSION, cap=10) == ["LATE", "EARLY"]


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
