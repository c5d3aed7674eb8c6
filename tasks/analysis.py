"""Analysis tasks: AVWAP anchors and screeners over the whole universe at once."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.policy import retry_options, run_ids
from tradingstation import logs
from tradingstation.anchor_table import merge_anchors
from tradingstation.anchors import anchors_at
from tradingstation.data.panel import Panel
from tradingstation.data.panel_store import load_panel
from tradingstation.data.sources import screened_demo, usable_quotes
from tradingstation.data.split_ledger import drop_unresolved
from tradingstation.data.volume_profile import load_volume_profiles
from tradingstation.errors import ObjectNotFoundError
from tradingstation.screeners import ScreenInput, run_screeners
from tradingstation.screeners.minute_needs import MinuteNeeds, minute_needs
from tradingstation.screeners.store import load_signals, save_signals
from tradingstation.signals import Signal
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, put_frame_if_changed

log = logging.getLogger("tradingstation.screeners")


# The panel is a hand-off in memory: never written to result storage, even where results
# are persisted by default (it is ~100 MB for 6,000 symbols).
@task(name="load-daily", cache_policy=NO_CACHE, persist_result=False, **retry_options())
def load_daily(store: ObjectStore, source: str = "") -> Panel:
    """Read the universe's stored daily bars once, for every later step of the session.

    The panel is handed to the anchor, watchlist and screen tasks in memory, so a session
    reads each daily object once instead of once per step. With ``source`` (the provider's
    name) symbols holding another provider's data are left out, and so are symbols under an
    unresolved split-like move (not screened; the run summary names them).
    """
    with logs.set_run_context(**run_ids()):
        daily = drop_unresolved(store, load_panel(store, "daily", source=source))
        log.info("daily panel: %d symbols x %d sessions", len(daily), len(daily.index))
        return daily


@task(name="find-anchors", cache_policy=NO_CACHE, **retry_options())
def find_session_anchors(
    store: ObjectStore,
    session: date,
    as_of: datetime,
    lookback_days: int = 30,
    symbols: Sequence[str] | None = None,
    daily: Panel | None = None,
    only_if_stored: bool = False,
    source: str = "",
) -> int:
    """Find AVWAP anchors for ``session`` and store them.

    Only the daily bars that existed at ``as_of`` are looked at
    (:func:`tradingstation.anchors.anchors_at`), so a replay at ``as_of`` stores the same
    table as the live run did, however much later data the store holds.

    Args:
        store: Object store.
        session: The session the anchors are stored for.
        as_of: The instant the anchors are found at.
        lookback_days: Sessions searched back for anchor events.
        symbols: Only these symbols (their anchors replace theirs in the stored set).
        daily: The daily panel when already loaded (``load_daily``); read when None.
        only_if_stored: Do nothing unless the session's anchors are stored already (a split
            applied mid-session recomputes its symbols' anchors, never starts a partial set).
        source: The provider's name: symbols holding another provider's data are left out
            of a panel read here.

    Returns:
        Number of anchors found.
    """
    with logs.set_run_context(**run_ids()):
        if only_if_stored and not store.exists(keys.anchors_key(session)):
            return 0
        if daily is None:
            daily = drop_unresolved(store, load_panel(store, "daily", symbols, source=source))
        elif symbols is not None:
            daily = daily.select(symbols)
        anchors = anchors_at(daily, session, as_of, lookback_days=lookback_days)
        key = keys.anchors_key(session)
        stored = _optional_frame(store, key) if symbols else None
        merged = merge_anchors(stored, anchors, symbols)
        written = put_frame_if_changed(store, key, merged, stored=stored)
        log.info("anchors for %s: %d over %d symbols (%s)", session, len(anchors), len(daily),
                 "stored" if written else "unchanged")
        return len(anchors)


def _optional_frame(store: ObjectStore, key: str) -> pd.DataFrame | None:
    try:
        return store.get_frame(key)
    except ObjectNotFoundError:
        return None


def _session_quotes(store: ObjectStore, session: date, source: str
                    ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The session's stored ``(premarket quotes, session quotes)`` of provider ``source``."""
    return (usable_quotes(_optional_frame(store, keys.quotes_key(session)), source),
            usable_quotes(_optional_frame(store, keys.market_quotes_key(session)), source))


