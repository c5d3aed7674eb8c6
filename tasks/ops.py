"""Operations tasks: integrity verification and retention cleanup (health: tasks.maintenance)."""

from __future__ import annotations

import logging
from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.policy import retry_options, run_ids
from tradingstation import logs
from tradingstation.config import Settings
from tradingstation.storage.base import ObjectStore
from tradingstation.upkeep.cleanup import CleanupReport, cleanup
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
