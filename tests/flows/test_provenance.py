"""Provenance: demo data never passes as real when a store switches to Alpha Vantage.

Measured: after demo runs, switching the same store to ``TS_PROVIDER=alphavantage`` found every
symbol "fresh" (0 calls) and published a premarket plan and summary without the DEMO banner on
synthetic bars.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from prefect.artifacts import Artifact

from flows.premarket import premarket
from tests.support.fake_alphavantage import FakeAlphaVantage
from tests.support.fake_av_data import generate_daily
from tradingstation.calendar import NY
from tradingstation.config import get_settings
from tradingstation.contracts import UNIVERSE_COLUMNS
from tradingstation.data.ledger import load_ledger
from tradingstation.data.provenance import frame_source
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore

pytestmark = pytest.mark.slow

AS_OF = datetime(2025, 11, 24, 8, 45, tzinfo=NY)
SESSION = "2025-11-24"
STUCK = "GPUP"  # a planted Gap & Go: its refetch fails, so its demo bars stay


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def test_demo_store_switched_to_alphavantage_refetches_and_labels_what_stays_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TS_DEMO_SYMBOLS", "40")
    monkeypatch.setenv("TS_PROVIDER", "demo")
    get_settings.cache_clear()
    demo = premarket(as_of=AS_OF)
    assert demo["demo"] is True
    store = LocalStore(tmp_path)
    universe = store.get_frame(keys.universe_key())
    assert frame_source(universe) == "demo"
    demo_gpup = _read(tmp_path / "bars" / "daily" / f"{STUCK}.parquet")
    assert frame_source(demo_gpup) == "demo"

    with FakeAlphaVantage(api_key="FAKE-KEY", now=lambda: AS_OF) as fake:
        # the real market lists the same tickers: every stored series has a real counterpart
        fake.set_listing(universe[UNIVERSE_COLUMNS])
        fake.fail_symbol(STUCK, "error_message")
        monkeypatch.setenv("TS_PROVIDER", "alphavantage")
        monkeypatch.setenv("TS_ALPHAVANTAGE_API_KEY", "FAKE-KEY")
        monkeypatch.setenv("TS_ALPHAVANTAGE_BASE_URL", fake.url)
        monkeypatch.setenv("TS_RATE_LIMIT_PER_MINUTE", "6000")
        get_settings.cache_clear()
        real = premarket(as_of=AS_OF)
        assert fake.count(function="LISTING_STATUS") == 1  # the demo universe was not reused
        assert fake.count(function="TIME_SERIES_DAILY") >= len(universe) - 1

    symbols = sorted(set(universe["symbol"]))
    # no demo bar is left in a real series: every real daily series is exactly the provider's
    for symbol in symbols:
        path = tmp_path / "bars" / "daily" / f"{symbol}.parquet"
        stored = _read(path)
        if symbol == STUCK:
            assert frame_source(stored) == "demo"
            continue
        assert frame_source(stored) == "alphavantage", symbol
        served = generate_daily(0, symbol, AS_OF).set_index("timestamp")["close"]
        closes = stored.set_index("timestamp")["close"]
        assert closes.index.isin(served.index).all(), symbol
        assert (closes - served.reindex(closes.index)).abs().max() < 1e-6, symbol
    for path in (tmp_path / "bars" / "1min").glob("*.parquet"):
        assert frame_source(_read(path)) in ("alphavantage", "demo")
        if path.stem != STUCK:
            assert frame_source(_read(path)) == "alphavantage", path.stem
    ledger = load_ledger(store, "daily").set_index("symbol")["source"]
    assert ledger[STUCK] == "demo"
    assert set(ledger.drop(STUCK).reindex(symbols).dropna()) == {"alphavantage"}
    quotes = store.get_frame(keys.quotes_key(datetime.fromisoformat(SESSION).date()))
    assert set(quotes["source"]) == {"alphavantage"}

    # no unlabelled output: the one symbol still on demo data is not screened as real, and
    # the run says so; everything published from real data is real
    for path in (tmp_path / "signals" / SESSION).glob("*.json"):
        for signal in json.loads(path.read_text())["signals"]:
            assert signal["symbol"] != STUCK or signal["demo"], path.name
            assert signal["demo"] is (signal["symbol"] == STUCK)
    assert all(not i["demo"] and i["symbol"] != STUCK for i in real["plan"]["ideas"])
    summary = str(Artifact.get("premarket-summary").data)
    assert STUCK in summary and "hold demo daily data" in summary
