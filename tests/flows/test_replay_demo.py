"""Replay = live on the demo market: each mode replayed at its instant, after later sessions,
minutes, quotes and signals were stored, produces exactly what it produced live."""

from __future__ import annotations

import pytest

import flows.session
from flows.postmarket import postmarket
from tests.flows.replay_support import (
    MODES,
    NEXT,
    SESSION,
    add_later_data,
    assert_replay_equals_live,
    record_screens,
    run_live,
)
from tests.support.revealed_market import RevealedMarket
from tradingstation.calendar import ny_time
from tradingstation.config import get_settings
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.providers.demo.plants import PLANTED
from tradingstation.storage.local import LocalStore

pytestmark = pytest.mark.slow

N_SYMBOLS = sum(len(v) for v in PLANTED.values()) + 4


def test_every_mode_replayed_after_later_data_equals_its_live_run(monkeypatch, tmp_path):
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TS_DEMO_SYMBOLS", str(N_SYMBOLS))
    # A replay sees what retention kept: each new session trims the oldest bars (daily: 200
    # sessions, while the 52-week anchors look back 252; 1-min: 7 days, while Gap & Go's
    # relative volume averages up to 10 prior sessions). Keeping more here makes the replay
    # depend on the point-in-time cut alone.
    monkeypatch.setenv("TS_RETENTION_1MIN_DAYS", "21")
    monkeypatch.setenv("TS_RETENTION_DAILY_SESSIONS", "500")
    get_settings.cache_clear()
    # One demo history (planted setups on SESSION), revealed as time passes like a real feed.
    history = DemoMarket(seed=42, n_symbols=N_SYMBOLS, now=ny_time(SESSION, 20, 0))
    monkeypatch.setattr(flows.session, "resolve_provider",
                        lambda settings, now: RevealedMarket(history, now))
    store = LocalStore(tmp_path)
    record_screens(monkeypatch)

    live = run_live(store)
    fired = {mode: sum(len(v) for v in seen["signals"].values()) for mode, seen in live.items()}
    assert all(fired[m] for m in ("premarket", "market", "postmarket")), fired
    assert live["premarket"]["anchors"] and live["postmarket"]["plan.json"]["ideas"]
    # the market cycle screened most of its watchlist on session quotes, the planted ORB and
    # AVWAP Reclaim names on 1-min bars (issue 18 #4); the replay must pick the same ones
    minutes = live["market"]["minute_symbols"]
    assert set(PLANTED["orb"]) <= set(minutes["orb"])
    assert set(PLANTED["avwap_reclaim"]) <= set(minutes["avwap_reclaim"])
    assert 0 < len({*minutes["orb"], *minutes["avwap_reclaim"]}) < len(live["market"]["watchlist"])

    def next_postmarket() -> None:
        state = postmarket(as_of=ny_time(NEXT, 17, 0), return_state=True)
        assert state.is_completed()

    add_later_data(store, next_postmarket, demo=True)
    # as the measured replay: `market -p as_of=<yesterday 10:30> -p refetch=true`
    assert_replay_equals_live(store, live, refetch={"market": True})
    assert set(MODES) == set(live)
