"""Inject each integrity problem; verify/detect-gaps find it; its repair fixes only it."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support.frame_provider import FrameProvider
from tradingstation.calendar import get_calendar
from tradingstation.config import Settings
from tradingstation.contracts import canonicalize_bars
from tradingstation.data.ledger import rebuild_ledger
from tradingstation.errors import SymbolNotFoundError
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore
from tradingstation.upkeep.cleanup import cleanup
from tradingstation.upkeep.gaps import detect_gaps, fill_gaps
from tradingstation.upkeep.rebuild import rebuild_symbols
from tradingstation.upkeep.verify import verify_store

NOW = datetime(2025, 11, 25, 22, 0, tzinfo=UTC)  # after Tuesday's close
SYMBOLS = ["AAPL", "MSFT", "NVDA"]


def daily_truth(symbol: str, sessions: int = 150) -> pd.DataFrame:
    days = get_calendar().sessions_back(date(2025, 11, 25), sessions)
    rng = np.random.default_rng(abs(hash(symbol)) % 2**32)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
    open_ = close * (1 + rng.normal(0, 0.003, len(days)))
    return canonicalize_bars(pd.DataFrame({
        "timestamp": pd.to_datetime(days).tz_localize("UTC"),
        "open": open_, "high": np.maximum(open_, close) * 1.01,
        "low": np.minimum(open_, close) * 0.99, "close": close,
        "volume": rng.integers(1_000_000, 5_000_000, len(days)).astype("int64"),
    }))


def minute_truth(sessions: list[date]) -> pd.DataFrame:
    stamps = []
    for day in sessions:
        times = get_calendar().session_times(day)
        stamps += list(pd.date_range(times.market_open, times.market_close, freq="1min",
                                     inclusive="left"))
    n = len(stamps)
    close = 50 + np.sin(np.arange(n) / 50)
    return canonicalize_bars(pd.DataFrame({
        "timestamp": stamps, "open": close, "high": close + 0.05, "low": close - 0.05,
        "close": close, "volume": np.full(n, 100, dtype="int64")}))


@pytest.fixture
def world(tmp_path: Path) -> tuple[LocalStore, FrameProvider, Settings]:
    store = LocalStore(tmp_path / "store")
    daily = {s: daily_truth(s) for s in SYMBOLS}
    minutes = minute_truth(get_calendar().sessions_back(date(2025, 11, 25), 3))
    provider = FrameProvider(daily, {("NVDA", "1min"): minutes})
    for symbol, frame in daily.items():
        store.put_frame(keys.bars_key("daily", symbol), frame)
    store.put_frame(keys.bars_key("1min", "NVDA"), minutes)
    rebuild_ledger(store, "daily")
    rebuild_ledger(store, "1min")
    return store, provider, Settings()


def state(store: LocalStore) -> dict[str, str | None]:
    return {i.key: i.sha256 for i in store.list_objects() if i.key.startswith("bars/")}


def test_clean_store_has_no_problems_and_no_gaps(world) -> None:
    store, _, settings = world
    report = verify_store(store, NOW, settings)
    assert report.ok, report.problems
    assert report.checked == 6  # 4 bars objects + 2 ledgers
    assert [g for g in detect_gaps(store, NOW, settings) if g.kind == "not_fetched"] == []


@pytest.mark.parametrize("damage", ["delete", "truncate", "flip", "duplicate"])
def test_damaged_object_found_and_rebuild_repairs_only_it(world, damage: str) -> None:
    store, provider, settings = world
    key = keys.bars_key("daily", "MSFT")
    path = store.root / key if hasattr(store, "root") else None
    before = state(store)
    if damage == "delete":
        store.delete(key)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "flip":
        # bit rot: same size and mtime, one byte different
        stat = path.stat()
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(raw))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    else:
        frame = store.get_frame(key)
        store.put_frame(key, pd.concat([frame, frame.tail(3)]).sort_values("timestamp"))
    report = verify_store(store, NOW, settings)
    found = {(p.symbol, p.repair) for p in report.problems}
    assert found == {("MSFT", "tradingstation data rebuild-daily --symbols MSFT")}, report.problems
    rebuild_symbols(store, provider, "daily", ["MSFT"], NOW, settings)
    assert verify_store(store, NOW, settings).ok
    after = state(store)
    assert {k: v for k, v in after.items() if k != key} == {
        k: v for k, v in before.items() if k != key}
    pd.testing.assert_frame_equal(store.get_frame(key), provider.daily["MSFT"])
    assert store.list_objects("staging/") == []


def test_missing_sessions_detected_and_filled_exactly(world) -> None:
    store, provider, settings = world
    key = keys.bars_key("daily", "AAPL")
    full = store.get_frame(key)
    holed = full.drop(index=[100, 101, 102, 140]).reset_index(drop=True)
    store.put_frame(key, holed)
    rebuild_ledger(store, "daily")
    gaps = [g for g in detect_gaps(store, NOW, settings, datasets=["daily"])
            if g.kind == "not_fetched"]
    assert [(g.symbol, g.start, g.sessions) for g in gaps] == [
        ("AAPL", full["timestamp"][100].date(), 3), ("AAPL", full["timestamp"][140].date(), 1)]
    others = {k: v for k, v in state(store).items() if k != key}
    added = fill_gaps(store, provider, gaps, NOW)
    assert added == {"daily:AAPL": 4}
    # the oldest hole is 50 sessions back: inside the compact window, one cheap call
    assert provider.calls == {("daily", "AAPL", False): 1}
    pd.testing.assert_frame_equal(store.get_frame(key), full)
    assert {k: v for k, v in state(store).items() if k != key} == others
    assert [g for g in detect_gaps(store, NOW, settings) if g.kind == "not_fetched"] == []


def test_missing_intraday_session_is_not_fetched_but_thin_minutes_are_no_trades(world) -> None:
    store, provider, settings = world
    key = keys.bars_key("1min", "NVDA")
    full = store.get_frame(key)
    sessions = sorted(set(full["timestamp"].dt.tz_convert("America/New_York").dt.date))
    local = full["timestamp"].dt.tz_convert("America/New_York").dt.date
    thinned = full[(local != sessions[1])].drop(index=full.index[-10:-5])
    store.put_frame(key, thinned.reset_index(drop=True))
    rebuild_ledger(store, "1min")
    gaps = detect_gaps(store, NOW, settings, datasets=["1min"])
    kinds = {(g.start, g.kind, g.minutes_missing) for g in gaps}
    assert (sessions[1], "not_fetched", 0) in kinds
    assert (sessions[-1], "no_trades", 5) in kinds
    fill_gaps(store, provider, gaps, NOW)
    restored = store.get_frame(key)
    assert len(restored) == len(full) - 5  # the whole session back; no-trade minutes untouched


def test_stale_and_retention_expired_data_are_reported(world) -> None:
    store, _, settings = world
    key = keys.bars_key("daily", "NVDA")
    store.put_frame(key, store.get_frame(key).iloc[:-2])  # two sessions behind
    long = daily_truth("AAPL", sessions=282)
    store.put_frame(keys.bars_key("daily", "AAPL"), long)
    rebuild_ledger(store, "daily")
    report = verify_store(store, NOW, settings)
    by_kind = {(p.kind, p.symbol): p for p in report.problems}
    assert set(by_kind) == {("stale", "NVDA"), ("retention", "AAPL")}
    assert by_kind["stale", "NVDA"].repair == "tradingstation fetch daily --tickers NVDA"
    assert "30 bars are past the retention" in by_kind["retention", "AAPL"].detail


def test_ledger_out_of_sync_is_reported(world) -> None:
    store, _, settings = world
    key = keys.bars_key("daily", "MSFT")
    frame = store.get_frame(key)
    store.put_frame(key, pd.concat([frame, frame.tail(1).assign(
        timestamp=frame["timestamp"].iloc[-1] + timedelta(days=1))]))
    problems = verify_store(store, NOW, settings).problems
    assert [(p.kind, p.symbol) for p in problems] == [("ledger", "MSFT")]
    assert problems[0].repair == "tradingstation data rebuild-ledger --dataset daily"


def test_failed_rebuild_leaves_live_data_in_place(world) -> None:
    store, provider, settings = world
    before = state(store)
    with pytest.raises(SymbolNotFoundError):
        rebuild_symbols(store, provider, "daily", ["AAPL", "ZZZZ"], NOW, settings)
    assert state(store) == before
    assert store.list_objects("staging/") == []


def test_cleanup_applies_retention_and_touches_nothing_else(world) -> None:
    store, _, settings = world
    store.put_frame(keys.bars_key("daily", "AAPL"), daily_truth("AAPL", sessions=282))
    rebuild_ledger(store, "daily")
    today = NOW.date()
    old_day, recent_day = today - timedelta(days=31), today - timedelta(days=29)
    for day in (old_day, recent_day):
        store.put_json(keys.signals_key(day, "breakout"), {"signals": []})
        store.put_frame(keys.quotes_key(day), pd.DataFrame({"symbol": ["AAPL"]}))
        store.put_frame(keys.anchors_key(day), pd.DataFrame({"symbol": ["AAPL"]}))
        store.put_json(keys.live_event_key(day, "0123456789abcdef", "triggered"), {"at": 1})
    store.put_frame(keys.universe_history_key(date(2020, 1, 2)), pd.DataFrame({"symbol": ["A"]}))
    store.put_bytes(keys.backup_prefix("2020-01-02") + "bars/daily/X.parquet", b"backup kept")
    store.put_json(keys.api_usage_key(date(2020, 1, 2)), {"calls": 1})
    untouched = {i.key: i.sha256 for i in store.list_objects()
                 if not i.key.startswith(("bars/daily/AAPL", "ledger/daily", "signals/",
                                          "quotes/", "anchors/", "live/"))}
    report = cleanup(store, NOW, settings)
    assert report.bars_trimmed == {"daily": 30, "1min": 0, "30min": 0}
    assert len(store.get_frame(keys.bars_key("daily", "AAPL"))) == 252
    assert report.deleted["signals"] == [keys.signals_key(old_day, "breakout")]
    assert report.deleted["quotes"] == [keys.quotes_key(old_day)]
    assert report.deleted["anchors"] == [keys.anchors_key(old_day)]
    assert report.deleted["live"] == [keys.live_event_key(old_day, "0123456789abcdef",
                                                          "triggered")]
    assert store.exists(keys.signals_key(recent_day, "breakout"))
    kept = {i.key: i.sha256 for i in store.list_objects() if i.key in untouched}
    assert kept == untouched
    assert verify_store(store, NOW, settings).ok
    assert cleanup(store, NOW, settings).bars_trimmed == {"daily": 0, "1min": 0, "30min": 0}
