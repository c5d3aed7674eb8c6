"""Maintenance tasks.

Integrity verification, retention cleanup, gaps, rebuilds, ledger rebuilds, backup/restore, selected
health checks (the daily flow and the data operations share them).

Each is a few lines around one core call. Retries (TransientError only) where a rerun is safe:
detection, rebuilds (staged, swapped in only after verification), gap fills (merge by
timestamp), backups (a rerun gets the next free label), verification (read-only) and cleanup
(deleting what is already gone is a no-op). A restore is never retried automatically: it is
rerunnable by hand, and a human should see why it failed first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.policy import retry_options, run_ids
from tradingstation import logs
from tradingstation.config import Settings
from tradingstation.data.ledger import rebuild_ledger
from tradingstation.data.panel_store import repair_snapshot
from tradingstation.data.universe import load_universe
from tradingstation.errors import ObjectNotFoundError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage.base import ObjectStore
from tradingstation.upkeep.backup import BackupReport, create_backup, restore_backup
from tradingstation.upkeep.cleanup import CleanupReport, cleanup
from tradingstation.upkeep.gaps import Gap, detect_gaps, fill_gaps
from tradingstation.upkeep.health import Check, HealthReport, run_health
from tradingstation.upkeep.rebuild import RebuildReport, rebuild_symbols
from tradingstation.upkeep.verify import VerifyReport, verify_store

log = logging.getLogger("tradingstation.ops")


@task(name="verify-integrity", cache_policy=NO_CACHE, **retry_options())
def verify_integrity(store: ObjectStore, settings: Settings, now: datetime) -> VerifyReport:
    """Re-read every data object and validate it (read-only)."""
    with logs.set_run_context(**run_ids()):
        report = verify_store(store, now, settings)
        log.info("verify: %d objects checked, %d problems", report.checked, len(report.problems))
        return report


@task(name="retention-cleanup", cache_policy=NO_CACHE, **retry_options())
def retention_cleanup(store: ObjectStore, settings: Settings, now: datetime) -> CleanupReport:
    """Apply every retention policy (bars, signals, quotes, anchors, dashboards)."""
    with logs.set_run_context(**run_ids()):
        report = cleanup(store, now, settings)
        log.info("cleanup: %s", report.to_dict()["deleted"])
        return report


@task(name="detect-gaps", cache_policy=NO_CACHE, **retry_options())
def find_gaps(
    store: ObjectStore, now: datetime, settings: Settings, symbols: Sequence[str] | None = None
) -> list[Gap]:
    """Missing sessions/minutes per symbol and dataset (read-only)."""
    with logs.set_run_context(**run_ids()):
        gaps = detect_gaps(store, now, settings, symbols=symbols)
        log.info("gaps: %d (%d refetchable)", len(gaps),
                 sum(g.kind == "not_fetched" for g in gaps))
        return gaps


@task(name="fill-gaps", cache_policy=NO_CACHE, **retry_options())
def repair_gaps(
    store: ObjectStore, provider: MarketDataProvider, gaps: list[Gap], now: datetime
) -> dict[str, int]:
    """Refetch exactly the ``not_fetched`` gaps; bars outside them are left as stored."""
    with logs.set_run_context(**run_ids()):
        added = fill_gaps(store, provider, gaps, now)
        log.info("fill-gaps: %d bars added over %d series", sum(added.values()), len(added))
        return added


@task(name="rebuild-batch", cache_policy=NO_CACHE, **retry_options())
def rebuild_batch(
    store: ObjectStore,
    provider: MarketDataProvider,
    dataset: str,
    symbols: list[str],
    now: datetime,
    settings: Settings,
) -> RebuildReport:
    """Refetch one batch of symbols into staging and swap it in after verification."""
    with logs.set_run_context(**run_ids()):
        report = rebuild_symbols(store, provider, dataset, symbols, now, settings)
        log.info("rebuilt %s: %d symbols, %d bars", dataset, len(report.symbols), report.bars)
        return report


@task(name="rebuild-ledger", cache_policy=NO_CACHE, **retry_options())
def recompute_ledger(store: ObjectStore, dataset: str) -> int:
    """Recompute the coverage ledger of ``dataset`` from stored bars; returns its row count."""
    with logs.set_run_context(**run_ids()):
        ledger = rebuild_ledger(store, dataset)
        log.info("ledger %s rebuilt: %d rows", dataset, len(ledger))
        return len(ledger)


@task(name="repair-panel-snapshot", cache_policy=NO_CACHE, **retry_options())
def repair_panel_snapshot(store: ObjectStore, dataset: str) -> list[str]:
    """Store the panel snapshot of ``dataset`` again if rows in it fail their hash."""
    with logs.set_run_context(**run_ids()):
        repaired = repair_snapshot(store, dataset)
        if repaired:
            log.info("panel snapshot %s: rows of %d symbols reread", dataset, len(repaired))
        return repaired


@task(name="backup", cache_policy=NO_CACHE, **retry_options())
def take_backup(store: ObjectStore, label: str, now: datetime,
                allow_problems: bool = False) -> BackupReport:
    """Copy every data object to a new backup of ``label`` with a sha256 manifest.

    Copy every data object to a new backup of ``label`` (``label``, else ``label-2`` ...) with a
    sha256 manifest (written last); damaged objects refuse it unless ``allow_problems``.
    """
    with logs.set_run_context(**run_ids()):
        return create_backup(store, label, now, allow_problems=allow_problems)


@task(name="restore", cache_policy=NO_CACHE, retries=0)
def restore_from_backup(store: ObjectStore, label: str, now: datetime) -> BackupReport:
    """Safety backup, then restore ``label`` and verify it. Never retried automatically."""
    with logs.set_run_context(**run_ids()):
        return restore_backup(store, label, now)


@task(name="health-checks", cache_policy=NO_CACHE, **retry_options())
def run_checks(
    store: ObjectStore,
    provider: MarketDataProvider | None,
    settings: Settings,
    now: datetime,
    only: Iterable[str] | None = None,
    extra: Iterable[Callable[[], Check]] = (),
) -> HealthReport:
    """Run the selected health checks (all when ``only`` is empty) plus ``extra`` ones."""
    with logs.set_run_context(**run_ids()):
        try:
            universe = load_universe(store)
        except ObjectNotFoundError:
            universe = None
        report = run_health(store, provider, settings, now, universe, only=only, extra=extra)
        log.info("health: %s", report.level)
        return report
