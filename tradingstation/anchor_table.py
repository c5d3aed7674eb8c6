"""Operations on a session's stored anchor table (the rows :func:`find_anchors` returns)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from tradingstation.storage.keys import validate_symbol


def merge_anchors(
    stored: pd.DataFrame | None, found: pd.DataFrame, symbols: Iterable[str] | None
) -> pd.DataFrame:
    """The session's anchor table after recomputing ``symbols`` (all when None).

    Rows of the recomputed symbols are replaced by ``found``; every other symbol's rows are
    kept, so ``anchors --ticker NVDA`` never drops the rest of the universe's anchors.
    """
    if symbols is None or stored is None or stored.empty:
        merged = found
    else:
        redone = set(symbols)
        kept = stored[~stored["symbol"].isin(redone)]
        merged = pd.concat([kept, found], ignore_index=True) if len(kept) else found
    return merged.sort_values(["symbol", "anchor_date", "anchor_type"], kind="stable") \
        .reset_index(drop=True)


def anchors_for_symbol(anchors: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """The anchors of one symbol (``--ticker``); empty if it has none.

    Raises:
        InputError: a malformed ticker.
    """
    symbol = validate_symbol(symbol)
    return anchors[anchors["symbol"] == symbol].reset_index(drop=True)
