"""Upsert merging of canonical bars (the bar schema itself is :mod:`tradingstation.contracts`)."""

from __future__ import annotations

import pandas as pd


def merge_bars(stored: pd.DataFrame | None, fresh: pd.DataFrame) -> pd.DataFrame:
    """Upsert ``fresh`` into ``stored`` by timestamp: the newest fetch wins, nothing is dropped.

    Both inputs must be canonical; the result is canonical, unique and sorted.
    """
    if stored is None or len(stored) == 0:
        return fresh.reset_index(drop=True)
    if len(fresh) == 0:
        return stored.reset_index(drop=True)
    combined = pd.concat([stored, fresh], ignore_index=True)
    combined = combined.drop_duplicates("timestamp", keep="last")
    return combined.sort_values("timestamp", kind="stable").reset_index(drop=True)
