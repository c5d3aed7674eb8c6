"""Fetch batches: one batch of symbols per call, incremental and self-healing via the ledger.

Retry ownership: nothing here retries. :func:`fetch_batch` returns every symbol's outcome and
lists the symbols that failed with a ``TransientError`` (``BatchResult.retry_requests``); the
task layer retries the batch, and a retry fetches *those requests only*, re-planned from the
ledger (:mod:`tradingstation.data.batch_retry`: a symbol already fetched is never fetched twice).
Permanent failures are reported once and not retried. A permanent provider-wide error (bad API
key, configuration) stops further calls of the batch and of the job (``fatal_error``); a
premium-only refusal of full history stops further full/month requests the same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from tradingstation.calendar import get_calendar
from tradingstation.config import Settings
from tradingstation.contracts import Split, canonicalize_bars, validate_bars
from tradingstation.data.bars import merge_bars
from tradingstation.data.fetch_plan import FetchRequest, expected_bar, to_utc
from tradingstation.data.ledger import REASON_MAX, ledger_row, update_ledger
from tradingstation.data.provenance import foreign_reason, frame_source, is_foreign, with_source
from tradingstation.data.retention import trim_bars
from tradingstation.data.split_ledger import applied_splits
from tradingstation.data.splits import (
    SplitCandidate,
    adjust_bars,
    find_candidates,
    keep_consistent,
    session_dates,
)
from tradingstation.data.volume_profile import record_before_trim
from tradingstation.errors import (
    ConfigError,
    DataError,
    InvalidApiKeyError,
    ObjectNotFoundError,
    PremiumEndpointError,
    TradingStationError,
    TransientError,
)
from tradingstation.providers.base import MarketDataProvider
from tradingstation.redaction import one_line
from tradingstation.storage import keys
from tradingstation.storage.base import (
    ObjectStore,
    put_frame_if_changed,
    read_frame_bytes,
    sha256_hex,
)
from tradingstation.storage.locks import object_lock

log = logging.getLogger(__name__)

FATAL_ERRORS = (InvalidApiKeyError, ConfigError)
# Datasets whose fetched sessions are scanned for split-like moves: daily, and 1-min because on
# a split's first morning only the premarket minutes show it (the daily bar comes at the close).
SPLIT_SCANNED = ("daily", "1min")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SymbolOutcome:
    """What happened to one symbol in a job.

    Attributes:
        symbol: Ticker.
        action: The planned action (see ``FetchRequest.action``).
        outcome: ``ok``, ``no_data`` or ``failed`` after a call; ``fresh`` or
            ``known_no_data`` when skipped.
        reason: One line, no secret.
        calls: Provider calls made for this symbol.
        written: Whether the bars object was written (unchanged content is not rewritten).
        transient: Whether the failure may pass on retry.
        hole: Whether a hole deeper than compact remains (``--force-compact``).
        split_candidates: Split-like moves in the sessions this fetch brought (daily, 1-min).
    """

    symbol: str
    action: str
    outcome: str
    reason: str = ""
    calls: int = 0
    written: bool = False
    transient: bool = False
    hole: bool = False
    split_candidates: tuple[SplitCandidate, ...] = ()


@dataclass
class BatchResult:
    """Outcome of :func:`fetch_batch`.

    Attributes:
        dataset: The dataset fetched.
        outcomes: One per request, in request order.
        calls: Provider calls made.
        writes: Bars objects written.
        quarantined: Keys of rejected provider data kept for inspection.
        ledger_written: Whether the ledger object was written.
        retry_requests: Requests that failed transiently; retry exactly these.
        fatal_error: A provider-wide permanent error (bad key, config), if one occurred.
    """

    dataset: str
    outcomes: list[SymbolOutcome] = field(default_factory=list)
    calls: int = 0
    writes: int = 0
    quarantined: list[str] = field(default_factory=list)
    ledger_written: bool = False
    retry_requests: list[FetchRequest] = field(default_factory=list)
    fatal_error: str | None = None

    @property
    def transient_failures(self) -> list[str]:
        """Symbols that failed with a TransientError."""
        return [r.symbol for r in self.retry_requests]


class _Stops:
    """Flags shared by the workers of a batch: after a provider-wide refusal, stop asking."""

    def __init__(self, fatal: str | None = None, no_full: str | None = None) -> None:
        self.lock = threading.Lock()
        self.fatal = fatal
        self.no_full = no_full


def _stamp(now: pd.Timestamp) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


def _call_provider(
    provider: MarketDataProvider, request: FetchRequest, counter: list[int]
) -> list[pd.DataFrame]:
    """Make the request's provider calls: month history first, then the latest window."""
    if request.dataset == "daily":
        counter[0] += 1
        return [provider.daily_bars(request.symbol, full=request.full)]
    frames = []
    for month in request.months:
        counter[0] += 1
        frames.append(provider.intraday_bars(request.symbol, request.dataset, month=month))
    counter[0] += 1
    frames.append(provider.intraday_bars(request.symbol, request.dataset, full=request.full))
    return frames


