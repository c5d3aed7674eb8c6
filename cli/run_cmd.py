"""The ``tradingstation run <mode>`` command: run a session flow once, now or at ``--as-of``."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from cli.common import JsonOption, print_json
from tradingstation.calendar import parse_as_of

MODES = ("premarket", "market", "postmarket", "daily")

app = typer.Typer(help="Run a session flow once (the runbook's run_all.py --mode).",
                  no_args_is_help=True)


def _run_mode(mode: str, as_of: str | None, force: bool, json_out: bool) -> None:
    # Flows import Prefect; the core never does, so they load only when a mode runs.
    module = importlib.import_module(f"flows.{mode}")
    console = importlib.import_module("flows.console")
    instant = parse_as_of(as_of)
    if as_of is not None:
        from datetime import UTC, datetime

        from tradingstation.upkeep.operations import check_operation_time

        check_operation_time(mode, instant, datetime.now(UTC))
    flow_fn = getattr(module, mode)
    printer = console.print_premarket if mode == "premarket" else console.print_summary
    result = importlib.import_module("flows.session").run_flow_once(flow_fn, instant, force)
    if json_out:
        print_json({k: v for k, v in result.items() if k != "markdown"})
        return
    printer(result)


AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="ISO time to run for, e.g. 2025-11-24T08:45-05:00 (default: now).")]
Force = Annotated[bool, typer.Option(
    "--force", help="Run even when the market is closed (uses the last session) and refetch.")]


@app.command("premarket")
def premarket(as_of: AsOf = None, force: Force = False, json_out: JsonOption = False) -> None:
    """Universe, daily bars, anchors, quotes, Gap & Go and ORB watch list, premarket plan."""
    _run_mode("premarket", as_of, force, json_out)


@app.command("market")
def market(as_of: AsOf = None, force: Force = False, json_out: JsonOption = False) -> None:
    """1-min bars of the watchlist, AVWAP Reclaim, Breakout, EMA Pullback, ORB triggers."""
    _run_mode("market", as_of, force, json_out)


@app.command("postmarket")
def postmarket(as_of: AsOf = None, force: Force = False, json_out: JsonOption = False) -> None:
    """30-min bars, Exhaustion Reversal, master dashboard."""
    _run_mode("postmarket", as_of, force, json_out)


@app.command("daily")
def daily(as_of: AsOf = None, force: Force = False, json_out: JsonOption = False) -> None:
    """Health check, integrity verification, retention cleanup."""
    _run_mode("daily", as_of, force, json_out)
