"""Data-operation flows (``tradingstation data <operation>``).

The runbook's backfill_rebuilder.py as Prefect runs, one flow per operation.

One flow each, so that each deployment's parameter schema (the Prefect UI's run form, and
``enforce_parameter_schema``) shows and checks exactly that operation's parameters: a restore
cannot be started without its date. Each returns a JSON-ready document with ``ok``; the command
turns it into output and an exit code. Input is validated by the command before a flow starts,
and again here (a deployment run with bad parameters fails at once, having changed nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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
    take_backup,
    verify_integrity,
)
from tradingstation.calendar import NY, parse_as_of
from tradingstation.config import Settings, get_settings
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore
from tradingstation.upkeep.backup import newest_backup
from tradingstation.upkeep.gaps import GAP_DATASETS, Gap
from tradingstation.upkeep.operations import (
    OperationParams,
    check_operation_time,
    check_parameters,
)


@dataclass
class OperationRun:
    """What every data operation starts from: its checked parameters, time, settings, store."""

    params: OperationParams
    now: datetime
    settings: Settings
    store: ObjectStore
    out: dict


def start_operation(operation: str, as_of: datetime | str | None, **params) -> OperationRun:
    """Validate ``params`` (``check_parameters`` keywords) and ``as_of``, then open the store.

    Raises:
        InputError: A bad parameter, or a writing operation dated more than a day ahead.
    """
    checked = check_parameters(operation, **params)
    now = parse_as_of(as_of)
    check_operation_time(operation, now, datetime.now(UTC))
    settings = get_settings()
    configure_run_logging(settings)
    store = resolve_store(settings)
    out = {"operation": operation, "as_of": now.isoformat(), "store": store.describe()}
    return OperationRun(checked, now, settings, store, out)


def stored_symbols(store: ObjectStore, dataset: str) -> list[str]:
    """Symbols with a stored bars object in ``dataset``."""
    return sorted(keys.symbol_from_bars_key(i.key)
                  for i in store.list_objects(keys.bars_prefix(dataset)))


def _rebuild(run: OperationRun, plan: dict[str, list[str]]) -> dict:
    store, settings, now = run.store, run.settings, run.now
    provider = resolve_provider(settings, now)
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
    return {**run.out, "rebuilt": rebuilt, "bars": bars, "failed": failed, "ok": not failed}


def _gap_rows(gaps: list[Gap]) -> list[dict]:
    return [g.to_dict() for g in gaps]


@flow(name="data-rebuild-all", task_runner=ThreadPoolTaskRunner(max_workers=4),
      flow_run_name=command_run_name("data rebuild-all"))
@names_failed_task
def rebuild_all(as_of: datetime | None = None) -> dict:
    """Refetch every stored symbol of every dataset (staged, swapped in after verification)."""
    run = start_operation("rebuild-all", as_of)
    return _rebuild(run, {d: stored_symbols(run.store, d) for d in keys.DATASETS})


@flow(name="data-rebuild-daily", task_runner=ThreadPoolTaskRunner(max_workers=4),
      flow_run_name=command_run_name("data rebuild-daily", "symbols"))
@names_failed_task
def rebuild_daily(symbols: str, as_of: datetime | None = None) -> dict:
    """Refetch the full daily history of ``symbols`` (comma-separated tickers)."""
    run = start_operation("rebuild-daily", as_of, symbols=symbols)
    return _rebuild(run, {"daily": run.params.symbols})


@flow(name="data-verify", flow_run_name=command_run_name("data verify"))
@names_failed_task
def verify(check_gaps: bool = False, as_of: datetime | None = None) -> dict:
    """Re-read and validate every data object (read-only).

    ``check_gaps`` adds missing sessions that a fetch can fill.
    """
    run = start_operation("verify", as_of)
    out = {**run.out, **verify_integrity(run.store, run.settings, run.now).to_dict()}
    if check_gaps:
        gaps = [g for g in find_gaps(run.store, run.now, run.settings) if g.kind == "not_fetched"]
        out["gaps"] = _gap_rows(gaps)
        out["ok"] = out["ok"] and not gaps
    return out


@flow(name="data-detect-gaps", flow_run_name=command_run_name("data detect-gaps", "symbol"))
@names_failed_task
def detect_gaps(symbol: str | None = None, as_of: datetime | None = None) -> dict:
    """Missing sessions/minutes per symbol and dataset (read-only), of ``symbol`` or all."""
    run = start_operation("detect-gaps", as_of, symbol=symbol)
    only = [run.params.symbol] if run.params.symbol else None
    gaps = find_gaps(run.store, run.now, run.settings, only)
    refetchable = sum(g.kind == "not_fetched" for g in gaps)
    return {**run.out, "gaps": _gap_rows(gaps), "refetchable": refetchable,
            "ok": refetchable == 0}


@flow(name="data-fill-gaps", flow_run_name=command_run_name("data fill-gaps", "symbol"))
@names_failed_task
def fill_gaps(symbol: str | None = None, as_of: datetime | None = None) -> dict:
    """Refetch exactly the refetchable gaps (of ``symbol`` or all), then look again."""
    run = start_operation("fill-gaps", as_of, symbol=symbol)
    store, now, settings = run.store, run.now, run.settings
    only = [run.params.symbol] if run.params.symbol else None
    provider = resolve_provider(settings, now)
    with dataset_locks(*GAP_DATASETS, store=store):
        gaps = find_gaps(store, now, settings, only)
        added = repair_gaps(store, provider, gaps, now)
        left = [g for g in find_gaps(store, now, settings, only) if g.kind == "not_fetched"]
    return {**run.out, "added": added,
            "gaps": _gap_rows([g for g in gaps if g.kind == "not_fetched"]),
            "remaining": _gap_rows(left), "ok": not left}


@flow(name="data-cleanup", flow_run_name=command_run_name("data cleanup"))
@names_failed_task
def cleanup(as_of: datetime | None = None) -> dict:
    """Apply every retention policy (bars, signals, quotes, anchors, dashboards)."""
    run = start_operation("cleanup", as_of)
    with dataset_locks(*keys.DATASETS, store=run.store):
        report = retention_cleanup(run.store, run.settings, run.now)
    return {**run.out, **report.to_dict(), "ok": True}


@flow(name="data-backup", flow_run_name=command_run_name("data backup"))
@names_failed_task
def backup(allow_problems: bool = False, as_of: datetime | None = None) -> dict:
    """Copy every data object to a new dated backup.

    Damaged objects refuse it unless ``allow_problems``.
    """
    run = start_operation("backup", as_of)
    label = keys.backup_label(run.now.astimezone(NY).date())
    report = take_backup(run.store, label, run.now, allow_problems)
    return {**run.out, "label": report.label, "objects": report.objects, "bytes": report.bytes,
            "problems": report.problems, "ok": True}


@flow(name="data-restore", flow_run_name=command_run_name("data restore", "date"))
@names_failed_task
def restore(date: str, as_of: datetime | None = None) -> dict:
    """Restore the newest complete backup of ``date`` (YYYY-MM-DD), after a safety backup."""
    run = start_operation("restore", as_of, restore_date=date)
    with dataset_locks(*keys.DATASETS, store=run.store):
        label, others = newest_backup(run.store, run.params.date)
        report = restore_from_backup(run.store, label, run.now)
    return {**run.out, "label": label, "other_backups": others, "objects": report.objects,
            "bytes": report.bytes, "removed": report.removed,
            "safety_backup": report.safety_label, "ok": True}


@flow(name="data-rebuild-ledger", flow_run_name=command_run_name("data rebuild-ledger"))
@names_failed_task
def rebuild_ledger(dataset: str | None = None, as_of: datetime | None = None) -> dict:
    """Recompute the coverage ledger and repair the panel snapshot of ``dataset`` (or all)."""
    run = start_operation("rebuild-ledger", as_of, dataset=dataset)
    datasets = run.params.datasets
    with dataset_locks(*datasets, store=run.store):
        rows = {d: recompute_ledger(run.store, d) for d in datasets}
        snapshots = {d: repair_panel_snapshot(run.store, d) for d in datasets}
    return {**run.out, "ledgers": rows, "snapshots_repaired": snapshots, "ok": True}


@flow(name="data-splits", flow_run_name=command_run_name("data splits", "symbol", "date"))
@names_failed_task
def splits(symbol: str, date: str | None = None, factor: float | None = None,
           dismiss: bool = False, as_of: datetime | None = None) -> dict:
    """Resolve a split-like move of ``symbol``.

    Show it, or confirm its ``factor`` on ``date``, or ``dismiss`` it as a real price move.
    """
    run = start_operation("splits", as_of, symbol=symbol, restore_date=date, factor=factor,
                          dismiss=dismiss)
    params = run.params
    report = resolve_symbol_splits(run.store, resolve_provider(run.settings, run.now),
                                   params.symbol, run.now, params.date, params.factor,
                                   params.dismiss)
    return {**run.out, **report.to_dict(), "notes": report.notes(),
            "ok": params.symbol not in report.unresolved}


# `tradingstation data <operation>` -> its flow.
DATA_OPERATIONS = {flow_fn.name.removeprefix("data-"): flow_fn for flow_fn in (
    rebuild_all, rebuild_daily, verify, detect_gaps, fill_gaps, cleanup, backup, restore,
    rebuild_ledger, splits)}
