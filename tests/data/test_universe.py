"""Universe: listing filters with drop counts, daily snapshots, reading it back."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.data.memory_store import MemoryStore
from tradingstation.data.universe import filter_universe, load_universe, save_universe
from tradingstation.errors import DataError, InputError, ObjectNotFoundError
from tradingstation.providers.base import UNIVERSE_COLUMNS
from tradingstation.storage import keys


def listing(rows):
    return pd.DataFrame(
        [dict(zip(["symbol", "exchange", "asset_type", "status"], r, strict=True),
              name="x", ipo_date="2000-01-03") for r in rows],
        columns=UNIVERSE_COLUMNS,
    )


RAW = listing([
    ("AAPL", "NASDAQ", "Stock", "Active"),
    ("BRK.B", "NYSE", "Stock", "Active"),
    ("BF-B", "NYSE", "stock", "active"),
    ("SPY", "NYSE ARCA", "ETF", "Active"),
    ("XYZ", "OTC", "Stock", "Active"),
    ("OLD", "NASDAQ", "Stock", "Delisted"),
    ("ab^c", "NYSE", "Stock", "Active"),
    ("TOOLONGSYMBOL", "NYSE", "Stock", "Active"),
    ("IWM", "NYSE MKT", "Stock", "Active"),
    ("CBOE", "BATS", "Stock", "Active"),
    ("AAPL", "NASDAQ", "Stock", "Active"),
])


def test_filter_keeps_clean_active_stocks_on_main_exchanges():
    kept = filter_universe(RAW)
    assert list(kept["symbol"]) == ["AAPL", "BF-B", "BRK.B", "CBOE", "IWM"]
    assert list(kept.columns) == UNIVERSE_COLUMNS
    assert kept.attrs["dropped"] == {
        "asset_type": 1, "exchange": 1, "status": 1, "symbol": 2, "duplicate": 1,
    }


def test_dropped_row_does_not_shadow_a_good_duplicate():
    raw = listing([("AAA", "OTC", "Stock", "Active"), ("AAA", "NYSE", "Stock", "Active")])
    kept = filter_universe(raw)
    assert list(kept["exchange"]) == ["NYSE"]
    assert kept.attrs["dropped"]["duplicate"] == 0


def test_filter_accepts_raw_alpha_vantage_names_and_rejects_missing_columns():
    raw = RAW.rename(columns={"asset_type": "assetType", "ipo_date": "ipoDate"})
    assert len(filter_universe(raw)) == 5
    with pytest.raises(DataError, match="missing columns: exchange"):
        filter_universe(RAW.drop(columns="exchange"))


def test_save_writes_history_and_latest_once_and_loads_back():
    store = MemoryStore()
    kept = filter_universe(RAW)
    assert save_universe(store, kept, date(2024, 6, 14))
    assert store.exists(keys.universe_history_key(date(2024, 6, 14)))
    assert load_universe(store) == ["AAPL", "BF-B", "BRK.B", "CBOE", "IWM"]
    before = store.total_puts
    assert not save_universe(store, kept, date(2024, 6, 14))
    assert store.total_puts == before


def test_missing_universe_is_a_one_line_hint():
    with pytest.raises(ObjectNotFoundError) as err:
        load_universe(MemoryStore())
    assert str(err.value) == "no universe yet: run `tradingstation fetch universe`"


def test_malformed_stored_universe_rejected():
    store = MemoryStore()
    store.put_frame(keys.universe_key(), pd.DataFrame({"symbol": ["AAPL", "../x"]}))
    with pytest.raises(DataError, match="malformed symbol"):
        load_universe(store)
    with pytest.raises(InputError, match="invalid ticker"):
        save_universe(store, pd.DataFrame({**{c: ["x"] for c in UNIVERSE_COLUMNS},
                                           "symbol": ["bad"]}), date(2024, 6, 14))
