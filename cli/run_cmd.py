"""The ``tradingstation run <mode>`` command: run a session flow once, now or at ``--as-of``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cli.common import JsonOption, print_json
from flows.ephemeral import run_once
from tradingstation.calendar import parse_as_of

# Flows (Prefect) and pandas are imported inside the commands that use them, so that
# `tradingstation --help` and bad input stay fast (tests/cli/test_cli.py pins it).

MODES = ("premarket", "market", "postmarket", "daily")

app = typer.Typer(help="Run a session flow once (the runbook's run_all.py --mode).",
                  no_args_is_help=True)


def _run_mode(mode: str, flow_fn: Any, as_of: str | None, force: bool, json_out: bool) -> None:
    from flows.console import print_premarket, print_summary
    from tradingstation.upkeep.operations import check_operation_time

    instant = parse_as_of(as_of)
    if as_of is not None:
        check_operation_time(mode, instant, datetime.now(UTC))
    result = run_once(flow_fn, as_of=instant, force=force)
    if json_out:
        print_json({k: v for k, v in result.items() if k != "markdown"})
        return
    (print_premarket if mode == "premarket" else print_summary)(result)


AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="ISO time to run for, e.g. 2025-11-24T08:45-05:00 (default: now).")]
Force = Annotated[bool, typer.Option(
    "--force", help="Run even when the market is closed (uses the last session) and refetch.")]


@app.command("premarket")
def premarket(as_of: AsOf = None, force: Force = False, json_out: JsonOption = False) -> None:
    """Universe, daily bars, anchors, quotes, Gap & Go and ORB watch list, premarket plan."""
    from flows.premarket import premarket as flow_fn

    _run_mode("premarket", flow_fn, as_of, force, json_out)


@app.command("market")
def market(as_of: AsOf = None, force: Force = False, json_out: JsonOption = False) -> None:
    """Session quotes of the watchlist (1-min bars of ORB/AVWAP candidates only), AVWAP
    Reclaim, Breakout, EMA Pullback, ORB triggers (until 11:30)."""
    from flows.market import market as flow_fn

    _run_mode("market", flow_fn, as_of, force, json_out)


@app.command("postmarket")
def postmarket(as_of: AsOf = None, force: Force = False, json_out: JsonOption = False) -> None:
    """30-min bars, Exhaustion Reversal, master dashboard."""
    from flows.postmarket import postmarket as flow_fn

    _run_mode("postmarket", flow_fn, as_of, force, json_out)


@app.command("daily")
def daily(as_of: AsOf = None, force: Force = False, json_out: JsonOption = False) -> None:
    """Health check, integrity verification, retention cleanup."""
    from flows.daily import daily as flow_fn

    _run_mode("daily", flow_fn, as_of, force, json_out)
