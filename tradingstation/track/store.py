"""Where the track record lives: backtest runs and the live record under ``research/``.

``research/`` is outside the live retention policies (``data cleanup`` never touches it) and is
included in backups. A backtest run writes its outcomes, then its summary, then moves the
``latest`` pointer (so the pointer never names a half-written run) and prunes runs beyond the
newest :data:`KEEP_BACKTESTS`. The live record is one compact frame, one row per published
signal, kept without a time limit (about 200 bytes a signal).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import pandas as pd

from tradingstation.errors import ObjectNotFoundError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore
from tradingstation.track.paths import OUTCOME_COLUMNS, SIGNAL_COLUMNS
from tradingstation.track.stats import STAT_COLUMNS

KEEP_BACKTESTS = 5
SUMMARY_SCHEMA = 1
RECORD_COLUMNS = (*SIGNAL_COLUMNS, *OUTCOME_COLUMNS, "demo")


def run_id(now: datetime) -> str:
    """Run id of a backtest started at ``now``: ``YYYYMMDDTHHMMSSZ``."""
    return pd.Timestamp(now).tz_convert("UTC").strftime("%Y%m%dT%H%M%SZ")


def jsonable(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Records of ``frame`` with NaN as None and numpy scalars as Python numbers."""
    out = []
    for record in json.loads(frame.to_json(orient="records", date_format="iso")):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in record.items()})
    return out


def save_backtest(store: ObjectStore, run: str, outcomes: pd.DataFrame,
                  summary: dict[str, Any]) -> str:
    """Write run ``run`` (outcomes, then summary, then the pointer); return the summary key."""
    store.put_frame(keys.backtest_key(run, "outcomes.parquet"),
                    outcomes.reindex(columns=list(RECORD_COLUMNS)))
    key = keys.backtest_key(run, "summary.json")
    store.put_json(key, {"schema": SUMMARY_SCHEMA, "run": run, **summary})
    store.put_json(keys.backtest_latest_key(), {"run": run, "summary": key})
    _prune(store)
    return key


def _prune(store: ObjectStore) -> None:
    prefix = keys.backtest_latest_key().rsplit("/", 1)[0] + "/"
    runs = sorted({i.key[len(prefix):].split("/", 1)[0]
                   for i in store.list_objects(prefix) if i.key.count("/") == 3})
    for old in runs[:-KEEP_BACKTESTS]:
        for info in store.list_objects(f"{prefix}{old}/"):
            store.delete(info.key)


def latest_summary(store: ObjectStore, as_of: datetime | None = None) -> dict[str, Any] | None:
    """The newest complete backtest's summary document, or None.

    The newest complete backtest's summary document, or None when none was run (or, with ``as_of``,
    when the newest was generated after it: a view as of then did not have it).
    """
    try:
        pointer = store.get_json(keys.backtest_latest_key())
        summary = store.get_json(pointer["summary"])
    except ObjectNotFoundError:
        return None
    made = summary.get("generated_at")
    if as_of is not None and made is not None and pd.Timestamp(made) > pd.Timestamp(as_of):
        return None
    return summary


def backtest_outcomes(store: ObjectStore, summary: dict[str, Any] | None) -> pd.DataFrame:
    """The outcome rows of the backtest ``summary`` describes (empty for None)."""
    if summary is None:
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    return store.get_frame(keys.backtest_key(summary["run"], "outcomes.parquet"))


def stats_table(summary: dict[str, Any] | None) -> pd.DataFrame:
    """The per screener/band/direction statistics stored in a summary (empty without one)."""
    rows = (summary or {}).get("stats") or []
    return pd.DataFrame.from_records(rows, columns=["screener", "band", "direction",
                                                    *STAT_COLUMNS])


def latest_outcomes(store: ObjectStore) -> pd.DataFrame:
    """The newest complete backtest's outcome rows (empty when none was run)."""
    return backtest_outcomes(store, latest_summary(store))


def read_live(store: ObjectStore, as_of: datetime | None = None) -> pd.DataFrame:
    """The live track record (empty frame with its columns when there is none yet).

    With ``as_of``: only what was known then, signals published by then with an outcome
    decided by then (a later exit is counted as still open, so left out of statistics).
    """
    try:
        frame = store.get_frame(keys.live_outcomes_key())
    except ObjectNotFoundError:
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    if as_of is None or frame.empty:
        return frame
    limit = pd.Timestamp(as_of)
    frame = frame[pd.to_datetime(frame["timestamp"], utc=True) <= limit].copy()
    # an exit is known from the end of its session's day (00:00 UTC after it) on
    known = pd.to_datetime(frame["exit_session"]).dt.tz_localize("UTC") + pd.Timedelta(days=1)
    frame.loc[(known > limit).to_numpy(), "exit_reason"] = "open"
    return frame
