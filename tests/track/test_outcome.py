"""The outcome model on hand-built bar sequences: every branch of fill, exit and R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradingstation.data.panel import Panel
from tradingstation.errors import InputError
from tradingstation.track.outcome import (
    NOT_FILLED,
    OPEN,
    STOP,
    TARGET,
    TIME,
    Levels,
    OutcomeRules,
    Paths,
    resolve_outcomes,
)
from tradingstation.track.paths import evaluate_signals

FREE = OutcomeRules(slippage_bps=0.0, commission_per_share=0.0, time_stop_sessions=3)


def one(bars, *, side=1, triggered=True, entry=100.0, stop=95.0, target=110.0,
        complete=None, rules=FREE, sessions=None, target2=None):
    """Resolve one signal over ``bars`` = [(open, high, low, close), ...], a session each."""
    arr = np.array(bars, dtype="float64").reshape(1, -1, 4)
    sess = np.array([sessions if sessions is not None else list(range(arr.shape[1]))])
    paths = Paths(open=arr[..., 0], high=arr[..., 1], low=arr[..., 2], close=arr[..., 3],
                  session=sess, complete=np.array([len(bars) if complete is None else complete]))
    levels = Levels(side=np.array([float(side)]), triggered=np.array([triggered]),
                    entry=np.array([entry]), stop=np.array([stop]), target=np.array([target]),
                    target2=None if target2 is None else np.array([target2]))
    out = resolve_outcomes(paths, levels, rules)
    return {k: v[0] for k, v in out.items()}


def test_triggered_long_reaches_target():
    out = one([(101, 104, 99, 103), (103, 111, 102, 109)])
    assert out["exit_reason"] == TARGET and out["r"] == pytest.approx(2.0)
    assert out["held_sessions"] == 2 and out["exit_bar"] == 1


def test_triggered_long_stopped():
    out = one([(99, 101, 94, 96)])
    assert out["exit_reason"] == STOP and out["r"] == pytest.approx(-1.0)


def test_bar_touching_stop_and_target_counts_the_stop():
    out = one([(100, 112, 94, 105)])
    assert out["exit_reason"] == STOP and out["r"] == pytest.approx(-1.0)


def test_time_stop_exits_at_the_close_of_the_last_session():
    out = one([(100, 104, 98, 101), (101, 105, 99, 102), (102, 106, 97, 103.5), (103, 120, 90, 99)])
    assert out["exit_reason"] == TIME and out["exit_price"] == 103.5
    assert out["r"] == pytest.approx(0.7) and out["held_sessions"] == 3


def test_window_not_over_is_open():
    out = one([(100, 104, 98, 101)], complete=1)
    assert out["exit_reason"] == OPEN and np.isnan(out["r"]) and out["filled"]


def test_gap_through_the_stop_exits_at_the_open():
    out = one([(100, 104, 98, 101), (92, 93, 90, 91)])
    assert out["exit_reason"] == STOP and out["exit_price"] == 92
    assert out["r"] == pytest.approx(-1.6)


def test_gap_over_the_target_exits_at_the_open():
    out = one([(113, 115, 112, 114)])
    assert out["exit_reason"] == TARGET and out["r"] == pytest.approx(2.6)


def test_watch_never_trading_through_entry_is_not_filled():
    out = one([(97, 99.5, 96, 98), (98, 104, 97, 103)], triggered=False,
              rules=OutcomeRules(fill_sessions=1, slippage_bps=0, commission_per_share=0))
    assert out["exit_reason"] == NOT_FILLED and not out["filled"] and np.isnan(out["r"])


def test_watch_fill_window_not_over_is_open():
    out = one([], triggered=False, complete=0)
    assert out["exit_reason"] == OPEN and not out["filled"]


def test_watch_fills_at_entry_and_counts_the_fill_bar():
    out = one([(98, 111, 97, 108)], triggered=False)
    assert out["filled"] and out["fill_price"] == 100
    assert out["exit_reason"] == TARGET and out["r"] == pytest.approx(2.0)


def test_watch_filled_by_a_gap_pays_the_open():
    out = one([(102, 103, 101, 102.5), (102, 103, 94, 95)], triggered=False)
    assert out["fill_price"] == 102 and out["exit_reason"] == STOP
    assert out["r"] == pytest.approx(-1.4)


def test_watch_fill_on_a_later_session_starts_the_holding_window_there():
    rules = OutcomeRules(fill_sessions=2, time_stop_sessions=2, slippage_bps=0,
                         commission_per_share=0)
    out = one([(97, 99, 96, 98), (99, 101, 98, 100.5), (100, 104, 99, 103), (103, 130, 80, 90)],
              triggered=False, rules=rules)
    assert out["fill_bar"] == 1 and out["exit_reason"] == TIME and out["exit_price"] == 103
    assert out["held_sessions"] == 2


def test_short_mirrors_long():
    out = one([(99, 100, 89, 90)], side=-1, entry=100, stop=105, target=90)
    assert out["exit_reason"] == TARGET and out["r"] == pytest.approx(2.0)
    out = one([(101, 106, 99, 104)], side=-1, entry=100, stop=105, target=90)
    assert out["exit_reason"] == STOP and out["r"] == pytest.approx(-1.0)


def test_no_target_exits_only_by_stop_or_time():
    out = one([(100, 150, 99, 140), (140, 150, 130, 145), (145, 146, 141, 142)], target=np.nan)
    assert out["exit_reason"] == TIME and out["r"] == pytest.approx(8.4)


def test_costs_are_slippage_on_both_fills_and_commission_on_both_sides():
    rules = OutcomeRules(slippage_bps=10.0, commission_per_share=0.01, time_stop_sessions=3)
    out = one([(103, 111, 102, 109)], rules=rules)
    costs = 0.001 * (100 + 110) + 0.02
    assert out["r_gross"] == pytest.approx(2.0)
    assert out["r"] == pytest.approx((10 - costs) / 5)


HALF = OutcomeRules(slippage_bps=0.0, commission_per_share=0.0, time_stop_sessions=3,
                    scale_out=0.5)


def test_scale_out_rest_reaches_the_second_target():
    out = one([(101, 111, 99, 109), (109, 121, 108, 119)], rules=HALF, target2=120.0)
    assert out["exit_reason"] == TARGET and out["exit_price"] == 120.0
    assert out["r"] == pytest.approx(0.5 * 2 + 0.5 * 4) and out["held_sessions"] == 2


def test_scale_out_rest_stopped_at_break_even_on_a_later_bar_only():
    # the first-target bar also dips to the fill price: the rest starts on the next bar
    out = one([(101, 111, 99.5, 109), (109, 110, 99, 100)], rules=HALF, target2=120.0)
    assert out["r"] == pytest.approx(0.5 * 2 + 0.5 * 0) and out["exit_price"] == 100.0


def test_scale_out_rest_time_stopped_or_still_open():
    bars = [(101, 111, 99.5, 109), (109, 112, 105, 111), (111, 113, 106, 112)]
    out = one(bars, rules=HALF, target2=120.0)
    assert out["exit_reason"] == TARGET and out["r"] == pytest.approx(0.5 * 2 + 0.5 * 2.4)
    early = one(bars[:2], rules=HALF, target2=120.0, complete=2)
    assert early["exit_reason"] == OPEN and np.isnan(early["r"])


def test_scale_out_off_and_a_stop_first_are_unchanged():
    out = one([(101, 111, 99, 109), (109, 121, 108, 119)], target2=120.0)
    assert out["r"] == pytest.approx(2.0)
    out = one([(99, 101, 94, 96)], rules=HALF, target2=120.0)
    assert out["exit_reason"] == STOP and out["r"] == pytest.approx(-1.0)


def test_rules_refuse_out_of_range_values():
    for bad in ({"scale_out": 1.0}, {"time_stop_sessions": 0}, {"slippage_bps": -1},
                {"fill_sessions": 2.5}):
        with pytest.raises(InputError):
            OutcomeRules(**bad)


# --- through stored bars: daily paths and the entry day on 1-min bars

def _daily(rows: dict[str, tuple]) -> Panel:
    bars = pd.DataFrame(
        [(pd.Timestamp(d, tz="UTC"), *v, 1000) for d, v in rows.items()],
        columns=["timestamp", "open", "high", "low", "close", "volume"],
    )
    return Panel.from_bars({"AAA": bars})


def _signal(**kw) -> pd.DataFrame:
    row = dict(id="x", screener="breakout", symbol="AAA", session="2025-11-03",
               timestamp=pd.Timestamp("2025-11-03T21:00Z"), direction="long",
               status="triggered", score=8.0, entry=100.0, stop=95.0, target=110.0,
               risk_per_share=5.0)
    row.update(kw)
    return pd.DataFrame([row])


DAYS = {"2025-11-03": (99, 101, 97, 100), "2025-11-04": (100, 103, 96, 102),
        "2025-11-05": (102, 112, 101, 111)}


def test_a_signal_after_the_close_starts_on_the_next_session():
    out = evaluate_signals(_signal(), _daily(DAYS), rules=FREE).iloc[0]
    assert out["exit_reason"] == TARGET and out["exit_session"] == "2025-11-05"
    assert out["fill_session"] == "2025-11-04" and out["r"] == pytest.approx(2.0)


def test_a_premarket_signal_uses_its_own_session():
    frame = _signal(timestamp=pd.Timestamp("2025-11-04T13:00Z"), session="2025-11-04",
                    status="watch", entry=103.5, stop=98.5, target=108.5)
    out = evaluate_signals(frame, _daily(DAYS), rules=FREE).iloc[0]
    assert out["exit_reason"] == NOT_FILLED  # 11-05 would fill it: outside the fill window
    frame["entry"], frame["stop"], frame["target"] = 101.0, 96.5, 110.0
    out = evaluate_signals(frame, _daily(DAYS), rules=FREE).iloc[0]
    assert out["fill_session"] == "2025-11-04" and out["exit_reason"] == STOP


def test_entry_day_minutes_decide_what_the_daily_bar_cannot():
    # The daily bar of 11-04 touches stop and target; the minutes show the target came first.
    days = {"2025-11-03": (99, 101, 97, 100), "2025-11-04": (100, 111, 94, 96)}
    start = pd.Timestamp("2025-11-04T14:30Z")
    minutes = pd.DataFrame({
        "timestamp": [start, start + pd.Timedelta(minutes=1), start + pd.Timedelta(minutes=2)],
        "open": [100.0, 104, 111], "high": [104.0, 111, 111], "low": [99.0, 103, 94],
        "close": [104.0, 110.5, 96], "volume": [10, 10, 10]})
    frame = _signal(timestamp=pd.Timestamp("2025-11-04T13:00Z"), session="2025-11-04",
                    status="watch", entry=101.0, stop=96.0, target=106.0)
    daily_only = evaluate_signals(frame, _daily(days), rules=FREE).iloc[0]
    assert daily_only["exit_reason"] == STOP
    out = evaluate_signals(frame, _daily(days), Panel.from_bars({"AAA": minutes}),
                           rules=FREE).iloc[0]
    assert out["exit_reason"] == TARGET and out["r"] == pytest.approx(1.0)
    assert out["fill_session"] == out["exit_session"] == "2025-11-04"


def test_a_symbol_without_bars_stays_open():
    out = evaluate_signals(_signal(symbol="ZZZ"), _daily(DAYS), rules=FREE).iloc[0]
    assert out["exit_reason"] == OPEN
