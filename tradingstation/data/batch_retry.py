"""Retrying a fetch batch: re-plan from the coverage ledger what the run still misses.

A retry of a batch task may run in another worker process, or never (a run cancelled between
attempts), so nothing about earlier attempts is kept in memory. Every attempt records each
symbol it tried in the ledger with the run's instant (``last_fetch``) and the wall-clock time
of the write (``fetched_at``); a retry asks the ledger which of its requests this run already
settled (a row of this instant written since the batch's first attempt started, that fetched:
``ok``/``no_data``, or failed for good: not ``transient``), fetches only the others and reports
the settled ones from their rows. The start bound matters: an earlier run at the same instant
(a rerun of one ``--as-of`` with ``--refetch``) wrote rows that look the same otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pandas as pd

from tradingstation.config import Settings
from tradingstation.contracts import canonicalize_bars
from tradingstation.data.batch import BatchResult, fetch_batch
from tradingstation.data.fetch_plan import FetchRequest, to_utc
from tradingstation.data.ledger import load_ledger
from tradingstation.data.splits import SplitCandidate, find_candidates, session_dates
from tradingstation.data.symbol_fetch import SPLIT_SCANNED, Stops, SymbolOutcome
from tradingstation.errors import DataError, ObjectNotFoundError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore


def settled_rows(
    ledger: pd.DataFrame, requests: Sequence[FetchRequest], now: pd.Timestamp,
    since: pd.Timestamp,
) -> dict[str, Mapping]:
    """Ledger rows of the ``requests`` that the run serving ``now`` already settled, by symbol.

    A row counts when it records a fetch for this instant, written at or after ``since`` (when
    the batch's first attempt started), that succeeded (``ok``, ``no_data``) or failed
    permanently; a transient failure, or no such row, is still missing.
    """
    wanted = {r.symbol for r in requests if r.needs_call}
    if not wanted or not len(ledger):
        return {}
    mine = ledger[ledger["symbol"].isin(wanted) & (ledger["last_fetch"] == now)
                  & (ledger["fetched_at"] >= since)]
    settled = mine[(mine["outcome"] != "failed") | ~mine["transient"]]
    return {row["symbol"]: row for row in settled.to_dict("records")}


def retry_batch(
    store: ObjectStore,
    provider: MarketDataProvider,
    dataset: str,
    requests: Sequence[FetchRequest],
    now: datetime,
    settings: Settings,
    since: datetime,
    stops: Stops | None = None,
) -> BatchResult:
    """A later attempt of :func:`fetch_batch` for the same run (same ``now``).

    ``since`` is when the batch's first attempt started (wall clock, tz-aware); ``stops`` the
    job's shared refusals (see :func:`~tradingstation.data.batch.fetch_batch`).

    Fetches the requests the ledger does not record as settled for ``now``; the result lists
    every request's outcome, those settled earlier first (their split-like moves found again
    in the stored bars, as the attempt that fetched them reported them).
    """
    settled = settled_rows(load_ledger(store, dataset), requests, to_utc(now), to_utc(since))
    todo = [r for r in requests if r.symbol not in settled]
    result = fetch_batch(store, provider, dataset, todo, now, settings, stops=stops)
    earlier = [_settled_outcome(store, r, settled[r.symbol], provider.compact_bars)
               for r in requests if r.symbol in settled]
    result.outcomes = earlier + result.outcomes
    return result


def _settled_outcome(store: ObjectStore, request: FetchRequest, row: Mapping,
                     compact_bars: int) -> SymbolOutcome:
    fetched = row["outcome"] != "failed"
    return SymbolOutcome(
        request.symbol, request.action, row["outcome"], row["reason"],
        calls=request.calls if fetched else 0, hole=request.hole and fetched,
        split_candidates=_candidates(store, request, compact_bars) if fetched else (),
    )


def _candidates(store: ObjectStore, request: FetchRequest,
                compact_bars: int) -> tuple[SplitCandidate, ...]:
    """Split-like moves in the sessions ``request`` fetched, from the stored bars."""
    if request.dataset not in SPLIT_SCANNED:
        return ()
    try:
        bars = canonicalize_bars(store.get_frame(keys.bars_key(request.dataset, request.symbol)))
    except (ObjectNotFoundError, DataError):
        return ()
    fetched = bars if request.full or request.months else bars.tail(compact_bars)
    if not len(fetched):
        return ()
    since = session_dates(fetched.iloc[:1], request.dataset)[0]
    return tuple(find_candidates(request.symbol, bars, request.dataset, since=since))
