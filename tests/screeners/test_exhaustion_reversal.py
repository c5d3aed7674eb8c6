"""Exhaustion Reversal scenarios: both directions fire; weak spikes and mid-range closes don't."""

from __future__ import annotations

import pytest

from tests.screeners.helpers import at, daily_bars, only, screen_input, with_bar
from tradingstation.data.panel import Panel
from tradingstation.errors import InputError
from tradingstation.indicators import atr, sma
from tradingstation.screeners import get_screener

AVG = 1_000_000


def run_up():
    """60 quiet sessions at 50, then five sessions up to 60."""
    return daily_bars([50.0] * 60 + [52.0, 54.0, 56.0, 58.0, 60.0], volumes=AVG, spread=0.5)


def run_down():
    return daily_bars([50.0] * 60 + [48.0, 46.0, 44.0, 42.0, 40.0], volumes=AVG, spread=0.5)


def shooting_star(bars, close: float = 59.2, volume: float = 3 * AVG):
    return with_bar(bars, open=60.5, high=63.0, low=58.5, close=close, volume=volume)


def hammer(bars, close: float = 40.8, volume: float = 3 * AVG):
    return with_bar(bars, open=39.5, high=41.5, low=37.0, close=close, volume=volume)


def run(bars, **params):
    data = screen_input({"EXHS": bars}, as_of=at("16:30"))
    return get_screener("exhaustion_reversal").screen(data, **params)


def prior_atr(bars) -> float:
    panel = Panel.from_bars({"X": bars})
    return float(atr(panel.high, panel.low, panel.close, 14)["X"].iloc[-2])


def test_up_exhaustion_gives_a_short() -> None:
    bars = shooting_star(run_up())
    sig = only(run(bars), "EXHS")
    assert (sig.direction, sig.status) == ("short", "triggered")
    a = prior_atr(bars)
    assert sig.entry == 59.20
    assert sig.stop == round(63.0 + 0.1 * a, 2)
    panel = Panel.from_bars({"X": bars})
    sma10 = float(sma(panel.close, 10)["X"].iloc[-1])
    sma20 = float(sma(panel.close, 20)["X"].iloc[-1])
    assert sig.targets == [round(sma10, 2), round(sma20, 2)]
    assert sig.metrics["volume_multiple"] == pytest.approx(3.0)
    assert 6.0 <= sig.score <= 10.0
    text = " ".join(sig.reasons)
    assert f"high 63.00 is {sig.metrics['extension_atr']:.1f} ATR from SMA50" in text
    assert "volume 3.0M = 3.0x the 20-day average 1.0M (need 2.0x)" in text
    assert "close 59.20 at 16% of the day's range 58.50-63.00" in text


def test_down_exhaustion_gives_a_long() -> None:
    bars = hammer(run_down())
    sig = only(run(bars), "EXHS")
    assert sig.direction == "long"
    assert sig.entry == 40.80
    assert sig.stop == round(37.0 - 0.1 * prior_atr(bars), 2)
    assert all(t > sig.entry for t in sig.targets)
    assert "down-run extension: low 37.00" in sig.reasons[0]


def test_volume_spike_below_threshold_does_not_fire() -> None:
    bars = shooting_star(run_up(), volume=1.9 * AVG)
    assert run(bars) == []
    assert run(bars, volume_spike_threshold=2.0) == []
    assert len(run(bars, volume_spike_threshold=1.8)) == 1


def test_reversal_candle_closing_mid_range_does_not_fire() -> None:
    bars = shooting_star(run_up(), close=60.75)  # 50% of 58.50-63.00
    assert run(bars) == []
    assert len(run(bars, close_zone=0.5)) == 1


def test_no_extension_no_signal() -> None:
    quiet = daily_bars([50.0] * 65, volumes=AVG, spread=0.5)
    bars = with_bar(quiet, open=50.2, high=51.0, low=49.9, close=50.0, volume=3 * AVG)
    assert run(bars) == []


def test_rsi_streak_counts_as_extension() -> None:
    # Five higher closes with RSI 100, but short of a 20-ATR extension: only the streak rule
    # fires, and it needs no more consecutive closes than there are.
    bars = shooting_star(run_up())
    assert run(bars, extension_atr=20.0, streak_days=6) == []
    sig = run(bars, extension_atr=20.0, streak_days=5)[0]
    assert sig.metrics["extension_atr"] < 20.0
    assert sig.metrics["rsi_prior"] >= 75
    assert "higher closes in a row" in sig.reasons[0]


@pytest.mark.parametrize("value", [0, -1.0])
def test_bad_volume_spike_threshold(value: float) -> None:
    with pytest.raises(InputError, match="volume_spike_threshold"):
        get_screener("exhaustion_reversal").parse_params(volume_spike_threshold=value)
