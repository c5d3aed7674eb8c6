"""Fetch job plans and reports: what a job will fetch, and what it did (counts, exit code)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from tradingstation.data.fetch_plan import FetchRequest
from tradingstation.data.symbol_fetch import SymbolOutcome


@dataclass
class JobPlan:
    """A planned bars job: its symbols and one request per symbol."""

    job: str
    dataset: str
    now: pd.Timestamp
    symbols: list[str]
    requests: list[FetchRequest]

    @property
    def to_fetch(self) -> list[FetchRequest]:
        """Requests that cost provider calls."""
        return [r for r in self.requests if r.needs_call]


@dataclass
class JobReport:
    """Everything a fetch job did, per symbol.

    Attributes:
        job: Job name.
        dataset: Dataset (None for the universe job).
        now: Time the job ran for.
        outcomes: One per symbol (the universe job has one, symbol ``universe``).
        calls: Provider calls made.
        planned_calls: Calls the plan needed (the minimum for the scenario).
        writes: Objects written (bars, or universe snapshots).
        quarantined: Keys of quarantined provider data.
        fatal_error: Provider-wide permanent error, if any.
        demo: Whether the data came from the demo market.
        details: Job-specific numbers (universe size, dropped rows by reason ...).
    """

    job: str
    dataset: str | None
    now: pd.Timestamp
    outcomes: list[SymbolOutcome] = field(default_factory=list)
    calls: int = 0
    planned_calls: int = 0
    writes: int = 0
    quarantined: list[str] = field(default_factory=list)
    fatal_error: str | None = None
    demo: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Symbols per outcome (ok, no_data, failed, fresh, known_no_data)."""
        return dict(Counter(o.outcome for o in self.outcomes))

    @property
    def failed(self) -> list[SymbolOutcome]:
        """Outcomes of failed symbols."""
        return [o for o in self.outcomes if o.outcome == "failed"]

    @property
    def transient_failures(self) -> list[str]:
        """Symbols that failed in a way a retry may fix."""
        return [o.symbol for o in self.outcomes if o.outcome == "failed" and o.transient]

    @property
    def split_candidates(self) -> list:
        """Split-like moves seen in the fetched sessions (to confirm with the provider)."""
        return [c for o in self.outcomes for c in o.split_candidates]

    @property
    def holes(self) -> list[str]:
        """Symbols left with a hole deeper than compact (``--force-compact``)."""
        return [o.symbol for o in self.outcomes if o.hole]

    @property
    def exit_code(self) -> int:
        """0 or 1 per the module's exit status rule."""
        attempted = [o for o in self.outcomes if o.outcome in ("ok", "no_data", "failed")]
        if self.fatal_error:
            return 1
        if attempted and all(o.outcome == "failed" for o in attempted):
            return 1
        return 0

    def summary(self) -> str:
        """One line for logs and the console."""
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items())) or "no symbols"
        line = f"{self.job}: {len(self.outcomes)} symbols ({counts}); {self.calls} calls"
        if self.holes:
            line += f"; {len(self.holes)} with a deep hole (compact forced)"
        if self.fatal_error:
            line += f"; stopped: {self.fatal_error}"
        return ("DEMO " if self.demo else "") + line

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        return {
            "job": self.job,
            "dataset": self.dataset,
            "now": self.now.isoformat(),
            "demo": self.demo,
            "calls": self.calls,
            "planned_calls": self.planned_calls,
            "writes": self.writes,
            "counts": self.counts,
            "holes": self.holes,
            "fatal_error": self.fatal_error,
            "exit_code": self.exit_code,
            "quarantined": self.quarantined,
            "details": self.details,
            "split_candidates": [c.describe() for c in self.split_candidates],
            "symbols": [{k: v for k, v in asdict(o).items() if k != "split_candidates"}
                        for o in self.outcomes],
        }
