"""Rebuilds: refetch full history into a staging prefix, verify it, then swap it in.

A failed rebuild (provider error, invalid data, crash) leaves the live data untouched: nothing
is copied over the live keys until every staged object has been written and verified.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from tradingstation.config import Settings
from tradingstation.contracts import bar_problems
from tradingstation.data.ledger import ledger_row, update_ledger
from tradingstation.data.provenance import with_source
from tradingstation.data.retention import trim_bars
from tradingstation.data.split_ledger import applied_splits
from tradingstation.data.splits import adjust_bars
from tradingstation.errors import DataError, InputError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore
from tradingstation.storage.prefixed import PrefixedStore

log = logging.getLogger(__name__)


@dataclass
class RebuildReport:
    """What a rebuild replaced."""

    dataset: str
    symbols: list[str] = field(default_factory=list)
    bars: int = 0


def rebuild_symbols(
    store: ObjectStore,
    provider: MarketDataProvider,
    dataset: str,
    symbols: Iterable[str],
    now: datetime,
    settings: Settings,
) -> RebuildReport:
    """Replace the stored bars of ``symbols`` with a full refetch, via a staging prefix.

    Raises:
        InputError: for a bad ticker or dataset, before anything is fetched.
        TradingStationError: from the provider or validation; live data is then unchanged.
    """
    keys.validate_dataset(dataset)
    symbols = sorted({keys.validate_symbol(s) for s in symbols})
    if not symbols:
        raise InputError("rebuild needs at least one symbol")
    run = f"rebuild-{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
    staging = PrefixedStore(store, keys.staging_prefix(run))
    report = RebuildReport(dataset=dataset)
    frames: dict[str, pd.DataFrame] = {}
    applied = applied_splits(store)  # providers serve as-traded bars; stored ones are adjusted
    try:
        for symbol in symbols:
            if dataset == "daily":
                fresh = provider.daily_bars(symbol, full=True)
            else:
                fresh = provider.intraday_bars(symbol, dataset, full=True)
            fresh = adjust_bars(fresh, dataset, applied.get(symbol, []))
            frames[symbol] = with_source(trim_bars(dataset, fresh, now, settings),
                                         provider.name)
            staging.put_frame(keys.bars_key(dataset, symbol), frames[symbol])
        for symbol in symbols:
            staged = staging.get_frame(keys.bars_key(dataset, symbol))
            problems = bar_problems(staged)
            if problems or len(staged) != len(frames[symbol]):
                raise DataError(f"staged {symbol} bars failed verification: {problems}")
        for symbol in symbols:
            key = keys.bars_key(dataset, symbol)
            store.copy(staging.prefix + key, key)
            report.symbols.append(symbol)
            report.bars += len(frames[symbol])
        update_ledger(store, dataset, [
            ledger_row(s, dataset, frames[s], pd.Timestamp(now), "ok" if len(frames[s])
                       else "no_data", "rebuilt")
            for s in symbols
        ])
    finally:
        for info in staging.list_objects():
            staging.delete(info.key)
    log.info("rebuilt %s for %d symbols (%d bars)", dataset, len(report.symbols), report.bars)
    return report
