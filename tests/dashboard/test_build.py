"""Building the dashboard from stored signals, bars and anchors."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from tests.dashboard.builders import make_signal
from tests.upkeep.test_integrity import NOW, daily_truth
from tradingstation.anchors import find_anchors
from tradingstation.config import Settings
from tradingstation.dashboard.build import build_dashboard
from tradingstation.dashboard.export import PLAN_JSON_SCHEMA
from tradingstation.dashboard.publish import load_latest
from tradingstation.data.panel import Panel
from tradingstation.errors import InputError
from tradingstation.screeners.store import save_signals
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore


def test_build_gathers_recent_signals_charts_and_publishes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    daily = {s: daily_truth(s) for s in ("AAPL", "NVDA")}
    for symbol, frame in daily.items():
        store.put_frame(keys.bars_key("daily", symbol), frame)
    anchors = find_anchors(Panel.from_bars(daily), lookback_days=60)
    store.put_frame(keys.anchors_key(NOW.date()), anchors)
    fresh = make_signal("NVDA", "breakout", 8.0, 120.0, 115.0)
    old = make_signal("AAPL", "breakout", 9.0, 120.0, 115.0)
    earlier = NOW - timedelta(days=3)
    save_signals(store, NOW.date(), "breakout",
                 [fresh.model_copy(update={"timestamp": NOW, "session": NOW.date()})])
    save_signals(store, earlier.date(), "ema_pullback", [old.model_copy(update={
        "timestamp": earlier, "session": earlier.date(), "screener": "ema_pullback"})])

    result = build_dashboard(store, NOW, Settings(), hours_lookback=24)
    assert [i.symbol for i in result.plan.ideas] == ["NVDA"]  # the 3-day-old one is outside 24h
    pointer = load_latest(store)
    assert set(pointer["files"]) == {"index.html", "plan.json", "plan.csv", "plan.md"}
    document = json.loads(store.get_bytes(pointer["files"]["plan.json"]["key"]))
    jsonschema.validate(document, PLAN_JSON_SCHEMA)
    assert document["hours_lookback"] == 24 and document["session"] == "2025-11-25"
    assert result.html.count("<img class='chart'") == 1
    assert "DEMO DATA" in result.html and "data freshness" in result.html

    wider = build_dashboard(store, NOW + timedelta(seconds=1), Settings(), hours_lookback=100)
    assert [i.symbol for i in wider.plan.ideas] == ["AAPL", "NVDA"]


@pytest.mark.parametrize("hours", [0, -5, float("nan"), 10_000])
def test_bad_lookback_is_rejected(tmp_path: Path, hours: float) -> None:
    with pytest.raises(InputError, match="hours-lookback"):
        build_dashboard(LocalStore(tmp_path), NOW, Settings(), hours_lookback=hours)
    assert LocalStore(tmp_path).list_objects() == []
