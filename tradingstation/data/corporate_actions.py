"""Corporate actions: splits found in the data, confirmed by the provider, applied once.

The record of every split is the corporate-actions ledger (:mod:`tradingstation.data.
split_ledger`); a symbol with an unresolved entry is not screened.

Flow of a split (see :func:`check_candidates` and :func:`apply_verdicts`): the daily fetch (or,
on the split's first morning, the 1-min fetch) sees a split-like discontinuity in the bars it
merged (:func:`tradingstation.data.splits.find_candidates`, no call); after the fetch released
its lock, one ``SPLITS`` call per symbol with a new candidate confirms it; then, holding the
write locks of every dataset, the symbol's daily, 30-min and 1-min objects (and its premarket
volume profile) are back-adjusted and the entry is marked ``applied``. Every
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

from tradingstation.contracts import Split, canonicalize_bars
from tradingstation.data.split_ledger import (
    SplitLedger,
    candidate_of,
    entry_split,
    load_split_ledger,
    new_entry,
    save_split_ledger,
    unresolved_lines,
)
from tradingstation.data.splits import SplitCandidate, adjust_bars, shows_split
from tradingstation.errors import (
    InputError,
    ObjectNotFoundError,
    PermanentError,
    TransientError,
)
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage import keys
from tradingstation.storage.base import (
    PARQUET_CONTENT_TYPE,
    ObjectStore,
    frame_to_parquet,
    read_frame_bytes,
    sha256_hex,
)

log = logging.getLogger(__name__)

DATE_SLACK_DAYS = 4  # the provider's effective date may differ from the first bar at the new price
FACTOR_TOLERANCE = 0.05


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


def _asks_again(entry: dict[str, Any], candidate: SplitCandidate) -> bool:
    """A daily bar showing a move an intraday scan alone got dismissed is asked about again.

    The daily bar brings the volume evidence the premarket minutes could not.
    """
    return (entry["state"] == "dismissed" and entry.get("source") != "operator"
            and entry.get("dataset") != "daily" and candidate.dataset == "daily")


def check_candidates(
    provider: MarketDataProvider, ledger: SplitLedger, candidates: Iterable[SplitCandidate],
    retry_unchecked: bool = True,
) -> tuple[list[Verdict], int]:
    """Ask the provider about every split candidate the ledger has not resolved.

    Ask the provider about every candidate the ledger has not resolved (and, with
    ``retry_unchecked``, every entry an earlier run could not check): one ``SPLITS`` call per
    symbol, none when there is nothing new. Writes nothing.

    Returns:
        (verdicts, calls made).
    """
    todo: dict[tuple[str, date], SplitCandidate] = {}
    retry = [candidate_of(e) for e in ledger.entries.values()
             if retry_unchecked and e["state"] == "unchecked"]
    for c in [*candidates, *retry]:
        entry = ledger.get(c.symbol, c.effective_date)
        if entry is None or entry["state"] == "unchecked" or _asks_again(entry, c):
            todo.setdefault((c.symbol, c.effective_date), c)
    by_symbol: dict[str, list[SplitCandidate]] = {}
    for (symbol, _), c in sorted(todo.items()):
        by_symbol.setdefault(symbol, []).append(c)
    verdicts, calls = [], 0
    source = f"{provider.name} SPLITS"
    for symbol, found in by_symbol.items():
        if not provider.reports_splits:
            verdicts += [Verdict(c, "dismissed", c.ratio, source,
                                 f"{provider.name} has no corporate-action data")
                         for c in found]
            continue
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
    store: ObjectStore, verdicts: Sequence[Verdict], now: datetime, calls: int = 0,
    overrule: bool = False,
) -> SplitReport:
    """Record ``verdicts`` and back-adjust the stored bars of every confirmed split.

    The caller holds the write locks of every dataset (in sorted order). Entries left
    ``applying`` by a run that died are finished here too. ``overrule`` lets a verdict replace
    an ``unconfirmed`` or ``dismissed`` entry (an operator's decision or recheck).
    """
    ledger = load_split_ledger(store)  # re-read under the locks: the latest truth
    report = SplitReport(candidates=len(verdicts), calls=calls)
    replaceable = ("unchecked", "unconfirmed", "dismissed") if overrule else ("unchecked",)
    for v in verdicts:
        entry = ledger.get(v.candidate.symbol, v.candidate.effective_date)
        if entry is not None and entry["state"] not in replaceable and not _asks_again(
                entry, v.candidate):
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
        for name, (_, _, data) in plans[id(entry)].items():
            if data is not None:
                store.put_bytes(_object_key(name, entry["symbol"]), data,
                                PARQUET_CONTENT_TYPE)
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


def resolve_split(
    store: ObjectStore,
    provider: MarketDataProvider,
    symbol: str,
    now: datetime,
    day: date | None = None,
    factor: float | None = None,
    dismiss: bool = False,
    locked: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> SplitReport:
    """``tradingstation data splits``: resolve the split-like moves of ``symbol``.

    Without ``day``: ask the provider again about every unresolved entry of the symbol (one
    ``SPLITS`` call) and apply what it confirms now. With ``day`` and ``factor``: the operator
    confirms a split the provider does not report; it is applied only if the stored daily bars
    still show that move (so it can never be applied twice). With ``day`` and ``dismiss``: the
    move was a real price move; the symbol is screened again.

    Raises:
        InputError: ``day`` without ``factor`` or ``dismiss``, or a split the data does not show.
    """
    with locked():
        ledger = load_split_ledger(store)
        if day is None:
            entries = ledger.unresolved().get(symbol, [])
            for entry in entries:
                entry["state"] = "unchecked"  # in memory only: asked again below
            verdicts, calls = check_candidates(provider, ledger, map(candidate_of, entries),
                                               retry_unchecked=False)
            return apply_verdicts(store, verdicts, now, calls, overrule=True)
        entry = ledger.get(symbol, day)
        candidate = candidate_of(entry) if entry is not None else SplitCandidate(
            symbol, day, float(factor or 1.0), float("nan"), float("nan"), True, "daily")
        if dismiss:
            verdict = Verdict(candidate, "dismissed", candidate.ratio, "operator",
                              "dismissed by an operator: a real price move")
        elif factor is not None and factor > 0 and factor != 1:
            split = Split(symbol, day, float(factor))
            try:
                daily = canonicalize_bars(store.get_frame(keys.bars_key("daily", symbol)))
            except ObjectNotFoundError:
                daily = None
            if not shows_split(daily, "daily", split):
                raise InputError(f"the stored daily bars of {symbol} show no x{factor:g} move "
                                 f"on {day.isoformat()} (already adjusted, or another date); "
                                 "nothing changed")
            verdict = Verdict(candidate, "applying", float(factor), "operator",
                              f"confirmed by an operator: split x{factor:g}")
        else:
            raise InputError("--date needs --factor F (confirm a split) or --dismiss")
        return apply_verdicts(store, [verdict], now, 0, overrule=True)


PROFILE = "premarket-volume-profile"  # derived from 1-min volumes: adjusted with the bars


def _object_key(name: str, symbol: str) -> str:
    return keys.volume_profile_key(symbol) if name == PROFILE else keys.bars_key(name, symbol)


def _adjust_profile(profile: pd.DataFrame, split: Split) -> pd.DataFrame | None:
    """The premarket volume profile adjusted for a split.

    The premarket volume profile with the volumes of sessions before the split × factor (None when
    it holds none).
    """
    before = profile["session"].astype(str) < split.effective_date.isoformat()
    if not before.any():
        return None
    out = profile.copy()
    out.loc[before, "volume"] = out.loc[before, "volume"].to_numpy(float) * split.factor
    out.attrs = dict(profile.attrs)
    return out


def _plan_adjustment(
    store: ObjectStore, entry: dict[str, Any]
) -> dict[str, tuple[str, str, bytes | None]]:
    """Per object (each dataset's bars, the premarket volume profile).

    (hash before, hash after, bytes to write or None when already done).
    """
    split = entry_split(entry)
    plans: dict[str, tuple[str, str, bytes | None]] = {}
    for dataset in (*keys.DATASETS, PROFILE):
        key = _object_key(dataset, split.symbol)
        try:
            data = store.get_bytes(key)
        except ObjectNotFoundError:
            continue
        current = sha256_hex(data)
        done = entry["objects"].get(dataset)
        if done is not None and current == done["after"]:
            plans[dataset] = (done["before"], current, None)
            continue
        raw = read_frame_bytes(key, data)
        if dataset == PROFILE:
            if done is None or current == done["before"]:
                profile = _adjust_profile(raw, split)
                if profile is not None:
                    out = frame_to_parquet(profile)
                    plans[dataset] = (current, sha256_hex(out), out)
            continue
        frame = canonicalize_bars(raw)
        if done is not None and current != done["before"] and not shows_split(
                frame, dataset, split):
            # rewritten since the intent was recorded (fetches adjust what they receive by
            # this split already): nothing left to adjust
            plans[dataset] = (done["before"], current, None)
            continue
        adjusted = adjust_bars(frame, dataset, [split])
        if adjusted is frame:
            continue  # no bar before the split in this dataset
        adjusted.attrs = dict(raw.attrs)  # the recorded source (provenance) stays
        out = frame_to_parquet(adjusted)
        plans[dataset] = (current, sha256_hex(out), out)
    return plans


