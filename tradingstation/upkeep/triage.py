"""Triage of integrity problems.

What the nightly daily flow repairs by itself, and what needs a person (and so must fail the run,
which alerts).

==========  =====================================================================
kind        repaired by
==========  =====================================================================
ledger      the daily flow: the ledger is rebuilt from the stored bars (derived data)
retention   the daily flow: its retention cleanup removes the expired bars
stale       the next session: its fetch brings the missing bars
snapshot    every load: panel snapshot rows that fail their hash are read from the objects
            instead, and the snapshot is stored again (derived data)
(others)    a person, with the repair command the problem names
==========  =====================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tradingstation.upkeep.verify import Problem

SELF_REPAIRED = {
    "ledger": "rebuilt from the stored bars",
    "retention": "removed by the retention cleanup",
    "stale": "refetched by the next session",
    "snapshot": "snapshot rows reread from the objects by the next load",
}
SHOWN = 10


@dataclass(frozen=True)
class Triage:
    """Integrity problems split into those repaired without a person and the rest."""

    repaired: list[Problem]
    unrepairable: list[Problem]

    @property
    def ledger_datasets(self) -> list[str]:
        """Datasets whose coverage ledger is to be rebuilt."""
        return sorted({p.dataset for p in self.repaired if p.kind == "ledger" and p.dataset})

    def failure(self) -> str | None:
        """One line naming the problems a person must repair (None if there are none).

        One line naming the problems a person must repair, with their commands (None if there are
        none).
        """
        if not self.unrepairable:
            return None
        shown = "; ".join(f"{p.kind} {p.key}: {p.detail} (repair: {p.repair})"
                          for p in self.unrepairable[:SHOWN])
        more = len(self.unrepairable) - SHOWN
        return (f"integrity: {len(self.unrepairable)} problems need a person: {shown}"
                + (f"; and {more} more (`tradingstation data verify`)" if more > 0 else ""))


def triage(problems: Iterable[Problem]) -> Triage:
    """Split ``problems`` into self-repaired ones (see the module table) and the rest."""
    problems = list(problems)
    return Triage([p for p in problems if p.kind in SELF_REPAIRED],
                  [p for p in problems if p.kind not in SELF_REPAIRED])
