"""One symbol of a fetch batch: read what is stored, call the provider, validate, merge, write.

:func:`process_symbol` never raises a ``TradingStationError``: every way it can end is an
outcome (with a ledger row unless the stored bars are unreadable), so a failing symbol never
blocks the others of its batch (:func:`tradingstation.data.batch.fetch_batch`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import pandas as pd

from tradingstation.config import Settings
from tradingstation.contracts import Split, canonicalize_bars, validate_bars
from tradingstation.data.bars import merge_bars
from tradingstation.data.fetch_plan import FetchRequest
from tradingstation.data.ledger import REASON_MAX, ledger_row
from tradingstation.data.provenance import foreign_reason, frame_source, is_foreign, with_source
from tradingstation.data.retention import trim_bars
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

class Stops:
    """Refusals shared by the workers of a job's batches: after a provider-wide one, stop asking.

    One per fetch job: its batches run at once as separate tasks, and without it every batch
    would make its own calls with a rejected key.
    """

    def __init__(self, fatal: str | None = None, no_full: str | None = None) -> None:
        """Start with the refusals already known (none by default)."""
        self.lock = threading.Lock()
        self.fatal = fatal
        self.no_full = no_full

    def __getstate__(self) -> dict[str, str | None]:
        """The refusals, without the lock: a task runner may pickle a task's parameters."""
        with self.lock:
            return {"fatal": self.fatal, "no_full": self.no_full}

    def __setstate__(self, state: dict[str, str | None]) -> None:
        """Restore the refusals with a lock of this process."""
        self.lock = threading.Lock()
        self.fatal, self.no_full = state["fatal"], state["no_full"]


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


Result = tuple[SymbolOutcome, dict | None, str | None, FetchRequest | None]


class _Done(Exception):  # noqa: N818 - not an error: how a step ends a symbol's processing early
    """A step ended one symbol's processing; ``result`` is what :func:`process_symbol` returns."""

    def __init__(self, result: Result) -> None:
        super().__init__(result[0].reason)
        self.result = result


@dataclass
class _Symbol:
    """One symbol's fetch: what its steps share, and how they end it early."""

    store: ObjectStore
    provider: MarketDataProvider
    request: FetchRequest
    now: pd.Timestamp
    secrets: list[str]
    counter: list[int] = field(default_factory=lambda: [0])  # provider calls made

    @property
    def key(self) -> str:
        """The symbol's bars object."""
        return keys.bars_key(self.request.dataset, self.request.symbol)

    def failed(self, reason: str, stored: pd.DataFrame | None = None, transient: bool = False,
               quarantined: str | None = None) -> _Done:
        """End as failed, with a ledger row (and the request to retry when ``transient``)."""
        request = self.request
        outcome = SymbolOutcome(request.symbol, request.action, "failed",
                                one_line(reason, self.secrets, REASON_MAX), self.counter[0],
                                transient=transient)
        row = ledger_row(request.symbol, request.dataset, stored, self.now, "failed",
                         outcome.reason, request.expected_bar, transient=transient)
        return _Done((outcome, row, quarantined, request if transient else None))

    def unreadable(self, exc: DataError) -> _Done:
        """End as failed without a ledger row.

        Stored bars we cannot read are never replaced (a merge would silently drop them).
        """
        reason = one_line(f"{exc}; restore it or run `data verify`", self.secrets, REASON_MAX)
        return _Done((SymbolOutcome(self.request.symbol, self.request.action, "failed", reason),
                      None, None, None))


def process_symbol(
    store: ObjectStore,
    provider: MarketDataProvider,
    request: FetchRequest,
    now: pd.Timestamp,
    settings: Settings,
    stops: Stops,
    secrets: list[str],
    cutoff: pd.Timestamp,
    splits: list[Split],
) -> Result:
    """Fetch, validate, merge, trim and write one symbol; never raises a TradingStationError.

    Stored bars of another source than ``provider`` are replaced, not merged (see
    :mod:`tradingstation.data.provenance`); until a fetch succeeds they stay as they are.

    Returns (outcome, ledger row or None, quarantine key or None, request to retry or None).
    """
    job = _Symbol(store, provider, request, now, secrets)
    try:
        stored_bytes, stored = _read_stored(job)
        with stops.lock:
            refusal = stops.fatal or (stops.no_full if request.full or request.months else None)
        if refusal:
            raise job.failed(f"not attempted: {refusal}", stored)
        fresh = _fetch_fresh(job, stops, stored, cutoff, splits)
        merged, written, replaced = _write_merged(job, settings, stored_bytes, stored, fresh)
    except _Done as done:
        return done.result
    return _fetched(job, fresh, merged, written, replaced)


def _read_stored(job: _Symbol) -> tuple[bytes | None, pd.DataFrame | None]:
    """The stored bars object of the symbol: its bytes and canonical frame (None, None: none)."""
    try:
        stored_bytes = job.store.get_bytes(job.key)
    except ObjectNotFoundError:
        return None, None
    except TradingStationError as exc:
        raise job.failed(f"could not read stored bars: {exc}",
                         transient=isinstance(exc, TransientError)) from None
    try:
        return stored_bytes, canonicalize_bars(read_frame_bytes(job.key, stored_bytes))
    except DataError as exc:
        raise job.unreadable(exc) from None