@task(name="select-minute-symbols", cache_policy=NO_CACHE, **retry_options())
def select_minute_symbols(
    store: ObjectStore,
    session: date,
    as_of: datetime,
    watchlist: Sequence[str],
    daily: Panel,
    source: str = "",
) -> MinuteNeeds:
    """The watchlist symbols a market cycle fetches 1-min bars for.

    The watchlist symbols a market cycle fetches 1-min bars for
    (:func:`tradingstation.screeners.minute_needs.minute_needs`), from the stored quotes and the
    daily panel as known at ``as_of``.
    """
    with logs.set_run_context(**run_ids()):
        quotes, session_quotes = _session_quotes(store, session, source)
        data = ScreenInput(session=session, as_of=as_of, daily=daily.select(watchlist),
                           quotes=quotes, session_quotes=session_quotes)
        needs = minute_needs(data, watchlist)
        log.info("%s", needs.summary())
        return needs


@task(name="signal-symbols", cache_policy=NO_CACHE, **retry_options())
def session_signal_symbols(store: ObjectStore, session: date, as_of: datetime) -> list[str]:
    """Symbols of the session's stored signals stamped at or before ``as_of`` (every screener).

    The symbols the track record follows from their entry day's 1-min bars.
    """
    with logs.set_run_context(**run_ids()):
        return sorted({s.symbol for s in load_signals(store, None, session=session,
                                                     until=as_of)})


@task(name="screen", cache_policy=NO_CACHE, **retry_options())
def screen(
    store: ObjectStore,
    session: date,
    as_of: datetime,
    names: Sequence[str],
    demo: bool,
    intraday_symbols: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    tickers: Sequence[str] | None = None,
    daily: Panel | None = None,
    source: str = "",
) -> dict[str, list[Signal]]:
    """Run screeners ``names`` over the stored data once and save each one's signals.

    Args:
        store: Object store.
        session: Session screened.
        as_of: Moment of the screen (nothing newer is looked at).
        names: Screener registry names.
        demo: Data comes from the demo market (marked on every signal).
        intraday_symbols: Symbols whose 1-min bars to read (the watchlist, or in the market
            cycle the symbols it fetched 1-min bars for); None = none. The others' developing
            daily bar comes from the session quotes (``keys.market_quotes_key``).
        params: Per-screener parameters.
        tickers: Restrict the daily universe to these symbols.
        daily: The daily panel when already loaded (``load_daily``); read when None.
        source: The provider's name: data recorded from another provider is not screened,
            and signals are marked demo when the data they come from is recorded as demo.

    Returns:
        ``{screener: signals}``.
    """
    with logs.set_run_context(**run_ids()):
        if daily is None:
            daily = drop_unresolved(store, load_panel(store, "daily", tickers, source=source))
        elif tickers is not None:
            daily = daily.select(tickers)
        intraday = (load_panel(store, "1min", intraday_symbols, source=source)
                    if intraday_symbols else None)
        quotes, session_quotes = _session_quotes(store, session, source)
        profiles = (load_volume_profiles(store, intraday_symbols, source)
                    if intraday_symbols and "gap_and_go" in names else None)
        demo = demo or screened_demo(store, daily, intraday, quotes, session_quotes)
        data = ScreenInput(
            session=session,
            as_of=as_of,
            daily=daily,
            intraday_1min=intraday,
            quotes=quotes,
            session_quotes=session_quotes,
            volume_profiles=profiles,
            # Anchors come from the point-in-time daily view itself (AVWAP Reclaim finds them
            # on the bars before the session): a stored table may have been found later.
            anchors=None,
            demo=demo,
        )
        found = run_screeners(data, names, params)
        for name, signals in found.items():
            save_signals(store, session, name, signals, as_of=as_of)
            log.info("%s %s: %d signals", name, session, len(signals))
        return found
