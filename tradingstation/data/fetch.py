"""Fetch jobs (universe, daily, intraday_1min, intraday_30min) without Prefect.

A job is: validate input → plan (:func:`plan_fetch`, pure) → batches of ``settings.batch_size``
symbols (:func:`fetch_batch`, one Prefect task each in the flow layer) → :class:`JobReport`.
The flow layer composes these pieces (:func:`fetch_universe`, :func:`prepare_job`,
:func:`split_batches`, :func:`fetch_batch`, :func:`summarize_job`), each in its own task.

Exit status rule (``JobReport.exit_code``): 1 when a provider-wide permanent error occurred
(bad API key, configuration) or when symbols were attempted and every one of them failed;
0 otherwise, including when some symbols failed (they are listed in the report) or when there
was nothing to fetch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from tradingstation.calendar import NY, MarketCalendar, get_calendar
from tradingstation.config import Settings
from tradingstation.data.batch import BatchResult, fetch_batch
from tradingstation.data.fetch_plan import FetchRequest, plan_fetch, to_utc
from tradingstation.data.job import JobPlan, JobReport
from tradingstation.data.ledger import REASON_MAX, ledger_row, load_ledger, update_ledger
from tradingstation.data.provenance import frame_source, is_foreign
from tradingstation.data.quotes import fetch_quotes
from tradingstation.data.symbol_fetch import FATAL_ERRORS, Stops, SymbolOutcome
from tradingstation.data.universe import (
    filter_universe,
    load_universe,
    save_universe,
    universe_source,
)
from tradingstation.data.watchlist import select_watchlist
from tradingstation.errors import InputError, TradingStationError, TransientError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.redaction import one_line
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, read_frame_bytes

__all__ = [
    "JOBS",
    "BatchResult",
    "FetchRequest",
    "JobPlan",
    "JobReport",
    "Stops",
    "SymbolOutcome",
    "fetch_batch",
    "fetch_quotes",
    "fetch_universe",
    "job_dataset",
    "plan_fetch",
    "prepare_job",
    "select_watchlist",
    "split_batches",
    "summarize_job",
]

JOBS: dict[str, str | None] = {
    "universe": None,
    "daily": "daily",
    "intraday_1min": "1min",
    "intraday_30min": "30min",
}
_READ_CHUNK = 200


def job_dataset(job: str) -> str | None:
    """The dataset fetch job ``job`` writes (None for the universe job).

    Raises:
        InputError: ``job`` is not one of :data:`JOBS`.
    """
    if job not in JOBS:
        raise InputError(f"unknown fetch job {job!r}: expected one of {', '.join(JOBS)}")
    return JOBS[job]


def _check_tickers(tickers: Sequence[str] | str | None) -> list[str] | None:
    if tickers is None:
        return None
    if isinstance(tickers, str):
        return keys.parse_symbols(tickers)
    symbols = [keys.validate_symbol(t) for t in tickers]
    return sorted(set(symbols)) or None


def _stored_bars(
    store: ObjectStore, dataset: str, symbols: Sequence[str]
) -> dict[str, pd.DataFrame | None]:
    """Stored bars of the symbols that have a bars object (None when it is unreadable)."""
    if not symbols:  # the ledger knows every symbol: no listing of thousands of objects
        return {}
    # one listing, then reads of the objects that exist: a read per symbol would make planning
    # fail whenever any one of those requests fails
    listed = store.list_objects(keys.bars_prefix(dataset))
    present = {keys.symbol_from_bars_key(i.key) for i in listed}
    wanted = [s for s in symbols if s in present]
    out: dict[str, pd.DataFrame | None] = {}
    for start in range(0, len(wanted), _READ_CHUNK):
        chunk = [keys.bars_key(dataset, s) for s in wanted[start : start + _READ_CHUNK]]
        for key, data in store.get_many(chunk).items():
            try:
                frame = read_frame_bytes(key, data)
                frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
            except (TradingStationError, KeyError, ValueError):
                frame = None  # unreadable: the batch reports it without overwriting it
            out[keys.symbol_from_bars_key(key)] = frame
    return out


def _last_bar(frame: pd.DataFrame | None) -> pd.Timestamp | None:
    last = frame["timestamp"].max() if frame is not None and len(frame) else None
    return None if last is None or pd.isna(last) else last


def _heal_ledger(
    store: ObjectStore, dataset: str, requests: Sequence[FetchRequest],
    frames: dict[str, pd.DataFrame | None], now: pd.Timestamp,
) -> None:
    """Give a ledger row to fresh symbols whose run died before its ledger update.

    Give a ledger row to fresh symbols whose bars were written by a run that died before its ledger
    update: no call will be made for them, so nothing else would record them.
    """
    rows = [
        ledger_row(r.symbol, dataset, frames[r.symbol], now, "ok",
                   "recorded from stored bars (the run that wrote them did not finish)",
                   r.expected_bar)
        for r in requests
        if not r.needs_call and frames.get(r.symbol) is not None
    ]
    if rows:
        update_ledger(store, dataset, rows)


def prepare_job(
    job: str,
    store: ObjectStore,
    provider: MarketDataProvider,
    now: datetime,
    settings: Settings,
    tickers: Sequence[str] | str | None = None,
    force: bool = False,
    force_compact: bool = False,
    calendar: MarketCalendar | None = None,
) -> JobPlan:
    """Validate input, choose the symbols and plan a bars job. Makes no provider call.

    Symbols: ``tickers`` if given, else the universe (daily) or the session's intraday
    watchlist (``select_watchlist``, capped at ``settings.watchlist_cap``). Coverage comes from
    the ledger; symbols the ledger does not know are looked up in the stored bars, so a lost
    ledger row costs nothing, and those found fresh get their row back (the only write here).

    Raises:
        InputError: Unknown job, malformed ticker or naive ``now`` (before anything happens).
        ObjectNotFoundError: The daily job has no universe yet and no tickers were given.
    """
    dataset = job_dataset(job)
    if dataset is None:
        raise InputError("the universe job is not planned per symbol: use fetch_universe")
    symbols = _check_tickers(tickers)
    now_ts = to_utc(now)
    calendar = calendar or get_calendar()
    if symbols is None:
        if dataset == "daily":
            symbols = load_universe(store)
        else:
            day = now_ts.tz_convert(NY).date()
            session = calendar.session_for(now_ts.to_pydatetime()) or calendar.previous_session(
                day
            )
            symbols = select_watchlist(store, session, settings.watchlist_cap,
                                       as_of=now_ts.to_pydatetime())
    ledger = load_ledger(store, dataset)
    known = set(ledger["symbol"])
    frames = _stored_bars(store, dataset, [s for s in symbols if s not in known])
    # bars of another provider count as nothing stored: they are replaced, not merged
    stored = {symbol: None if is_foreign(frame_source(frame), provider.name) else
              _last_bar(frame) for symbol, frame in frames.items()}
    requests = plan_fetch(
        dataset, symbols, ledger, stored, now_ts.to_pydatetime(), calendar, settings,
        force=force, force_compact=force_compact, compact_bars=provider.compact_bars,
        source=provider.name,
    )
    _heal_ledger(store, dataset, requests, frames, now_ts)
    return JobPlan(job, dataset, now_ts, list(symbols), requests)


def split_batches(requests: Sequence[FetchRequest], size: int) -> list[list[FetchRequest]]:
    """Requests that need calls, in batches of at most ``size`` (one Prefect task each)."""
    if size <= 0:
        raise InputError(f"batch size must be positive, got {size}")
    todo = [r for r in requests if r.needs_call]
    return [todo[i : i + size] for i in range(0, len(todo), size)]


def summarize_job(
    plan: JobPlan, results: Sequence[BatchResult], provider: MarketDataProvider
) -> JobReport:
    """Combine the plan's skipped symbols and the batches' outcomes into one report.

    A request that no batch reports (a batch that never ran) is listed as failed, transient.
    """
    report = JobReport(plan.job, plan.dataset, plan.now, demo=provider.is_demo)
    done: dict[str, SymbolOutcome] = {}
    for result in results:
        report.calls += result.calls
        report.writes += result.writes
        report.quarantined.extend(result.quarantined)
        report.fatal_error = report.fatal_error or result.fatal_error
        for outcome in result.outcomes:
            done[outcome.symbol] = outcome
    for request in plan.requests:
        report.planned_calls += request.calls
        if not request.needs_call:
            report.outcomes.append(SymbolOutcome(request.symbol, request.action, request.action,
                                                 request.reason))
        elif request.symbol in done:
            report.outcomes.append(done[request.symbol])
        else:
            reason = f"not attempted: {report.fatal_error}" if report.fatal_error else (
                "not attempted: its batch did not run"
            )
            report.outcomes.append(SymbolOutcome(request.symbol, request.action, "failed",
                                                 reason, transient=not report.fatal_error))
    return report


def fetch_universe(
    store: ObjectStore,
    provider: MarketDataProvider,
    now: datetime,
    force: bool = False,
) -> JobReport:
    """The universe job: listing → filters → today's snapshot + ``universe/latest``.

    Free when today's snapshot already exists (unless ``force``) and came from this provider.
    Snapshots are dated by the New York calendar day of ``now``.
    """
    now_ts = to_utc(now)
    day = now_ts.tz_convert(NY).date()
    report = JobReport("universe", None, now_ts, demo=provider.is_demo)
    recorded = universe_source(store)
    if not force and recorded is not None and not is_foreign(recorded, provider.name) and (
        store.exists(keys.universe_history_key(day))
    ):
        report.outcomes.append(SymbolOutcome("universe", "fresh", "fresh",
                                             f"snapshot of {day.isoformat()} exists"))
        return report
    report.planned_calls = report.calls = 1
    try:
        listing = provider.listing()
        kept = filter_universe(listing)
        dropped = dict(kept.attrs.get("dropped", {}))
        written = save_universe(store, kept, day, provider.name)
    except TradingStationError as exc:
        if isinstance(exc, FATAL_ERRORS):
            report.fatal_error = one_line(exc, (), REASON_MAX)
        report.outcomes.append(SymbolOutcome("universe", "full", "failed",
                                             one_line(exc, (), REASON_MAX),
                                             calls=1, transient=isinstance(exc, TransientError)))
        return report
    report.writes = written
    report.details = {"listed": len(listing), "kept": len(kept), "dropped": dropped}
    report.outcomes.append(SymbolOutcome(
        "universe", "full", "ok", f"kept {len(kept)} of {len(listing)} listings", calls=1,
        written=bool(written),
    ))
    return report
