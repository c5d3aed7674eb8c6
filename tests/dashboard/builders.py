"""Deterministic plans and bars for dashboard tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from tradingstation.plan import Plan, RiskSettings, build_plan
from tradingstation.signals import Signal, make_signal_id

T0 = datetime(2025, 11, 24, 15, 0, tzinfo=UTC)
RISK = RiskSettings(equity=100_000, risk_per_trade=0.01, max_position_pct=0.25, max_open_risk=0.06)


def make_signal(symbol: str, screener: str, score: float, entry: float, stop: float,
                reasons: list[str] | None = None, demo: bool = True) -> Signal:
    direction = "long" if stop < entry else "short"
    return Signal(
        id=make_signal_id(screener, symbol, date(2025, 11, 24), direction),
        screener=screener, symbol=symbol, session=date(2025, 11, 24), timestamp=T0,
        direction=direction, status="triggered", score=score, entry=entry, stop=stop,
        targets=[], risk_per_share=abs(entry - stop),
        reasons=reasons or [f"{screener} saw {symbol} at {entry:.2f}"], data_as_of=T0, demo=demo,
    )


def sample_plan(demo: bool = True) -> Plan:
    return build_plan([
        make_signal("NVDA", "breakout", 8.0, 181.0, 174.5, demo=demo),
        make_signal("NVDA", "avwap_reclaim", 7.5, 180.2, 175.0, demo=demo),
        make_signal("AMD", "exhaustion_reversal", 6.5, 140.0, 146.0, demo=demo),
        make_signal("XSS", "orb", 7.0, 20.0, 19.0,
                    reasons=["<script>alert('x')</script> & <b>bold</b>"], demo=demo),
    ], RISK, generated_at=T0)


def sample_bars(n: int = 60, start: float = 100.0, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    open_ = np.r_[start, close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    ts = pd.date_range(T0.date() - timedelta(days=n), periods=n, freq="D", tz="UTC")
    return pd.DataFrame({"timestamp": ts, "open": open_, "high": high, "low": low,
                         "close": close, "volume": rng.integers(1e5, 1e6, n)})


def outcomes(screener: str, score: float, rs: list[float]) -> pd.DataFrame:
    """Closed outcome rows of one screener (one a business day from 2025-06-02), R = ``rs``."""
    days = pd.bdate_range("2025-06-02", periods=len(rs))
    return pd.DataFrame({
        "id": [f"{screener}{i}" for i in range(len(rs))], "screener": screener,
        "symbol": "AAA", "session": [d.date().isoformat() for d in days],
        "timestamp": days.tz_localize("UTC"), "direction": "long", "status": "triggered",
        "score": score, "entry": 10.0, "stop": 9.0, "target": 11.0, "risk_per_share": 1.0,
        "exit_reason": ["target" if r > 0 else "stop" for r in rs], "filled": True,
        "fill_price": 10.0, "exit_price": 10.0, "r_gross": rs, "r": rs, "held_sessions": 2.0,
        "fill_session": [d.date().isoformat() for d in days],
        "exit_session": [d.date().isoformat() for d in days], "demo": True})
