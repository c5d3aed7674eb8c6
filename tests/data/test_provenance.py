"""Provenance: every stored bars object, ledger row, quote and universe records its source, and
a provider switch replaces the other source's data instead of merging into it."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.data.counting_provider import CountingProvider
from tests.data.memory_store import MemoryStore
from tests.data.test_fetch import MON_NIGHT, SYMBOLS, bars
from tests.support.fetching import fetch_job
from tradingstation.config import Settings
from tradingstation.data.ledger import load_ledger, rebuild_ledger
from tradingstation.data.provenance import frame_source
from tradingstation.data.quotes import fetch_quotes
from tradingstation.storage import keys

pytestmark = pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition


class DemoMarket(CountingProvider):
    name = "demo"
    is_demo = True


class RealMarket(CountingProvider):
    name = "alphavantage"


@pytest.fixture
def settings():
    return Settings(batch_size=2, http_concurrency=4)


def test_a_switch_of_provider_replaces_the_stored_series_instead_of_merging(settings):
    store = MemoryStore()
    demo = DemoMarket(SYMBOLS, MON_NIGHT)
    fetch_job("universe", store, demo, MON_NIGHT, settings)
    assert fetch_job("daily", store, demo, MON_NIGHT, settings).counts == {"ok": 4}
    assert {frame_source(bars(store, "daily", s)) for s in SYMBOLS} == {"demo"}
    assert set(load_ledger(store, "daily")["source"]) == {"demo"}

    real = RealMarket(SYMBOLS, MON_NIGHT)
    # the real market has no bar after June 10th for AAA: a merge would keep the demo bars
    real.halted_after = {"AAA": pd.Timestamp("2024-06-10", tz="UTC")}
    universe = fetch_job("universe", store, real, MON_NIGHT, settings)
    assert universe.calls == 1  # today's demo snapshot is not the real universe
    assert frame_source(store.get_frame(keys.universe_key())) == "alphavantage"
    report = fetch_job("daily", store, real, MON_NIGHT, settings)
    assert report.calls == 4 and "fresh" not in report.counts
    assert all("came from demo" in o.reason for o in report.outcomes)
    assert bars(store, "daily", "AAA")["timestamp"].iloc[-1] == pd.Timestamp("2024-06-10",
                                                                            tz="UTC")
    assert {frame_source(bars(store, "daily", s)) for s in SYMBOLS} == {"alphavantage"}
    ledger = load_ledger(store, "daily")
    assert set(ledger["source"]) == {"alphavantage"}
    assert fetch_job("daily", store, real, MON_NIGHT, settings).calls == 0  # now its own
    rebuilt = rebuild_ledger(store, "daily")
    assert set(rebuilt["source"]) == {"alphavantage"}


def test_a_failed_refetch_keeps_the_old_source_recorded(settings):
    store = MemoryStore()
    demo = DemoMarket(SYMBOLS, MON_NIGHT)
    fetch_job("daily", store, demo, MON_NIGHT, settings, tickers=SYMBOLS)
    real = RealMarket(SYMBOLS, MON_NIGHT)
    from tradingstation.errors import SymbolNotFoundError

    real.failures = {"BBB": SymbolNotFoundError("BBB: unknown symbol")}
    fetch_job("daily", store, real, MON_NIGHT, settings, tickers=SYMBOLS)
    sources = load_ledger(store, "daily").set_index("symbol")["source"]
    assert sources["BBB"] == "demo" and frame_source(bars(store, "daily", "BBB")) == "demo"
    assert sources.drop("BBB").eq("alphavantage").all()


def test_quotes_record_their_source_and_another_source_is_never_reused():
    store = MemoryStore()
    session = date(2024, 6, 17)
    now = pd.Timestamp("2024-06-17 12:00", tz="UTC").to_pydatetime()
    demo = DemoMarket(SYMBOLS, now)
    quotes = fetch_quotes(store, demo, session, SYMBOLS, max_age_seconds=300, now=now)
    assert set(quotes["source"]) == {"demo"}
    real = RealMarket(SYMBOLS, now)
    quotes = fetch_quotes(store, real, session, SYMBOLS, max_age_seconds=300, now=now)
    assert real.total_calls == 1  # the fresh demo quotes were not reused
    assert set(quotes["source"]) == {"alphavantage"}
    assert set(store.get_frame(keys.quotes_key(session))["source"]) == {"alphavantage"}
