"""Recorded sources of the stored data, read from the coverage ledgers.

Recorded sources of the stored data, read from the coverage ledgers (see
:mod:`tradingstation.data.provenance` for the rules).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from tradingstation.data.ledger import load_ledger
from tradingstation.data.panel import Panel
from tradingstation.data.provenance import DEMO_SOURCE, SOURCE, is_foreign
from tradingstation.storage.base import ObjectStore


def recorded_sources(store: ObjectStore, dataset: str) -> dict[str, str]:
    """``{symbol: source}`` of the symbols whose ledger row records a source."""
    ledger = load_ledger(store, dataset)
    rows = ledger[ledger["source"] != ""]
    return dict(zip(rows["symbol"], rows["source"], strict=True))


def foreign_data(
    store: ObjectStore, source: str, datasets: Iterable[str] = ("daily", "1min")
) -> dict[str, dict[str, str]]:
    """Per dataset, ``{symbol.

    Recorded source}`` of the symbols whose stored data came from another provider than ``source``.
    """
    out = {}
    for dataset in datasets:
        found = {s: r for s, r in recorded_sources(store, dataset).items()
                 if is_foreign(r, source)}
        if found:
            out[dataset] = found
    return out


def usable_quotes(quotes: pd.DataFrame | None, source: str) -> pd.DataFrame | None:
    """``quotes`` without the rows recorded from another provider than ``source``."""
    if quotes is None or not source or SOURCE not in quotes:
        return quotes
    keep = ~quotes[SOURCE].map(lambda s: is_foreign(s, source)).astype(bool)
    return quotes[keep].reset_index(drop=True)


def screened_demo(store: ObjectStore, daily: Panel, intraday: Panel | None,
                  *quotes: pd.DataFrame | None) -> bool:
    """Whether any data a screen looks at is recorded as demo data (its outputs say DEMO).

    ``quotes``: the quote frames it looks at (premarket, session).
    """
    panels = {"daily": daily, "1min": intraday}
    for dataset, panel in panels.items():
        if panel is None or not len(panel):
            continue
        sources = recorded_sources(store, dataset)
        if any(sources.get(s) == DEMO_SOURCE for s in panel.symbols):
            return True
    return any(q is not None and SOURCE in q and bool((q[SOURCE] == DEMO_SOURCE).any())
               for q in quotes)
