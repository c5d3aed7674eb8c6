"""The corporate-actions ledger.

One JSON document of every split seen, confirmed, applied or dismissed
(``keys.corporate_actions_key``), one entry per symbol and effective date::

    {"schema": 1, "splits": [{"symbol": "NVDA", "effective_date": "2024-06-10", "factor": 10.0,
      "state": "applied", "source": "alphavantage SPLITS", "observed": 10.02, "reason": ...,
      "objects": {"daily": {"before": <sha256>, "after": <sha256>}, ...}}]}

States: ``applying`` → ``applied`` (stored bars back-adjusted), ``unchecked`` (the provider
could not be asked yet; the next run asks again), ``unconfirmed`` (a strong split-like move the
provider does not report: a human decides with ``tradingstation data splits``), ``dismissed``
(not a split). A symbol with an ``unchecked`` or ``unconfirmed`` entry is not screened. How
entries come and go: :mod:`tradingstation.data.corporate_actions`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from tradingstation.contracts import Split
from tradingstation.data.ledger import REASON_MAX
from tradingstation.data.panel import Panel
from tradingstation.data.splits import VOLUME_SHIFT, SplitCandidate
from tradingstation.errors import DataError, ObjectNotFoundError
from tradingstation.redaction import one_line
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

log = logging.getLogger(__name__)

SCHEMA = 1
APPLIED_STATES = ("applying", "applied")
UNRESOLVED_STATES = ("unchecked", "unconfirmed")
STATES = (*APPLIED_STATES, *UNRESOLVED_STATES, "dismissed")


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
            "dataset": candidate.dataset, "reason": one_line(reason, (), REASON_MAX),
            "recorded_at": pd.Timestamp(now).isoformat(), "objects": {}}


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
                          entry["state"] == "unconfirmed" or (shift or 0) >= VOLUME_SHIFT,
                          entry.get("dataset", "daily"))


def drop_unresolved(store: ObjectStore, panel: Panel) -> Panel:
    """``panel`` without the symbols under an unresolved split-like move.

    They are not screened (each one is logged; the session summary lists them with the repair
    command).
    """
    ledger = load_split_ledger(store)
    unresolved = ledger.unresolved()
    if not any(s in unresolved for s in panel.symbols):
        return panel
    for symbol, line in unresolved_lines(ledger).items():
        if symbol in panel.symbols:
            log.warning("not screened: %s", line)
    return panel.select([s for s in panel.symbols if s not in unresolved])
