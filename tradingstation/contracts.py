"""The data contracts between providers and the data layer.

What bars, quotes and universe listings look like, the bar validation every provider applies at its
boundary, and splits.

The bottom of the data path: providers produce these shapes, the data layer stores and reads
them, and both import them from here (this module imports nothing of either).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tradingstation.errors import DataError

BAR_COLUMNS = ["timestamp", "open", "high", "low", "close", "volume"]
PRICE_COLUMNS = ["open", "high", "low", "close"]
CANONICAL_TIMESTAMP = pd.DatetimeTZDtype("ns", "UTC")

UNIVERSE_COLUMNS = ["symbol", "name", "exchange", "asset_type", "ipo_date", "status"]
QUOTE_COLUMNS = ["symbol", "timestamp", "price", "volume"]
# A quote with the regular session's open, running high and low and volume (what live
# triggers read, and what the market cycle builds today's developing daily bar from).
SESSION_QUOTE_COLUMNS = ["symbol", "timestamp", "price", "open", "high", "low", "volume"]


@dataclass(frozen=True)
class Split:
    """A split: on ``effective_date`` one old share became ``factor`` new shares.

    ``factor`` > 1 is a forward split (4.0 = 4-for-1), < 1 a reverse split (0.1 = 1-for-10).
    """

    symbol: str
    effective_date: date
    factor: float


def empty_bars() -> pd.DataFrame:
    """An empty frame with the canonical bar schema."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in BAR_COLUMNS})
    frame["timestamp"] = pd.Series(dtype=CANONICAL_TIMESTAMP)
    frame["volume"] = pd.Series(dtype="int64")
    return frame[BAR_COLUMNS]


def canonicalize_bars(frame: pd.DataFrame) -> pd.DataFrame:
    """Coerce a frame with the bar columns to canonical dtypes, sorted by timestamp.

    Coerce a frame with the bar columns to canonical dtypes (UTC timestamps, float prices, int64
    volume), sorted by timestamp with a fresh RangeIndex. Does not validate.

    Columns already in their canonical dtype are kept as they are (the common case: bars read
    back from storage or built by a provider), so calling this on canonical bars is cheap.
    """
    missing = [c for c in BAR_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"bars are missing columns: {', '.join(missing)}")
    out = frame[BAR_COLUMNS].copy()
    if out["timestamp"].dtype != CANONICAL_TIMESTAMP:
        ts = pd.to_datetime(out["timestamp"], utc=True)
        out["timestamp"] = ts.astype(CANONICAL_TIMESTAMP)
    for column in PRICE_COLUMNS:
        if out[column].dtype != np.float64:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    if out["volume"].dtype != np.int64:
        volume = pd.to_numeric(out["volume"], errors="coerce")
        if volume.isna().any() or not np.all(np.isfinite(volume.to_numpy(dtype="float64"))):
            raise DataError("bars have missing or non-numeric volume")
        out["volume"] = volume.astype("int64")
    if not out["timestamp"].is_monotonic_increasing:
        out = out.sort_values("timestamp", kind="stable")
    return out.reset_index(drop=True)


def _price_problems(frame: pd.DataFrame) -> list[str]:
    """The price checks of :func:`bar_problems`: finite, positive, high/low around open/close."""
    problems: list[str] = []
    if all(frame[c].dtype == np.float64 for c in PRICE_COLUMNS):
        prices = frame[PRICE_COLUMNS].to_numpy(dtype="float64")
    else:
        prices = frame[PRICE_COLUMNS].apply(pd.to_numeric, errors="coerce").to_numpy(
            dtype="float64")
    bad = ~np.isfinite(prices)
    if bad.any():
        problems.append(f"{int(bad.any(axis=1).sum())} bars have missing or non-finite prices")
    with np.errstate(invalid="ignore"):
        if (prices <= 0).any():
            problems.append(f"{int((prices <= 0).any(axis=1).sum())} bars have prices <= 0")
        o, h, lo, c = prices.T
        tol = 1e-9 * np.maximum(np.abs(h), 1.0)
        if (h + tol < np.maximum(o, c)).any() or (h + tol < lo).any():
            problems.append(
                f"{int(((h + tol < np.maximum(o, c)) | (h + tol < lo)).sum())} bars have "
                "high below open/close/low"
            )
        if (lo - tol > np.minimum(o, c)).any():
            count = int((lo - tol > np.minimum(o, c)).sum())
            problems.append(f"{count} bars have low above open/close")
    return problems


def bar_problems(frame: pd.DataFrame) -> list[str]:
    """Every way ``frame`` breaks the bar contract, as short sentences (empty list = valid).

    Checks: canonical columns, no missing or non-finite prices, prices > 0, volume >= 0,
    high >= max(open, close), low <= min(open, close), timestamps tz-aware, unique and sorted.
    """
    missing = [c for c in BAR_COLUMNS if c not in frame.columns]
    if missing:
        return [f"missing columns: {', '.join(missing)}"]
    problems: list[str] = []
    if len(frame) == 0:
        return problems
    ts = frame["timestamp"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        problems.append("timestamps are not timezone-aware")
    problems += _price_problems(frame)
    volume = frame["volume"]
    if volume.dtype != np.int64:
        volume = pd.to_numeric(volume, errors="coerce")
    if volume.isna().any() or (volume < 0).any():
        count = int((volume.isna() | (volume < 0)).sum())
        problems.append(f"{count} bars have negative or missing volume")
    if ts.duplicated().any():
        problems.append(f"{int(ts.duplicated().sum())} duplicate timestamps")
    if not ts.is_monotonic_increasing:
        problems.append("timestamps are not sorted")
    return problems


def validate_bars(frame: pd.DataFrame, what: str = "bars") -> pd.DataFrame:
    """Return ``frame`` unchanged if it satisfies the bar contract; raise ``DataError`` otherwise.

    Args:
        frame: Bars with the canonical columns.
        what: Names the data in the error (``"NVDA daily bars"``).
    """
    problems = bar_problems(frame)
    if problems:
        raise DataError(f"{what} rejected: {'; '.join(problems)}")
    return frame