def _quarantine(store: ObjectStore, request: FetchRequest, frame: object, now) -> str | None:
    if not isinstance(frame, pd.DataFrame):
        return None
    key = keys.quarantine_key(request.dataset, request.symbol, _stamp(now))
    try:
        store.put_frame(key, frame.reset_index(drop=True))
    except Exception as exc:  # a quarantine copy must never hide the real failure
        log.warning("could not quarantine %s: %s", key, one_line(exc, (), REASON_MAX))
        return None
    return key


def _process(
    store: ObjectStore,
    provider: MarketDataProvider,
    request: FetchRequest,
    now: pd.Timestamp,
    settings: Settings,
    stops: _Stops,
    secrets: list[str],
    cutoff: pd.Timestamp,
    splits: list[Split],
) -> tuple[SymbolOutcome, dict | None, str | None, FetchRequest | None]:
    """Fetch, validate, merge, trim and write one symbol; never raises a TradingStationError.

    Stored bars of another source than ``provider`` are replaced, not merged (see
    :mod:`tradingstation.data.provenance`); until a fetch succeeds they stay as they are.

    Returns (outcome, ledger row or None, quarantine key or None, request to retry or None).
    """
    symbol, dataset = request.symbol, request.dataset
    source = provider.name
    key = keys.bars_key(dataset, symbol)

    def failed(reason: str, calls: int, stored=None, transient=False, quarantined=None):
        outcome = SymbolOutcome(symbol, request.action, "failed",
                                one_line(reason, secrets, REASON_MAX),
                                calls, transient=transient)
        row = ledger_row(symbol, dataset, stored, now, "failed", outcome.reason,
                         request.expected_bar, transient=transient)
        return outcome, row, quarantined, request if transient else None

    try:
        stored_bytes = store.get_bytes(key)
    except ObjectNotFoundError:
        stored_bytes = None
    except TradingStationError as exc:
        return failed(f"could not read stored bars: {exc}", 0,
                      transient=isinstance(exc, TransientError))
    stored = None
    if stored_bytes is not None:
        try:
            stored = canonicalize_bars(read_frame_bytes(key, stored_bytes))
        except DataError as exc:
            # Never overwrite bars we cannot read: a merge would silently drop them.
            outcome = SymbolOutcome(symbol, request.action, "failed",
                                    one_line(f"{exc}; restore it or run `data verify`", secrets,
                                             REASON_MAX))
            return outcome, None, None, None

    with stops.lock:
        refusal = stops.fatal or (stops.no_full if request.full or request.months else None)
    if refusal:
        return failed(f"not attempted: {refusal}", 0, stored)

    counter = [0]
    try:
        raws = _call_provider(provider, request, counter)
    except FATAL_ERRORS as exc:
        with stops.lock:
            stops.fatal = stops.fatal or one_line(exc, secrets, REASON_MAX)
        return failed(str(exc), counter[0], stored)
    except PremiumEndpointError as exc:
        with stops.lock:
            stops.no_full = stops.no_full or one_line(
                f"{exc} (use --force-compact to fetch compact data only)", secrets, REASON_MAX
            )
        return failed(stops.no_full, counter[0], stored)
    except DataError as exc:
        # Providers may attach the rejected frame to the error as ``exc.frame``.
        quarantined = _quarantine(store, request, getattr(exc, "frame", None), now)
        return failed(str(exc), counter[0], stored, quarantined=quarantined)
    except TransientError as exc:
        return failed(str(exc), counter[0], stored, transient=True)
    except TradingStationError as exc:
        return failed(str(exc), counter[0], stored)

    fresh = None
    for raw in raws:
        try:
            frame = validate_bars(canonicalize_bars(raw), f"{symbol} {dataset} bars")
        except DataError as exc:
            # The provider should have caught it; keep the evidence and merge nothing at all.
            quarantined = _quarantine(store, request, raw, now)
            return failed(str(exc), counter[0], stored, quarantined=quarantined)
        fresh = merge_bars(fresh, frame)  # later calls are newer: they win

    # Only completed bars are stored: an in-progress bar (today's daily bar during the session,
    # the current minute) would otherwise look "fresh" and never be corrected.
    fresh = fresh[fresh["timestamp"] <= cutoff].reset_index(drop=True)
    # Providers serve as-traded bars; the stored history is adjusted for every applied split.
    fresh = adjust_bars(fresh, dataset, splits)
    # Another job of this process may have written the symbol while we were fetching: merge
    # into what is stored *now*, under a per-object lock, or its bars would be lost. (Runs in
    # other processes are serialized by the dataset lock, tradingstation.storage.locks.)
    replaced = ""
    with object_lock(store, key):
        try:
            current = store.head(key)
            if (current is None) != (stored_bytes is None) or (
                current is not None and current.sha256 != sha256_hex(stored_bytes)
            ):
                stored_bytes = store.get_bytes(key) if current is not None else None
                stored = (canonicalize_bars(read_frame_bytes(key, stored_bytes))
                          if stored_bytes is not None else None)
            base = stored
            if is_foreign(frame_source(stored), source):
                replaced, base = foreign_reason(frame_source(stored), source), None
            untrimmed = merge_bars(base, keep_consistent(base, fresh))
            merged = with_source(trim_bars(dataset, untrimmed, now, settings), source)
            written = put_frame_if_changed(store, key, merged, stored=stored)
            if dataset == "1min":  # keep what Gap & Go's relative volume needs beyond retention
                record_before_trim(store, symbol, untrimmed, merged, now, source)
        except DataError as exc:
            outcome = SymbolOutcome(symbol, request.action, "failed",
                                    one_line(f"{exc}; restore it or run `data verify`", secrets,
                                             REASON_MAX))
            return outcome, None, None, None
        except TradingStationError as exc:
            return failed(f"could not write bars: {exc}", counter[0], stored,
                          transient=isinstance(exc, TransientError))

    newest = merged["timestamp"].iloc[-1] if len(merged) else None
    if newest is not None and newest >= request.expected_bar:
        state, reason = "ok", f"{len(fresh)} bars received"
    else:
        shown = newest.isoformat() if newest is not None else "none"
        state = "no_data"
        reason = f"provider has no bar for {request.expected_bar.isoformat()} (newest {shown})"
    if request.hole:
        reason += f"; {request.reason}"
    if replaced:
        reason += f"; {replaced}"
    candidates: tuple[SplitCandidate, ...] = ()
    if dataset in SPLIT_SCANNED and len(fresh):  # CPU only: confirming one is a later step
        since = session_dates(fresh.iloc[:1], dataset)[0]
        candidates = tuple(find_candidates(symbol, merged, dataset, since=since))
    outcome = SymbolOutcome(symbol, request.action, state,
                            one_line(reason, secrets, REASON_MAX),
                            counter[0], written=written, hole=request.hole,
                            split_candidates=candidates)
    row = ledger_row(symbol, dataset, merged, now, state, outcome.reason, request.expected_bar)
    return outcome, row, None, None


