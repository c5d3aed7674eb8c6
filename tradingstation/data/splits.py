"""Stock splits in bar series: finding split-like discontinuities and back-adjusting bars.

Alpha Vantage's ``TIME_SERIES_DAILY`` and ``TIME_SERIES_INTRADAY`` are as-traded: on the day a
4:1 split takes effect the price falls to a quarter and the volume quadruples. Stored history
is kept split-adjusted instead (every bar before a split's effective date has its prices
divided by the split factor and its volume multiplied by it), so indicators, anchors and
screeners see one continuous series. Dividends are not adjusted.

A split *candidate* is an overnight price ratio (previous close ÷ open) within
``RATIO_TOLERANCE`` of a usual split ratio (``SPLIT_RATIOS``: 3/2, 2, 3, 4, 5, 10 ... and the
reverse ratios 1/2 ... 1/100). It is *strong* when the volume moved inversely as well (the
median volume of the days from the split on rose, for a forward split, by at least half the
price ratio in log terms; fell for a reverse split). Candidates are only suspicions: the
provider confirms them (see :mod:`tradingstation.data.corporate_actions`).

This module is pure (frames in, frames out); it never reads or writes storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tradingstation.calendar import NY
from tradingstation.contracts import PRICE_COLUMNS, Split

_FORWARD = (1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50)
_REVERSE = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 35, 40, 50, 60, 75, 80, 100)
SPLIT_RATIOS = tuple(sorted({*map(float, _FORWARD), *(1.0 / r for r in _REVERSE)}))
RATIO_TOLERANCE = 0.03  # |observed / ratio - 1|: a split day moves little besides the split
VOLUME_SHIFT = 0.5  # log(volume after / before) must reach this fraction of log(ratio)
VOLUME_BEFORE, VOLUME_AFTER = 20, 5  # bars in the medians compared


@dataclass(frozen=True)
class SplitCandidate:
    """A split-like discontinuity seen in stored or fetched bars.

    Attributes:
        symbol: Ticker.
        effective_date: Session (New York date) of the first bar at the new price.
        ratio: The usual split ratio nearest the observed one.
        observed: Previous close ÷ first price of ``effective_date``.
        volume_shift: log(volume after ÷ before) ÷ log(ratio) (NaN when unknown).
        strong: Whether the volume moved inversely as well.
        dataset: The dataset it was seen in.
    """

    symbol: str
    effective_date: date
    ratio: float
    observed: float
    volume_shift: float
    strong: bool
    dataset: str = "daily"

    def describe(self) -> str:
        """One line for logs, summaries and verify problems."""
        kind = "forward" if self.ratio > 1 else "reverse"
        volume = "" if np.isnan(self.volume_shift) else (
            f", volume moved {self.volume_shift:.0%} of the inverse")
        return (f"{self.symbol}: {self.dataset} price ratio {self.observed:.4g} on "
                f"{self.effective_date.isoformat()} looks like a {kind} split "
                f"{describe_factor(self.ratio)}{volume}")


def describe_factor(factor: float) -> str:
    """``4-for-1`` / ``1-for-10`` / ``3-for-2``."""
    if factor >= 1:
        for den in (1, 2, 3, 4):
            if abs(factor * den - round(factor * den)) < 1e-6:
                return f"{round(factor * den)}-for-{den}"
        return f"{factor:g}-for-1"
    return f"1-for-{1 / factor:.4g}"


def nearest_ratio(observed: float) -> float | None:
    """The usual split ratio within ``RATIO_TOLERANCE`` of ``observed``, or None."""
    if not np.isfinite(observed) or observed <= 0:
        return None
    ratios = np.asarray(SPLIT_RATIOS)
    best = float(ratios[np.argmin(np.abs(np.log(ratios) - np.log(observed)))])
    return best if abs(observed / best - 1.0) <= RATIO_TOLERANCE else None


def session_dates(frame: pd.DataFrame, dataset: str) -> np.ndarray:
    """The New York session date of each bar (daily bars are stamped date 00:00 UTC)."""
    stamps = pd.DatetimeIndex(frame["timestamp"])
    if dataset == "daily":
        local = stamps.tz_convert("UTC") if stamps.tz is not None else stamps
    else:
        local = stamps.tz_convert(NY)
    return np.asarray(local.date)


def _session_edges(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Per session: first open, last close, median bar volume (sorted by date)."""
    days = session_dates(frame, dataset)
    if dataset == "daily":  # one bar per session already: no grouping (verify scans them all)
        return pd.DataFrame({"open": frame["open"].to_numpy(float),
                             "close": frame["close"].to_numpy(float),
                             "volume": frame["volume"].to_numpy(float)}, index=days)
    grouped = frame.assign(_day=days).groupby("_day", sort=True)
    return pd.DataFrame({"open": grouped["open"].first(), "close": grouped["close"].last(),
                         "volume": grouped["volume"].median()})


