"""Retention rules: 1-min rolling days, 30-min last N bars, daily last N sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pandas as pd
import pytest

from tests.data.test_bars import make_bars
from tradingstation.config import Settings
from tradingstation.data.retention import trim_bars
from tradingstation.errors import InputError

NOW = datetime(2024, 6, 14, 20, 0, tzinfo=UTC)


def test_one_minute_keeps_rolling_calendar_days_inclusive():
    bars = make_bars(24 * 10, start="2024-06-04 20:00", freq="1h")
    kept = trim_bars("1min", bars, NOW, Settings())
    horizon = pd.Timestamp("2024-06-07 20:00", tz="UTC")
    assert kept["timestamp"].min() == horizon  # the bar exactly at now - 7 days stays
    assert (kept["timestamp"] >= horizon).all()
    assert len(kept) == int((bars["timestamp"] >= horizon).sum())
    assert list(kept.index) == list(range(len(kept)))


def test_one_minute_window_follows_settings():
    bars = make_bars(24 * 10, start="2024-06-04 20:00", freq="1h")
    kept = trim_bars("1min", bars, NOW, SimpleNamespace(
        retention_1min_days=2, retention_30min_bars=1, retention_daily_sessions=1))
    assert kept["timestamp"].min() == pd.Timestamp("2024-06-12 20:00", tz="UTC")


def test_thirty_minute_keeps_last_n_bars():
    bars = make_bars(520, freq="30min")
    kept = trim_bars("30min", bars, NOW, Settings())
    assert len(kept) == 500
    assert kept["timestamp"].iloc[-1] == bars["timestamp"].iloc[-1]
    assert kept["timestamp"].iloc[0] == bars["timestamp"].iloc[20]


def test_daily_keeps_last_n_sessions_and_short_frames_untouched():
    bars = make_bars(260, start="2023-01-02", freq="B")
    kept = trim_bars("daily", bars, NOW, Settings())
    assert len(kept) == 252  # a year of sessions: the 52-week anchors need them
    assert kept.equals(bars.iloc[-252:].reset_index(drop=True))
    short = make_bars(30, start="2024-01-02", freq="B")
    assert trim_bars("daily", short, NOW, Settings()).equals(short)
    custom = SimpleNamespace(retention_1min_days=7, retention_30min_bars=5,
                             retention_daily_sessions=10)
    assert len(trim_bars("daily", bars, NOW, custom)) == 10
    assert len(trim_bars("30min", bars, NOW, custom)) == 5


def test_input_is_not_modified_and_bad_input_rejected():
    bars = make_bars(300, start="2023-01-02", freq="B")
    before = bars.copy()
    trim_bars("daily", bars, NOW, Settings())
    assert bars.equals(before)
    with pytest.raises(InputError, match="unknown dataset"):
        trim_bars("5min", bars, NOW, Settings())
    with pytest.raises(InputError, match="timezone-aware"):
        trim_bars("1min", bars, datetime(2024, 6, 14), Settings())
