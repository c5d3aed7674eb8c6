"""Intraday watchlist selection: which symbols a session fetches 1-min bars for."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from tradingstation.calendar import utc_midnight
from tradingstation.data import point_in_time
from tradingstation.data.panel import Panel
from tradingstation.data.panel_store import load_panel
from tradingstation.data.quotes import newest_quotes
from tradingstation.errors import ObjectNotFoundError
from tradingstation.screeners import PREMARKET_SCREENERS
from tradingstation.screeners.store import load_signals
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

MIN_GAP = 0.04
DOLLAR_VOLUME_SESSIONS = 20


def _signal_candidates(
    store: ObjectStore, session: date, as_of: datetime | None
) -> list[tuple[str, float]]:
    best: dict[str, float] = {}
    # a later run's signals (stamped after as_of) did not exist at as_of
    for signal in load_signals(store, None, PREMARKET_SCREENERS, until=as_of, session=session):
        if keys.SYMBOL_RE.fullmatch(signal.symbol):
            best[signal.symbol] = max(signal.score, best.get(signal.symbol, float("-inf")))
    return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))


def _gap_candidates(
    store: ObjectStore, session: date, min_gap: float, daily: Panel | None,
    as_of: datetime | None,
) -> list[tuple[str, float]]:
    try:
        quotes = store.get_frame(keys.quotes_key(session))
    except ObjectNotFoundError:
        return []
    if as_of is not None:
        quotes = point_in_time.cut_quotes(quotes, as_of)
    if quotes.empty:
        return []
    quotes = newest_quotes(quotes)
    quotes = quotes[quotes["symbol"].astype(str).map(lambda s: bool(keys.SYMBOL_RE.fullmatch(s)))]
    if quotes.empty:
        return []
    if daily is None:
        daily = load_panel(store, "daily", sorted(set(quotes["symbol"])))
    prior = _last_closes_before(daily, session)
    gaps: list[tuple[str, float]] = []
    for symbol, price in zip(quotes["symbol"], quotes["price"], strict=True):
        close = prior.get(symbol)
        if close is None or not close > 0:
            continue
        gap = float(price) / float(close) - 1.0
        if abs(gap) >= min_gap:
            gaps.append((symbol, abs(gap)))
    return sorted(gaps, key=lambda kv: (-kv[1], kv[0]))


def _before(frame: pd.DataFrame, session: date) -> pd.DataFrame:
    """The rows of a panel field (e.g. ``daily.close``) for bars before ``session``."""
    return frame.loc[frame.index < pd.Timestamp(utc_midnight(session))]


def _last_closes_before(daily: Panel, session: date) -> pd.Series:
    """Each symbol's last daily close before ``session`` (symbols without one left out)."""
    closes = _before(daily.close, session)
    return closes.ffill().iloc[-1].dropna() if len(closes) else pd.Series(dtype="float64")


def _anchor_candidates(
    store: ObjectStore, session: date, as_of: datetime | None
) -> list[tuple[str, float]]:
    try:
        anchors = store.get_frame(keys.anchors_key(session))
    except ObjectNotFoundError:
        return []
    if "symbol" not in anchors or anchors.empty:
        return []
    if as_of is not None and "anchor_date" in anchors:
        # an anchors run after the close adds the session's own day: it did not exist before
        anchors = point_in_time.cut_anchors(anchors, session)
    counts = anchors["symbol"].astype(str).value_counts()
    pairs = [(s, float(n)) for s, n in counts.items() if keys.SYMBOL_RE.fullmatch(s)]
    return sorted(pairs, key=lambda kv: (-kv[1], kv[0]))


def _dollar_volume_leaders(
    store: ObjectStore, session: date, cap: int, daily: Panel | None
) -> list[str]:
    daily = load_panel(store, "daily") if daily is None else daily
    traded = _before(daily.close, session) * _before(daily.volume, session)
    # the last DOLLAR_VOLUME_SESSIONS bars each symbol has (symbols skip sessions they lack)
    recent = traded.notna().iloc[::-1].cumsum().iloc[::-1] <= DOLLAR_VOLUME_SESSIONS
    means = traded.where(recent).mean().dropna()
    ranked = sorted(((str(s), float(v)) for s, v in means.items()), key=lambda kv: (-kv[1], kv[0]))
    return [s for s, _ in ranked[:cap]]


def select_watchlist(
    store: ObjectStore,
    session: date,
    cap: int,
    min_gap: float = MIN_GAP,
    daily: Panel | None = None,
    as_of: datetime | None = None,
) -> list[str]:
    """Symbols whose intraday bars the session needs, at most ``cap``.

    Priority (a symbol keeps its best tier; ties by symbol):

    1. premarket signals of the session (``gap_and_go``, ``orb``), by best score;
    2. premarket quotes gapping at least ``min_gap`` from the prior daily close, by |gap|;
    3. symbols with AVWAP anchors for the session, by number of anchors.

    If none of those exist yet, the ``cap`` symbols with the highest average dollar volume
    (close x volume) over the last 20 daily bars before the session.

    Args:
        store: Object store.
        session: The session the watchlist is for.
        cap: Most symbols returned.
        min_gap: Smallest |gap| of a premarket quote from the prior close that qualifies.
        daily: The universe's daily panel when the caller already loaded it (saves reading
            every daily object again); read from ``store`` when None.
        as_of: The instant of the run: signals and quotes stamped later, and anchors dated on
            or after ``session``, are left out (:mod:`point_in_time`); None = everything.
    """
    if cap <= 0:
        raise ValueError("watchlist cap must be positive")
    ordered: list[str] = []
    seen: set[str] = set()
    for tier in (
        _signal_candidates(store, session, as_of),
        _gap_candidates(store, session, min_gap, daily, as_of),
        _anchor_candidates(store, session, as_of),
    ):
        for symbol, _ in tier:
            if symbol not in seen:
                seen.add(symbol)
                ordered.append(symbol)
    if not ordered:
        return _dollar_volume_leaders(store, session, cap, daily)
    return ordered[:cap]