def _fetch_fresh(job: _Symbol, stops: Stops, stored: pd.DataFrame | None,
                 cutoff: pd.Timestamp, splits: list[Split]) -> pd.DataFrame:
    """The provider's bars for the request.

    Validated, merged, completed bars only, adjusted for the applied splits. A provider-wide refusal
    is recorded on ``stops`` for the others.
    """
    request, secrets = job.request, job.secrets
    what = f"{request.symbol} {request.dataset} bars"
    try:
        raws = _call_provider(job.provider, request, job.counter)
    except FATAL_ERRORS as exc:
        with stops.lock:
            stops.fatal = stops.fatal or one_line(exc, secrets, REASON_MAX)
        raise job.failed(str(exc), stored) from None
    except PremiumEndpointError as exc:
        with stops.lock:
            stops.no_full = stops.no_full or one_line(
                f"{exc} (use --force-compact to fetch compact data only)", secrets, REASON_MAX
            )
        raise job.failed(stops.no_full, stored) from None
    except DataError as exc:
        # Providers may attach the rejected frame to the error as ``exc.frame``.
        quarantined = _quarantine(job.store, request, getattr(exc, "frame", None), job.now)
        raise job.failed(str(exc), stored, quarantined=quarantined) from None
    except TransientError as exc:
        raise job.failed(str(exc), stored, transient=True) from None
    except TradingStationError as exc:
        raise job.failed(str(exc), stored) from None
    fresh = None
    for raw in raws:
        try:
            frame = validate_bars(canonicalize_bars(raw), what)
        except DataError as exc:
            # The provider should have caught it; keep the evidence and merge nothing at all.
            quarantined = _quarantine(job.store, request, raw, job.now)
            raise job.failed(str(exc), stored, quarantined=quarantined) from None
        fresh = merge_bars(fresh, frame)  # later calls are newer: they win
    # Only completed bars are stored: an in-progress bar (today's daily bar during the session,
    # the current minute) would otherwise look "fresh" and never be corrected.
    fresh = fresh[fresh["timestamp"] <= cutoff].reset_index(drop=True)
    # Providers serve as-traded bars; the stored history is adjusted for every applied split.
    return adjust_bars(fresh, request.dataset, splits)


def _write_merged(job: _Symbol, settings: Settings, stored_bytes: bytes | None,
                  stored: pd.DataFrame | None, fresh: pd.DataFrame
                  ) -> tuple[pd.DataFrame, bool, str]:
    """Merge ``fresh`` into the stored bars, trim, write if changed.

    Returns:
        ``(merged bars, written, why another source's bars were replaced or "")``.
    """
    dataset, source, key = job.request.dataset, job.provider.name, job.key
    # Another job of this process may have written the symbol while we were fetching: merge
    # into what is stored *now*, under a per-object lock, or its bars would be lost. (Runs in
    # other processes are serialized by the dataset lock, tradingstation.storage.locks.)
    replaced = ""
    with object_lock(job.store, key):
        try:
            current = job.store.head(key)
            if (current is None) != (stored_bytes is None) or (
                current is not None and current.sha256 != sha256_hex(stored_bytes)
            ):
                stored_bytes = job.store.get_bytes(key) if current is not None else None
                stored = (canonicalize_bars(read_frame_bytes(key, stored_bytes))
                          if stored_bytes is not None else None)
            base = stored
            if is_foreign(frame_source(stored), source):
                replaced, base = foreign_reason(frame_source(stored), source), None
            untrimmed = merge_bars(base, keep_consistent(base, fresh))
            merged = with_source(trim_bars(dataset, untrimmed, job.now, settings), source)
            written = put_frame_if_changed(job.store, key, merged, stored=stored)
            if dataset == "1min":  # keep what Gap & Go's relative volume needs beyond retention
                record_before_trim(job.store, job.request.symbol, untrimmed, merged, job.now,
                                   source)
        except DataError as exc:
            raise job.unreadable(exc) from None
        except TradingStationError as exc:
            raise job.failed(f"could not write bars: {exc}", stored,
                             transient=isinstance(exc, TransientError)) from None
    return merged, written, replaced


def _fetched(job: _Symbol, fresh: pd.DataFrame, merged: pd.DataFrame, written: bool,
             replaced: str) -> Result:
    """The outcome and ledger row of a symbol whose bars were merged and written."""
    request = job.request
    symbol, dataset = request.symbol, request.dataset
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
                            one_line(reason, job.secrets, REASON_MAX), job.counter[0],
                            written=written, hole=request.hole, split_candidates=candidates)
    row = ledger_row(symbol, dataset, merged, job.now, state, outcome.reason,
                     request.expected_bar)
    return outcome, row, None, None
