"""AVWAP Reclaim scenarios: the seven-part score, a reclaim on volume fires, one without doesn't."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.screeners.helpers import at, daily_bars, only, prior_sessions, screen_input, with_bar
from tradingstation.errors import InputError
from tradingstation.screeners import get_screener

PEAK = 45  # index of the 52-week high bar


def history():
    """A rise from 80 to 110, a peak bar at 111.6, then a slide to 103."""
    up = list(np.linspace(80, 110, PEAK))
    down = list(np.linspace(111, 103, 15))
    return daily_bars(up + down, volumes=1_000_000, spread=0.6)


def peak_anchor() -> pd.DataFrame:
    day = prior_sessions(60)[PEAK]
    return pd.DataFrame({
        "symbol": ["RECL"], "anchor_type": ["high_52w"], "anchor_date": [day],
        "price": [111.6], "strength": [0.93], "avwap": [np.nan], "bars_since": [14],
    })


def reclaim_day(volume: float):
    return with_bar(history(), open=104.0, high=107.7, low=103.8, close=107.5, volume=volume)


def hand_avwap(bars: pd.DataFrame, start: int) -> float:
    tail = bars.iloc[start:]
    tp = (tail["high"] + tail["low"] + tail["close"]) / 3
    return float((tp * tail["volume"]).sum() / tail["volume"].sum())


def run(bars, anchors=None, **params):
    data = screen_input({"RECL": bars}, as_of=at("16:30"),
                        anchors=peak_anchor() if anchors is None else anchors)
    return get_screener("avwap_reclaim").screen(data, **params)


def test_reclaim_on_volume_fires_with_score_components() -> None:
    bars = reclaim_day(2_000_000)
    sig = only(run(bars), "RECL")
    avwap = hand_avwap(bars, PEAK)
    assert sig.metrics["avwap"] == pytest.approx(avwap, abs=1e-6)
    assert sig.entry == 107.50
    assert sig.stop == round(avwap - 0.25 * sig.metrics["atr"], 2)
    parts = {k.removeprefix("score_"): v for k, v in sig.metrics.items() if k.startswith("score_")}
    # quality 1/2: a strong close, but only 0.22 ATR above the AVWAP (decisive needs 0.25)
    assert parts == {"significance": 2, "quality": 1, "volume": 2, "slope": 0,
                     "not_extended": 1, "confluence": 0, "trend": 1}
    assert sig.score == 7.0
    text = " ".join(sig.reasons)
    assert f"closed 107.50 back above the AVWAP {avwap:.2f} anchored at the high 52w" in text
    assert "volume 2/2: 2.0x the 20-day average" in text
    assert "score 7/10 (need 7)" in text


def test_reclaim_without_volume_drops_below_min_score() -> None:
    bars = reclaim_day(900_000)
    assert run(bars) == []
    sig = only(run(bars, min_score=5), "RECL")
    assert sig.score == 5.0 and sig.metrics["score_volume"] == 0


def test_close_still_below_the_avwap_is_no_reclaim() -> None:
    bars = with_bar(history(), open=103.2, high=105.5, low=103.0, close=105.3, volume=2_000_000)
    assert bars["close"].iloc[-1] < hand_avwap(bars, PEAK)
    assert run(bars, min_score=0) == []


def test_extended_close_loses_a_point() -> None:
    bars = with_bar(history(), open=104.0, high=110.2, low=103.8, close=110.0, volume=2_000_000)
    sig = only(run(bars, min_score=0), "RECL")
    assert sig.metrics["score_not_extended"] == 0


def test_anchors_are_found_when_not_given() -> None:
    bars = reclaim_day(2_000_000)
    data = screen_input({"RECL": bars}, as_of=at("16:30"))
    signals = get_screener("avwap_reclaim").screen(data, min_score=0)
    assert len(signals) == 1 and signals[0].symbol == "RECL"
    assert signals[0].metrics["avwap"] < signals[0].entry


@pytest.mark.parametrize("score", [11, -1, 10.5])
def test_min_score_outside_0_10_is_an_input_error(score: float) -> None:
    with pytest.raises(InputError, match="min_score"):
        get_screener("avwap_reclaim").parse_params(min_score=score)
