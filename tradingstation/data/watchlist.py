"""Intraday watchlist selection and premarket quotes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from tradingstation.calendar import utc_midnight
from tradingstation.data.ledger import put_frame_if_changed
from tradingstation.data.panel import load_bars
from tradingstation.errors import DataError, ObjectNotFoundError
from tradingstation.providers.base import QUOTE_COLUMNS, MarketDataProvider
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

PREMARKET_SCREENERS = ("gap_and_go", "orb", "opening_range_breakout")
QUOTES_PER_CALL = 100
MIN_GAP = 0.04
DOLLAR_VOLUME_SESSIONS = 20


def _signal_candidates(store: ObjectStore, session: date) -> list[tuple[str, float]]:
    best: dict[str, float] = {}
    for screener in PREMARKET_SCREENERS:
        try:
            document = store.get_json(keys.signals_key(session, screener))
        except ObjectNotFoundError:
            continue
        items = document.get("signals", []) if isinstance(document, dict) else document
        if not isinstance(items, list):
            raise DataError(f"object {keys.signals_key(session, screener)} is not a signal list")
        for item in items:
            symbol = item.get("symbol") if isinstance(item, dict) else None
            if not isinstance(symbol, str) or not keys.SYMBOL_RE.fullmatch(symbol):
                continue
            score = float(item.get("score") or 0.0)
            best[symbol] = max(score, best.get(symbol, float("-inf")))
    return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))


def _gap_candidates(store: ObjectStore, session: date, min_gap: float) -> list[tuple[str, float]]:
    try:
        quotes = store.get_frame(keys.quotes_key(session))
    except ObjectNotFoundError:
        return []
    quotes = quotes[quotes["symbol"].astype(str).map(lambda s: bool(keys.SYMBOL_RE.fullmatch(s)))]
    if quotes.empty:
        return []
    cutoff = pd.Timestamp(utc_midnight(session))
    gaps: list[tuple[str, float]] = []
    bars = load_bars(store, "daily", sorted(set(quotes["symbol"])))
    for symbol, price in zip(quotes["symbol"], quotes["price"], strict=True):
        daily = bars.get(symbol)
        if daily is None:
            continue
        before = daily[pd.to_datetime(daily["timestamp"], utc=True) < cutoff]
        if before.empty or not before["close"].iloc[-1] > 0:
            continue
        gap = float(price) / float(before["close"].iloc[-1]) - 1.0
        if abs(gap) >= min_gap:
            gaps.append((symbol, abs(gap)))
    return sorted(gaps, key=lambda kv: (-kv[1], kv[0]))


def _anchor_candidates(store: ObjectStore, session: date) -> list[tuple[str, float]]:
    try:
        anchors = store.get_frame(keys.anchors_key(session))
    except ObjectNotFoundError:
        return []
    if "symbol" not in anchors or anchors.empty:
        return []
    counts = anchors["symbol"].astype(str).value_counts()
    pairs = [(s, float(n)) for s, n in counts.items() if keys.SYMBOL_RE.fullmatch(s)]
    return sorted(pairs, key=lambda kv: (-kv[1], kv[0]))


def _dollar_volume_leaders(store: ObjectStore, session: date, cap: int) -> list[str]:
    cutoff = pd.Timestamp(utc_midnight(session))
    ranked: list[tuple[str, float]] = []
    for symbol, bars in load_bars(store, "daily").items():
        recent = bars[pd.to_datetime(bars["timestamp"], utc=True) < cutoff]
        recent = recent.tail(DOLLAR_VOLUME_SESSIONS)
        if len(recent):
            ranked.append((symbol, float((recent["close"] * recent["volume"]).mean())))
    ranked.sort(key=lambda kv: (-kv[1], kv[0]))
    return [s for s, _ in ranked[:cap]]


def select_watchlist(
    store: ObjectStore, session: date, cap: int, min_gap: float = MIN_GAP
) -> list[str]:
    """Symbols whose intraday bars the session needs, at most ``cap``.

    Priority (a symbol keeps its best tier; ties by symbol):

    1. premarket signals of the session (``gap_and_go``, ``orb``), by best score;
    2. premarket quotes gapping at least ``min_gap`` from the prior daily close, by |gap|;
    3. symbols with AVWAP anchors for the session, by number of anchors.

    If none of those exist yet, the ``cap`` symbols with the highest average dollar volume
    (close x volume) over the last 20 daily bars before the session.
    """
    if cap <= 0:
        raise ValueError("watchlist cap must be positive")
    ordered: list[str] = []
    seen: set[str] = set()
    for tier in (
        _signal_candidates(store, session),
        _gap_candidates(store, session, min_gap),
        _anchor_candidates(store, session),
    ):
        for symbol, _ in tier:
            if symbol not in seen:
                seen.add(symbol)
                ordered.append(symbol)
    if not ordered:
        return _dollar_volume_leaders(store, session, cap)
    return ordered[:cap]


def fetch_quotes(
    store: ObjectStore, provider: MarketDataProvider, session: date, symbols: Sequence[str]
) -> pd.DataFrame:
    """Fetch premarket quotes of ``symbols`` and store them at ``keys.quotes_key(session)``.

    Calls ``provider.quotes`` in chunks of 100 symbols. Quotes already stored for the session
    are kept; a symbol quoted again keeps its newest quote. Errors propagate (the task layer
    retries); nothing is written unless every chunk succeeded.

    Returns:
        All quotes stored for the session.
    """
    wanted = sorted({keys.validate_symbol(s) for s in symbols})
    key = keys.quotes_key(session)
    chunks = [
        provider.quotes(wanted[i : i + QUOTES_PER_CALL])
        for i in range(0, len(wanted), QUOTES_PER_CALL)
    ]
    try:
        stored = store.get_frame(key)
    except ObjectNotFoundError:
        stored = None
    frames = [f[QUOTE_COLUMNS] for f in ([stored] if stored is not None else []) + chunks]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: [] for c in QUOTE_COLUMNS})
    quotes = pd.concat(frames, ignore_index=True)
    quotes["timestamp"] = pd.to_datetime(quotes["timestamp"], utc=True)
    quotes = quotes.sort_values(["symbol", "timestamp"], kind="stable")
    quotes = quotes.drop_duplicates("symbol", keep="last").reset_index(drop=True)
    put_frame_if_changed(store, key, quotes, stored=stored)
    return quotes
