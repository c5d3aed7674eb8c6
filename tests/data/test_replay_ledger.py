"""A ``--as-of`` replay never leaves the coverage ledger disagreeing with the bars it wrote."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from tests.data.memory_store import MemoryStore
from tests.support.fetching import fetch_job
from tests.support.frame_provider import FrameProvider
from tradingstation.calendar import get_calendar
from tradingstation.config import Settings
from tradingstation.data.ledger import load_ledger
from tradingstation.storage import keys
from tradingstation.upkeep.verify import verify_store

pytestmark = pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition

TODAY = datetime(2024, 6, 22, 3, 0, tzinfo=UTC)  # live run: expected daily bar 2024-06-21
YESTERDAY = datetime(2024, 6, 21, 3, 0, tzinfo=UTC)  # replay: expected daily bar 2024-06-20
HOLE = date(2024, 6, 12)


def daily_history(end: date = date(2024, 6, 21), n: int = 60) -> pd.DataFrame:
    days = get_calendar().sessions(date(2024, 1, 2), end)[-n:]
    close = 50.0 + np.arange(n, dtype=float)
    return pd.DataFrame({
        "timestamp": pd.to_datetime([d.isoformat() for d in days], utc=True),
        "open": close, "high": close + 1, "low": close - 1, "close": close,
        "volume": np.full(n, 1_000, dtype="int64"),
    })


def test_a_forced_replay_that_rewrites_bars_keeps_the_ledger_consistent():
    store, settings = MemoryStore(), Settings()
    full = daily_history()
    holed = full[full["timestamp"].dt.date != HOLE].reset_index(drop=True)
    provider = FrameProvider(daily={"AAA": holed})
    assert fetch_job("universe", store, provider, TODAY, settings).exit_code == 0
    assert fetch_job("daily", store, provider, TODAY, settings).exit_code == 0
    live = load_ledger(store, "daily").set_index("symbol").loc["AAA"]
    assert live["bar_count"] == len(holed)

    # The provider has since filled its hole; a replay of yesterday, forced, merges it in.
    provider.daily["AAA"] = full
    assert fetch_job("daily", store, provider, YESTERDAY, settings, refetch=True).exit_code == 0
    stored = store.get_frame(keys.bars_key("daily", "AAA"))
    assert len(stored) == len(full)

    row = load_ledger(store, "daily").set_index("symbol").loc["AAA"]
    assert row["bar_count"] == len(stored)
    assert row["last_fetch"] == pd.Timestamp(YESTERDAY)  # the instant the replay served
    assert row["fetched_at"] >= live["fetched_at"]  # and when it wrote (wall clock)
    report = verify_store(store, TODAY, settings, datasets=["daily"])
    assert [p for p in report.problems if p.kind == "ledger"] == []
