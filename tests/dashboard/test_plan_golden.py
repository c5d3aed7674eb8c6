"""plan.json and plan.csv bytes stay what they were for the same plan (golden files).

The golden files were written by the code before ``Idea``/``Plan`` became pydantic models and
the plan.json schema was generated from them: field order, number formats and timestamps must
not move when the plan's shape is described in one place.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pandas as pd

from tests.dashboard.builders import RISK, T0, make_signal
from tradingstation.dashboard.export import PLAN_JSON_SCHEMA, plan_to_csv, plan_to_document
from tradingstation.live.ideas import plan_ideas, with_live_state
from tradingstation.plan import Plan, build_plan
from tradingstation.track.ideas import annotate_plan
from tradingstation.track.stats import STAT_COLUMNS

GOLDEN = Path(__file__).parent / "golden"


def golden_plan() -> Plan:
    """A demo plan using every idea field: confluence, a conflict, a low reward:risk, explicit
    targets, a dropped record, a track record and live states."""
    low_rr = make_signal("MSFT", "ema_pullback", 6.0, 400.0, 390.0).model_copy(
        update={"targets": [405.0, 420.0]})
    signals = [
        make_signal("NVDA", "breakout", 8.0, 181.0, 174.5),
        make_signal("NVDA", "avwap_reclaim", 7.5, 180.2, 175.0),
        make_signal("AMD", "exhaustion_reversal", 6.5, 140.0, 146.0),
        make_signal("AMD", "gap_and_go", 7.2, 141.0, 138.0).model_copy(
            update={"status": "watch"}),
        make_signal("BRK.B", "orb", 9.1, 20.0, 19.0, reasons=["=cmd|' /C calc'!A0"]),
        low_rr,
        {"symbol": "BAD", "screener": "orb", "entry": 10.0},
    ]
    plan = build_plan(signals, RISK, generated_at=T0)
    table = pd.DataFrame([
        {"screener": "breakout", "band": "8-9", "direction": "long", "signals": 142,
         "fill_rate": 0.5, "trades": 71, "win_rate": 0.55, "avg_r": 0.3, "expectancy": 0.3142,
         "exp_low": 0.1, "exp_high": 0.5, "worst_losing_run": 4, "avg_held": 3.0,
         "enough": True},
        {"screener": "orb", "band": ">=9", "direction": "long", "signals": 12,
         "fill_rate": 0.5, "trades": 6, "win_rate": 0.5, "avg_r": 0.1, "expectancy": 0.1,
         "exp_low": -0.2, "exp_high": 0.4, "worst_losing_run": 2, "avg_held": 2.0,
         "enough": False},
    ], columns=["screener", "band", "direction", *STAT_COLUMNS])
    plan = annotate_plan(plan, table)
    watch = plan_ideas([s for s in signals if not isinstance(s, dict)], RISK, T0.date())
    watch.loc[watch["symbol"] == "AMD", ["state", "changed_at"]] = (
        "triggered", pd.Timestamp(T0 + timedelta(minutes=7)))
    return with_live_state(plan, watch, T0 + timedelta(hours=1))


def test_plan_json_bytes_match_the_golden_file() -> None:
    document = plan_to_document(golden_plan(), session="2025-11-24", hours_lookback=24)
    jsonschema.validate(json.loads(json.dumps(document)), PLAN_JSON_SCHEMA)
    written = json.dumps(document, indent=1).encode()
    assert written == (GOLDEN / "plan.json").read_bytes()


def test_plan_csv_bytes_match_the_golden_file() -> None:
    assert plan_to_csv(golden_plan()).encode() == (GOLDEN / "plan.csv").read_bytes()
