"""Coverage ledger: per dataset and symbol, what is stored and how the last fetch went.

One parquet object per dataset (``keys.ledger_key``), one row per symbol. The ledger is what
makes fetches incremental (the planner reads it instead of every bars object), reruns free and
gaps explainable: ``no_data`` ("the provider had nothing for the expected bar") is not
``failed`` ("we could not ask").

Two times per row: ``last_fetch`` is the instant the fetch served (a run's ``as_of``: for a
``--as-of`` replay, the past), ``fetched_at`` the wall-clock time the row's bars were written.
Rows merge by ``fetched_at`` (the newest write describes the stored bars), so any order of live
runs and replays leaves the ledger consistent with the bars.

Concurrency: every writer of a dataset's bars and ledger holds that dataset's write lock
(:mod:`tradingstation.storage.locks`), so runs in other processes take turns; inside one run,
:func:`update_ledger` serializes the batches' read-merge-writes with a thread lock. The ledger is
derived data: bars objects are the truth, and ``rebuild_ledger`` recomputes every row from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from tradingstation.data.provenance import frame_source
from tradingstation.errors import DataError, ObjectNotFoundError
from tradingstation.redaction import one_line
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, put_frame_if_changed, read_frame_bytes
from tradingstation.storage.locks import object_lock

OUTCOMES = ("ok", "no_data", "failed")
TIME_COLUMNS = ("first_bar", "last_bar", "last_fetch", "expected_bar", "fetched_at")
LEDGER_COLUMNS = [
    "symbol",
    "dataset",
    "first_bar",
    "last_bar",
    "bar_count",
    "last_fetch",
    "outcome",
    "reason",
    "expected_bar",
    "fetched_at",
    "source",  # provider the stored bars came from (tradingstation.data.provenance)
    "transient",  # a failed fetch may pass on retry (tradingstation.data.batch_retry)
]
REASON_MAX = 300
_READ_CHUNK = 200


def empty_ledger() -> pd.DataFrame:
    """An empty ledger with the canonical columns and dtypes."""
    return normalize_ledger(pd.DataFrame({c: [] for c in LEDGER_COLUMNS}))


def normalize_ledger(frame: pd.DataFrame) -> pd.DataFrame:
    """Coerce ledger rows to canonical columns and dtypes, sorted by symbol."""
    out = frame.copy()
    for column in LEDGER_COLUMNS:
        if column not in out.columns:
            out[column] = pd.NA
    out = out[LEDGER_COLUMNS]
    for column in TIME_COLUMNS:
        out[column] = pd.to_datetime(out[column], utc=True).astype("datetime64[ns, UTC]")
    out["bar_count"] = pd.to_numeric(out["bar_count"]).fillna(0).astype("int64")
    for column in ("symbol", "dataset", "outcome", "reason", "source"):
        out[column] = out[column].fillna("").astype(str)
    out["transient"] = out["transient"].astype("boolean").fillna(False).astype(bool)
    bad = sorted(set(out["outcome"]) - set(OUTCOMES))
    if bad:
        raise DataError(f"ledger rows have unknown outcome(s): {', '.join(bad)}")
    return out.sort_values("symbol", kind="stable").reset_index(drop=True)


def load_ledger(store: ObjectStore, dataset: str) -> pd.DataFrame:
    """The coverage ledger of ``dataset`` (an empty ledger if none was written yet)."""
    try:
        frame = store.get_frame(keys.ledger_key(dataset))
    except ObjectNotFoundError:
        return empty_ledger()
    return normalize_ledger(frame)


def ledger_row(
    symbol: str,
    dataset: str,
    bars: pd.DataFrame | None,
    last_fetch: pd.Timestamp | None,
    outcome: str,
    reason: str = "",
    expected_bar: pd.Timestamp | None = None,
    fetched_at: pd.Timestamp | None = None,
    source: str | None = None,
    transient: bool = False,
) -> dict[str, Any]:
    """A ledger row describing ``bars`` (the symbol's stored bars after the fetch).

    ``last_fetch`` is the instant the fetch served (``as_of``); ``fetched_at`` the wall-clock
    time of the write (default: now), which decides which row of a symbol is current.
    ``source`` defaults to the source recorded on ``bars`` (``provenance.frame_source``).
    ``transient``: the fetch failed in a way a retry may fix.
    """
    has = bars is not None and len(bars) > 0
    return {
        "symbol": keys.validate_symbol(symbol),
        "dataset": keys.validate_dataset(dataset),
        "first_bar": bars["timestamp"].iloc[0] if has else pd.NaT,
        "last_bar": bars["timestamp"].iloc[-1] if has else pd.NaT,
        "bar_count": len(bars) if has else 0,
        "last_fetch": last_fetch if last_fetch is not None else pd.NaT,
        "outcome": outcome,
        "reason": one_line(reason, max_length=REASON_MAX),
        "expected_bar": expected_bar if expected_bar is not None else pd.NaT,
        "fetched_at": fetched_at if fetched_at is not None else wall_clock(),
        "source": source if source is not None else frame_source(bars),
        "transient": transient,
    }


def wall_clock() -> pd.Timestamp:
    """Now (UTC): when a ledger row's bars were written, whatever instant the run serves."""
    return pd.Timestamp.now(tz="UTC")


def merge_ledger(current: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Merge ``rows`` into ``current`` by symbol.

    The row written last (newest ``fetched_at``, wall clock) wins, whatever instant (``last_fetch``)
    each run served.

    Rows without ``fetched_at`` (written before it existed) fall back to ``last_fetch``; on a
    tie the new row wins (it is the later write).
    """
    if len(rows) == 0:
        return current
    combined = pd.concat(
        [current.assign(_order=0), rows.assign(_order=1)], ignore_index=True
    )
    # NaT sorts first, so any row with a known write time beats one without.
    combined = combined.sort_values(["fetched_at", "last_fetch", "_order"], kind="stable",
                                    na_position="first")
    combined = combined.drop_duplicates("symbol", keep="last").drop(columns="_order")
    return normalize_ledger(combined)


def update_ledger(
    store: ObjectStore, dataset: str, rows: pd.DataFrame | Iterable[Mapping[str, Any]]
) -> bool:
    """Merge ``rows`` into the stored ledger of ``dataset`` and write it if anything changed.

    The ledger is read right here, just before the write, so the window in which a concurrent
    writer's rows could be lost is as short as possible (see the module docstring for why the
    remaining race is harmless).

    Returns:
        True if the ledger object was written.
    """
    keys.validate_dataset(dataset)
    rows_frame = normalize_ledger(
        rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    )
    wrong = sorted(set(rows_frame["dataset"]) - {dataset})
    if wrong:
        raise DataError(f"ledger rows for dataset(s) {', '.join(wrong)} given to {dataset}")
    if len(rows_frame) == 0:
        return False
    key = keys.ledger_key(dataset)
    # Batches of one flow run may finish at the same time in threads: serialize them here so
    # only writers in other processes can race (see the module docstring).
    with object_lock(store, key):
        try:
            stored = normalize_ledger(store.get_frame(key))
        except ObjectNotFoundError:
            stored = None
        merged = merge_ledger(stored if stored is not None else empty_ledger(), rows_frame)
        return put_frame_if_changed(store, key, merged, stored=stored)


def rebuild_ledger(store: ObjectStore, dataset: str) -> pd.DataFrame:
    """Recompute the ledger of ``dataset`` from the stored bars and write it (replacing it).

    Every bars object gives one row with outcome ``ok`` (``failed`` if the object is
    unreadable) and the source recorded in the object. ``last_fetch`` is the object's
    modification time when the store reports it.
    Fetch outcomes of symbols without stored bars are not recoverable and are dropped.
    """
    infos = store.list_objects(keys.bars_prefix(dataset))
    rows: list[dict[str, Any]] = []
    for start in range(0, len(infos), _READ_CHUNK):
        chunk = infos[start : start + _READ_CHUNK]
        blobs = store.get_many([i.key for i in chunk])
        for info in chunk:
            symbol = keys.symbol_from_bars_key(info.key)
            modified = pd.Timestamp(info.modified) if info.modified else None
            if modified is not None and modified.tzinfo is None:
                modified = modified.tz_localize("UTC")
            if info.key not in blobs:
                continue  # deleted between list and read
            try:
                bars = read_frame_bytes(info.key, blobs[info.key])
                bars = bars.sort_values("timestamp") if len(bars) else bars
                bars["timestamp"] = pd.to_datetime(bars["timestamp"], utc=True)
                row = ledger_row(symbol, dataset, bars, modified, "ok", "rebuilt from stored bars",
                                 fetched_at=modified)
            except (DataError, KeyError, ValueError, TypeError):
                row = ledger_row(
                    symbol, dataset, None, modified, "failed",
                    "stored bars unreadable: restore from a backup", fetched_at=modified,
                )
            rows.append(row)
    ledger = normalize_ledger(pd.DataFrame(rows)) if rows else empty_ledger()
    store.put_frame(keys.ledger_key(dataset), ledger)
    return ledger
