"""Breakout scenarios: a tight base broken on volume fires; short bases and thin volume do not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.screeners.helpers import (
    SESSION,
    at,
    daily_bars,
    minute_bars,
    only,
    screen_input,
    with_bar,
)
from tradingstation.errors import InputError
from tradingstation.screeners import get_screener

AVG_VOLUME = 1_000_000


def based(base_days: int, *, base_low: float = 48.0):
    """60 quiet sessions near 40, then a base of ``base_days`` sessions between
    ``base_low`` and 51 (highs alternate up to 51)."""
    pre = [40.0] * 60
    base = [49.5 + 0.5 * (i % 2) for i in range(base_days)]
    bars = daily_bars(pre + base, volumes=AVG_VOLUME, spread=0.5)
    n = len(bars)
    bars.loc[n - base_days:, "high"] = np.where(np.arange(base_days) % 2, 51.0, 50.2)
    bars.loc[n - base_days:, "low"] = np.where(np.arange(base_days) % 3 == 0, base_low, 48.9)
    # The jump from 40 into the base is one bar: its open is far below the base.
    bars.loc[n - base_days, "open"] = 49.0
    return bars


def breakout_day(bars, volume: float = 2_000_000, low: float = 50.8):
    return with_bar(bars, open=51.0, high=52.3, low=low, close=52.0, volume=volume)


def run(bars, **params):
    data = screen_input({"BRKO": bars}, as_of=at("16:30"))
    return get_screener("breakout").screen(data, **params)


def test_base_breakout_fires_with_expected_levels() -> None:
    sig = only(run(breakout_day(based(12))), "BRKO")
    assert (sig.direction, sig.status) == ("long", "triggered")
    assert sig.entry == 52.00
    assert sig.stop == 50.80  # max(breakout-day low 50.80, base low 48.00)
    assert sig.targets == [53.20, 54.40, 55.60]
    assert sig.metrics["base_days"] == 12
    assert sig.metrics["base_high"] == 51.0
    assert sig.metrics["volume_multiple"] == pytest.approx(2.0)
    assert 4.0 <= sig.score <= 8.0
    text = " ".join(sig.reasons)
    assert "above the 12-session base high 51.00 (+2.0%)" in text
    assert "base depth 5.9% (max 15%)" in text
    assert "volume 2.0M = 2.0x the 50-day average 1.0M (need 1.5x)" in text
    assert sig.data_as_of.date() == SESSION


def test_four_day_base_does_not_fire_at_five_days() -> None:
    bars = breakout_day(based(4))
    assert run(bars) == []
    assert run(bars, min_consolidation_days=5) == []
    assert len(run(bars, min_consolidation_days=4)) == 1
    assert len(run(breakout_day(based(5)))) == 1


def test_breakout_volume_1_4x_does_not_fire() -> None:
    assert run(breakout_day(based(12), volume=1_400_000)) == []
    assert len(run(breakout_day(based(12), volume=1_500_000))) == 1


def test_close_inside_the_base_does_not_fire() -> None:
    bars = with_bar(based(12), open=50.0, high=51.2, low=49.8, close=50.9, volume=3_000_000)
    assert run(bars) == []


def test_loose_last_days_do_not_fire() -> None:
    bars = based(12, base_low=45.0)  # depth 11.8% is a base, but the last 5 days range 11.8%
    assert run(breakout_day(bars)) == []
    assert len(run(breakout_day(bars), max_tight_range=0.12)) == 1


def test_risk_is_capped_at_8_percent() -> None:
    bars = based(12, base_low=45.0)
    sig = run(breakout_day(bars, low=45.5), max_tight_range=0.12)[0]
    assert sig.stop == round(52.0 * 0.92, 2)
    assert "capped at 8% below entry" in sig.reasons[-1]


def test_volume_pace_from_intraday_bars_mid_session() -> None:
    # No daily bar for today: the session so far comes from 1-min bars. At 12:45 half of the
    # 390-minute session has passed, so 800k traded is a pace of 1.6M = 1.6x.
    closes = np.r_[np.full(194, 50.9), 52.0]
    today = minute_bars(SESSION, "09:30", closes, 800_000 / 195)
    data = screen_input({"BRKO": based(12)}, intraday={"BRKO": today}, as_of=at("12:45"))
    sig = only(get_screener("breakout").screen(data), "BRKO")
    assert sig.entry == 52.00
    assert sig.metrics["volume_pace"] == pytest.approx(1_600_000, rel=1e-3)
    assert "at 50% of the session" in sig.reasons[2]
    assert sig.data_as_of == at("12:44")
    thin = minute_bars(SESSION, "09:30", closes, 700_000 / 195)
    data = screen_input({"BRKO": based(12)}, intraday={"BRKO": thin}, as_of=at("12:45"))
    assert get_screener("breakout").screen(data) == []


def session_quote(symbol: str, when: str, *, price: float, high: float, low: float,
                  volume: float) -> pd.DataFrame:
    return pd.DataFrame({"symbol": [symbol], "timestamp": [at(when)], "price": [price],
                         "high": [high], "low": [low], "volume": [volume]})


def test_breakout_found_from_a_session_quote_without_minute_bars() -> None:
    # A market cycle fetches 1-min bars only for ORB/AVWAP candidates: BRKO has none today,
    # so its developing bar comes from its session quote (running high/low, price, volume).
    quote = session_quote("BRKO", "12:44", price=52.0, high=52.3, low=50.8, volume=800_000)
    data = screen_input({"BRKO": based(12)}, session_quotes=quote, as_of=at("12:45"))
    sig = only(get_screener("breakout").screen(data), "BRKO")
    assert (sig.entry, sig.stop) == (52.00, 50.80)
    assert sig.metrics["volume_pace"] == pytest.approx(1_600_000, rel=1e-3)
    assert sig.data_as_of == at("12:44")
    thin = session_quote("BRKO", "12:44", price=52.0, high=52.3, low=50.8, volume=700_000)
    data = screen_input({"BRKO": based(12)}, session_quotes=thin, as_of=at("12:45"))
    assert get_screener("breakout").screen(data) == []
    later = screen_input({"BRKO": based(12)}, session_quotes=quote, as_of=at("12:43"))
    assert get_screener("breakout").screen(later) == []  # the quote did not exist yet


def test_premarket_quotes_never_build_the_developing_bar() -> None:
    # ORB and Gap & Go read the premarket quotes (ScreenInput.quotes); today's bar comes only
    # from 1-min bars or the session quotes, whatever columns a premarket quote carries.
    quote = session_quote("BRKO", "12:44", price=52.0, high=52.3, low=50.8, volume=800_000)
    data = screen_input({"BRKO": based(12)}, quotes=quote, as_of=at("12:45"))
    assert get_screener("breakout").screen(data) == []


def test_minute_bars_win_over_the_session_quote() -> None:
    closes = np.r_[np.full(194, 50.9), 52.0]
    today = minute_bars(SESSION, "09:30", closes, 800_000 / 195)
    quote = session_quote("BRKO", "12:44", price=50.0, high=50.5, low=49.0, volume=10)
    data = screen_input({"BRKO": based(12)}, intraday={"BRKO": today}, session_quotes=quote,
                        as_of=at("12:45"))
    assert only(get_screener("breakout").screen(data), "BRKO").entry == 52.00


def test_only_hits_become_signals_across_a_universe() -> None:
    quiet = breakout_day(based(12), volume=900_000)
    data = screen_input({"BRKO": breakout_day(based(12)), "QUIET": quiet}, as_of=at("16:30"))
    assert [s.symbol for s in get_screener("breakout").screen(data)] == ["BRKO"]


@pytest.mark.parametrize("days", [-1, 0])
def test_bad_min_consolidation_days(days: int) -> None:
    with pytest.raises(InputError, match="min_consolidation_days"):
        get_screener("breakout").parse_params(min_consolidation_days=days)
