"""The ``tradingstation data <operation>`` commands: the runbook's backfill_rebuilder.py.

Each operation runs as its own Prefect flow, ``data-<operation>`` (visible in run history). Input is
validated here first: a bad ticker, an impossible date or a restore date without a complete
backup is one ``error:`` line, exit 2, and no flow starts.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import (
    JsonOption,
    console,
    load_settings,
    print_error,
    print_json,
    running,
)
from flows.ephemeral import run_once
from tradingstation.calendar import parse_as_of

# Flows (Prefect), blocks and pandas are imported inside the commands that use them, so that
# `tradingstation --help` and bad input stay fast (tests/cli/test_cli.py pins it).

app = typer.Typer(
    help="Data management: rebuilds, integrity verification, gaps, retention cleanup, backups "
    "(the runbook's backfill_rebuilder.py).",
    no_args_is_help=True,
)

AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="ISO time to act for, e.g. 2025-11-24T21:00-05:00 (default: now).")]


def _preflight(params, as_of: str | None) -> None:
    """Checks that need the store: the backup to restore exists; tickers are in the universe."""
    from blocks.resolve import resolve_store
    from tradingstation.data.universe import load_universe
    from tradingstation.errors import InputError, ObjectNotFoundError
    from tradingstation.upkeep.backup import newest_backup

    if as_of is not None:
        from datetime import UTC, datetime

        from tradingstation.upkeep.operations import check_operation_time

        check_operation_time(params.operation, parse_as_of(as_of), datetime.now(UTC))
    # Settings, store and provider are checked before the flow starts: a bad TS_* value is one
    # error line here, not a failed flow run with a traceback.
    settings = load_settings()
    store = resolve_store(settings)
    if params.operation in ("rebuild-all", "rebuild-daily", "fill-gaps", "splits"):
        from blocks.resolve import resolve_provider

        resolve_provider(settings, parse_as_of(as_of))
    if params.operation not in ("restore", "rebuild-daily"):
        return
    if params.operation == "restore":
        newest_backup(store, params.date)  # InputError names what exists
        return
    try:
        universe = set(load_universe(store))
    except ObjectNotFoundError:
        return  # no universe yet: the provider is the judge of unknown tickers
    unknown = [s for s in params.symbols if s not in universe]
    if unknown:
        raise InputError(f"unknown ticker(s) {', '.join(unknown)}: not in the universe "
                         "(check the spelling, or run `tradingstation fetch universe --refetch`)")


def _operation(operation: str, json_out: bool, as_of: str | None, **options: Any) -> None:
    # Imported here: the ops modules pull in pandas, which `--help` should not pay for.
    from tradingstation.upkeep.operations import check_parameters

    params = check_parameters(operation, options.get("symbols"), options.get("symbol"),
                              options.get("date"), options.get("dataset"),
                              options.get("factor"), bool(options.get("dismiss")))
    _preflight(params, as_of)
    from flows.data_ops import DATA_OPERATIONS

    flow_fn = DATA_OPERATIONS[operation]
    with running(flow_fn, f"data {operation}"):
        result = run_once(flow_fn, as_of=as_of,
                          **{k: v for k, v in options.items() if v is not None})
    if json_out:
        print_json(result)
    else:
        PRINTERS.get(operation, _print_generic)(result)
    if not result.get("ok", False):
        raise typer.Exit(1)


def _print_problems(result: dict) -> None:
    problems = result.get("problems", [])
    if result["checked"] == 0 and [p["kind"] for p in problems] == ["empty"]:
        print_error(f"{problems[0]['detail']}: {problems[0]['repair']}")
        return
    gaps = result.get("gaps")
    colour = "green" if result["ok"] else "red"
    console.print(f"[{colour}]verify: {result['checked']} objects checked, {len(problems)} "
                  f"problems[/]" + (f", {len(gaps)} refetchable gaps" if gaps is not None else ""))
    if problems:
        table = Table(header_style="bold", title="problems", title_justify="left")
        for name in ("kind", "key", "detail", "repair"):
            table.add_column(name, overflow="fold")
        for p in problems:
            table.add_row(p["kind"], escape(p["key"]), escape(p["detail"]), escape(p["repair"]))
        console.print(table)
    if gaps:
        _gap_table(gaps, "refetchable gaps (repair: tradingstation data fill-gaps)")


def _gap_table(gaps: list[dict], title: str) -> None:
    table = Table(header_style="bold", title=title, title_justify="left")
    for name in ("symbol", "dataset", "start", "end", "sessions", "kind", "minutes_missing"):
        table.add_column(name)
    for g in gaps[:200]:
        table.add_row(g["symbol"], g["dataset"], g["start"], g["end"], str(g["sessions"]),
                      g["kind"], str(g["minutes_missing"] or ""))
    console.print(table)
    if len(gaps) > 200:
        console.print(f"... {len(gaps) - 200} more (use --json for all)")


def _print_gaps(result: dict) -> None:
    gaps = result["gaps"]
    console.print(f"detect-gaps: {len(gaps)} gaps, {result['refetchable']} refetchable "
                  "(not_fetched); no_trades gaps are sessions/minutes the provider had no trades")
    if gaps:
        _gap_table(gaps, "gaps")


def _print_fill(result: dict) -> None:
    added = result["added"]
    console.print(f"fill-gaps: {len(result['gaps'])} refetchable gaps, "
                  f"{sum(added.values())} bars added over {len(added)} series")
    for series, count in sorted(added.items()):
        console.print(f"  {escape(series)}: +{count}")
    if result["remaining"]:
        _gap_table(result["remaining"], "[red]still missing[/]")


def _print_cleanup(result: dict) -> None:
    table = Table(header_style="bold", title="retention cleanup", title_justify="left")
    table.add_column("policy")
    table.add_column("removed", justify="right")
    for dataset, count in result["bars_trimmed"].items():
        table.add_row(f"bars {dataset}", f"{count} bars")
    for name, count in result["deleted"].items():
        table.add_row(name, f"{count} objects")
    console.print(table)


def _print_backup(result: dict) -> None:
    verb = "restored" if result["operation"] == "restore" else "backed up"
    console.print(f"[green]{verb}[/] {result['objects']} objects ({result['bytes']:,} bytes) "
                  f"{'from' if verb == 'restored' else 'to'} backup {result['label']}")
    if result.get("other_backups"):
        console.print("older complete backups of that date (kept): "
                      f"{', '.join(result['other_backups'])}")
    for problem in result.get("problems", []):
        console.print(f"[yellow]warning:[/] damaged object backed up as it is: {escape(problem)}")
    if result.get("safety_backup"):
        console.print(f"safety backup of the previous state: {result['safety_backup']}; "
                      f"{len(result['removed'])} objects not in the backup were removed")


def _print_rebuild(result: dict) -> None:
    for dataset, symbols in result["rebuilt"].items():
        console.print(f"[green]rebuilt[/] {dataset}: {len(symbols)} symbols")
    console.print(f"{result['bars']} bars written")
    for failure in result["failed"]:
        console.print(f"[red]failed[/] {failure['dataset']} batch of {len(failure['symbols'])} "
                      f"(live data unchanged): {escape(failure['error'])}")


def _print_ledger(result: dict) -> None:
    for dataset, rows in result["ledgers"].items():
        console.print(f"[green]ledger {dataset} rebuilt[/]: {rows} symbols")
    for dataset, symbols in result.get("snapshots_repaired", {}).items():
        if symbols:
            console.print(f"[green]panel snapshot {dataset} repaired[/]: {len(symbols)} symbols "
                          "reread from their objects")


def _print_splits(result: dict) -> None:
    colour = "green" if result["ok"] else "red"
    for line in result.get("notes") or ["splits: nothing to resolve"]:
        console.print(f"[{colour}]{escape(line)}[/]" if line.startswith("not screened")
                      else escape(line))


def _print_generic(result: dict) -> None:
    console.print(escape(str({k: v for k, v in result.items()})))


PRINTERS = {"verify": _print_problems, "detect-gaps": _print_gaps, "fill-gaps": _print_fill,
            "cleanup": _print_cleanup, "backup": _print_backup, "restore": _print_backup,
            "rebuild-all": _print_rebuild, "rebuild-daily": _print_rebuild,
            "rebuild-ledger": _print_ledger, "splits": _print_splits}


@app.command("rebuild-all")
def rebuild_all(as_of: AsOf = None, json_out: JsonOption = False) -> None:
    """Refetch full history of every stored symbol (daily, 1-min, 30-min), batch by batch.

    Each batch is staged and swapped in only after verification: a failed batch leaves its old
    data in place. Exit 1 when any batch failed.
    """
    _operation("rebuild-all", json_out, as_of)


@app.command("rebuild-daily")
def rebuild_daily(
    symbols: Annotated[str, typer.Option("--symbols", help="Comma-separated tickers.")] = "",
    as_of: AsOf = None,
    json_out: JsonOption = False,
) -> None:
    """Refetch full daily history of --symbols via staging (old data kept on failure)."""
    _operation("rebuild-daily", json_out, as_of, symbols=symbols or None)


@app.command("verify")
def verify(
    check_gaps: Annotated[bool, typer.Option(
        "--check-gaps", help="Also report missing sessions (not fetched) per symbol.")] = False,
    as_of: AsOf = None,
    json_out: JsonOption = False,
) -> None:
    """Re-read every data object: hash, frame validity, ledger consistency, freshness, retention.

    Each problem is listed with the command that repairs it. Read-only. Exit 1 on any problem.
    """
    _operation("verify", json_out, as_of, check_gaps=check_gaps)


@app.command("detect-gaps")
def detect_gaps(
    symbol: Annotated[str | None, typer.Option("--symbol", help="Only this ticker.")] = None,
    as_of: AsOf = None,
    json_out: JsonOption = False,
) -> None:
    """List missing sessions (daily) and missing/thin sessions (1-min) per symbol.

    ``not_fetched`` gaps are refetchable; ``no_trades`` are sessions or minutes with no trades.
    Exit 1 when refetchable gaps exist.
    """
    _operation("detect-gaps", json_out, as_of, symbol=symbol)


@app.command("fill-gaps")
def fill_gaps(
    symbol: Annotated[str | None, typer.Option("--symbol", help="Only this ticker.")] = None,
    as_of: AsOf = None,
    json_out: JsonOption = False,
) -> None:
    """Refetch exactly the refetchable gaps; stored bars outside them stay as they are.

    Exit 1 when gaps remain afterwards.
    """
    _operation("fill-gaps", json_out, as_of, symbol=symbol)


@app.command("cleanup")
def cleanup(as_of: AsOf = None, json_out: JsonOption = False) -> None:
    """Apply every retention policy; nothing outside them is deleted.

    Apply every retention policy (1-min 7 days, 30-min 500 bars, daily 252 sessions, signals 30
    days, dashboards 7 days); nothing outside them is deleted.
    """
    _operation("cleanup", json_out, as_of)


@app.command("backup")
def backup(
    allow_problems: Annotated[bool, typer.Option(
        "--allow-problems", help="Back up even when objects are damaged (they are listed).")]
    = False,
    as_of: AsOf = None,
    json_out: JsonOption = False,
) -> None:
    """Copy every data object to a new backup backups/<date>/ (a second one that day.

    <date>-2 ...) with a sha256 manifest written last. A complete backup is never overwritten.

    Refuses (exit 1, nothing kept) when an object fails its recorded hash, has none or cannot
    be read, unless --allow-problems.
    """
    _operation("backup", json_out, as_of, allow_problems=allow_problems or None)


@app.command("restore")
def restore(
    date: Annotated[str, typer.Option("--date", help="Backup date YYYY-MM-DD.")] = "",
    as_of: AsOf = None,
    json_out: JsonOption = False,
) -> None:
    """Restore the data to backup --date: checks it, takes a safety backup, restores, verifies.

    With several complete backups of that date, the newest (highest -N) is restored and the
    others are listed. Every run takes a new safety backup (pre-restore-<time>, -2 ...).

    Refuses (exit 2, nothing changed) a date without a complete backup. An interrupted restore
    can simply be rerun.
    """
    _operation("restore", json_out, as_of, date=date)


@app.command("rebuild-ledger")
def rebuild_ledger(
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="daily | 1min | 30min (default: all).")] = None,
    as_of: AsOf = None,
    json_out: JsonOption = False,
) -> None:
    """Recompute the coverage ledger and the panel snapshot from the stored bars.

    Recompute the coverage ledger from the stored bars (repairs `ledger` problems) and store a panel
    snapshot whose rows fail their hashes again (`snapshot` problems).
    """
    _operation("rebuild-ledger", json_out, as_of, dataset=dataset)


@app.command("splits")
def splits(
    symbol: Annotated[str, typer.Option("--symbol", help="The ticker to resolve.")] = "",
    date: Annotated[str | None, typer.Option(
        "--date", help="Effective date YYYY-MM-DD of the split-like move.")] = None,
    factor: Annotated[float | None, typer.Option(
        "--factor", help="Confirm a split the provider does not report: 4 = 4-for-1, "
        "0.1 = 1-for-10.")] = None,
    dismiss: Annotated[bool, typer.Option(
        "--dismiss", help="The move on --date was a real price move, not a split.")] = False,
    as_of: AsOf = None,
    json_out: JsonOption = False,
) -> None:
    """Resolve a symbol's unconfirmed split-like moves (the repair `data verify` names).

    Without --date: ask the provider again (one SPLITS call) and apply what it confirms.
    With --date and --factor: apply a split the provider does not report (only if the stored
    daily bars still show that move). With --date and --dismiss: record it as a real move.
    The symbol is screened again once nothing is unresolved. Exit 1 while something is.
    """
    _operation("splits", json_out, as_of, symbol=symbol or None, date=date, factor=factor,
               dismiss=dismiss or None)
