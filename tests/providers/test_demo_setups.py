"""The demo market's planted setups make every screener fire, and its near-misses do not."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import pytest

from tradingstation.calendar import ny_time
from tradingstation.data.panel import Panel
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.providers.demo.plants import PLANTED
from tradingstation.screeners import DAILY_SCREENERS, get_screener
from tradingstation.screeners.base import ScreenInput
from tradingstation.signals import Signal

N_PLANTED = sum(len(v) for v in PLANTED.values())
# (seed, session): a regular week day and the Monday after a weekend.
CASES = [(42, date(2025, 12, 3)), (5, date(2026, 3, 9))]


@lru_cache(maxsize=8)
def screen_input(seed: int, session: date, now: datetime) -> ScreenInput:
    market = DemoMarket(seed=seed, n_symbols=N_PLANTED + 10, now=now)
    symbols = market.listing()["symbol"].tolist()
    return ScreenInput(
        session=session,
        as_of=now,
        daily=Panel.from_bars({s: market.daily_bars(s, full=True) for s in symbols}),
        intraday_1min=Panel.from_bars({s: market.intraday_bars(s, "1min", full=True)
                                       for s in symbols}),
        quotes=market.quotes(symbols),
        demo=True,
    )


def fired(name: str, data: ScreenInput) -> dict[str, Signal]:
    return {s.symbol: s for s in get_screener(name).screen(data)}


def assert_planted(name: str, hits: dict[str, Signal], status: str) -> None:
    for sym in PLANTED[name]:
        assert sym in hits, f"{name} missed planted {sym}"
        assert hits[sym].status == status and hits[sym].demo
    for sym in PLANTED[f"{name}_near_miss"]:
        assert sym not in hits, f"{name} fired on near-miss {sym}"


@pytest.mark.parametrize(("seed", "session"), CASES)
def test_gap_and_go_premarket_and_after_the_open(seed, session):
    for when, status in (((8, 45), "watch"), ((10, 15), "triggered")):
        hits = fired("gap_and_go", screen_input(seed, session, ny_time(session, *when)))
        assert_planted("gap_and_go", hits, status)
        assert all(hits[s].metrics["gap_pct"] >= 4 for s in PLANTED["gap_and_go"])


@pytest.mark.parametrize(("seed", "session"), CASES)
def test_orb_watch_before_the_range_and_trigger_after(seed, session):
    watch = fired("orb", screen_input(seed, session, ny_time(session, 8, 45)))
    for sym in PLANTED["orb"]:
        assert watch[sym].status == "watch" and watch[sym].direction == "long"
    assert "ORBL" not in watch  # its ATR fails the daily filter even before the open
    hits = fired("orb", screen_input(seed, session, ny_time(session, 10, 15)))
    assert_planted("orb", hits, "triggered")
    for sym in PLANTED["orb"]:
        assert hits[sym].direction == "long"
        assert hits[sym].timestamp == ny_time(session, 9, 48)  # the 09:47 bar, once complete


@pytest.mark.parametrize(("seed", "session"), CASES)
@pytest.mark.parametrize("name", DAILY_SCREENERS)
def test_daily_setups_at_the_last_completed_session(seed, session, name):
    data = screen_input(seed, session, ny_time(session, 17, 0))
    hits = fired(name, data)
    assert_planted(name, hits, "triggered")
    if name == "exhaustion_reversal":
        assert hits["XHST"].direction == "short" and hits["XHSB"].direction == "long"
