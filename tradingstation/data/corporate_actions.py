"""The corporate-actions ledger: splits found in the data, confirmed by the provider, applied.

One JSON document (``keys.corporate_actions_key``), one entry per symbol and effective date::

    {"schema": 1, "splits": [{"symbol": "NVDA", "effective_date": "2024-06-10", "factor": 10.0,
      "state": "applied", "source": "alphavantage SPLITS", "observed": 10.02, ...}]}

States: ``applying`` → ``applied`` (stored bars back-adjusted), ``unchecked`` (the provider
could not be asked yet; the next run asks again), ``unconfirmed`` (a strong split-like move the
provider does not report: a human decides, see ``tradingstation data splits``), ``dismissed``
(not a split: the provider reports none and the volume did not move inversely, or an operator
said so). A symbol with an ``unchecked`` or ``unconfirmed`` entry is not screened.

Flow of a split (see :func:`check_candidates` and :func:`apply_verdicts`): the daily fetch sees
a split-like discontinuity in the bars it merged (:func:`tradingstation.data.splits.
find_candidates`, no call); after the fetch released its lock, one ``SPLITS`` call per symbol
with a new candidate confirms it; then, holding the write locks of every dataset, the symbol's
daily, 30-min and 1-min objects are back-adjusted and the entry is marked ``applied``. Every
later fetch adjusts what it receives by the applied splits before merging (providers serve
as-traded bars), so a split is applied exactly once. Idempotence across a crash: the entry is
written ``applying`` with each object's hash before and after adjustment before any object is
written; a rerun skips objects already at their "after" hash.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from tradingstation.data.bars import canonicalize_bars
from tradingstation.data.ledger import frame_to_parquet, one_line
from tradingstation.data.panel import Panel
from tradingstation.data.splits import Split, SplitCandidate, adjust_bars, shows_split
from tradingstation.errors import (
    DataError,
    ObjectNotFoundError,
    PermanentError,
    TransientError,
)
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, read_frame_bytes, sha256_hex

log = logging.getLogger(__name__)

SCHEMA = 1
APPLIED_STATES = ("applying", "applied")
UNRESOLVED_STATES = ("unchecked", "unconfirmed")
STATES = (*APPLIED_STATES, *UNRESOLVED_STATES, "dismissed")
DATE_SLACK_DAYS = 4  # the provider's effective date may differ from the first bar at the new price
FACTOR_TOLERANCE = 0.05


def repair_command(symbol: str, day: date, factor: float) -> str:
    """The command that resolves an unconfirmed split-like move of ``symbol``."""
    return (f"tradingstation data splits --symbol {symbol} --date {day.isoformat()} "
            f"--factor {factor:g}   (or --dismiss if it was a real price move)")


@dataclass
class SplitLedger:
    """The corporate-actions ledger in memory: ``{(symbol, effective date): entry}``."""

    entries: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def get(self, symbol: str, day: date) -> dict[str, Any] | None:
        """The entry of ``symbol`` on ``day``, if any."""
        return self.entries.get((symbol, day.isoformat()))

    def put(self, entry: dict[str, Any]) -> None:
        """Add or replace an entry."""
        if entry["state"] not in STATES:
            raise DataError(f"unknown corporate-action state {entry['state']!r}")
        self.entries[(entry["symbol"], entry["effective_date"])] = entry

    def applied(self) -> dict[str, list[Split]]:
        """Splits every stored bar already reflects (or is being adjusted for), per symbol."""
        out: dict[str, list[Split]] = {}
        for entry in sorted(self.entries.values(), key=lambda e: e["effective_date"]):
            if entry["state"] in APPLIED_STATES:
                out.setdefault(entry["symbol"], []).append(entry_split(entry))
        return out

    def unresolved(self) -> dict[str, list[dict[str, Any]]]:
        """Entries a run or a human still has to resolve, per symbol (not screened)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for entry in self.entries.values():
            if entry["state"] in UNRESOLVED_STATES:
                out.setdefault(entry["symbol"], []).append(entry)
        return out

    def to_json(self) -> dict[str, Any]:
        """The stored document."""
        rows = sorted(self.entries.values(), key=lambda e: (e["symbol"], e["effective_date"]))
        return {"schema": SCHEMA, "splits": rows}


