"""Plan rules measured on real history: conflicts, reward:risk, entries off the tape."""

from __future__ import annotations

import jsonschema
import pytest

from tests.test_plan import RISK, sig
from tradingstation.dashboard.export import PLAN_JSON_SCHEMA, plan_to_document, plan_to_markdown
from tradingstation.errors import InputError
from tradingstation.plan import ENTRY_DRIFT_MAX, RiskSettings, build_plan


def with_targets(signal, targets, **metrics):
    return signal.model_copy(update={"targets": targets, "metrics": dict(metrics)})


def test_opposite_directions_on_one_symbol_are_a_conflict_and_not_sized() -> None:
    # META's +14.6 % earnings gap: Breakout long and Exhaustion short on the same bar
    long = sig("META", "breakout", 8.0, entry=700.0, stop=650.0)
    short = sig("META", "exhaustion_reversal", 7.0, entry=700.0, stop=730.0, direction="short")
    plan = build_plan([long, short, sig("AAA", "breakout", 6.0)], RISK)
    meta = [i for i in plan.ideas if i.symbol == "META"]
    assert {i.direction for i in meta} == {"long", "short"}
    for idea in meta:
        assert idea.conflict
        assert idea.shares == 0 and idea.risk_dollars == 0 and idea.position_value == 0
        assert "conflict" in idea.sizing_note
    by_side = {i.direction: i for i in meta}
    assert by_side["long"].conflict_reasons == ["exhaustion_reversal: exhaustion_reversal "
                                                "reason for META"]
    assert by_side["short"].conflict_reasons == ["breakout: breakout reason for META"]
    other = next(i for i in plan.ideas if i.symbol == "AAA")
    assert not other.conflict and other.shares > 0 and other.conflict_reasons == []
    assert plan.open_risk == other.risk_dollars
    assert "CONFLICT" in plan_to_markdown(plan, "t")


def test_each_idea_shows_reward_risk_to_its_first_target() -> None:
    plan = build_plan([
        with_targets(sig("EXH", "exhaustion_reversal", 7.0, entry=50.0, stop=48.0), [50.24]),
        with_targets(sig("EMA", "ema_pullback", 6.0, entry=20.0, stop=19.0), [23.0, 24.0]),
        sig("GAP", "gap_and_go", 5.0, entry=10.0, stop=9.5),  # default 1R/2R/3R targets
        with_targets(sig("SHO", "exhaustion_reversal", 4.0, entry=30.0, stop=31.0,
                         direction="short"), [28.5]),
    ], RISK)
    rr = {i.symbol: i.reward_risk for i in plan.ideas}
    assert rr == {"EXH": 0.12, "EMA": 3.0, "GAP": 1.0, "SHO": 1.5}


def test_ideas_below_the_minimum_reward_risk_are_listed_but_not_sized() -> None:
    low = with_targets(sig("EXH", "exhaustion_reversal", 9.0, entry=50.0, stop=48.0), [50.24])
    ok = sig("GAP", "gap_and_go", 5.0, entry=10.0, stop=9.5)
    plan = build_plan([low, ok], RISK)
    exh, gap = plan.ideas
    assert exh.symbol == "EXH" and exh.shares == 0 and exh.risk_dollars == 0
    assert exh.sizing_note == "not sized: reward:risk 0.12 to the first target is below 1.00"
    assert gap.shares == 2000  # 1.0R is the default minimum: sized
    looser = RiskSettings(equity=100_000, risk_per_trade=0.01, max_position_pct=0.25,
                          max_open_risk=0.06, min_reward_risk=0.1)
    assert build_plan([low], looser).ideas[0].shares > 0
    stricter = RiskSettings(equity=100_000, risk_per_trade=0.01, max_position_pct=0.25,
                            max_open_risk=0.06, min_reward_risk=1.5)
    assert build_plan([ok], stricter).ideas[0].shares == 0


@pytest.mark.parametrize("value", [-0.5, float("nan"), 1000.0])
def test_min_reward_risk_is_validated(value: float) -> None:
    with pytest.raises(InputError, match="min_reward_risk"):
        RiskSettings(equity=1, risk_per_trade=0.01, max_position_pct=0.25, max_open_risk=0.06,
                     min_reward_risk=value)


def test_entry_far_from_the_latest_price_is_dropped_with_the_reason() -> None:
    # demo Gap & Go: "gap +50.9 % (quote 43.22)" with entry 28.67, 34 % below the quote
    stale = with_targets(sig("GAPY", "gap_and_go", 8.0, entry=28.67, stop=27.0), [],
                         last_price=43.22)
    near = with_targets(sig("NEAR", "gap_and_go", 6.0, entry=20.0, stop=19.0), [],
                        last_price=20.0 * (1 + ENTRY_DRIFT_MAX) - 0.01)
    short = with_targets(sig("SHRT", "orb", 6.0, entry=10.0, stop=10.5, direction="short"), [],
                         last_price=8.0)
    plan = build_plan([stale, near, short], RISK)
    assert [i.symbol for i in plan.ideas] == ["NEAR"]
    reasons = {d["symbol"]: d["reason"] for d in plan.dropped}
    assert reasons["GAPY"] == ("long entry 28.67 is 33.7% below the latest price 43.22 "
                               "(more than 5%): the move is gone")
    assert reasons["SHRT"] == ("short entry 10.00 is 25.0% above the latest price 8.00 "
                               "(more than 5%): the move is gone")
    assert not plan.demo
    demo_only = build_plan([stale.model_copy(update={"demo": True})], RISK)
    assert demo_only.ideas == [] and demo_only.demo  # a page listing it still says DEMO


def test_plan_json_carries_the_new_fields_and_stays_version_1() -> None:
    long = sig("META", "breakout", 8.0, entry=700.0, stop=650.0)
    short = sig("META", "exhaustion_reversal", 7.0, entry=700.0, stop=730.0, direction="short")
    document = plan_to_document(build_plan([long, short], RISK, generated_at=long.timestamp),
                                session="2025-11-24")
    jsonschema.validate(document, PLAN_JSON_SCHEMA)
    assert document["schema_version"] == 1
    idea = document["ideas"][0]
    assert idea["conflict"] is True and idea["reward_risk"] == 1.0
    assert idea["conflict_reasons"]
    assert document["min_reward_risk"] == 1.0
