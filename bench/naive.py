"""The naive reference session for bench/session.py: one Prefect task per symbol, full refetch,
per-symbol pandas-ta.

What the original scripts amounted to, expressed with Prefect: for every symbol of the
universe a task fetches full daily history and a quote (one call each, no bulk endpoint, no
coverage ledger), writes the bars, and runs the per-symbol pandas-ta screen of
``bench/reference.py``; watchlist symbols also fetch their full 1-min history.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

from bench import reference as ref
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore


@task(name="naive-symbol", cache_policy=NO_CACHE)
def naive_symbol(store: ObjectStore, provider: MarketDataProvider, symbol: str,
                 minutes: bool) -> int:
    """Everything for one symbol: full daily refetch, quote, screens, 1-min if watched."""
    daily = provider.daily_bars(symbol, full=True)
    store.put_frame(keys.bars_key("daily", symbol), daily)
    provider.quotes([symbol])
    frame = daily.set_index("timestamp")
    frame.attrs["symbol"] = symbol
    found = len(ref.screen_symbol(frame)) if len(frame) > 60 else 0
    if minutes:
        bars = provider.intraday_bars(symbol, "1min", full=True)
        store.put_frame(keys.bars_key("1min", symbol), bars)
    return found


@flow(name="naive-premarket", task_runner=ThreadPoolTaskRunner(max_workers=8))
def naive_premarket(store: ObjectStore, provider: MarketDataProvider, symbols: list[str],
                    watch: list[str]) -> int:
    """The naive premarket over ``symbols``; returns the number of signals found."""
    provider.listing()
    watched = set(watch)
    futures = [naive_symbol.submit(store, provider, s, s in watched) for s in symbols]
    wait(futures)
    return sum(f.result() for f in futures)