def entry_split(entry: dict[str, Any]) -> Split:
    """The :class:`Split` an entry records."""
    return Split(entry["symbol"], date.fromisoformat(entry["effective_date"]),
                 float(entry["factor"]))


def load_split_ledger(store: ObjectStore) -> SplitLedger:
    """The stored corporate-actions ledger (empty when none was written yet).

    Raises:
        DataError: The document is not a corporate-actions ledger.
    """
    try:
        doc = store.get_json(keys.corporate_actions_key())
    except ObjectNotFoundError:
        return SplitLedger()
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(
            doc.get("splits"), list):
        raise DataError(f"{keys.corporate_actions_key()} is not a corporate-actions ledger")
    ledger = SplitLedger()
    for entry in doc["splits"]:
        ledger.put(dict(entry))
    return ledger


def save_split_ledger(store: ObjectStore, ledger: SplitLedger) -> None:
    """Write the ledger (callers hold every dataset's write lock)."""
    store.put_json(keys.corporate_actions_key(), ledger.to_json())


def new_entry(candidate: SplitCandidate, state: str, factor: float, source: str, reason: str,
              now: datetime) -> dict[str, Any]:
    """A ledger entry for ``candidate``."""
    return {"symbol": candidate.symbol, "effective_date": candidate.effective_date.isoformat(),
            "factor": float(factor), "state": state, "source": source,
            "observed": round(candidate.observed, 6),
            "volume_shift": None if pd.isna(candidate.volume_shift)
            else round(candidate.volume_shift, 4),
            "dataset": candidate.dataset, "reason": one_line(reason),
            "recorded_at": pd.Timestamp(now).isoformat(), "objects": {}}


@dataclass
class Verdict:
    """What the provider said about one candidate (see :func:`check_candidates`)."""

    candidate: SplitCandidate
    state: str
    factor: float
    source: str
    reason: str


@dataclass
class SplitReport:
    """What one reconciliation did.

    Attributes:
        candidates: New split-like moves seen (not already in the ledger).
        calls: Provider ``SPLITS`` calls made.
        applied: ``"SYMBOL date factor"`` of every split applied.
        recomputed: Symbols whose stored bars were adjusted (derived data must follow).
        unresolved: ``{symbol: line}`` of every symbol under an unresolved split-like move,
            all of the ledger's (not only this run's): they are not screened.
    """

    candidates: int = 0
    calls: int = 0
    applied: list[str] = field(default_factory=list)
    recomputed: list[str] = field(default_factory=list)
    unresolved: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"candidates": self.candidates, "calls": self.calls, "applied": self.applied,
                "recomputed": self.recomputed, "unresolved": self.unresolved}

    def notes(self) -> list[str]:
        """Lines for a run summary (none when there was nothing to do or to report)."""
        if not (self.candidates or self.calls or self.applied or self.unresolved):
            return []
        lines = [f"splits: {self.candidates} new split-like moves, {self.calls} SPLITS calls, "
                 f"{len(self.applied)} applied"]
        lines += [f"split applied: {a}" for a in self.applied]
        lines += [f"not screened: {line}" for _, line in sorted(self.unresolved.items())]
        return lines


