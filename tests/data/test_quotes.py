"""Premarket quotes: chunked calls, newest quote per symbol, reuse within the freshness window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from tests.data.counting_provider import CountingProvider
from tests.data.memory_store import MemoryStore
from tradingstation.contracts import QUOTE_COLUMNS, SESSION_QUOTE_COLUMNS
from tradingstation.data.quotes import FETCHED_AT, fetch_quotes
from tradingstation.errors import InputError
from tradingstation.storage import keys

SESSION = date(2024, 6, 18)
NOON = datetime(2024, 6, 18, 12, 0, tzinfo=UTC)
SYMBOLS = [f"Q{i:03d}" for i in range(230)]


def test_fetch_quotes_in_chunks_keeps_newest_per_symbol():
    provider = CountingProvider(SYMBOLS, NOON)
    store = MemoryStore()
    quotes = fetch_quotes(store, provider, SESSION, [*SYMBOLS, "NOPE"], now=NOON)
    assert provider.total_calls == 3  # 100 + 100 + 31
    assert sorted(quotes["symbol"]) == SYMBOLS
    assert list(quotes.columns) == [*QUOTE_COLUMNS, FETCHED_AT, "source"]
    assert (quotes[FETCHED_AT] == pd.Timestamp(NOON)).all()
    assert store.get_frame(keys.quotes_key(SESSION)).equals(quotes)
    provider.now = later = NOON + timedelta(minutes=30)
    newer = fetch_quotes(store, provider, SESSION, ["Q001"], now=later)
    row = newer.set_index("symbol").loc["Q001"]
    assert row["timestamp"] == pd.Timestamp(later)
    assert row[FETCHED_AT] == pd.Timestamp(later)
    assert newer.set_index("symbol").loc["Q002", FETCHED_AT] == pd.Timestamp(NOON)
    assert len(newer) == 230
    calls = provider.total_calls
    with pytest.raises(InputError):
        fetch_quotes(store, provider, SESSION, ["AAA", "ok?"])
    assert provider.total_calls == calls


def test_quotes_fetched_within_the_window_are_reused_without_calls_or_writes():
    provider = CountingProvider(SYMBOLS, NOON)
    store = MemoryStore()
    first = fetch_quotes(store, provider, SESSION, SYMBOLS[:150], max_age_seconds=300, now=NOON)
    assert provider.total_calls == 2
    store.reset_counts()
    again = fetch_quotes(store, provider, SESSION, SYMBOLS[:150], max_age_seconds=300,
                         now=NOON + timedelta(seconds=299))
    assert provider.total_calls == 2 and store.total_puts == 0
    assert again.equals(first)
    # only the symbols without a fresh quote are asked for: 80 new ones = one call
    more = fetch_quotes(store, provider, SESSION, SYMBOLS, max_age_seconds=300,
                        now=NOON + timedelta(seconds=299))
    assert provider.total_calls == 3 and len(more) == 230
    # past the window every symbol is asked again (and the fetch time moves)
    late = NOON + timedelta(seconds=301)
    fetch_quotes(store, provider, SESSION, SYMBOLS[:150], max_age_seconds=300, now=late)
    assert provider.total_calls == 5
    stored = store.get_frame(keys.quotes_key(SESSION)).set_index("symbol")
    assert stored.loc["Q000", FETCHED_AT] == pd.Timestamp(late)
    assert stored.loc["Q200", FETCHED_AT] == pd.Timestamp(NOON + timedelta(seconds=299))


def test_a_zero_window_always_refetches_and_old_quotes_without_fetch_times_are_stale():
    provider = CountingProvider(SYMBOLS, NOON)
    store = MemoryStore()
    legacy = provider.quotes(SYMBOLS[:100])
    store.put_frame(keys.quotes_key(SESSION), legacy)  # written before fetch times existed
    fetch_quotes(store, provider, SESSION, SYMBOLS[:100], max_age_seconds=3600, now=NOON)
    assert provider.total_calls == 2  # the legacy quotes did not count as fresh
    fetch_quotes(store, provider, SESSION, SYMBOLS[:100], max_age_seconds=0, now=NOON)
    assert provider.total_calls == 3


def test_concurrent_chunks_store_the_same_quotes():
    one, many = MemoryStore(), MemoryStore()
    fetch_quotes(one, CountingProvider(SYMBOLS, NOON), SESSION, SYMBOLS, now=NOON)
    provider = CountingProvider(SYMBOLS, NOON)
    fetch_quotes(many, provider, SESSION, SYMBOLS, now=NOON, concurrency=3)
    assert provider.total_calls == 3
    key = keys.quotes_key(SESSION)
    assert one.get_bytes(key) == many.get_bytes(key)


def test_a_later_quote_keeps_the_earlier_one_for_replays():
    provider = CountingProvider(SYMBOLS, NOON)
    store = MemoryStore()
    fetch_quotes(store, provider, SESSION, SYMBOLS[:2], now=NOON)
    provider.now = later = NOON + timedelta(minutes=30)
    newest = fetch_quotes(store, provider, SESSION, SYMBOLS[:2], now=later)
    assert list(newest["timestamp"]) == [pd.Timestamp(later)] * 2
    stored = store.get_frame(keys.quotes_key(SESSION))
    # a replay at NOON still finds the quote that existed at NOON
    at_noon = stored[pd.to_datetime(stored["timestamp"], utc=True) <= pd.Timestamp(NOON)]
    assert sorted(at_noon["symbol"]) == SYMBOLS[:2]
    assert len(stored) == 4


def test_session_quotes_of_a_300_symbol_watchlist_cost_3_bulk_calls_stored_apart():
    # The market cycle's quotes: 100 symbols a call, kept in their own object with the running
    # session high/low, so the premarket quotes (what ORB and Gap & Go read) stay as they were.
    symbols = [f"W{i:03d}" for i in range(300)]
    provider = CountingProvider(symbols, NOON)
    store = MemoryStore()
    quotes = fetch_quotes(store, provider, SESSION, symbols, now=NOON, session_extremes=True)
    assert provider.total_calls == 3
    assert list(quotes.columns) == [*SESSION_QUOTE_COLUMNS, FETCHED_AT, "source"]
    assert store.get_frame(keys.market_quotes_key(SESSION)).equals(quotes)
    assert not store.exists(keys.quotes_key(SESSION))