def fetch_batch(
    store: ObjectStore,
    provider: MarketDataProvider,
    dataset: str,
    requests: Sequence[FetchRequest],
    now: datetime,
    settings: Settings,
    max_workers: int | None = None,
    progress: Callable[[FetchRequest, SymbolOutcome], None] | None = None,
    fatal_error: str | None = None,
) -> BatchResult:
    """Fetch one batch of symbols: the unit of work of one Prefect task.

    Provider calls run concurrently (``max_workers``, default ``settings.http_concurrency``);
    the provider applies the shared rate limiter. Per symbol: read stored bars, call, validate
    (invalid data is quarantined under ``keys.quarantine_key`` and nothing is merged), merge
    (newest fetch wins, nothing dropped), apply retention, write only if the content changed.
    A failing symbol never blocks the others. The ledger is updated once, at the end.

    Args:
        store: Object store.
        provider: Market data provider.
        dataset: ``daily``, ``1min`` or ``30min``.
        requests: Planned requests (those that need no call are ignored).
        now: Time of the fetch (tz-aware): retention and ``last_fetch`` use it.
        settings: Settings (concurrency, retention, secrets for redaction).
        max_workers: Concurrency override.
        progress: Called in the calling thread after each symbol.
        fatal_error: A fatal error from an earlier batch: nothing is attempted.

    Returns:
        The batch result; ``retry_requests`` holds what a retry should fetch again.
    """
    keys.validate_dataset(dataset)
    now_ts = to_utc(now)
    todo = [r for r in requests if r.needs_call]
    wrong = sorted({r.dataset for r in todo} - {dataset})
    if wrong:
        raise DataError(f"requests for {', '.join(wrong)} given to a {dataset} batch")
    result = BatchResult(dataset=dataset)
    stops = _Stops(fatal=fatal_error)
    # A retried batch may run well after planning: bars completed since then are welcome.
    cutoff = expected_bar(dataset, now_ts.to_pydatetime(), get_calendar())
    secrets = settings.secret_values()
    rows: list[dict] = []
    workers = max(1, min(max_workers or settings.http_concurrency, len(todo) or 1))
    known = applied_splits(store) if todo else {}
    outcomes: dict[int, SymbolOutcome] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        futures = {
            pool.submit(_process, store, provider, r, now_ts, settings, stops, secrets,
                        max(cutoff, r.expected_bar), known.get(r.symbol, [])): i
            for i, r in enumerate(todo)
        }
        for future in as_completed(futures):
            index = futures[future]
            outcome, row, quarantined, retry = future.result()
            outcomes[index] = outcome
            result.calls += outcome.calls
            result.writes += int(outcome.written)
            if row is not None:
                rows.append(row)
            if quarantined:
                result.quarantined.append(quarantined)
            if retry is not None:
                result.retry_requests.append(retry)
            if progress is not None:
                progress(todo[index], outcome)
    result.outcomes = [outcomes[i] for i in range(len(todo))]
    order = {r.symbol: i for i, r in enumerate(todo)}
    result.retry_requests.sort(key=lambda r: order[r.symbol])
    result.fatal_error = stops.fatal
    if rows:
        result.ledger_written = update_ledger(store, dataset, pd.DataFrame(rows))
    return result
