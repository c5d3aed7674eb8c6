"""Backtest runs in the store: empty store refused, latest pointer, pruning of old runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from tradingstation.errors import InputError
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore
from tradingstation.track.run import backtest_store
from tradingstation.track.store import (
    KEEP_BACKTESTS,
    latest_outcomes,
    latest_summary,
    save_backtest,
)

NOW = datetime(2025, 11, 24, 22, 0, tzinfo=UTC)


def test_an_empty_store_is_refused_with_the_commands_that_fill_it(tmp_path):
    store = LocalStore(tmp_path)
    with pytest.raises(InputError, match="tradingstation fetch universe"):
        backtest_store(store, NOW)
    assert store.list_objects("research/") == []


def test_latest_points_at_the_newest_run_and_old_runs_are_pruned(tmp_path):
    store = LocalStore(tmp_path)
    assert latest_summary(store) is None and latest_outcomes(store).empty
    runs = [f"2025112{i}T220000Z" for i in range(KEEP_BACKTESTS + 2)]
    for n, run in enumerate(runs):
        frame = pd.DataFrame({"id": [f"s{n}"], "screener": ["breakout"], "r": [float(n)]})
        save_backtest(store, run, frame, {"signals": 1, "run": run})
    assert latest_summary(store)["run"] == runs[-1]
    assert latest_outcomes(store)["r"].tolist() == [float(len(runs) - 1)]
    kept = sorted({i.key.split("/")[2] for i in store.list_objects("research/backtests/")
                   if i.key.count("/") == 3})
    assert kept == runs[-KEEP_BACKTESTS:]
    assert store.exists(keys.backtest_key(runs[-KEEP_BACKTESTS], "summary.json"))
