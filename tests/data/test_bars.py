"""Bar contract: canonical schema, every validation rule, and upsert merging."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradingstation.contracts import (
    BAR_COLUMNS,
    bar_problems,
    canonicalize_bars,
    empty_bars,
    validate_bars,
)
from tradingstation.data.bars import merge_bars
from tradingstation.errors import DataError


def make_bars(n: int = 5, start: str = "2024-06-03 13:30", freq: str = "1min", base: float = 10.0):
    stamps = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    close = base + np.arange(n, dtype=float)
    return pd.DataFrame({
        "timestamp": stamps,
        "open": close - 0.5,
        "high": close + 1.0,
        "low": close - 1.0,
        "close": close,
        "volume": np.arange(n, dtype="int64") * 100,
    })


def test_empty_bars_has_canonical_schema():
    frame = empty_bars()
    assert list(frame.columns) == BAR_COLUMNS
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame["volume"].dtype == np.int64
    assert frame["close"].dtype == np.float64
    assert bar_problems(frame) == []


def test_canonicalize_coerces_types_sorts_and_reindexes():
    raw = make_bars(3).iloc[::-1].copy()
    raw.index = [7, 8, 9]
    raw["timestamp"] = raw["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    raw["open"] = raw["open"].astype(str)
    raw["volume"] = raw["volume"].astype(float)
    raw["extra"] = 1
    out = canonicalize_bars(raw)
    assert list(out.columns) == BAR_COLUMNS
    assert list(out.index) == [0, 1, 2]
    assert out["timestamp"].is_monotonic_increasing
    assert str(out["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert out["open"].dtype == np.float64 and out["volume"].dtype == np.int64
    assert bar_problems(out) == []


def test_canonicalize_rejects_missing_columns_and_bad_volume():
    with pytest.raises(DataError, match="missing columns: volume"):
        canonicalize_bars(make_bars().drop(columns="volume"))
    bad = make_bars()
    bad["volume"] = bad["volume"].astype(object)
    bad.loc[2, "volume"] = "lots"
    with pytest.raises(DataError, match="volume"):
        canonicalize_bars(bad)


def test_valid_bars_pass_unchanged():
    bars = make_bars()
    assert validate_bars(bars) is bars


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.loc.__setitem__((1, "open"), -1.0), "prices <= 0"),
        (lambda f: f.loc.__setitem__((1, "low"), 0.0), "prices <= 0"),
        (lambda f: f.loc.__setitem__((2, "high"), f.loc[2, "low"] - 0.5), "high below"),
        (lambda f: f.loc.__setitem__((2, "high"), f.loc[2, "close"] - 0.1), "high below"),
        (lambda f: f.loc.__setitem__((3, "low"), f.loc[3, "open"] + 0.1), "low above"),
        (lambda f: f.loc.__setitem__((0, "close"), np.nan), "missing or non-finite"),
        (lambda f: f.loc.__setitem__((0, "high"), np.inf), "missing or non-finite"),
        (lambda f: f.loc.__setitem__((4, "volume"), -5), "negative or missing volume"),
    ],
)
def test_each_price_and_volume_rule_is_enforced(mutate, message):
    bars = make_bars()
    mutate(bars)
    problems = bar_problems(bars)
    assert any(message in p for p in problems), problems
    with pytest.raises(DataError, match="NVDA bars rejected"):
        validate_bars(bars, "NVDA bars")


def test_duplicate_timestamps_rejected():
    bars = make_bars()
    bars.loc[3, "timestamp"] = bars.loc[2, "timestamp"]
    assert any("1 duplicate timestamps" in p for p in bar_problems(bars))


def test_unsorted_timestamps_rejected():
    bars = make_bars().iloc[[0, 2, 1, 3, 4]].reset_index(drop=True)
    assert "timestamps are not sorted" in bar_problems(bars)


def test_naive_timestamps_rejected():
    bars = make_bars()
    bars["timestamp"] = bars["timestamp"].dt.tz_localize(None)
    assert "timestamps are not timezone-aware" in bar_problems(bars)


def test_missing_column_reported():
    assert bar_problems(make_bars().drop(columns="high")) == ["missing columns: high"]


def test_problems_counted_per_bar():
    bars = make_bars(6)
    bars.loc[[1, 4], "open"] = -2.0
    assert "2 bars have prices <= 0" in bar_problems(bars)


def test_merge_newest_fetch_wins_and_nothing_is_dropped():
    stored = make_bars(5)
    fresh = make_bars(4, start="2024-06-03 13:33")  # overlaps the last two stored bars
    fresh["close"] = fresh["close"] + 0.25
    fresh["high"] = fresh["high"] + 0.25
    merged = merge_bars(stored, fresh)
    assert len(merged) == 7
    assert merged["timestamp"].is_unique and merged["timestamp"].is_monotonic_increasing
    overlap = merged.set_index("timestamp").loc[fresh["timestamp"], "close"]
    assert list(overlap) == list(fresh["close"])
    kept = merged.set_index("timestamp").loc[stored["timestamp"][:3], "close"]
    assert list(kept) == list(stored["close"][:3])
    assert bar_problems(merged) == []


def test_merge_of_an_older_fetch_keeps_stored_history():
    stored = make_bars(3, start="2024-06-03 14:00")
    older = make_bars(3, start="2024-06-03 13:00")
    merged = merge_bars(stored, older)
    assert len(merged) == 6
    assert merged["timestamp"].iloc[0] == older["timestamp"].iloc[0]
    assert merged["timestamp"].iloc[-1] == stored["timestamp"].iloc[-1]


def test_merge_with_empty_sides():
    bars = make_bars(3)
    assert merge_bars(None, bars).equals(bars)
    assert merge_bars(empty_bars(), bars).equals(bars)
    assert merge_bars(bars, empty_bars()).equals(bars)
