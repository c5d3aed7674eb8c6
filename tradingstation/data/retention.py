"""Retention of stored bars: 1-min rolling days, 30-min last N bars, daily last N sessions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

import pandas as pd

from tradingstation.errors import InputError
from tradingstation.storage import keys


class RetentionSettings(Protocol):
    """What retention needs from :class:`tradingstation.config.Settings`."""

    retention_1min_days: int
    retention_30min_bars: int
    retention_daily_sessions: int


def retention_horizon(now: datetime, settings: RetentionSettings) -> pd.Timestamp:
    """Oldest 1-min bar start kept at ``now``: ``now - retention_1min_days`` (inclusive)."""
    stamp = pd.Timestamp(now)
    if stamp.tzinfo is None:
        raise InputError(f"retention needs a timezone-aware time, got {now!r}")
    return stamp.tz_convert("UTC") - timedelta(days=settings.retention_1min_days)


def trim_bars(
    dataset: str, frame: pd.DataFrame, now: datetime, settings: RetentionSettings
) -> pd.DataFrame:
    """Drop the bars of ``frame`` that fall outside ``dataset``'s retention.

    Rules (each bound from ``settings``):

    - ``1min``: keep bars with ``timestamp >= now - retention_1min_days`` (rolling calendar days).
    - ``30min``: keep the last ``retention_30min_bars`` bars.
    - ``daily``: keep the last ``retention_daily_sessions`` bars (one bar per session).

    Args:
        dataset: ``daily``, ``1min`` or ``30min``.
        frame: Canonical bars, sorted by timestamp.
        now: Current time (timezone-aware).
        settings: Any object with the three ``retention_*`` attributes.

    Returns:
        The kept bars with a fresh RangeIndex (the input is not modified).
    """
    keys.validate_dataset(dataset)
    if dataset == "1min":
        horizon = retention_horizon(now, settings)
        kept = frame[frame["timestamp"] >= horizon]
    else:
        limit = settings.retention_30min_bars if dataset == "30min" else (
            settings.retention_daily_sessions
        )
        kept = frame.iloc[-limit:] if len(frame) > limit else frame
    return kept.reset_index(drop=True)
