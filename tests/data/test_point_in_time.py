"""Point in time: every cut of ``tradingstation.data.point_in_time``, and the proof that a planted
future bar changes nothing any screener or the anchor finder reports."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import pandas as pd
import pytest

from tradingstation.anchors import anchors_at, find_anchors
from tradingstation.calendar import get_calendar, ny_time
from tradingstation.data import point_in_time as pit
from tradingstation.data.panel import Panel
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.providers.demo.plants import PLANTED
from tradingstation.screeners import SCREENERS, get_screener
from tradingstation.screeners.base import ScreenInput
from tradingstation.signals import Signal

SESSION = date(2025, 12, 3)  # a Wednesday
HALF_DAY = date(2025, 11, 28)  # the Friday after Thanksgiving: closes 13:00


def daily_panel(days: list[date], close: float = 100.0) -> Panel:
    bars = pd.DataFrame({
        "timestamp": [pit.utc_day(d) for d in days],
        "open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1_000,
    })
    return Panel.from_bars({"AAA": bars})


def minute_panel(start: datetime, closes: list[float], volume: int = 100) -> Panel:
    stamps = pd.date_range(pd.Timestamp(start).tz_convert("UTC"), periods=len(closes), freq="1min")
    bars = pd.DataFrame({"timestamp": stamps, "open": closes, "high": [c + 0.5 for c in closes],
                         "low": [c - 0.5 for c in closes], "close": closes, "volume": volume})
    return Panel.from_bars({"AAA": bars})


def test_a_daily_bar_exists_only_once_its_session_has_closed():
    cal = get_calendar()
    days = [cal.previous_session(SESSION), SESSION, cal.next_session(SESSION)]
    panel = daily_panel(days)
    assert list(pit.cut_daily(panel, ny_time(SESSION, 15, 59)).index) == [pit.utc_day(days[0])]
    assert list(pit.cut_daily(panel, ny_time(SESSION, 16, 0)).index) == [
        pit.utc_day(days[0]), pit.utc_day(SESSION)]
    assert pit.daily_cutoff(ny_time(HALF_DAY, 13, 0)) == pit.utc_day(HALF_DAY)
    assert pit.daily_cutoff(ny_time(HALF_DAY, 12, 59)) < pit.utc_day(HALF_DAY)


def test_intraday_bars_count_once_complete():
    panel = minute_panel(ny_time(SESSION, 9, 30), [10.0, 11.0, 12.0])
    seen = pit.cut_intraday(panel, ny_time(SESSION, 9, 32))
    assert list(seen.close["AAA"]) == [10.0, 11.0]  # the 09:32 bar is still forming
    thirty = pit.cut_intraday(panel, ny_time(SESSION, 9, 59), pd.Timedelta(minutes=30))
    assert thirty.close.empty


def test_cut_bars_of_one_symbol_follows_the_same_rule():
    frame = minute_panel(ny_time(SESSION, 9, 30), [10.0, 11.0]).bars("AAA")
    assert len(pit.cut_bars(frame, ny_time(SESSION, 9, 31), "1min")) == 1
    daily = daily_panel([get_calendar().previous_session(SESSION), SESSION]).bars("AAA")
    assert len(pit.cut_bars(daily, ny_time(SESSION, 12, 0), "daily")) == 1
    assert len(pit.cut_bars(daily, ny_time(SESSION, 16, 0), "daily")) == 2


def test_developing_bar_aggregates_regular_minutes_seen_so_far():
    premarket = minute_panel(ny_time(SESSION, 9, 0), [50.0])  # not part of the regular bar
    regular = minute_panel(ny_time(SESSION, 9, 30), [10.0, 12.0, 9.0, 11.0])
    intraday = Panel(*(pd.concat([getattr(premarket, f), getattr(regular, f)])
                       for f in ("open", "high", "low", "close", "volume")))
    bar = pit.developing_daily_bar(intraday, SESSION, ny_time(SESSION, 9, 33))
    assert bar is not None
    assert bar.bar.index[0] == pit.utc_day(SESSION)
    assert bar.bar.open["AAA"].iloc[0] == 10.0 and bar.bar.close["AAA"].iloc[0] == 9.0
    assert bar.bar.high["AAA"].iloc[0] == 12.5 and bar.bar.low["AAA"].iloc[0] == 8.5
    assert bar.bar.volume["AAA"].iloc[0] == 300
    assert bar.pace == pytest.approx(3 / 390)
    assert bar.newest["AAA"] == pd.Timestamp(ny_time(SESSION, 9, 32))
    assert pit.developing_daily_bar(intraday, SESSION, ny_time(SESSION, 9, 30)) is None


def test_daily_with_developing_prefers_the_closed_stored_bar():
    prior = get_calendar().previous_session(SESSION)
    daily = daily_panel([prior, SESSION], close=100.0)
    intraday = minute_panel(ny_time(SESSION, 9, 30), [90.0, 91.0])
    during, developing = pit.daily_with_developing(daily, intraday, SESSION,
                                                   ny_time(SESSION, 10, 0))
    assert developing is not None and during.close["AAA"].iloc[-1] == 91.0
    after, developing = pit.daily_with_developing(daily, intraday, SESSION,
                                                  ny_time(SESSION, 16, 0))
    assert developing is None and after.close["AAA"].iloc[-1] == 100.0


def test_quotes_anchors_and_signals_are_cut():
    quotes = pd.DataFrame({"symbol": ["AAA", "AAA"], "price": [1.0, 2.0], "volume": [1, 2],
                           "timestamp": [ny_time(SESSION, 8, 0), ny_time(SESSION, 9, 0)]})
    assert list(pit.cut_quotes(quotes, ny_time(SESSION, 8, 30))["price"]) == [1.0]
    assert pit.cut_quotes(None, ny_time(SESSION, 8, 30)) is None
    anchors = pd.DataFrame({"symbol": ["AAA", "AAA"], "anchor_type": ["gap_up", "gap_up"],
                            "anchor_date": [date(2025, 12, 2), SESSION]})
    assert list(pit.cut_anchors(anchors, SESSION)["anchor_date"]) == [date(2025, 12, 2)]
    early, late = (_signal(ny_time(SESSION, h, 0)) for h in (10, 11))
    assert pit.cut_signals([early, late], ny_time(SESSION, 10, 30)) == [early]


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        pit.daily_cutoff(datetime(2025, 12, 3, 10, 0))


def _signal(when: datetime) -> Signal:
    return Signal(id=f"x-{when:%H%M}", screener="breakout", symbol="AAA", session=SESSION,
                  timestamp=when, direction="long", status="triggered", score=5.0, entry=10.0,
                  stop=9.0, targets=[11.0], risk_per_share=1.0, reasons=["r"], metrics={},
                  data_as_of=when, demo=True)


# --- a planted future changes nothing --------------------------------------------------------

N_SYMBOLS = sum(len(v) for v in PLANTED.values()) + 6
# Instants where the demo market's planted setups fire: premarket, mid-session, after the close.
INSTANTS = [(8, 45), (10, 15), (17, 0)]


@lru_cache(maxsize=4)
def known_at(hour: int, minute: int) -> tuple[Panel, Panel, pd.DataFrame]:
    """The demo market's daily bars, 1-min bars and quotes as they existed at the instant."""
    market = DemoMarket(seed=42, n_symbols=N_SYMBOLS, now=ny_time(SESSION, hour, minute))
    symbols = market.listing()["symbol"].tolist()
    return (Panel.from_bars({s: market.daily_bars(s, full=True) for s in symbols}),
            Panel.from_bars({s: market.intraday_bars(s, "1min", full=True) for s in symbols}),
            market.quotes(symbols))