def check_candidates(
    provider: MarketDataProvider, ledger: SplitLedger, candidates: Iterable[SplitCandidate]
) -> tuple[list[Verdict], int]:
    """Ask the provider about every candidate the ledger has not resolved: one ``SPLITS``
    call per symbol (none when there is no new candidate). Writes nothing.

    Returns:
        (verdicts, calls made).
    """
    todo: dict[tuple[str, date], SplitCandidate] = {}
    retry = [candidate_of(e) for e in ledger.entries.values() if e["state"] == "unchecked"]
    for c in [*candidates, *retry]:
        entry = ledger.get(c.symbol, c.effective_date)
        if entry is None or entry["state"] == "unchecked":
            todo.setdefault((c.symbol, c.effective_date), c)
    by_symbol: dict[str, list[SplitCandidate]] = {}
    for (symbol, _), c in sorted(todo.items()):
        by_symbol.setdefault(symbol, []).append(c)
    verdicts, calls = [], 0
    source = f"{provider.name} SPLITS"
    for symbol, found in by_symbol.items():
        calls += 1
        try:
            listed = provider.splits(symbol)
        except TransientError as exc:
            verdicts += [Verdict(c, "unchecked", c.ratio, source,
                                 f"provider not reachable, asked again next run: {exc}")
                         for c in found]
            continue
        except PermanentError as exc:
            listed, refusal = [], f"provider refused: {exc}"
        else:
            refusal = "provider reports no split on that date"
        for c in found:
            match = [s for s in listed
                     if abs((s.effective_date - c.effective_date).days) <= DATE_SLACK_DAYS
                     and abs(s.factor / c.ratio - 1.0) <= FACTOR_TOLERANCE]
            if match:
                verdicts.append(Verdict(c, "applying", match[0].factor, source,
                                        f"confirmed: {source} lists {match[0].factor:g} on "
                                        f"{match[0].effective_date.isoformat()}"))
            elif c.strong:
                verdicts.append(Verdict(c, "unconfirmed", c.ratio, source,
                                        f"{refusal}; {c.describe()}"))
            else:
                verdicts.append(Verdict(c, "dismissed", c.ratio, source,
                                        f"{refusal} and volume did not move inversely"))
    return verdicts, calls


def apply_verdicts(
    store: ObjectStore, verdicts: Sequence[Verdict], now: datetime, calls: int = 0
) -> SplitReport:
    """Record ``verdicts`` and back-adjust the stored bars of every confirmed split.

    The caller holds the write locks of every dataset (in sorted order). Entries left
    ``applying`` by a run that died are finished here too.
    """
    ledger = load_split_ledger(store)  # re-read under the locks: the latest truth
    report = SplitReport(candidates=len(verdicts), calls=calls)
    for v in verdicts:
        entry = ledger.get(v.candidate.symbol, v.candidate.effective_date)
        if entry is not None and entry["state"] != "unchecked":
            continue  # another run resolved it meanwhile
        ledger.put(new_entry(v.candidate, v.state, v.factor, v.source, v.reason, now))
    pending = [e for e in ledger.entries.values() if e["state"] == "applying"]
    plans = {id(e): _plan_adjustment(store, e) for e in pending}
    for entry in pending:
        for dataset, (before, after, _) in plans[id(entry)].items():
            entry["objects"][dataset] = {"before": before, "after": after}
    if ledger.entries:
        save_split_ledger(store, ledger)  # intent first: a crash leaves a resumable record
    for entry in pending:
        for dataset, (_, _, data) in plans[id(entry)].items():
            if data is not None:
                store.put_bytes(keys.bars_key(dataset, entry["symbol"]), data,
                                "application/vnd.apache.parquet")
        entry["state"] = "applied"
        entry["applied_at"] = pd.Timestamp(now).isoformat()
        split = entry_split(entry)
        report.applied.append(f"{split.symbol} {split.effective_date.isoformat()} "
                              f"x{split.factor:g} ({', '.join(sorted(entry['objects'])) or '-'})")
        report.recomputed.append(split.symbol)
        log.info("split applied: %s", report.applied[-1])
    if pending:
        save_split_ledger(store, ledger)
    report.recomputed = sorted(set(report.recomputed))
    report.unresolved = unresolved_lines(ledger)
    return report


