"""Independent reference: EMA Pullback replayed on real daily history (bokeh-sampledata, the
data set the indicator oracle tests use), every outcome recomputed by a plain per-signal loop."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from bokeh_sampledata import stocks

from tradingstation.data.panel import Panel
from tradingstation.track.outcome import OutcomeRules
from tradingstation.track.replay import run_backtest

SYMBOLS = ("AAPL", "IBM", "MSFT", "GOOG")
RULES = OutcomeRules(time_stop_sessions=10, slippage_bps=5.0, commission_per_share=0.005)


def _bars(symbol: str) -> pd.DataFrame:
    raw = pd.DataFrame(getattr(stocks, symbol))
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime(raw["date"], utc=True),
        **{f: raw[f].astype("float64") for f in ("open", "high", "low", "close")},
        "volume": raw["volume"].astype("int64"),
    })
    return frame.sort_values("timestamp").tail(420).reset_index(drop=True)


@pytest.fixture(scope="module")
def history() -> dict[str, pd.DataFrame]:
    return {s: _bars(s) for s in SYMBOLS}


def reference_outcome(row: pd.Series, bars: pd.DataFrame) -> tuple[str, float]:
    """One triggered daily signal, bar by bar, exactly as the README states the rules."""
    later = bars[bars["timestamp"].dt.date > pd.Timestamp(row["session"]).date()]
    later = later.head(RULES.time_stop_sessions)
    entry, stop, target = row["entry"], row["stop"], row["target"]
    exit_price = None
    for _, bar in later.iterrows():
        if bar["low"] <= stop:
            reason, exit_price = "stop", min(stop, bar["open"])
        elif not math.isnan(target) and bar["high"] >= target:
            reason, exit_price = "target", max(target, bar["open"])
        if exit_price is not None:
            break
    if exit_price is None:
        if len(later) < RULES.time_stop_sessions:
            return "open", math.nan
        reason, exit_price = "time", later["close"].iloc[-1]
    costs = RULES.slippage_bps / 10_000 * (entry + exit_price) + 2 * RULES.commission_per_share
    return reason, (exit_price - entry - costs) / abs(entry - stop)


def test_every_r_matches_a_per_signal_loop(history):
    out = run_backtest(Panel.from_bars(history), names=["ema_pullback"], rules=RULES)
    assert len(out) >= 15 and set(out["screener"]) == {"ema_pullback"}
    assert {"stop", "target", "time"} <= set(out["exit_reason"])
    for _, row in out.iterrows():
        reason, r = reference_outcome(row, history[row["symbol"]])
        assert row["exit_reason"] == reason, row["id"]
        if reason == "open":
            assert math.isnan(row["r"])
        else:
            assert row["r"] == pytest.approx(r, rel=1e-12, abs=1e-12), row["id"]
