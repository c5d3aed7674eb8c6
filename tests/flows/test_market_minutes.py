"""The market cycle's calls (issue 18 #4): one cycle over a watchlist of N symbols makes
ceil(N/100) bulk quote calls and 1-min calls only for the symbols a screener needs minutes of,
and finds the same signals the old path (1-min bars for the whole watchlist) found; after ORB's
window, 1-min calls only for AVWAP reclaims; postmarket brings the session's signal symbols'
1-min bars to the close (what the track record follows).

The demo market's planted history (every screener has true positives) is served through the
local Alpha Vantage fake (real HTTP, AV JSON, bulk quotes with the regular session's
open/high/low/volume) as it was known at each instant.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from blocks.resolve import resolve_provider
from flows.market import MARKET_SCREENERS, market
from flows.postmarket import postmarket
from flows.premarket import premarket
from tests.flows.replay_support import SESSION, found, record_screens
from tests.support.fake_alphavantage import FakeAlphaVantage
from tests.support.fake_av_reveal import reveal
from tests.support.fetching import fetch_job
from tradingstation.calendar import ny_time
from tradingstation.config import get_settings
from tradingstation.data.panel_store import load_panel
from tradingstation.indicators import atr
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.providers.demo.plants import PLANTED
from tradingstation.screeners import ScreenInput, run_screeners
from tradingstation.screeners.orb import OrbParams
from tradingstation.screeners.store import load_signals
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore

pytestmark = pytest.mark.slow

N_SYMBOLS = sum(len(v) for v in PLANTED.values()) + 4
PREMARKET, CYCLE, NOON, CLOSED = (ny_time(SESSION, 8, 45), ny_time(SESSION, 10, 30),
                                  ny_time(SESSION, 12, 0), ny_time(SESSION, 16, 30))


def demo_history() -> tuple[pd.DataFrame, dict[str, dict[str, pd.DataFrame]]]:
    """The demo market's listing and each symbol's daily, 1-min and 30-min bars."""
    demo = DemoMarket(seed=42, n_symbols=N_SYMBOLS, now=ny_time(SESSION, 20, 0))
    listing = demo.listing()
    listing = listing[listing["asset_type"] == "Stock"].reset_index(drop=True)
    return listing, {s: {"daily": demo.daily_bars(s, full=True),
                         **{i: demo.intraday_bars(s, i, full=True) for i in ("1min", "30min")}}
                     for s in listing["symbol"]}


def in_play(history: dict, watchlist: list[str]) -> list[str]:
    """ORB candidates recomputed here from the raw bars, per symbol: ORB's daily filters and
    a move of at least 2 % from the prior close at the 08:45 or the 10:30 price."""
    p = OrbParams()
    out = []
    for symbol in watchlist:
        daily = history[symbol]["daily"]
        prior = daily[daily["timestamp"] < pd.Timestamp(SESSION.isoformat(), tz="UTC")]
        close = prior["close"]
        atr_now = atr(prior["high"], prior["low"], close, p.atr_length).iloc[-1]
        adv = prior["volume"].tail(p.adv_length).mean()
        minutes = history[symbol]["1min"]
        ends = minutes["timestamp"] + pd.Timedelta(minutes=1)
        prices = [minutes.loc[ends <= pd.Timestamp(at), "close"].iloc[-1]
                  for at in (PREMARKET, CYCLE)]
        moved = max(abs(price / close.iloc[-1] - 1) for price in prices)
        if prices[1] > p.min_price and adv >= p.min_adv and atr_now > p.min_atr and moved >= 0.02:
            out.append(symbol)
    return sorted(out)


def test_one_market_cycle_quotes_in_bulk_fetches_minutes_for_candidates_only(
        monkeypatch, tmp_path):
    listing, history = demo_history()
    with FakeAlphaVantage(api_key="FAKE-KEY", strict_symbols=True) as fake:
        fake.set_listing(listing)
        for name, value in {"TS_DATA_DIR": str(tmp_path), "TS_PROVIDER": "alphavantage",
                            "TS_ALPHAVANTAGE_API_KEY": "FAKE-KEY",
                            "TS_ALPHAVANTAGE_BASE_URL": fake.url,
                            "TS_RATE_LIMIT_PER_MINUTE": "6000",
                            # these cycles run seconds apart, live ones 15 minutes
                            "TS_QUOTES_MAX_AGE_SECONDS": "0"}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        store = LocalStore(tmp_path)
        record_screens(monkeypatch)
        reveal(fake, history, PREMARKET)
        assert premarket(as_of=PREMARKET, return_state=True).is_completed()

        reveal(fake, history, CYCLE)
        fake.reset_requests()
        found.clear()
        state = market(as_of=CYCLE, return_state=True)
        assert state.is_completed()
        result = state.result()
        watchlist = result["watchlist"]
        needs = result["minute_symbols"]
        minute_symbols = sorted({*needs["orb"], *needs["avwap_reclaim"]})
        intraday = [r for r in fake.requests if r.function == "TIME_SERIES_INTRADAY"]
        new_signals = {n: [s.model_dump(mode="json") for s in found[n]] for n in MARKET_SCREENERS}

        # the calls: quotes in bulk, 100 symbols a call; 1-min bars once per candidate, no
        # other symbol's; nothing else (the daily bars and the universe are fresh)
        assert len(watchlist) == N_SYMBOLS  # every symbol
        assert fake.count(function="REALTIME_BULK_QUOTES") == math.ceil(len(watchlist) / 100)
        assert sorted(r.symbol for r in intraday) == minute_symbols
        assert len(fake.requests) == math.ceil(len(watchlist) / 100) + len(minute_symbols)
        # which symbols: the ORB candidates as recomputed from the raw bars (the planted ORB
        # names among them); the AVWAP reclaims the quotes show, every reported one among them
        assert needs["orb"] == in_play(history, watchlist)
        assert set(PLANTED["orb"]) <= set(needs["orb"])
        reclaims = {s["symbol"] for s in new_signals["avwap_reclaim"]}
        assert set(PLANTED["avwap_reclaim"]) <= reclaims <= set(needs["avwap_reclaim"])
        assert len(minute_symbols) < len(watchlist)

        # the old path on the same data: 1-min bars for the whole watchlist, today's bar of
        # every symbol from them (no session quotes)
        settings = get_settings()
        provider = resolve_provider(settings, CYCLE)
        fetch_job("intraday_1min", store, provider, CYCLE, settings, tickers=watchlist)
        old = run_screeners(ScreenInput(
            session=SESSION, as_of=CYCLE, daily=load_panel(store, "daily"),
            intraday_1min=load_panel(store, "1min", watchlist),
            quotes=store.get_frame(keys.quotes_key(SESSION))), MARKET_SCREENERS)

        # after ORB's window (11:30): no ORB, no minutes for its candidates; the session's
        # ORB signals stay as the 10:30 cycle published them
        orb_doc = store.get_json(keys.signals_key(SESSION, "orb"))
        reveal(fake, history, NOON)
        fake.reset_requests()
        late = market(as_of=NOON, return_state=True).result()
        reclaims_late = late["minute_symbols"]["avwap_reclaim"]
        assert late["minute_symbols"]["orb"] == [] and "Opening Range Breakout" not in late[
            "signals"]
        assert sorted(r.symbol for r in fake.requests
                      if r.function == "TIME_SERIES_INTRADAY") == reclaims_late
        assert len(fake.requests) == math.ceil(len(watchlist) / 100) + len(reclaims_late)
        assert store.get_json(keys.signals_key(SESSION, "orb")) == orb_doc

        # postmarket: 1-min bars through the close for the session's signal symbols only (the
        # track record's entry-day paths), once
        reveal(fake, history, CLOSED)
        fake.reset_requests()
        assert postmarket(as_of=CLOSED, return_state=True).is_completed()
        signalled = sorted({s.symbol for s in load_signals(store, None, session=SESSION)})
        assert sorted(r.symbol for r in fake.requests if r.function == "TIME_SERIES_INTRADAY"
                      and r.params["interval"] == "1min") == signalled
        last_minute = pd.Timestamp(ny_time(SESSION, 15, 59))
        for symbol in signalled:
            assert store.get_frame(keys.bars_key("1min", symbol))["timestamp"].max() \
                >= last_minute, symbol
    assert all(new_signals.values()), {n: len(s) for n, s in new_signals.items()}
    # Breakout, EMA Pullback and AVWAP Reclaim: the same signals, today's bar built from
    # session quotes for most symbols instead of 1-min bars
    for name in ("avwap_reclaim", "breakout", "ema_pullback"):
        assert new_signals[name] == [s.model_dump(mode="json") for s in old[name]], name
    # ORB (the documented difference): only symbols with 1-min bars fetched are evaluated, so
    # an opening-range breakout of a symbol not in play (within 2 % of its prior close at the
    # premarket and the cycle's quote) is no longer reported; everything else is the same
    old_orb = [s.model_dump(mode="json") for s in old["orb"]]
    assert new_signals["orb"] == [s for s in old_orb if s["symbol"] in minute_symbols]
    dropped = {s["symbol"] for s in old_orb} - set(minute_symbols)
    assert dropped == {"XHST"}  # an exhaustion plant breaking out of its range, not in play
