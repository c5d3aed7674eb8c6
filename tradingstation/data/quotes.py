"""Quotes of the universe (premarket quotes.

Session quotes with the running regular-session high/low for the market cycle), stored per session
with when each was fetched and from which provider (``source``).

The stored object keeps every distinct quote of the session (one row per symbol and quote
time), not only the newest: a replay at an earlier instant must still find the quote that
existed then (see :mod:`tradingstation.data.point_in_time`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from tradingstation.contracts import QUOTE_COLUMNS, SESSION_QUOTE_COLUMNS
from tradingstation.data.provenance import SOURCE, is_foreign
from tradingstation.errors import ObjectNotFoundError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, put_frame_if_changed

QUOTES_PER_CALL = 100
FETCHED_AT = "fetched_at"
STORED_COLUMNS = [*QUOTE_COLUMNS, FETCHED_AT, SOURCE]
SESSION_STORED_COLUMNS = [*SESSION_QUOTE_COLUMNS, FETCHED_AT, SOURCE]


def fetch_quotes(
    store: ObjectStore,
    provider: MarketDataProvider,
    session: date,
    symbols: Sequence[str],
    max_age_seconds: float = 0.0,
    now: datetime | None = None,
    concurrency: int = 1,
    session_extremes: bool = False,
) -> pd.DataFrame:
    """Fetch premarket (or session) quotes of ``symbols`` and store them.

    Fetch premarket quotes of ``symbols`` and store them at ``keys.quotes_key(session)`` (with
    ``session_extremes``: ``provider.session_quotes``, which add the running regular-session
    high/low, stored at ``keys.market_quotes_key(session)``).

    Calls ``provider.quotes`` in chunks of 100 symbols. Quotes already stored for the session
    are kept; a symbol quoted again gets a row per quote time (the newest fetch of one quote
    time wins), so the history of the session stays replayable. A symbol whose stored quote was
    fetched less than ``max_age_seconds`` before ``now`` is not asked for again, so a rerun
    within that window costs no call. Stored quotes from another provider than ``provider``
    are dropped, never reused. Errors propagate (the task layer retries); nothing is written
    unless every chunk succeeded.

    Args:
        store: Object store.
        provider: Market data provider.
        session: The session the quotes belong to.
        symbols: Symbols to quote (validated first; a bad one raises ``InputError``).
        max_age_seconds: Reuse stored quotes fetched this recently (0 = always refetch).
        now: The wall-clock time the age is measured at (default: now).
        concurrency: Provider calls in flight at once.
        session_extremes: Fetch and store session quotes (the market cycle's kind).

    Returns:
        The newest stored quote of each symbol (``QUOTE_COLUMNS``, or
        ``SESSION_QUOTE_COLUMNS`` with ``session_extremes``, plus ``fetched_at``, ``source``).
    """
    wanted = sorted({keys.validate_symbol(s) for s in symbols})
    now = now or datetime.now(UTC)
    key = keys.market_quotes_key(session) if session_extremes else keys.quotes_key(session)
    columns = SESSION_STORED_COLUMNS if session_extremes else STORED_COLUMNS
    call = provider.session_quotes if session_extremes else provider.quotes
    try:
        stored = _with_fetched_at(store.get_frame(key))
    except ObjectNotFoundError:
        stored = None
    kept = stored
    if stored is not None:
        foreign = stored[SOURCE].map(lambda s: is_foreign(s, provider.name)).astype(bool)
        kept = stored[~foreign].reset_index(drop=True)
    fresh = _fresh_symbols(kept, now, max_age_seconds)
    todo = [s for s in wanted if s not in fresh]
    groups = [todo[i : i + QUOTES_PER_CALL] for i in range(0, len(todo), QUOTES_PER_CALL)]
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(groups) or 1))) as pool:
        # the provider's rate limiter paces the calls; running them side by side keeps its
        # budget busy while an answer is in flight
        chunks = [c.assign(**{FETCHED_AT: pd.Timestamp(now), SOURCE: provider.name})
                  for c in pool.map(call, groups)]
    # reindex: quotes stored (or a provider answering) before a column existed lack it
    frames = [f.reindex(columns=columns) for f in ([kept] if kept is not None else []) + chunks]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: [] for c in columns})
    quotes = pd.concat(frames, ignore_index=True)
    quotes["timestamp"] = pd.to_datetime(quotes["timestamp"], utc=True)
    quotes[FETCHED_AT] = pd.to_datetime(quotes[FETCHED_AT], utc=True)
    quotes = quotes.sort_values(["symbol", "timestamp", FETCHED_AT], kind="stable")
    quotes = quotes.drop_duplicates(["symbol", "timestamp"], keep="last").reset_index(drop=True)
    if todo or (stored is not None and len(kept) < len(stored)):
        put_frame_if_changed(store, key, quotes, stored=stored)
    return newest_quotes(quotes)


def newest_quotes(quotes: pd.DataFrame) -> pd.DataFrame:
    """The newest quote of each symbol (by quote time), sorted by symbol."""
    ordered = quotes.sort_values(["symbol", "timestamp"], kind="stable")
    return ordered.drop_duplicates("symbol", keep="last").reset_index(drop=True)


def _with_fetched_at(stored: pd.DataFrame) -> pd.DataFrame:
    # quotes stored before fetch times were recorded count as never fetched (always stale)
    if FETCHED_AT not in stored:
        stored = stored.assign(**{FETCHED_AT: pd.Timestamp(0, tz="UTC")})
    # quotes stored before sources were recorded have none ("": taken as the provider's)
    if SOURCE not in stored:
        stored = stored.assign(**{SOURCE: ""})
    stored[SOURCE] = stored[SOURCE].fillna("").astype(str)
    return stored


def _fresh_symbols(stored: pd.DataFrame | None, now: datetime, max_age: float) -> set[str]:
    if stored is None or max_age <= 0 or stored.empty:
        return set()
    since = pd.Timestamp(now - timedelta(seconds=max_age))
    fetched = pd.to_datetime(stored[FETCHED_AT], utc=True)
    return set(stored.loc[fetched >= since, "symbol"].astype(str))
