"""Universe: listing filters with drop counts, daily snapshots, reading it back."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.data.memory_store import MemoryStore
from tradingstation.contracts import UNIVERSE_COLUMNS
from tradingstation.data.universe import filter_universe, load_universe, save_universe
from tradingstation.errors import DataError, InputError, ObjectNotFoundError
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
        "asset_type": 1, "exchange": 1, "status": 1, "symbol": 2, "security_type": 0,
        "duplicate": 1,
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


# A LISTING_STATUS excerpt as Alpha Vantage serves it (names as listed there).
LISTING_STATUS_SAMPLE = """symbol,name,exchange,assetType,ipoDate,delistingDate,status
A,Agilent Technologies Inc,NYSE,Stock,1999-11-18,null,Active
ABCD,Abcd Holdings Inc - Class A,NASDAQ,Stock,2021-03-01,null,Active
ABCDW,Abcd Holdings Inc - Warrants (15/03/2026),NASDAQ,Stock,2021-03-01,null,Active
ABCDU,Abcd Acquisition Corp - Units (1 Ord Share & 1/2 War),NASDAQ,Stock,2021-01-05,null,Active
ABCDR,Abcd Acquisition Corp - Rights (01/01/2027),NASDAQ,Stock,2021-01-05,null,Active
BAC,Bank of America Corp,NYSE,Stock,1972-06-01,null,Active
BAC-P-L,Bank of America Corp - 7.25% Non-Cum Perp Conv Pfd Ser L,NYSE,Stock,2008-01-29,null,Active
ABR-P-D,Arbor Realty Trust Inc - 6.375% PRF PERPETUAL - Ser D,NYSE,Stock,2021-05-27,null,Active
GS-WS,Goldman Sachs Group Inc - Warrants,NYSE,Stock,2020-01-01,null,Active
BRK-B,Berkshire Hathaway Inc - Class B,NYSE,Stock,1996-05-09,null,Active
BF-B,Brown-Forman Corp - Class B,NYSE,Stock,1987-01-01,null,Active
ZWZZT,NASDAQ TEST STOCK,NASDAQ,Stock,2016-01-01,null,Active
ZVZZT,NASDAQ TEST STOCK,NASDAQ,Stock,2016-01-01,null,Active
NTEST,NYSE Test Stock,NYSE,Stock,2019-01-01,null,Active
CBO,CBOE TEST SYMBOL,BATS,Stock,2019-01-01,null,Active
TSLA,Tesla Inc,NASDAQ,Stock,2010-06-29,null,Active
"""


def test_warrants_preferreds_units_rights_and_test_issues_are_excluded():
    from tradingstation.providers.avformat import listing_frame

    kept = filter_universe(listing_frame(LISTING_STATUS_SAMPLE, "LISTING_STATUS"))
    assert list(kept["symbol"]) == ["A", "ABCD", "BAC", "BF-B", "BRK-B", "TSLA"]
    assert kept.attrs["dropped"]["security_type"] == 10
