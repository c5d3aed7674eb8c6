"""The live track record: published signals get their outcomes as later bars arrive, and the
decided rows outlive the signals' retention."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from tradingstation.calendar import ny_time
from tradingstation.screeners.store import save_signals
from tradingstation.signals import Signal, make_signal_id
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore
from tradingstation.track.outcome import OutcomeRules
from tradingstation.track.run import update_live_record
from tradingstation.track.store import read_live

DAY = date(2025, 11, 3)
FREE = OutcomeRules(slippage_bps=0.0, commission_per_share=0.0, time_stop_sessions=3)


def _signal(symbol: str, entry: float, stop: float, target: float) -> Signal:
    stamp = ny_time(DAY, 16, 0)
    return Signal(id=make_signal_id("breakout", symbol, DAY, "base"), screener="breakout",
                  symbol=symbol, session=DAY, timestamp=stamp, direction="long",
                  status="triggered", score=8.2, entry=entry, stop=stop, targets=[target],
                  risk_per_share=round(entry - stop, 2), data_as_of=stamp, demo=True)


def _bars(rows: dict[str, tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [(pd.Timestamp(d, tz="UTC"), *v, 1000) for d, v in rows.items()],
        columns=["timestamp", "open", "high", "low", "close", "volume"])


def _at(day: str) -> datetime:
    return ny_time(date.fromisoformat(day), 21, 0)


def test_outcomes_fill_in_as_bars_arrive_and_outlive_the_signals(tmp_path):
    store = LocalStore(tmp_path)
    save_signals(store, DAY, "breakout", [_signal("AAA", 100, 95, 110), _signal("BBB", 50, 48, 54)])
    store.put_frame(keys.bars_key("daily", "AAA"), _bars({
        "2025-11-03": (99, 101, 97, 100), "2025-11-04": (100, 103, 96, 102),
        "2025-11-05": (102, 112, 101, 111)}))
    store.put_frame(keys.bars_key("daily", "BBB"), _bars({
        "2025-11-03": (49, 50.5, 48.5, 50), "2025-11-04": (50, 51, 49, 50.5)}))

    first = update_live_record(store, _at("2025-11-04"), FREE)
    assert (first.added, first.resolved, first.pending, first.total) == (2, 0, 2, 2)
    second = update_live_record(store, _at("2025-11-05"), FREE)  # AAA's target bar is out
    assert (second.added, second.resolved, second.pending) == (0, 1, 1)
    record = read_live(store).set_index("symbol")
    assert record.loc["AAA", "exit_reason"] == "target"
    assert record.loc["AAA", "r"] == pytest.approx(2.0)
    assert record.loc["BBB", "exit_reason"] == "open"

    # retention removes the signals and AAA's bars; BBB's time stop arrives later
    store.delete(keys.signals_key(DAY, "breakout"))
    store.delete(keys.bars_key("daily", "AAA"))
    store.put_frame(keys.bars_key("daily", "BBB"), _bars({
        "2025-11-03": (49, 50.5, 48.5, 50), "2025-11-04": (50, 51, 49, 50.5),
        "2025-11-05": (50.5, 51, 49, 50), "2025-11-06": (50, 51.5, 49.5, 51)}))
    third = update_live_record(store, _at("2025-11-06"), FREE)
    assert (third.added, third.resolved, third.pending, third.total) == (0, 1, 0, 2)
    record = read_live(store).set_index("symbol")
    assert record.loc["AAA", "exit_reason"] == "target"  # decided rows are kept as they were
    assert record.loc["BBB", "exit_reason"] == "time"
    assert record.loc["BBB", "r"] == pytest.approx(0.5)
    assert bool(record.loc["BBB", "demo"])
    assert update_live_record(store, _at("2025-11-07"), FREE).to_dict() == {
        "added": 0, "resolved": 0, "pending": 0, "total": 2}


def test_a_replay_as_of_an_earlier_moment_ignores_later_bars(tmp_path):
    store = LocalStore(tmp_path)
    save_signals(store, DAY, "breakout", [_signal("AAA", 100, 95, 110)])
    store.put_frame(keys.bars_key("daily", "AAA"), _bars({
        "2025-11-03": (99, 101, 97, 100), "2025-11-04": (100, 103, 96, 102),
        "2025-11-05": (102, 112, 101, 111)}))
    update_live_record(store, _at("2025-11-04"), FREE)
    assert read_live(store).loc[0, "exit_reason"] == "open"


def test_reading_the_record_as_of_an_earlier_moment(tmp_path):
    store = LocalStore(tmp_path)
    save_signals(store, DAY, "breakout", [_signal("AAA", 100, 95, 110)])
    store.put_frame(keys.bars_key("daily", "AAA"), _bars({
        "2025-11-03": (99, 101, 97, 100), "2025-11-04": (100, 103, 96, 102),
        "2025-11-05": (102, 112, 101, 111)}))
    update_live_record(store, _at("2025-11-05"), FREE)
    assert read_live(store).loc[0, "exit_reason"] == "target"
    assert read_live(store, _at("2025-11-05")).loc[0, "exit_reason"] == "target"
    assert read_live(store, ny_time(date(2025, 11, 5), 12, 0)).loc[0, "exit_reason"] == "open"
    assert read_live(store, ny_time(date(2025, 11, 3), 12, 0)).empty  # not yet published


def test_a_signal_whose_bars_stop_coming_expires_instead_of_staying_open(tmp_path):
    store = LocalStore(tmp_path)
    save_signals(store, DAY, "breakout", [_signal("GONE", 100, 95, 110)])
    store.put_frame(keys.bars_key("daily", "GONE"), _bars({"2025-11-03": (99, 101, 97, 100)}))
    update_live_record(store, _at("2025-11-04"), FREE)
    assert read_live(store).loc[0, "exit_reason"] == "open"
    update_live_record(store, _at("2026-01-05"), FREE)
    assert read_live(store).loc[0, "exit_reason"] == "expired"
    assert update_live_record(store, _at("2026-01-06"), FREE).pending == 0
