"""The ``tradingstation health`` command: the runbook's health_check.py, as the ``health`` flow.

Exit code: 0 healthy, 1 degraded (a warning), 2 failing. Registered as a top-level command:
``app.command("health")(health_cmd.health)``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import JsonOption, console, load_settings, print_json, running
from flows.ephemeral import run_once
from tradingstation.calendar import parse_as_of
from tradingstation.errors import ConfigError

LEVEL_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def _flag(name: str, help_text: str):
    return Annotated[bool, typer.Option(name, help=help_text)]


def health(
    check_api: _flag("--check-api", "API reachable and key accepted.") = False,
    check_api_limits: _flag("--check-api-limits", "Rate-limit headroom, throttles.") = False,
    check_data: _flag("--check-data", "Universe coverage, failed fetches.") = False,
    check_signals: _flag("--check-signals", "Signals written for the latest session.") = False,
    check_storage: _flag("--check-storage", "Store write/read/delete probe.") = False,
    api_usage: _flag("--api-usage", "API calls, throttles, errors per day (7 days).") = False,
    storage_usage: _flag("--storage-usage", "Objects and bytes per prefix.") = False,
    data_freshness: _flag("--data-freshness", "Last bar vs the calendar, per dataset.") = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="ISO time to check for (default: now).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Run health checks.

    No flag runs all of them (plus the last successful run of each deployment when a Prefect server
    is configured).

    Exit code 0: healthy. 1: degraded (warnings). 2: failing.
    """
    settings = load_settings()  # a bad TS_ variable is one line, exit 2, before Prefect starts
    _check_store(settings)
    flags = {"api": check_api, "api_limits": check_api_limits, "data": check_data,
             "signals": check_signals, "storage": check_storage, "api_usage": api_usage,
             "storage_usage": storage_usage, "data_freshness": data_freshness}
    selected = [name for name, on in flags.items() if on] or None
    if as_of is not None:
        parse_as_of(as_of)
    from flows.health import health_check

    with running(health_check, "health"):
        report = run_once(health_check, checks=selected,
                          as_of=as_of)
    if json_out:
        print_json(report)
    else:
        print_report(report)
    raise typer.Exit(report["exit_code"])


def _check_store(settings) -> None:
    """With a Prefect API, refuse to report on an empty local store the flows never use."""
    from blocks.resolve import missing_operator_store, resolve_store

    problem = missing_operator_store(settings, resolve_store(settings))
    if problem is not None:
        raise ConfigError(problem)


def print_report(report: dict) -> None:
    """The health report as a table with the overall status."""
    table = Table(header_style="bold", title_justify="left",
                  title=f"health: {report['status']}")
    table.add_column("check")
    table.add_column("level")
    table.add_column("detail", overflow="fold")
    for check in report["checks"]:
        style = LEVEL_STYLE.get(check["level"], "")
        table.add_row(check["name"], f"[{style}]{check['level']}[/]", escape(check["detail"]))
    console.print(table)
