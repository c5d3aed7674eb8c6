"""Daily flow (20:00-04:00 New York).

Health check, integrity verification with gap detection, the live track record (outcomes of
published signals), retention cleanup.

    python flows/daily.py --as-of 2025-11-24T21:00-05:00
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.console import print_summary
from flows.runs import names_failed_task, session_run_name
from flows.script import run_script
from flows.session import finish_closed, publish, start_session
from tasks.locks import dataset_locks
from tasks.maintenance import (
    find_gaps,
    recompute_ledger,
    retention_cleanup,
    run_checks,
    verify_integrity,
)
from tasks.track import update_track_record
from tradingstation.errors import PermanentError
from tradingstation.storage import keys
from tradingstation.track.run import rules_from_settings
from tradingstation.upkeep.triage import triage


@flow(name="daily", log_prints=True,
      flow_run_name=session_run_name("daily"))
@names_failed_task
def daily(as_of: datetime | None = None, allow_closed: bool = False) -> dict:
    """Daily maintenance flow.

    Args:
        as_of: The moment to run for (default: now). Naive times are New York time.
        allow_closed: On a day the market was closed, run for the last completed session.

    Returns:
        Summary: health level, integrity problems, the track-record update, what retention
        removed.
    """
    run = start_session("daily", as_of, allow_closed)
    if run.session is None:
        return finish_closed(run)
    health = run_checks(run.store, run.provider, run.settings, run.as_of)
    run.notes += [f"health {c.name}: {c.level} - {c.detail}" for c in health.checks]
    integrity = verify_integrity(run.store, run.settings, run.as_of)
    run.notes.append(f"integrity: {integrity.checked} objects checked, "
                     f"{len(integrity.problems)} problems")
    run.notes += [f"problem: {p.kind} {p.key}: {p.detail}" for p in integrity.problems[:20]]
    triaged = triage(integrity.problems)
    for dataset in triaged.ledger_datasets:
        with dataset_locks(dataset, store=run.store):
            recompute_ledger(run.store, dataset)
        run.notes.append(f"ledger {dataset}: rebuilt from the stored bars")
    gaps = [g for g in find_gaps(run.store, run.as_of, run.settings) if g.kind == "not_fetched"]
    run.notes.append(f"gaps: {len(gaps)} refetchable (`tradingstation data fill-gaps`)")
    run.notes += [f"gap: {g.dataset} {g.symbol} {g.start}..{g.end} ({g.sessions} sessions)"
                  for g in gaps[:20]]
    # Before cleanup: a signal about to leave retention is in the record first.
    track = update_track_record(run.store, run.as_of, rules_from_settings(run.settings),
                                run.settings.retention_1min_days)
    run.notes.append(f"track record: {track.added} signals added, {track.resolved} resolved, "
                     f"{track.pending} still open ({track.total} kept)")
    with dataset_locks(*keys.DATASETS, store=run.store):
        removed = retention_cleanup(run.store, run.settings, run.as_of)
    run.notes.append(f"retention: {removed.to_dict()['deleted']}, bars trimmed "
                     f"{removed.bars_trimmed}")
    result = publish(run, "Daily maintenance", {}, {
        "health": health.to_dict(), "integrity": integrity.to_dict(),
        "gaps": [g.to_dict() for g in gaps],
        "track_record": track.to_dict(),
        "cleanup": removed.to_dict()["deleted"],
    })
    failing = []
    unhealthy = [f"{c.name} ({c.detail})" for c in health.checks if c.level == "fail"]
    if unhealthy:
        failing.append(f"step health-check failing: {'; '.join(unhealthy)}")
    if triaged.failure():
        # the ledger was rebuilt, retention ran, stale data comes with the next fetch: what is
        # left needs a person
        failing.append(f"step verify-integrity: {triaged.failure()}")
    if failing:
        # Ending Failed is what makes the failure automation page the operator.
        raise PermanentError(" | ".join(failing))
    return result


if __name__ == "__main__":
    run_script(daily, "daily", print_summary)