def find_candidates(
    symbol: str, frame: pd.DataFrame | None, dataset: str = "daily",
    since: date | None = None,
) -> list[SplitCandidate]:
    """Split-like discontinuities between consecutive sessions of ``frame``.

    Args:
        symbol: Ticker the bars belong to.
        frame: Canonical bars, sorted by timestamp.
        dataset: ``daily``, ``30min`` or ``1min`` (intraday bars are grouped by New York date).
        since: Only sessions on or after this date (the newly fetched ones).
    """
    if frame is None or len(frame) < 2:
        return []
    edges = _session_edges(frame, dataset)
    if len(edges) < 2:
        return []
    opens, closes = edges["open"].to_numpy(float), edges["close"].to_numpy(float)
    volumes = edges["volume"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = closes[:-1] / opens[1:]
    days = list(edges.index)
    found = []
    for i in np.flatnonzero(np.abs(np.log(observed)) > np.log(1.0 + 4 * RATIO_TOLERANCE)):
        day = days[i + 1]
        ratio = nearest_ratio(float(observed[i]))
        if ratio is None or (since is not None and day < since):
            continue
        before = volumes[max(0, i + 1 - VOLUME_BEFORE): i + 1]
        after = volumes[i + 1: i + 1 + VOLUME_AFTER]
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = float(np.log(np.median(after) / np.median(before)) / np.log(ratio))
        # intraday sessions are compared partial (a premarket) with whole: volume says nothing
        strong = bool(dataset == "daily" and np.isfinite(shift) and shift >= VOLUME_SHIFT)
        found.append(SplitCandidate(symbol, day, ratio, float(observed[i]), shift, strong,
                                    dataset))
    return found


def keep_consistent(stored: pd.DataFrame | None, fresh: pd.DataFrame) -> pd.DataFrame:
    """``fresh`` without the bars that disagree with the stored ones by a split ratio.

    A provider that back-adjusted its history for a split the ledger does not know yet serves
    overlapping bars that no longer match the stored ones by the split factor. Letting them win
    the merge would move the discontinuity to the start of the overlap (a wrong date no
    ``SPLITS`` answer confirms); keeping the stored bars leaves it at the split itself, where
    :func:`find_candidates` sees it and the provider confirms it.
    """
    if stored is None or not len(stored) or not len(fresh):
        return fresh
    both = stored[["timestamp", "close"]].merge(fresh[["timestamp", "close"]], on="timestamp",
                                                suffixes=("_stored", "_fresh"))
    if not len(both):
        return fresh
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = both["close_stored"].to_numpy(float) / both["close_fresh"].to_numpy(float)
        far = np.abs(np.log(ratio)) > np.log(1.0 + 4 * RATIO_TOLERANCE)  # cheap first cut
    split_like = np.zeros(len(ratio), dtype=bool)
    split_like[far] = [nearest_ratio(float(r)) is not None for r in ratio[far]]
    if not split_like.any():
        return fresh
    stale = set(both["timestamp"][split_like])
    return fresh[~fresh["timestamp"].isin(stale)].reset_index(drop=True)


def shows_split(frame: pd.DataFrame | None, dataset: str, split: Split) -> bool:
    """Whether ``frame`` still has the unadjusted discontinuity of ``split``.

    Bars on both sides of its effective date whose overnight ratio is within tolerance of its
    factor.
    """
    if frame is None or not len(frame):
        return False
    days = session_dates(frame, dataset)
    before, after = days < split.effective_date, days >= split.effective_date
    if not before.any() or not after.any():
        return False
    last_close = float(frame["close"].to_numpy()[before][-1])
    first_open = float(frame["open"].to_numpy()[after][0])
    if first_open <= 0:
        return False
    return abs(last_close / first_open / split.factor - 1.0) <= RATIO_TOLERANCE * 2


def adjust_bars(frame: pd.DataFrame, dataset: str, splits: Iterable[Split]) -> pd.DataFrame:
    """Back-adjust ``frame`` for ``splits``.

    Bars before each effective date get prices ÷ factor and volume × factor (rounded). Returns a new
    frame; the input is not modified.
    """
    splits = list(splits)
    if frame is None or not len(frame) or not splits:
        return frame
    days = session_dates(frame, dataset)
    factor = np.ones(len(frame))
    for split in splits:
        factor[days < split.effective_date] *= split.factor
    if np.all(factor == 1.0):
        return frame
    out = frame.copy()
    for column in PRICE_COLUMNS:
        out[column] = out[column].to_numpy(float) / factor
    out["volume"] = np.rint(out["volume"].to_numpy(float) * factor).astype(out["volume"].dtype)
    return out


def splits_by_symbol(splits: Sequence[Split]) -> dict[str, list[Split]]:
    """Group splits per symbol, oldest first."""
    grouped: dict[str, list[Split]] = {}
    for split in sorted(splits, key=lambda s: (s.symbol, s.effective_date)):
        grouped.setdefault(split.symbol, []).append(split)
    return grouped