def with_future(daily: Panel, intraday: Panel, quotes: pd.DataFrame, as_of: datetime):
    """The same data plus a +20 % day: today's daily bar (before its close), the next
    session's bar, 1-min bars after ``as_of`` and quotes stamped after it."""
    cal = get_calendar()
    last = daily.close.ffill().iloc[-1]
    days = [d for d in (SESSION, cal.next_session(SESSION))
            if pit.utc_day(d) > daily.index[-1]]
    up = last * 1.2
    day_rows = {f: pd.DataFrame([v] * len(days), index=pd.DatetimeIndex(
        [pit.utc_day(d) for d in days])) for f, v in
        {"open": up, "high": up * 1.01, "low": last, "close": up,
         "volume": daily.volume.iloc[-1] * 5}.items()}
    start = pd.Timestamp(as_of).tz_convert("UTC").floor("min")
    minutes = pd.date_range(start, periods=30, freq="1min")
    minute_rows = {f: pd.DataFrame([v] * len(minutes), index=minutes) for f, v in
                   {"open": up, "high": up * 1.01, "low": up * 0.99, "close": up,
                    "volume": intraday.volume.max() * 10}.items()}
    fields = ("open", "high", "low", "close", "volume")

    def extend(panel: Panel, extra: dict) -> Panel:
        frames = {f: pd.concat([getattr(panel, f), extra[f]]) for f in fields}
        frames = {f: v[~v.index.duplicated(keep="first")].sort_index() for f, v in frames.items()}
        return Panel(**frames)

    later = quotes.assign(price=quotes["price"] * 1.2,
                          timestamp=pd.Timestamp(as_of) + pd.Timedelta(minutes=5))
    return (extend(daily, day_rows), extend(intraday, minute_rows),
            pd.concat([quotes, later], ignore_index=True))


