"""Retention cleanup: applies every retention policy and deletes nothing outside them.

Policies (Settings): 1-min bars 7 days rolling, 30-min bars 500 per symbol, daily bars 200
sessions per symbol, signals 30 days, dashboards 7 days (the "latest" one always kept).
Session inputs (premarket quotes, anchors) and the live-trigger journal follow the signals
policy, since signals are what they explain. Staging areas left by interrupted rebuilds are
removed after a day. Universe history, API usage and backups have no retention policy and are
never touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd

from tradingstation.config import Settings
from tradingstation.dashboard.publish import cleanup_dashboards
from tradingstation.data.ledger import load_ledger, update_ledger, wall_clock
from tradingstation.data.panel import load_bars
from tradingstation.data.provenance import frame_source
from tradingstation.data.retention import trim_bars
from tradingstation.data.volume_profile import record_before_trim
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, put_frame_if_changed

log = logging.getLogger(__name__)


@dataclass
class CleanupReport:
    """What cleanup removed."""

    bars_trimmed: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready summary with counts and deleted keys."""
        return {"bars_trimmed": self.bars_trimmed,
                "deleted": {k: len(v) for k, v in self.deleted.items()},
                "deleted_keys": self.deleted}


def _dated_part(key: str, position: int) -> date | None:
    try:
        return date.fromisoformat(key.split("/")[position].removesuffix(".parquet"))
    except (IndexError, ValueError):
        return None


def cleanup(store: ObjectStore, now: datetime, settings: Settings) -> CleanupReport:
    """Apply every retention policy (see module docstring) and report what was removed."""
    report = CleanupReport()
    today = now.date()
    for dataset in keys.DATASETS:
        report.bars_trimmed[dataset] = _trim_dataset(store, dataset, now, settings)
    signal_cutoff = today - timedelta(days=settings.retention_signals_days)
    for name, prefix, position in (("signals", "signals/", 1), ("quotes", "quotes/", 1),
                                   ("anchors", "anchors/", 1), ("live", "live/", 1)):
        gone = []
        for info in store.list_objects(prefix):
            day = _dated_part(info.key, position)
            if day is not None and day < signal_cutoff:
                store.delete(info.key)
                gone.append(info.key)
        report.deleted[name] = gone
    report.deleted["dashboards"] = cleanup_dashboards(
        store, today, settings.retention_dashboards_days
    )
    stale = []
    for info in store.list_objects("staging/"):
        if info.modified is not None and info.modified < now - timedelta(days=1):
            store.delete(info.key)
            stale.append(info.key)
    report.deleted["staging"] = stale
    log.info("cleanup: %s", {k: len(v) for k, v in report.deleted.items()})
    return report


def _trim_dataset(store: ObjectStore, dataset: str, now: datetime, settings: Settings) -> int:
    ledger = load_ledger(store, dataset).set_index("symbol")
    removed, rows = 0, []
    for symbol, bars in load_bars(store, dataset).items():
        kept = trim_bars(dataset, bars, now, settings)
        if len(kept) == len(bars):
            continue
        if dataset == "1min":  # the premarket minutes Gap & Go's relative volume still needs
            record_before_trim(store, symbol, bars, kept, now, frame_source(bars))
        put_frame_if_changed(store, keys.bars_key(dataset, symbol), kept, stored=bars)
        removed += len(bars) - len(kept)
        row = ledger.loc[symbol].to_dict() if symbol in ledger.index else {
            "dataset": dataset, "last_fetch": pd.NaT, "outcome": "ok", "reason": "",
            "expected_bar": pd.NaT, "last_bar": pd.NaT}
        row.update(symbol=symbol, first_bar=kept["timestamp"].iloc[0] if len(kept) else pd.NaT,
                   bar_count=len(kept), fetched_at=wall_clock())
        if not len(kept):
            row["last_bar"] = pd.NaT
        rows.append(row)
    if rows:
        update_ledger(store, dataset, rows)
    return removed
