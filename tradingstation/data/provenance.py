"""Provenance: which provider every stored object came from, so demo data never passes as real.

Measured: after demo runs, switching a store to Alpha Vantage found every symbol "fresh" and
published a plan without the DEMO banner on synthetic bars. So:

* every bars object and universe snapshot records its source (the provider's ``name``:
  ``demo``, ``alphavantage``) in its parquet metadata (``DataFrame.attrs``, which pandas keeps
  through reads, copies and merges); every ledger row and stored quote has a ``source`` column;
* a fetch whose provider differs from the stored data's source treats that data as absent: the
  planner refetches it and the batch replaces it instead of merging, so no bar of another
  source is left in a series;
* a symbol whose data still comes from another source (its refetch failed, or it left the
  universe) is not screened, and the run says so with the command that refetches it;
* outputs are labelled DEMO from the recorded source of the data they were built from.

Data stored before sources were recorded has none (``""``): it is taken as the configured
provider's. A store that ever held demo data under an older version should be rebuilt
(``tradingstation data rebuild-all``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

SOURCE = "source"  # DataFrame.attrs key of bars/universe objects, and the ledger/quotes column
DEMO_SOURCE = "demo"


def frame_source(frame: pd.DataFrame | None) -> str:
    """The source recorded on ``frame`` (``""`` when none was recorded)."""
    if frame is None:
        return ""
    return str(frame.attrs.get(SOURCE) or "")


def with_source(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """``frame`` marked as coming from ``source`` (in place; returned for chaining)."""
    frame.attrs[SOURCE] = source
    return frame


def is_foreign(recorded: str | None, source: str) -> bool:
    """Whether data recorded as ``recorded`` must not be mixed with data from ``source``.

    Unrecorded data (older than provenance) is not foreign: it is taken as the provider's.
    """
    return bool(recorded) and not pd.isna(recorded) and recorded != source


def foreign_reason(recorded: str, source: str) -> str:
    """One line saying stored data is replaced because it came from another source."""
    return f"stored data came from {recorded}, this run uses {source}: replaced, not merged"


def foreign_symbols(sources: Mapping[str, str], source: str,
                    symbols: Iterable[str] | None = None) -> list[str]:
    """Symbols (of ``symbols``, default all) whose recorded source is foreign to ``source``."""
    wanted = sources.keys() if symbols is None else [s for s in symbols if s in sources]
    return sorted(s for s in wanted if is_foreign(sources[s], source))


REPLACE_COMMANDS = {
    "daily": "tradingstation data rebuild-daily --symbols {symbols}",
    "1min": "tradingstation fetch intraday_1min --tickers {symbols}",
    "30min": "tradingstation fetch intraday_30min --tickers {symbols}",
}


def foreign_note(found: Mapping[str, Mapping[str, str]], source: str) -> str:
    """The run-summary line for symbols whose data comes from another provider.

    The run-summary line for symbols whose stored data still comes from another provider
    (``ledger.foreign_data``), with the commands that replace it.
    """
    parts, fixes, symbols = [], [], set()
    for dataset, recorded in sorted(found.items()):
        by_source: dict[str, list[str]] = {}
        for symbol, other in sorted(recorded.items()):
            by_source.setdefault(other, []).append(symbol)
        for other, names in sorted(by_source.items()):
            parts.append(f"{len(names)} symbols hold {other} {dataset} data")
        symbols |= set(recorded)
        fixes.append(REPLACE_COMMANDS[dataset].format(symbols=",".join(sorted(recorded)[:20])))
    shown = sorted(symbols)[:20]
    more = " ..." if len(symbols) > 20 else ""
    return (f"{'; '.join(parts)} although this run uses {source}: not screened (their "
            f"refetch failed or they left the universe): {', '.join(shown)}{more}. Replace "
            f"them: {'; '.join(fixes)}")