def reconcile_splits(
    store: ObjectStore,
    provider: MarketDataProvider,
    candidates: Iterable[SplitCandidate],
    now: datetime,
    locked: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> SplitReport:
    """Confirm new split candidates with the provider and apply the confirmed splits.

    No call and no lock when there is nothing new (no candidate the ledger has not resolved,
    no entry left ``applying``): the ledger is only read, for the unresolved symbols.

    Args:
        store: Object store.
        provider: Market data provider (``splits``).
        candidates: Split-like moves seen by a fetch (or by verify).
        now: Time of the run.
        locked: Context manager factory holding every dataset's write lock (the task layer
            passes its cross-run locks; plain Python runs need none).
    """
    ledger = load_split_ledger(store)
    verdicts, calls = check_candidates(provider, ledger, candidates)
    if not verdicts and not any(e["state"] == "applying" for e in ledger.entries.values()):
        return SplitReport(calls=calls, unresolved=unresolved_lines(ledger))
    with locked():
        return apply_verdicts(store, verdicts, now, calls)


def unresolved_lines(ledger: SplitLedger) -> dict[str, str]:
    """``{symbol: reason and repair command}`` of every unresolved entry."""
    out = {}
    for symbol, entries in sorted(ledger.unresolved().items()):
        e = entries[0]
        split = entry_split(e)
        out[symbol] = (f"{symbol} ({e['state']} split-like move on {e['effective_date']}: "
                       f"{e['reason']}; resolve: "
                       f"{repair_command(symbol, split.effective_date, split.factor)})")
    return out


def _plan_adjustment(
    store: ObjectStore, entry: dict[str, Any]
) -> dict[str, tuple[str, str, bytes | None]]:
    """Per dataset: (hash before, hash after, bytes to write or None when already done)."""
    split = entry_split(entry)
    plans: dict[str, tuple[str, str, bytes | None]] = {}
    for dataset in keys.DATASETS:
        key = keys.bars_key(dataset, split.symbol)
        try:
            data = store.get_bytes(key)
        except ObjectNotFoundError:
            continue
        current = sha256_hex(data)
        done = entry["objects"].get(dataset)
        if done is not None and current == done["after"]:
            plans[dataset] = (done["before"], current, None)
            continue
        frame = canonicalize_bars(read_frame_bytes(key, data))
        if done is not None and current != done["before"] and not shows_split(
                frame, dataset, split):
            # rewritten since the intent was recorded (fetches adjust what they receive by
            # this split already): nothing left to adjust
            plans[dataset] = (done["before"], current, None)
            continue
        adjusted = adjust_bars(frame, dataset, [split])
        if adjusted is frame:
            continue  # no bar before the split in this dataset
        out = frame_to_parquet(adjusted)
        plans[dataset] = (current, sha256_hex(out), out)
    return plans


def adjust_fetched(frame: pd.DataFrame, dataset: str, splits: Sequence[Split]) -> pd.DataFrame:
    """Bars just received from a provider (as-traded), adjusted by the applied ``splits`` of
    their symbol, so they merge into the adjusted stored history."""
    return adjust_bars(frame, dataset, splits) if splits else frame


def applied_splits(store: ObjectStore) -> dict[str, list[Split]]:
    """Applied splits per symbol, for adjusting fetched bars.

    Raises:
        DataError: The ledger is unreadable: merging unadjusted bars would corrupt the stored
            history, so the fetch stops (restore the ledger from a backup).
    """
    return load_split_ledger(store).applied()


def candidate_of(entry: dict[str, Any]) -> SplitCandidate:
    """The candidate an entry was recorded for (to ask the provider again)."""
    shift = entry.get("volume_shift")
    return SplitCandidate(entry["symbol"], date.fromisoformat(entry["effective_date"]),
                          float(entry["factor"]), float(entry.get("observed") or 0.0),
                          float("nan") if shift is None else float(shift),
                          entry["state"] == "unconfirmed" or (shift or 0) >= 0.5,
                          entry.get("dataset", "daily"))


def drop_unresolved(store: ObjectStore, panel: Panel) -> Panel:
    """``panel`` without the symbols under an unresolved split-like move: they are not
    screened (each one is logged; the session summary lists them with the repair command)."""
    ledger = load_split_ledger(store)
    unresolved = ledger.unresolved()
    if not any(s in unresolved for s in panel.symbols):
        return panel
    for symbol, line in unresolved_lines(ledger).items():
        if symbol in panel.symbols:
            log.warning("not screened: %s", line)
    return panel.select([s for s in panel.symbols if s not in unresolved])
