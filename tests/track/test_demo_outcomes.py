"""The replay on the demo market: planted setups whose follow-through is planted too, each
outcome checked exactly; and the point-in-time property of the whole backtest."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from tradingstation.calendar import get_calendar, ny_time
from tradingstation.data.panel import Panel
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.providers.demo.plants import PLANTED
from tradingstation.track.outcome import OutcomeRules
from tradingstation.track.replay import run_backtest

SESSION = date(2025, 11, 24)  # the planted daily setups complete on this session's close
NOW = ny_time(SESSION, 17, 0)
RULES = OutcomeRules()  # the documented defaults, costs included
DAILY = [s for k in ("breakout", "ema_pullback", "exhaustion_reversal", "avwap_reclaim")
         for s in PLANTED[k]]


@pytest.fixture(scope="module")
def demo() -> DemoMarket:
    return DemoMarket(seed=42, n_symbols=300, now=NOW)


@pytest.fixture(scope="module")
def history(demo) -> dict[str, pd.DataFrame]:
    names = DAILY + [s for s in demo.listing()["symbol"][:12] if s not in DAILY]
    return {s: demo.daily_bars(s, full=True).tail(150).reset_index(drop=True) for s in names}


def _after(count: int) -> list[date]:
    cal, days, day = get_calendar(), [], SESSION
    for _ in range(count):
        day = cal.next_session(day)
        days.append(day)
    return days


def _bar(day: date, o: float, h: float, lo: float, c: float) -> dict:
    return {"timestamp": pd.Timestamp(day.isoformat(), tz="UTC"), "open": o, "high": h,
            "low": lo, "close": c, "volume": 1_000_000}


def _costs(fill: float, exit_price: float) -> float:
    return RULES.slippage_bps / 1e4 * (fill + exit_price) + 2 * RULES.commission_per_share


def follow_through(kind: str, sig: pd.Series) -> list[dict]:
    """Bars after SESSION for one signal: its planted fate."""
    side = 1 if sig["direction"] == "long" else -1
    entry, stop, target = sig["entry"], sig["stop"], sig["target"]
    mid = entry + side * 0.2 * (target - entry)  # inside the range: touches neither level
    calm = [_bar(d, mid, max(mid, entry) + 0.001, min(mid, entry) - 0.001, mid)
            for d in _after(RULES.time_stop_sessions + 2)]
    first, second = (b["timestamp"].date() for b in calm[:2])
    if kind == "target":
        hi, lo = (target + 0.05, mid) if side > 0 else (mid, target - 0.05)
        calm[1] = _bar(second, mid, hi, lo, mid)
    elif kind == "stop":
        hi, lo = (mid, stop - 0.05) if side > 0 else (stop + 0.05, mid)
        calm[0] = _bar(first, mid, hi, lo, mid)
    elif kind == "both":
        calm[0] = _bar(first, mid, max(target, stop) + 0.05, min(target, stop) - 0.05, mid)
    return calm


FATES = {"breakout": "target", "ema_pullback": "stop", "avwap_reclaim": "both",
         "exhaustion_reversal": "time"}


def test_planted_follow_through_gives_exact_outcomes(history):
    panel = Panel.from_bars(history)
    found = run_backtest(panel, names=list(FATES), sessions=1, rules=RULES, demo=True)
    setups = {s: k for k, names in PLANTED.items() for s in names}
    planted = found[found["symbol"].map(setups) == found["screener"]]
    assert set(planted["screener"]) == set(FATES) and planted["symbol"].is_unique
    later = {}
    for _, sig in planted.iterrows():
        bars = pd.DataFrame(follow_through(FATES[sig["screener"]], sig))
        later[sig["symbol"]] = pd.concat([history[sig["symbol"]], bars], ignore_index=True)
    after = RULES.time_stop_sessions + 2  # the planted sessions: replay SESSION too
    out = run_backtest(Panel.from_bars({**history, **later}), names=list(FATES),
                       sessions=1 + after, rules=RULES, demo=True)
    out = out.set_index("id")
    assert set(planted["id"]) <= set(out.index)
    for sig_id, sig in planted.set_index("id").iterrows():
        got, fate = out.loc[sig_id], FATES[sig["screener"]]
        side = 1 if sig["direction"] == "long" else -1
        risk = abs(sig["entry"] - sig["stop"])
        if fate == "time":
            exit_price = sig["entry"] + side * 0.2 * (sig["target"] - sig["entry"])
            held = RULES.time_stop_sessions
        else:
            exit_price = sig["target"] if fate == "target" else sig["stop"]
            held = 2 if fate == "target" else 1
        reason = "stop" if fate == "both" else fate
        expected = (side * (exit_price - sig["entry"]) - _costs(sig["entry"], exit_price)) / risk
        assert (got["exit_reason"], got["held_sessions"]) == (reason, held), sig["symbol"]
        assert got["r"] == pytest.approx(expected, abs=1e-12), sig["symbol"]


def test_gap_and_go_watch_fills_at_the_open_or_never(demo, history):
    """LEAP opens over its premarket high: filled at that open. GPUP's regular session is
    planted to stay under the entry: never filled."""
    syms = PLANTED["gap_and_go"]
    minutes = {s: demo.intraday_bars(s, "1min", full=True) for s in syms}
    daily = {s: demo.daily_bars(s, full=True) for s in syms}
    open_at = pd.Timestamp(get_calendar().session_times(SESSION).market_open)
    base = run_backtest(Panel.from_bars({**history, **daily}), Panel.from_bars(minutes),
                        names=["gap_and_go"], sessions=1, rules=RULES, demo=True)
    base = base.set_index("symbol")
    assert set(syms) <= set(base.index)
    leap = base.loc["LEAP"]
    first = minutes["LEAP"][minutes["LEAP"]["timestamp"] >= open_at].iloc[0]
    assert leap["status"] == "watch" and first["open"] > leap["entry"]
    assert leap["filled"] and leap["fill_price"] == first["open"]
    assert leap["fill_session"] == SESSION.isoformat()
    gpup = minutes["GPUP"].copy()
    regular = gpup["timestamp"] >= open_at
    cap = base.loc["GPUP", "entry"] - 0.5
    for col in ("open", "high", "low", "close"):
        gpup.loc[regular, col] = np.minimum(gpup.loc[regular, col], cap)
    daily["GPUP"] = daily["GPUP"].copy()
    last = daily["GPUP"].index[-1]
    daily["GPUP"].loc[last, ["open", "high", "low", "close"]] = cap
    out = run_backtest(Panel.from_bars({**history, **daily}),
                       Panel.from_bars({**minutes, "GPUP": gpup}), names=["gap_and_go"],
                       sessions=1, rules=RULES, demo=True).set_index("symbol")
    assert out.loc["GPUP", "exit_reason"] == "not_filled" and not out.loc["GPUP", "filled"]


def _cut(bars: dict[str, pd.DataFrame], last: datetime) -> dict[str, pd.DataFrame]:
    return {s: b[b["timestamp"] <= pd.Timestamp(last)] for s, b in bars.items()}


def test_backtest_is_point_in_time(history):
    """Sessions 1..N and 1..N+k: identical signals and decided outcomes where both cover."""
    days = Panel.from_bars(history).index
    short_end, k = days[-12], 11
    short = run_backtest(Panel.from_bars(_cut(history, short_end)), names=list(FATES),
                         sessions=14, rules=RULES)
    long = run_backtest(Panel.from_bars(history), names=list(FATES), sessions=14 + k,
                        rules=RULES)
    assert short["session"].min() == long["session"].min()
    assert len(short) > 20
    common = long[long["session"] <= short_end.date().isoformat()]
    cols = ["id", "screener", "symbol", "session", "timestamp", "direction", "status", "score",
            "entry", "stop", "target"]
    pd.testing.assert_frame_equal(short[cols].reset_index(drop=True),
                                  common[cols].reset_index(drop=True))
    decided = short[short["exit_reason"] != "open"].set_index("id")
    assert len(decided) > 10 and (short["exit_reason"] == "open").any()
    again = common.set_index("id").loc[decided.index]
    pd.testing.assert_frame_equal(decided, again)
