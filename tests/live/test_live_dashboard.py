"""The dashboard and plan.json show each idea's live state, as known at the dashboard's time."""

from __future__ import annotations

import json

import jsonschema

from tests.live.watch_support import Outbox, make_watcher, run
from tests.support import tape
from tradingstation.calendar import ny_time
from tradingstation.config import Settings
from tradingstation.dashboard.build import build_dashboard
from tradingstation.dashboard.export import PLAN_JSON_SCHEMA


def _plan(store_, at) -> tuple[dict, str]:
    result = build_dashboard(store_, at, Settings(), hours_lookback=24)
    pointer = result.pointer  # "latest" stays on the newest dashboard during a replay
    document = json.loads(store_.get_bytes(pointer["files"]["plan.json"]["key"]))
    jsonschema.validate(document, PLAN_JSON_SCHEMA)
    return {i["symbol"]: i for i in document["ideas"]}, result.html


def test_live_states_reach_plan_json_and_the_page(store) -> None:
    provider = tape.TapeProvider(tape.tapes(), ny_time(tape.SESSION, 9, 30))
    run(make_watcher(store, provider, Outbox()), provider, (9, 31), (12, 0), every=2)

    ideas, html = _plan(store, ny_time(tape.SESSION, 12, 0))
    assert ideas["HOLD"]["live_state"] == "triggered"
    assert ideas["HOLD"]["live_at"].startswith("2026-12-02T14:5")  # 09:5x New York
    assert ideas["STOPX"]["live_state"] == "invalidated"
    assert ideas["NEVER"]["live_state"] == "watch" and ideas["NEVER"]["live_at"] is None
    assert "watch → triggered 09:5" in html

    # a replay at 09:45 must not know what happened at 09:50
    earlier, _ = _plan(store, ny_time(tape.SESSION, 9, 45))
    assert earlier["HOLD"]["live_state"] == "watch" and earlier["HOLD"]["live_at"] is None
    assert earlier["STOPX"]["live_state"] == "invalidated"
