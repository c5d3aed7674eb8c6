"""Gap & Go scenarios: a premarket gapper fires with the textbook levels; near-misses do not."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
from tradingstation.screeners import get_screener

PM_BARS = 45  # 08:00 .. 08:44 New York


def premarket(day, price: float, volume_per_bar: float):
    closes = np.full(PM_BARS, price)
    highs = closes + 0.10
    lows = closes - 0.10
    highs[20] = price + 0.30  # the premarket high
    lows[30] = price - 0.40  # the premarket low
    return minute_bars(day, "08:00", closes, volume_per_bar, highs=highs, lows=lows)


def setup(price: float = 106.20, per_bar: float = 10_000, usual: float = 3_000, **kw):
    history = [premarket(d, 100.0, usual) for d in prior_sessions(5)]
    today = premarket(SESSION, price, per_bar)
    extra = kw.pop("extra", None)
    bars = concat(*history, today, *([extra] if extra is not None else []))
    return screen_input(
        {"GAPR": flat_daily(price=100.0)}, intraday={"GAPR": bars}, **kw
    ), today


def premarket_vwap(today: pd.DataFrame) -> float:
    tp = (today["high"] + today["low"] + today["close"]) / 3
    return float((tp * today["volume"]).sum() / today["volume"].sum())


def test_gapper_fires_with_premarket_levels_and_numbers() -> None:
    data, today = setup(as_of=at("08:45"))
    sig = get_screener("gap_and_go").screen(data)[0]
    assert sig.symbol == "GAPR" and sig.direction == "long" and sig.status == "watch"
    assert sig.entry == 106.51  # premarket high 106.50 + 0.01
    vwap = premarket_vwap(today)
    assert vwap > 105.80  # so the VWAP, not the low, is the tighter stop
    assert sig.stop == round(vwap, 2)
    assert sig.risk_per_share == round(sig.entry - sig.stop, 2)
    r = sig.risk_per_share
    assert sig.targets == [round(sig.entry + k * r, 2) for k in (1, 2, 3)]
    assert 6.0 <= sig.score <= 8.5
    text = " ".join(sig.reasons)
    assert "gap +6.2% vs prior close 100.00" in text
    assert "premarket volume 450k = 3.3x usual by 08:45" in text
    assert sig.metrics["premarket_volume"] == 450_000
    assert sig.data_as_of == at("08:44")


def test_gap_of_3_9_percent_does_not_fire_at_4_percent() -> None:
    data, _ = setup(price=103.90, as_of=at("08:45"))
    assert get_screener("gap_and_go").screen(data) == []
    assert len(get_screener("gap_and_go").screen(data, min_gap=0.039)) == 1


def test_premarket_volume_99k_does_not_fire_but_100k_does() -> None:
    data, _ = setup(per_bar=2_200, usual=500, as_of=at("08:45"))  # 45 x 2,200 = 99,000
    assert get_screener("gap_and_go").screen(data) == []
    data, _ = setup(per_bar=2_223, usual=500, as_of=at("08:45"))  # 100,035
    assert len(get_screener("gap_and_go").screen(data)) == 1


def test_low_relative_volume_does_not_fire() -> None:
    data, _ = setup(per_bar=10_000, usual=6_000, as_of=at("08:45"))  # 1.7x < 2x
    assert get_screener("gap_and_go").screen(data) == []


def test_price_band_filters() -> None:
    data, _ = setup(as_of=at("08:45"))
    assert get_screener("gap_and_go").screen(data, max_price=100.0, min_price=1.0) == []


def test_quote_price_is_used_before_the_open() -> None:
    quotes = pd.DataFrame({"symbol": ["GAPR"], "timestamp": [pd.Timestamp(at("08:44"))],
                           "price": [103.0], "volume": [500_000]})
    data, _ = setup(as_of=at("08:45"), quotes=quotes)
    assert get_screener("gap_and_go").screen(data) == []  # the quote says +3%


def test_bars_after_as_of_are_not_seen() -> None:
    data, _ = setup(as_of=at("08:30"))
    sig = get_screener("gap_and_go").screen(data)[0]
    assert sig.data_as_of == at("08:29")
    assert "by 08:30" in sig.reasons[0]


def test_after_the_open_it_triggers_when_entry_trades() -> None:
    opening = minute_bars(SESSION, "09:30", [106.3, 106.4, 106.7], 50_000,
                          highs=[106.4, 106.45, 106.8])
    data, _ = setup(as_of=at("09:33"), extra=opening)
    sig = get_screener("gap_and_go").screen(data)[0]
    assert sig.status == "triggered"
    assert "09:32" in sig.reasons[-1]
    assert sig.entry == 106.51


def test_after_the_open_a_stop_hit_before_entry_drops_the_setup() -> None:
    opening = minute_bars(SESSION, "09:30", [106.0, 105.0], 50_000)
    data, _ = setup(as_of=at("09:32"), extra=opening)
    assert get_screener("gap_and_go").screen(data) == []


@pytest.mark.parametrize("bad", [{"min_gap": -0.01}, {"min_premarket_volume": -1},
                                 {"min_price": 10, "max_price": 5}, {"rvol_sessions": 0}])
def test_bad_params_are_one_line_input_errors(bad: dict) -> None:
    from tradingstation.errors import InputError

    with pytest.raises(InputError) as err:
        get_screener("gap_and_go").parse_params(**bad)
    assert "\n" not in str(err.value) and "gap_and_go" in str(err.value)