def screened(name: str, data: ScreenInput) -> list[dict]:
    return [s.model_dump(mode="json") for s in get_screener(name).screen(data)]


@pytest.mark.parametrize(("hour", "minute"), INSTANTS)
def test_a_planted_future_changes_no_screener_and_no_anchor(hour, minute):
    as_of = ny_time(SESSION, hour, minute)
    daily, intraday, quotes = known_at(hour, minute)
    future = with_future(daily, intraday, quotes, as_of)
    plain = ScreenInput(SESSION, as_of, daily, intraday, quotes, demo=True)
    planted = ScreenInput(SESSION, as_of, *future, demo=True)
    fired = 0
    for name in SCREENERS:
        expected = screened(name, plain)
        assert screened(name, planted) == expected, f"{name} saw the future at {as_of}"
        fired += len(expected)
    assert fired  # the demo's planted setups fire at each instant: the comparison means something
    found = anchors_at(daily, SESSION, as_of)
    assert len(found)
    pd.testing.assert_frame_equal(anchors_at(future[0], SESSION, as_of), found)
    # what the anchor finder did before: every stored bar counted
    assert not find_anchors(future[0]).equals(found)


# --- plans, dashboards and health read nothing stamped after as_of ---------------------------


def test_plans_load_no_signal_stamped_after_their_instant():
    from tests.data.memory_store import MemoryStore
    from tradingstation.screeners.store import load_signals, save_signals

    store = MemoryStore()
    nxt = get_calendar().next_session(SESSION)
    today = _signal(ny_time(SESSION, 10, 0))
    tomorrow = _signal(ny_time(nxt, 10, 0)).model_copy(update={"session": nxt})
    save_signals(store, SESSION, "breakout", [today])
    save_signals(store, nxt, "breakout", [tomorrow])
    replay = ny_time(SESSION, 17, 0)
    since = replay - pd.Timedelta(hours=24)
    assert load_signals(store, since, until=replay) == [today]
    assert load_signals(store, since) == [today, tomorrow]  # no bound: everything stored


def test_health_at_night_does_not_report_the_next_sessions_signals():
    from tests.data.memory_store import MemoryStore
    from tradingstation.screeners.store import save_signals
    from tradingstation.upkeep.health import check_signals

    store = MemoryStore()
    nxt = get_calendar().next_session(SESSION)
    save_signals(store, nxt, "breakout", [])
    night = ny_time(SESSION, 21, 0)  # 02:00 UTC: already the next day in UTC
    check = check_signals(store, night)
    assert check.level == "warn" and nxt.isoformat() not in check.detail
    save_signals(store, SESSION, "breakout", [])
    assert check_signals(store, night).detail == f"signals present for {SESSION.isoformat()}"


def test_a_symbol_without_minute_bars_gets_its_developing_bar_from_its_session_quote():
    daily = daily_panel([get_calendar().previous_session(SESSION)])
    intraday = minute_panel(ny_time(SESSION, 9, 30), [90.0, 91.0])
    quotes = pd.DataFrame({
        "symbol": ["AAA", "BBB", "BBB", "BBB"],
        "timestamp": [ny_time(SESSION, 10, 0), ny_time(SESSION, 9, 0),
                      ny_time(SESSION, 10, 0), ny_time(SESSION, 10, 5)],
        "price": [1.0, 20.0, 21.0, 22.0], "high": [1.0, 20.0, 23.0, 24.0],
        "low": [1.0, 20.0, 19.0, 18.0], "volume": [1, 5, 500, 600]})
    panel, developing = pit.daily_with_developing(daily, intraday, SESSION,
                                                  ny_time(SESSION, 10, 1), quotes=quotes)
    assert developing is not None and panel.index[-1] == pit.utc_day(SESSION)
    assert panel.close["AAA"].iloc[-1] == 91.0  # its 1-min bars, never its quote
    last = {f: getattr(panel, f)["BBB"].iloc[-1] for f in ("high", "low", "close", "volume")}
    assert last == {"high": 23.0, "low": 19.0, "close": 21.0, "volume": 500}  # 10:05 not yet
    assert pd.isna(panel.open["BBB"].iloc[-1])  # a quote without an open does not invent one
    assert developing.newest["BBB"] == pd.Timestamp(ny_time(SESSION, 10, 0))
    before_open = pit.quote_daily_bar(quotes, SESSION, ny_time(SESSION, 9, 29))
    assert before_open is None  # a premarket quote is not part of the regular bar
