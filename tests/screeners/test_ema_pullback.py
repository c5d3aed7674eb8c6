"""EMA Pullback scenarios: a dip to the rising EMA fires; downtrends and deep closes do not."""

from __future__ import annotations

import numpy as np
import pytest

from tests.screeners.helpers import at, daily_bars, only, screen_input, with_bar
from tradingstation.data.panel import Panel
from tradingstation.errors import InputError
from tradingstation.indicators import atr, ema
from tradingstation.screeners import get_screener

ALPHA = 2 / 22


def uptrend(n: int = 80, start: float = 50.0, step: float = 0.5, dip: int = 3):
    """A steady uptrend followed by ``dip`` down days of 1.5 each."""
    closes = list(start + step * np.arange(n))
    for _ in range(dip):
        closes.append(closes[-1] - 1.5)
    return daily_bars(closes, spread=0.4)


def downtrend(n: int = 80):
    closes = list(90.0 - 0.5 * np.arange(n))
    closes += [closes[-1] + 0.3]
    return daily_bars(closes, spread=0.4)


def levels(bars):
    """EMA21 and ATR14 as of the last bar of ``bars``."""
    panel = Panel.from_bars({"X": bars})
    e = ema(panel.close, 21)["X"].iloc[-1]
    a = atr(panel.high, panel.low, panel.close, 14)["X"].iloc[-1]
    return float(e), float(a)


def bounce_bar(bars, close_vs_ema_prev: float):
    """Today's bar: low well under the EMA, green, closing ``close_vs_ema_prev`` from the
    prior EMA (in dollars), near its high."""
    e_prev, _ = levels(bars)
    close = e_prev + close_vs_ema_prev
    low = min(e_prev - 1.0, close - 0.8)
    return with_bar(bars, open=close - 0.6, high=close + 0.1, low=low, close=close,
                    volume=1_000_000)


def run(bars, **params):
    data = screen_input({"PULL": bars}, as_of=at("16:30"))
    return get_screener("ema_pullback").screen(data, **params)


def test_pullback_to_rising_ema_fires() -> None:
    base = uptrend()
    bars = bounce_bar(base, 0.3)
    sig = only(run(bars), "PULL")
    e_now, a_now = levels(bars)
    assert bars["low"].iloc[-1] <= e_now <= bars["close"].iloc[-1]
    assert sig.entry == round(float(bars["close"].iloc[-1]), 2)
    assert sig.stop == round(float(bars["low"].iloc[-3:].min()), 2)  # pullback low
    swing = float(base["high"].iloc[-20:].max())
    two_r = sig.entry + 2 * sig.risk_per_share
    assert sig.targets == sorted([round(swing, 2), round(two_r, 2)])
    assert sig.metrics["ema"] == pytest.approx(e_now)
    assert 6.0 <= sig.score <= 10.0
    text = " ".join(sig.reasons)
    assert f"touched EMA21 {e_now:.2f}" in text and f"ATR {a_now:.2f}" in text
    assert "green candle closing at" in text


def test_pullback_in_a_downtrend_does_not_fire() -> None:
    bars = downtrend()
    e_prev, _ = levels(bars)
    bars = with_bar(bars, open=e_prev - 0.5, high=e_prev + 0.3, low=e_prev - 0.6,
                    close=e_prev + 0.2, volume=1_000_000)
    e_now, _ = levels(bars)
    assert bars["low"].iloc[-1] <= e_now  # it touches, is green, yet the trend is down
    assert run(bars) == []


def test_close_too_far_below_the_ema_does_not_fire() -> None:
    base = uptrend()
    _, a_prev = levels(base)
    bars = bounce_bar(base, -1.0 * a_prev)
    e_now, a_now = levels(bars)
    assert bars["close"].iloc[-1] < e_now - 0.5 * a_now  # precondition: beyond the floor
    assert run(bars) == []
    assert len(run(bars, max_below_atr=2.0)) == 1


def test_no_touch_no_signal() -> None:
    base = uptrend(dip=0)
    last = float(base["close"].iloc[-1])
    bars = with_bar(base, open=last, high=last + 0.8, low=last - 0.1, close=last + 0.6,
                    volume=1_000_000)
    e_now, _ = levels(bars)
    assert bars["low"].iloc[-1] > e_now
    assert run(bars) == []


def test_bearish_bar_is_no_bounce() -> None:
    base = uptrend()
    e_prev, _ = levels(base)
    prior_close = float(base["close"].iloc[-1])
    close = min(e_prev, prior_close) - 0.1
    bars = with_bar(base, open=close + 0.5, high=close + 0.6, low=e_prev - 1.0, close=close,
                    volume=1_000_000)
    assert run(bars, max_below_atr=2.0) == []


@pytest.mark.parametrize("period", [0, -21, 1])
def test_bad_ema_period(period: int) -> None:
    with pytest.raises(InputError, match="ema_period"):
        get_screener("ema_pullback").parse_params(ema_period=period)


def test_ema_period_parameter_changes_the_ema() -> None:
    bars = bounce_bar(uptrend(), 0.3)
    panel = Panel.from_bars({"X": bars})
    ema10 = ema(panel.close, 10)["X"]
    assert ema10.iloc[-1] < ema10.iloc[-6]  # the faster EMA already turned down in the dip
    assert len(run(bars)) == 1
    assert run(bars, ema_period=10, max_below_atr=5.0) == []
