"""The ``tradingstation run <mode>`` command: run a session flow once, now or at ``--as-of``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cli.common import JsonOption, print_json
from flows.ephemeral import run_once
from tradingstation.calendar import parse_as_of
from tradingstation.errors import InputError

# Flows (Prefect) and pandas are imported inside the commands that use them, so that
# `tradingstation --help` and bad input stay fast (tests/cli/test_cli.py pins it).

MODES = ("premarket", "market", "postmarket", "daily")

app = typer.Typer(help="Run a session flow once (the runbook's run_all.py --mode).",
                  no_args_is_help=True)


def _refuse_force(force: bool) -> None:
    """The old ``--force`` meant two things: it stops with one line naming the two options."""
    if force:
        from flows.script import FORCE_SPLIT

        raise InputError(FORCE_SPLIT)


def _run_mode(mode: str, flow_fn: Any, as_of: str | None, json_out: bool,
              **options: bool) -> None:
    from flows.console import print_premarket, print_summary
    from tradingstation.upkeep.operations import check_operation_time

    instant = parse_as_of(as_of)
    if as_of is not None:
        check_operation_time(mode, instant, datetime.now(UTC))
    result = run_once(flow_fn, as_of=instant, **options)
    if json_out:
        print_json({k: v for k, v in result.items() if k != "markdown"})
        return
    (print_premarket if mode == "premarket" else print_summary)(result)


AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="ISO time to run for, e.g. 2025-11-24T08:45-05:00 (default: now).")]
AllowClosed = Annotated[bool, typer.Option(
    "--allow-closed", help="On a closed day, run the last completed session.")]
Refetch = Annotated[bool, typer.Option(
    "--refetch", help="Refetch data that is already fresh (bars, universe, quotes).")]
Force = Annotated[bool, typer.Option("--force", hidden=True)]  # the old flag: see _refuse_force


@app.command("premarket")
def premarket(as_of: AsOf = None, allow_closed: AllowClosed = False, refetch: Refetch = False,
              json_out: JsonOption = False, force: Force = False) -> None:
    """Universe, daily bars, anchors, quotes, Gap & Go and ORB watch list, premarket plan."""
    _refuse_force(force)
    from flows.premarket import premarket as flow_fn

    _run_mode("premarket", flow_fn, as_of, json_out, allow_closed=allow_closed, refetch=refetch)


@app.command("market")
def market(as_of: AsOf = None, allow_closed: AllowClosed = False, refetch: Refetch = False,
           json_out: JsonOption = False, force: Force = False) -> None:
    """Session quotes, AVWAP Reclaim, Breakout, EMA Pullback, ORB triggers (until 11:30).

    Session quotes of the watchlist (1-min bars of ORB/AVWAP candidates only), AVWAP Reclaim,
    Breakout, EMA Pullback, ORB triggers (until 11:30).
    """
    _refuse_force(force)
    from flows.market import market as flow_fn

    _run_mode("market", flow_fn, as_of, json_out, allow_closed=allow_closed, refetch=refetch)


@app.command("postmarket")
def postmarket(as_of: AsOf = None, allow_closed: AllowClosed = False, refetch: Refetch = False,
               json_out: JsonOption = False, force: Force = False) -> None:
    """30-min bars, Exhaustion Reversal, master dashboard."""
    _refuse_force(force)
    from flows.postmarket import postmarket as flow_fn

    _run_mode("postmarket", flow_fn, as_of, json_out, allow_closed=allow_closed,
              refetch=refetch)


@app.command("daily")
def daily(as_of: AsOf = None, allow_closed: AllowClosed = False, json_out: JsonOption = False,
          force: Force = False) -> None:
    """Health check, integrity verification, retention cleanup."""
    _refuse_force(force)
    from flows.daily import daily as flow_fn

    _run_mode("daily", flow_fn, as_of, json_out, allow_closed=allow_closed)
