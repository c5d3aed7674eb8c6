"""Data-operation and health flows (``tradingstation data <operation>``, ``tradingstation
health``): the runbook's backfill_rebuilder.py and health_check.py as Prefect runs.

Each returns a JSON-ready document with ``ok``; the command turns it into output and an exit
code. Input is validated by the command before a flow starts, and again here (a deployment run
with bad parameters fails at once, having changed nothing).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from prefect import flow
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

from blocks.resolve import resolve_provider, resolve_store
from flows.runs import command_run_name, configure_run_logging, names_failed_task
from tasks.data import resolve_symbol_splits
from tasks.locks import dataset_lock, dataset_locks
from tasks.maintenance import (
    find_gaps,
    rebuild_batch,
    recompute_ledger,
    repair_gaps,
    repair_panel_snapshot,
    restore_from_backup,
    retention_cleanup,
    run_checks,
    take_backup,
    verify_integrity,
)
from tradingstation.calendar import NY, parse_as_of
from tradingstation.config import Settings, get_settings
from tradingstation.errors import InputError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore
from tradingstation.upkeep.backup import newest_backup
from tradingstation.upkeep.gaps import GAP_DATASETS, Gap
from tradingstation.upkeep.health import CHECK_NAMES, Check, HealthReport
from tradingstation.upkeep.operations import check_operation_time, check_parameters

Operation = Literal["rebuild-all", "rebuild-daily", "verify", "detect-gaps", "fill-gaps",
                    "cleanup", "backup", "restore", "rebuild-ledger", "splits"]


def stored_symbols(store: ObjectStore, dataset: str) -> list[str]:
    """Symbols with a stored bars object in ``dataset``."""
    return sorted(keys.symbol_from_bars_key(i.key)
                  for i in store.list_objects(keys.bars_prefix(dataset)))


def _rebuild(store, provider, settings: Settings, now: datetime,
             plan: dict[str, list[str]]) -> dict:
    rebuilt: dict[str, list[str]] = {}
    bars, failed = 0, []
    for dataset, symbols in plan.items():
        if not symbols:
            continue
        with dataset_lock(dataset, store=store):
            batches = [symbols[i:i + settings.batch_size]
                       for i in range(0, len(symbols), settings.batch_size)]
            futures = [rebuild_batch.submit(store, provider, dataset, batch, now, settings)
                       for batch in batches]
            wait(futures)
        for batch, future in zip(batches, futures, strict=True):
            state = future.state
            if state.is_completed():
                report = future.result()
                rebuilt.setdefault(dataset, []).extend(report.symbols)
                bars += report.bars
            else:
                # A failed batch left its live data untouched (staging); name it and go on.
                error = future.result(raise_on_failure=False)
                failed.append({"dataset": dataset, "symbols": batch, "error": str(error)})
    return {"rebuilt": rebuilt, "bars": bars, "failed": failed, "ok": not failed}


def _gap_rows(gaps: list[Gap]) -> list[dict]:
    return [g.to_dict() for g in gaps]


@flow(name="data-ops", task_runner=ThreadPoolTaskRunner(max_workers=4),
      flow_run_name=command_run_name("data", "operation", "symbols", "symbol", "date"))
@names_failed_task
def data_ops(
    operation: Operation,
    symbols: str | None = None,
    symbol: str | None = None,
    date: str | None = None,
    check_gaps: bool = False,
    dataset: str | None = None,
    as_of: datetime | None = None,
    allow_problems: bool = False,
    factor: float | None = None,
    dismiss: bool = False,
) -> dict:
    """One data operation (``tradingstation data <operation>``).

    Args:
        operation: rebuild-all | rebuild-daily | verify | detect-gaps | fill-gaps | cleanup |
            backup | restore | rebuild-ledger.
        symbols: Comma-separated tickers (rebuild-daily).
        symbol: One ticker to restrict detect-gaps / fill-gaps to.
        date: Backup date YYYY-MM-DD (restore).
        check_gaps: verify also detects missing sessions.
        dataset: daily | 1min | 30min (rebuild-ledger; default all).
        as_of: Time to act for (default now).
        allow_problems: backup copies damaged objects too (with a warning) instead of
            refusing.
        factor: splits: the factor an operator confirms for the move on ``date``.
        dismiss: splits: the move on ``date`` was a real price move, not a split.

    Returns:
        The operation's report with ``ok`` (False: problems found or part of it failed).
    """
    params = check_parameters(operation, symbols, symbol, date, dataset, factor, dismiss)
    now = parse_as_of(as_of)
    check_operation_time(operation, now, datetime.now(UTC))
    settings = get_settings()
    configure_run_logging(settings)
    store = resolve_store(settings)
    out: dict = {"operation": operation, "as_of": now.isoformat(), "store": store.describe()}
    only = [params.symbol] if params.symbol else None
    if operation == "verify":
        report = verify_integrity(store, settings, now)
        out.update(report.to_dict())
        if check_gaps:
            gaps = [g for g in find_gaps(store, now, settings) if g.kind == "not_fetched"]
            out["gaps"] = _gap_rows(gaps)
            out["ok"] = out["ok"] and not gaps
    elif operation == "detect-gaps":
        gaps = find_gaps(store, now, settings, only)
        out["gaps"] = _gap_rows(gaps)
        out["refetchable"] = sum(g.kind == "not_fetched" for g in gaps)
        out["ok"] = out["refetchable"] == 0
    elif operation == "fill-gaps":
        provider = resolve_provider(settings, now)
        with dataset_locks(*GAP_DATASETS, store=store):
            gaps = find_gaps(store, now, settings, only)
            out["added"] = repair_gaps(store, provider, gaps, now)
            left = [g for g in find_gaps(store, now, settings, only) if g.kind == "not_fetched"]
        out["gaps"] = _gap_rows([g for g in gaps if g.kind == "not_fetched"])
        out["remaining"] = _gap_rows(left)
        out["ok"] = not left
    elif operation == "cleanup":
        with dataset_locks(*keys.DATASETS, store=store):
            out.update(retention_cleanup(store, settings, now).to_dict(), ok=True)
    elif operation == "backup":
        label = keys.backup_label(now.astimezone(NY).date())
        report = take_backup(store, label, now, allow_problems)
        out.update(label=report.label, objects=report.objects, bytes=report.bytes,
                   problems=report.problems, ok=True)
    elif operation == "restore":
        with dataset_locks(*keys.DATASETS, store=store):
            label, others = newest_backup(store, params.date)
            report = restore_from_backup(store, label, now)
        out.update(label=label, other_backups=others, objects=report.objects,
                   bytes=report.bytes, removed=report.removed,
                   safety_backup=report.safety_label, ok=True)
    elif operation == "splits":
        report = resolve_symbol_splits(store, resolve_provider(settings, now), params.symbol,
                                       now, params.date, params.factor, params.dismiss)
        out.update(report.to_dict(), notes=report.notes(),
                   ok=params.symbol not in report.unresolved)
    elif operation == "rebuild-ledger":
        with dataset_locks(*params.datasets, store=store):
            rows = {d: recompute_ledger(store, d) for d in params.datasets}
            snapshots = {d: repair_panel_snapshot(store, d) for d in params.datasets}
        out.update(ledgers=rows, snapshots_repaired=snapshots, ok=True)
    else:
        provider = resolve_provider(settings, now)
        if operation == "rebuild-daily":
            plan = {"daily": params.symbols}
        else:
            plan = {d: stored_symbols(store, d) for d in keys.DATASETS}
        out.update(_rebuild(store, provider, settings, now, plan))
    return out


def _deployment_check() -> Check:
    # Prefect-client code stays outside the core: deploy.deployments talks to the API.
    from deploy.deployments import last_runs_check

    return last_runs_check()


@flow(name="health", flow_run_name=command_run_name("health", "checks"))
@names_failed_task
def health_check(checks: list[str] | None = None, as_of: datetime | None = None,
                 deployments: bool = True) -> dict:
    """Health checks (``tradingstation health``).

    Args:
        checks: Names from ``CHECK_NAMES`` (default: all).
        as_of: Time to check for (default now).
        deployments: Also report the last successful run per deployment when a Prefect API
            server is configured.

    Returns:
        ``HealthReport.to_dict()``: status, exit_code (0/1/2) and every check.
    """
    selected = list(checks or CHECK_NAMES)
    unknown = set(selected) - set(CHECK_NAMES)
    if unknown:
        raise InputError(f"unknown health check(s): {', '.join(sorted(unknown))}")
    now = parse_as_of(as_of)
    settings = get_settings()
    configure_run_logging(settings)
    store = resolve_store(settings)
    extra = []
    provider = None
    if "api" in selected:
        try:
            provider = resolve_provider(settings, now)
        except InputError:
            raise
        except Exception as exc:  # a bad key configuration is a failing check, not a crash
            selected.remove("api")
            message = str(exc)
            extra.append(lambda: Check("api", "fail", message))
    from blocks.resolve import api_configured

    if deployments and not checks and api_configured():
        extra.append(_deployment_check)
    if not selected:  # only the api check was asked for, and it could not be set up
        return HealthReport([fn() for fn in extra]).to_dict()
    report = run_checks(store, provider, settings, now, selected, extra)
    return report.to_dict()
