"""Replay = live through the local Alpha Vantage fake: real-shaped history (AV JSON, extended
hours, bulk quotes) revealed as time passes, then every mode replayed while the provider serves
everything up to the next session."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.postmarket import postmarket
from tests.flows.replay_support import (
    NEXT,
    add_later_data,
    assert_replay_equals_live,
    record_screens,
    run_live,
)
from tests.support import fake_av_data
from tests.support.fake_alphavantage import FakeAlphaVantage
from tests.support.fake_av_reveal import reveal
from tradingstation.calendar import ny_time
from tradingstation.config import get_settings
from tradingstation.storage.local import LocalStore

pytestmark = pytest.mark.slow

SYMBOLS = ["ACME", "BOLT", "CRUX", "DYNA", "EPIC"]
END = ny_time(NEXT, 20, 0)


def history() -> dict[str, dict[str, pd.DataFrame]]:
    """Each symbol's full history (daily, 1-min, 30-min) up to the end of the next session."""
    return {s: {"daily": fake_av_data.generate_daily(0, s, END),
                "1min": fake_av_data.generate_intraday(0, s, "1min", END, days=8),
                "30min": fake_av_data.generate_intraday(0, s, "30min", END, days=8)}
            for s in SYMBOLS}


def test_every_mode_replayed_after_later_data_equals_its_live_run(monkeypatch, tmp_path):
    data = history()
    with FakeAlphaVantage(api_key="FAKE-KEY", strict_symbols=True) as fake:
        fake.set_listing(pd.DataFrame([
            {"symbol": s, "name": f"{s} Corp", "exchange": "NYSE", "asset_type": "Stock",
             "ipo_date": "2001-01-02", "status": "Active"} for s in SYMBOLS]))
        for name, value in {"TS_DATA_DIR": str(tmp_path), "TS_PROVIDER": "alphavantage",
                            "TS_ALPHAVANTAGE_API_KEY": "FAKE-KEY",
                            "TS_ALPHAVANTAGE_BASE_URL": fake.url,
                            "TS_RATE_LIMIT_PER_MINUTE": "6000",
                            "TS_RETENTION_1MIN_DAYS": "21",  # see test_replay_demo
                            "TS_RETENTION_DAILY_SESSIONS": "500"}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        store = LocalStore(tmp_path)
        record_screens(monkeypatch)

        live = run_live(store, before=lambda now: reveal(fake, data, now))
        assert live["premarket"]["anchors"]
        assert {a["symbol"] for a in live["premarket"]["anchors"]} == set(SYMBOLS)

        def next_postmarket() -> None:
            reveal(fake, data, ny_time(NEXT, 17, 0))
            assert postmarket(as_of=ny_time(NEXT, 17, 0), return_state=True).is_completed()

        add_later_data(store, next_postmarket, demo=False)
        # A real provider answers a replay with everything it has now.
        reveal(fake, data, END)
        calls = len(fake.requests)
        assert_replay_equals_live(store, live, refetch={"market": True})
        assert len(fake.requests) > calls  # the refetching replay did fetch, saw later bars
