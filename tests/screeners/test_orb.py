"""Opening Range Breakout scenarios: long and short triggers, watch before the range, filters."""

from __future__ import annotations

import numpy as np
import pytest

from tests.screeners.helpers import (
    SESSION,
    at,
    concat,
    flat_daily,
    minute_bars,
    prior_sessions,
    screen_input,
)
from tradingstation.errors import InputError
from tradingstation.screeners import get_screener

OR_BARS = 15


def opening_range(day, volume: float):
    closes = np.linspace(50.0, 50.5, OR_BARS)
    highs = closes + 0.05
    lows = closes - 0.05
    highs[7] = 50.60  # OR high
    lows[3] = 49.90  # OR low
    return minute_bars(day, "09:30", closes, volume, highs=highs, lows=lows)


def setup(after_closes, after_volumes, *, as_of, or_volume=20_000, daily_spread=1.0, today=True):
    history = [opening_range(d, 10_000) for d in prior_sessions(5)]
    parts = [*history]
    if today:
        parts.append(opening_range(SESSION, or_volume))
        if len(after_closes):
            parts.append(minute_bars(SESSION, "09:45", after_closes, after_volumes))
    daily = flat_daily(30, price=50.0, volume=2_000_000, spread=daily_spread)
    return screen_input({"ORBX": daily}, intraday={"ORBX": concat(*parts)}, as_of=as_of)


def test_long_breakout_fires_with_range_stop() -> None:
    # 09:45-09:50 inside the range, 09:51 closes above 50.60 on 35k = 1.75x the 20k OR minute.
    closes = [50.5] * 6 + [50.80, 50.90]
    volumes = [50_000] * 6 + [35_000, 40_000]
    data = setup(closes, volumes, as_of=at("10:00"))
    sig = get_screener("orb").screen(data)[0]
    assert (sig.direction, sig.status) == ("long", "triggered")
    assert sig.entry == 50.80 and sig.stop == 49.90
    assert sig.risk_per_share == 0.90
    assert sig.targets == [51.70, 52.60, 53.50]
    assert sig.timestamp == at("09:52")  # the 09:51 bar's close
    assert 4.5 <= sig.score <= 6.0  # 3 + rvol 2.0 (2 pts) + 1.75x volume (0.33 pts)
    text = " ".join(sig.reasons)
    assert "09:30-09:45" in text and "high 50.60, low 49.90" in text
    assert "1-min close 50.80 at 09:51 above the range high 50.60 on 35k shares = 1.8x" in text
    assert "opening-range volume 300k = 2.0x" in text
    assert sig.metrics["or_rvol"] == 2.0


def test_close_beyond_range_with_too_little_volume_does_not_fire() -> None:
    closes = [50.5] * 6 + [50.80, 50.90]
    volumes = [50_000] * 6 + [29_000, 29_900]  # < 1.5 x 20k
    data = setup(closes, volumes, as_of=at("10:00"))
    assert get_screener("orb").screen(data) == []
    assert len(get_screener("orb").screen(data, volume_multiple=1.4)) == 1


def test_short_breakdown_fires_with_range_high_stop() -> None:
    data = setup([50.2, 49.70], [10_000, 45_000], as_of=at("09:50"))
    sig = get_screener("orb").screen(data)[0]
    assert (sig.direction, sig.entry, sig.stop) == ("short", 49.70, 50.60)
    assert sig.targets[0] == round(49.70 - 0.90, 2)


def test_atr_stop_variant() -> None:
    data = setup([50.80], [35_000], as_of=at("09:50"))
    sig = get_screener("orb").screen(data, stop_mode="atr", stop_atr=0.1)[0]
    assert sig.stop == round(50.80 - 0.1 * sig.metrics["atr"], 2)


def test_low_or_relative_volume_does_not_fire() -> None:
    data = setup([50.80], [35_000], as_of=at("09:50"), or_volume=9_000)  # rvol 0.9
    assert get_screener("orb").screen(data, volume_multiple=1.0) == []


def test_daily_filters_atr_too_small() -> None:
    data = setup([50.80], [35_000], as_of=at("09:50"), daily_spread=0.2)  # ATR 0.40
    assert get_screener("orb").screen(data) == []


def test_before_the_range_forms_it_is_watch_not_triggered() -> None:
    # 09:40: only 10 minutes of a 15-minute range; a close above everything so far is no trigger.
    data = setup([], [], as_of=at("09:40"))
    signals = get_screener("orb").screen(data, watch_min_gap=0.005)
    assert [s.status for s in signals] == ["watch"]
    sig = signals[0]
    assert sig.direction == "long"  # trading above the prior close
    assert "not complete yet" in sig.reasons[0]
    assert sig.score <= 8.0
    # The id of a watch differs from that of a later trigger of the same setup.
    later = get_screener("orb").screen(setup([50.80], [35_000], as_of=at("09:50")))[0]
    assert later.id != sig.id


def test_premarket_watch_needs_a_move_from_prior_close() -> None:
    pre = minute_bars(SESSION, "08:00", [51.5] * 30, 5_000)
    history = [opening_range(d, 10_000) for d in prior_sessions(5)]
    daily = flat_daily(30, price=50.0, volume=2_000_000)
    data = screen_input({"ORBX": daily}, intraday={"ORBX": concat(*history, pre)},
                        as_of=at("08:30"))
    sig = get_screener("orb").screen(data)[0]  # +3% >= 2%
    assert sig.status == "watch" and sig.entry == 51.56 and sig.stop == 51.45
    assert get_screener("orb").screen(data, watch_min_gap=0.05) == []


@pytest.mark.parametrize("window", [7, 0, -5, 390, 120, 2.5])
def test_bad_or_window_is_an_input_error(window) -> None:
    with pytest.raises(InputError, match="or_window"):
        get_screener("orb").parse_params(or_window=window)


@pytest.mark.parametrize("window", [5, 15, 30, 10, 13])
def test_sensible_or_windows_are_accepted(window: int) -> None:
    assert get_screener("orb").parse_params(or_window=window).or_window == window


def test_five_minute_window_uses_the_first_five_bars() -> None:
    data = setup([50.5], [10_000], as_of=at("09:46"))
    sig = get_screener("orb").screen(data, or_window=5, volume_multiple=1.0)[0]
    closes = np.linspace(50.0, 50.5, OR_BARS)
    assert sig.metrics["or_high"] == pytest.approx(closes[4] + 0.05)
    assert sig.metrics["or_low"] == pytest.approx(49.90)
    assert sig.entry == round(closes[6], 2) and sig.timestamp == at("09:37")
    assert "09:30-09:35" in sig.reasons[0]
