"""Trade plan: merging across screeners, confluence ranking, sizing, caps, invalid stops."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tradingstation.errors import InputError
from tradingstation.plan import RiskSettings, build_plan, merge_signals, size_position
from tradingstation.signals import Signal, make_signal_id

T0 = datetime(2025, 11, 24, 14, 0, tzinfo=UTC)
RISK = RiskSettings(equity=100_000, risk_per_trade=0.01, max_position_pct=0.25, max_open_risk=0.06)


def sig(symbol: str, screener: str, score: float, entry: float = 50.0, stop: float = 48.0,
        direction: str = "long", status: str = "triggered", minutes: int = 0) -> Signal:
    return Signal(
        id=make_signal_id(screener, symbol, date(2025, 11, 24), f"{direction}{minutes}"),
        screener=screener, symbol=symbol, session=date(2025, 11, 24),
        timestamp=T0 + timedelta(minutes=minutes), direction=direction, status=status,
        score=score, entry=entry, stop=stop, targets=[], risk_per_share=abs(entry - stop),
        reasons=[f"{screener} reason for {symbol}"], data_as_of=T0,
    )


def test_same_symbol_and_direction_merge_across_screeners() -> None:
    groups = merge_signals([
        sig("NVDA", "breakout", 7), sig("NVDA", "avwap_reclaim", 8),
        sig("NVDA", "exhaustion_reversal", 6, entry=50, stop=52, direction="short"),
    ])
    by_direction = {g[0].direction: g for g in groups}
    assert [s.screener for s in by_direction["long"]] == ["avwap_reclaim", "breakout"]
    assert [s.screener for s in by_direction["short"]] == ["exhaustion_reversal"]


def test_rerun_of_one_screener_is_not_confluence() -> None:
    groups = merge_signals([sig("NVDA", "breakout", 7), sig("NVDA", "breakout", 6, minutes=5)])
    assert len(groups) == 1 and len(groups[0]) == 1
    assert groups[0][0].score == 6  # the newest run wins


def test_confluence_raises_rank_and_lists_every_reason() -> None:
    plan = build_plan([
        sig("AAA", "breakout", 8.0),
        sig("BBB", "breakout", 7.0), sig("BBB", "ema_pullback", 6.0),
    ], RISK)
    assert [i.symbol for i in plan.ideas] == ["BBB", "AAA"]  # 7 + 1.5 > 8
    bbb = plan.ideas[0]
    assert bbb.rank == 1 and bbb.confluence == 2 and bbb.rank_score == 8.5
    assert bbb.screeners == ["breakout", "ema_pullback"]
    assert bbb.reasons == ["breakout: breakout reason for BBB",
                           "ema_pullback: ema_pullback reason for BBB"]


def test_triggered_beats_watch_on_equal_score() -> None:
    plan = build_plan([sig("AAA", "orb", 7, status="watch"), sig("ZZZ", "orb", 7)], RISK)
    assert [(i.symbol, i.status) for i in plan.ideas] == [("ZZZ", "triggered"), ("AAA", "watch")]


def test_optional_ranking_by_expectancy_times_score() -> None:
    signals = [sig("AAA", "breakout", 9), sig("BBB", "ema_pullback", 7),
               sig("CCC", "orb", 8), sig("DDD", "avwap_reclaim", 6)]
    figures = {"breakout": -0.2, "ema_pullback": 0.5, "orb": None, "avwap_reclaim": 0.1}
    plan = build_plan(signals, RISK, expectancy=lambda s: figures[s.screener])
    # 0.5 x 7 = 3.5, 0.1 x 6 = 0.6, -0.2 x 9 = -1.8, then the one without history
    assert [i.symbol for i in plan.ideas] == ["BBB", "DDD", "AAA", "CCC"]
    assert [i.rank_score for i in plan.ideas] == [7, 6, 9, 8]
    assert [i.symbol for i in build_plan(signals, RISK).ideas] == ["AAA", "CCC", "BBB", "DDD"]


def test_sizing_rounds_down() -> None:
    # 1,000 dollars at risk / 3 per share = 333.33 -> 333 shares
    shares, note = size_position(entry=30.0, risk_per_share=3.0, risk=RISK)
    assert shares == 333 and "1.0% of equity" in note


def test_sizing_is_capped_by_position_value() -> None:
    # risk says 10,000 shares (0.10 R) but 25 % of 100k at 50 = 500 shares
    shares, note = size_position(entry=50.0, risk_per_share=0.10, risk=RISK)
    assert shares == 500 and "capped at 25%" in note


@pytest.mark.parametrize("risk_per_share", [0.0, -1.0, float("nan")])
def test_zero_or_negative_risk_is_rejected(risk_per_share: float) -> None:
    with pytest.raises(InputError):
        size_position(entry=50.0, risk_per_share=risk_per_share, risk=RISK)


def test_open_risk_cap_limits_later_ideas() -> None:
    # 1,000 per idea, cap 2,500 -> third idea gets 500 of risk, fourth gets nothing
    signals = [sig(s, "breakout", 9 - n, entry=50, stop=48) for n, s in enumerate("ABCD")]
    plan = build_plan(signals, RISK.__class__(100_000, 0.01, 0.25, 0.025))
    assert [i.shares for i in plan.ideas] == [500, 500, 250, 0]
    assert [i.risk_dollars for i in plan.ideas] == [1000, 1000, 500, 0]
    assert plan.open_risk == 2500
    assert "open-risk cap" in plan.ideas[3].sizing_note


def test_invalid_stops_are_dropped_with_reason() -> None:
    good = sig("GOOD", "breakout", 7).model_dump(mode="json")
    wrong_side = {**good, "symbol": "BAD", "stop": 55.0}
    short_wrong = {**good, "symbol": "SHRT", "direction": "short", "stop": 45.0}
    garbage = {"symbol": "JUNK", "screener": "orb"}
    plan = build_plan([good, wrong_side, short_wrong, garbage], RISK)
    assert [i.symbol for i in plan.ideas] == ["GOOD"]
    reasons = {d["symbol"]: d["reason"] for d in plan.dropped}
    assert set(reasons) == {"BAD", "SHRT", "JUNK"}
    assert "stop < entry" in reasons["BAD"] and "stop > entry" in reasons["SHRT"]


def test_default_targets_are_1r_2r_3r_and_invalidation_names_stop() -> None:
    long_idea = build_plan([sig("AAA", "orb", 7, entry=50, stop=48)], RISK).ideas[0]
    assert long_idea.targets == [52.0, 54.0, 56.0]
    assert "below 48.00" in long_idea.invalidation
    short = build_plan([sig("AAA", "orb", 7, entry=50, stop=51, direction="short")], RISK)
    assert short.ideas[0].targets == [49.0, 48.0, 47.0]
    assert "above 51.00" in short.ideas[0].invalidation


@pytest.mark.parametrize("field", ["equity", "risk_per_trade", "max_position_pct", "max_open_risk"])
def test_risk_settings_validate(field: str) -> None:
    values = {"equity": 1e5, "risk_per_trade": 0.01, "max_position_pct": 0.2, "max_open_risk": 0.06}
    values[field] = -1
    with pytest.raises(InputError, match=field):
        RiskSettings(**values)
