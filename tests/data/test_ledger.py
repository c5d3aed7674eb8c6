"""Coverage ledger: load, read-merge-write, newest fetch wins, no-op writes, rebuild."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.data.memory_store import CountingLocalStore, MemoryStore
from tests.data.test_bars import make_bars
from tradingstation.data.ledger import (
    LEDGER_COLUMNS,
    REASON_MAX,
    ledger_row,
    load_ledger,
    rebuild_ledger,
    update_ledger,
)
from tradingstation.errors import DataError, InputError
from tradingstation.storage import keys

T1 = pd.Timestamp("2024-06-14 20:00", tz="UTC")
T2 = pd.Timestamp("2024-06-14 21:00", tz="UTC")


@pytest.fixture(params=["memory", "local"])
def store(request, tmp_path):
    return MemoryStore() if request.param == "memory" else CountingLocalStore(tmp_path / "s")


def test_missing_ledger_is_empty_with_schema(store):
    ledger = load_ledger(store, "daily")
    assert list(ledger.columns) == LEDGER_COLUMNS and len(ledger) == 0
    assert str(ledger["last_bar"].dtype) == "datetime64[ns, UTC]"


def test_row_describes_the_bars():
    bars = make_bars(4)
    row = ledger_row("NVDA", "1min", bars, T1, "ok", "fine\nreally", T1)
    assert row["first_bar"] == bars["timestamp"].iloc[0]
    assert row["last_bar"] == bars["timestamp"].iloc[-1]
    assert row["bar_count"] == 4 and row["reason"] == "fine really"
    empty = ledger_row("NVDA", "1min", None, T1, "failed", "x")
    assert pd.isna(empty["last_bar"]) and empty["bar_count"] == 0
    with pytest.raises(InputError):
        ledger_row("bad ticker", "1min", None, T1, "ok")


def test_update_merges_by_symbol_and_newest_fetch_wins(store):
    bars = make_bars(3)
    assert update_ledger(store, "1min", [
        ledger_row("AAA", "1min", bars, T2, "ok", "", T1, fetched_at=T2),
        ledger_row("BBB", "1min", None, T1, "failed", "boom", T1, fetched_at=T1),
    ])
    # An older fetch (wall clock) arriving late must not overwrite the newer row.
    update_ledger(store, "1min", [ledger_row("AAA", "1min", None, T1, "failed", "stale",
                                             fetched_at=T1)])
    update_ledger(store, "1min", [ledger_row("BBB", "1min", bars, T2, "no_data", "none", T1,
                                             fetched_at=T2)])
    ledger = load_ledger(store, "1min").set_index("symbol")
    assert list(ledger.index) == ["AAA", "BBB"]
    assert ledger.loc["AAA", "outcome"] == "ok" and ledger.loc["AAA", "bar_count"] == 3
    assert ledger.loc["BBB", "outcome"] == "no_data" and ledger.loc["BBB", "last_fetch"] == T2


def test_unchanged_update_writes_nothing(store):
    rows = [ledger_row("AAA", "daily", make_bars(2), T1, "ok", "", T1)]
    assert update_ledger(store, "daily", rows) is True
    before = store.total_puts
    assert update_ledger(store, "daily", rows) is False
    assert update_ledger(store, "daily", []) is False
    assert store.total_puts == before


def test_update_keeps_rows_written_meanwhile_by_another_run(store):
    update_ledger(store, "daily", [ledger_row("AAA", "daily", None, T1, "failed", "x")])
    # Another flow run writes its rows; ours are merged on a fresh read, not on a stale copy.
    update_ledger(store, "daily", [ledger_row("BBB", "daily", None, T1, "failed", "y")])
    update_ledger(store, "daily", [ledger_row("CCC", "daily", None, T2, "failed", "z")])
    assert list(load_ledger(store, "daily")["symbol"]) == ["AAA", "BBB", "CCC"]


def test_update_rejects_rows_of_another_dataset_and_bad_outcomes(store):
    with pytest.raises(DataError, match="dataset"):
        update_ledger(store, "daily", [ledger_row("AAA", "1min", None, T1, "ok")])
    with pytest.raises(DataError, match="unknown outcome"):
        update_ledger(store, "daily", [ledger_row("AAA", "daily", None, T1, "maybe")])
    assert not store.exists(keys.ledger_key("daily"))


def test_rebuild_from_stored_bars(store):
    store.put_frame(keys.bars_key("30min", "AAA"), make_bars(7, freq="30min"))
    store.put_frame(keys.bars_key("30min", "BBB"), make_bars(2, freq="30min"))
    store.put_bytes(keys.bars_key("30min", "CCC"), b"not parquet")
    update_ledger(store, "30min", [ledger_row("ZZZ", "30min", None, T1, "failed", "gone")])
    ledger = rebuild_ledger(store, "30min").set_index("symbol")
    assert list(ledger.index) == ["AAA", "BBB", "CCC"]
    assert ledger.loc["AAA", "bar_count"] == 7
    assert ledger.loc["AAA", "last_bar"] == make_bars(7, freq="30min")["timestamp"].iloc[-1]
    assert ledger.loc["CCC", "outcome"] == "failed" and "unreadable" in ledger.loc["CCC", "reason"]
    assert load_ledger(store, "30min").set_index("symbol").equals(ledger)


def test_ledger_reasons_are_one_bounded_line():
    reason = ledger_row("AAA", "daily", None, T1, "failed", "a\n b" + "x" * 1000)["reason"]
    assert reason.startswith("a bxxx") and len(reason) == REASON_MAX
