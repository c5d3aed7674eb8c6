"""Concurrency: two sessions fetch the same symbols into one store at the same moment, with
different (overlapping) provider answers; every bar either of them fetched must be stored.

Each session has its own store object on the same directory (as two runs would) and its own
provider: one knows the first 70 sessions of each symbol, the other sessions 40-110 (identical
where they overlap, so the union is well defined). Both start together (a barrier) and write
every symbol; repeated over several rounds, each round one session later.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support.fetching import fetch_job
from tests.support.frame_provider import FrameProvider
from tradingstation.calendar import NY, get_calendar
from tradingstation.config import Settings
from tradingstation.storage.local import LocalStore

SYMBOLS = [f"S{i:02d}" for i in range(24)]
ROUNDS = 5


def _history(symbol: str, days: list) -> pd.DataFrame:
    rng = np.random.default_rng(abs(hash(symbol)) % 2**32)
    close = 50 + np.cumsum(rng.normal(0, 1, len(days)))
    return pd.DataFrame({
        "timestamp": pd.to_datetime([d.isoformat() for d in days], utc=True),
        "open": close, "high": close + 1, "low": close - 1, "close": close,
        "volume": rng.integers(1000, 5000, len(days)),
    })


def _sessions(end, count: int) -> list:
    calendar, days, day = get_calendar(), [], end
    while len(days) < count:
        days.append(day)
        day = calendar.previous_session(day)
    return days[::-1]


@pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition
def test_two_sessions_writing_the_same_symbols_lose_no_bar(tmp_path: Path, record_figures) -> None:
    settings = Settings(batch_size=8, http_concurrency=4, retention_daily_sessions=400)
    calendar = get_calendar()
    end = datetime(2025, 10, 1).date()
    checked = 0
    for round_ in range(ROUNDS):
        end = calendar.next_session(end)
        now = datetime(end.year, end.month, end.day, 20, 30, tzinfo=NY)
        days = _sessions(end, 110)
        full = {s: _history(s, days) for s in SYMBOLS}
        early = FrameProvider(daily={s: f.iloc[:70].reset_index(drop=True)
                                     for s, f in full.items()})
        late = FrameProvider(daily={s: f.iloc[40:].reset_index(drop=True) for s, f in full.items()})
        root = tmp_path / f"round{round_}"
        barrier = threading.Barrier(2)

        def session(provider: FrameProvider, root: Path = root, now: datetime = now,
                    barrier: threading.Barrier = barrier):
            store = LocalStore(root)
            barrier.wait()
            return fetch_job("daily", store, provider, now, settings, tickers=SYMBOLS,
                                 refetch=True)

        with ThreadPoolExecutor(2) as pool:
            reports = list(pool.map(session, [early, late]))
        assert all(not r.failed for r in reports), [r.summary() for r in reports]
        store = LocalStore(root)
        for symbol, expected in full.items():
            stored = store.get_frame(f"bars/daily/{symbol}.parquet")
            missing = set(expected["timestamp"]) - set(stored["timestamp"])
            assert not missing, f"round {round_}: {symbol} lost {len(missing)} bars"
            assert stored["timestamp"].is_unique
            checked += len(expected)
    record_figures("concurrency", {"rounds": ROUNDS, "sessions_per_round": 2,
                                   "symbols": len(SYMBOLS), "bars_checked": checked,
                                   "bars_lost": 0})
