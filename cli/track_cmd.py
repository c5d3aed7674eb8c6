"""The ``tradingstation backtest`` command: the walk-forward replay as the ``backtest`` flow.

Registered as ``app.command("backtest")(track_cmd.backtest)``. Screener names, tickers (which
must have stored daily bars), the session count and ``--as-of`` are checked before Prefect
starts: bad input is one ``error:`` line and exit 2.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from cli.analysis_cmd import check_stored
from cli.common import JsonOption, console, load_settings, print_json, running
from flows.ephemeral import run_once
from tradingstation.calendar import parse_as_of
from tradingstation.errors import InputError

DEMO_NOTE = "DEMO DATA: synthetic market, not real prices. These are not real results."


def _table(title: str, head: list[str] | tuple[str, ...], rows: list[list[str]]) -> Table:
    table = Table(header_style="bold", title_justify="left", title=title)
    for i, name in enumerate(head):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(escape(c) for c in row))
    return table


def print_backtest(result: dict[str, Any], live: list[dict[str, Any]]) -> None:
    """The per-screener table, the calibration table and backtest vs live."""
    from tradingstation.track.report import SCREENER_HEAD, calibration_cells, screener_cells
    from tradingstation.track.stats import BANDS, NOT_ENOUGH

    if result.get("demo"):
        console.print(Panel(DEMO_NOTE, border_style="red", title="DEMO"))
    span = result["sessions"]
    console.print(_table(
        f"Backtest {result.get('run')}: {result['signals']} signals over {span['count']} "
        f"sessions ({span['first']} .. {span['last']})", SCREENER_HEAD,
        [screener_cells(r) for r in result["by_screener"]]))
    console.print(_table("Calibration: expectancy (R per signal) by score band",
                         ["screener", *BANDS, "rank corr.", "trades"],
                         [calibration_cells(r) for r in result["calibration"]]))
    if live:
        def exp(row: dict, side: str) -> str:
            value = row.get(f"expectancy_{side}")
            return f"{value:+.2f}R" if row.get(f"enough_{side}") else NOT_ENOUGH

        console.print(_table(
            "Backtest vs live record", ["screener", "backtest n", "backtest exp.", "live n",
                                        "live exp."],
            [[r["screener"], str(r["signals_backtest"]), exp(r, "backtest"),
              str(r["signals_live"]), exp(r, "live")] for r in live]))
    rules = result.get("rules") or {}
    console.print(f"Rules: fill within {rules.get('fill_sessions')} session(s), time stop "
                  f"{rules.get('time_stop_sessions')} sessions, slippage "
                  f"{rules.get('slippage_bps')} bps per fill, commission "
                  f"${rules.get('commission_per_share')}/share per side, scale-out "
                  f"{rules.get('scale_out', 0):.0%} at the first target; a bar touching stop "
                  "and target counts the stop.", highlight=False)
    console.print(f"stored: {result['key']} ({result['store']})", highlight=False)


def backtest(
    screeners: Annotated[str | None, typer.Option(
        "--screeners", help="Comma-separated screeners (default: all six).")] = None,
    sessions: Annotated[int | None, typer.Option(
        "--sessions", help="Replay the last N stored sessions (default: all after warm-up).")]
    = None,
    tickers: Annotated[str | None, typer.Option(
        "--tickers", help="Comma-separated tickers (default: every stored symbol).")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="See the store as it was at this ISO time (default: now).")] = None,
    time_stop: Annotated[int | None, typer.Option(
        "--time-stop", help="Sessions a trade is held at most (TS_TRACK_TIME_STOP_SESSIONS).")]
    = None,
    fill_sessions: Annotated[int | None, typer.Option(
        "--fill-sessions", help="Sessions a watch signal may take to fill "
        "(TS_TRACK_FILL_SESSIONS).")] = None,
    slippage_bps: Annotated[float | None, typer.Option(
        "--slippage-bps", help="Slippage per fill, basis points (TS_TRACK_SLIPPAGE_BPS).")]
    = None,
    commission: Annotated[float | None, typer.Option(
        "--commission", help="Commission per share and side, dollars "
        "(TS_TRACK_COMMISSION_PER_SHARE).")] = None,
    scale_out: Annotated[float | None, typer.Option(
        "--scale-out", help="Fraction closed at the first target, the rest at break-even "
        "toward the second (TS_TRACK_SCALE_OUT; 0 = off).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Walk-forward backtest: every screener as of every stored session, outcomes in R.

    Each session is screened with the live screener code on the data as it stood then; each
    signal's fill, exit (stop, first target or a 10-session time stop) and R after costs are
    stored under research/backtests/ with per-screener statistics (see README "Track record").
    """
    from flows.track import parse_screeners
    from tradingstation.storage.keys import parse_symbols

    parse_screeners(screeners)
    symbols = parse_symbols(tickers)
    if sessions is not None and sessions <= 0:
        raise InputError(f"--sessions must be positive, got {sessions}")
    if as_of is not None:
        parse_as_of(as_of)
    from tradingstation.track.run import rules_from_settings

    rules = {"time_stop": time_stop, "fill_sessions": fill_sessions,
             "slippage_bps": slippage_bps, "commission": commission, "scale_out": scale_out}
    rules_from_settings(load_settings(), time_stop_sessions=time_stop,
                        fill_sessions=fill_sessions, slippage_bps=slippage_bps,
                        commission_per_share=commission, scale_out=scale_out)
    check_stored(symbols, "--tickers")
    _check_history()
    from flows.track import backtest as backtest_flow

    with running(backtest_flow, "backtest"):
        result = run_once(backtest_flow, screeners=screeners,
                          sessions=sessions, tickers=tickers, as_of=as_of, **rules)
    live = _live_side_by_side()
    if json_out:
        print_json({**result, "live": live})
    else:
        print_backtest(result, live)


def _check_history() -> None:
    """Fail before the flow starts when no daily bars were ever stored (one HEAD request).

    Raises:
        InputError: names the commands that store bars to replay.
    """
    from blocks.resolve import resolve_store
    from tradingstation.storage import keys
    from tradingstation.track.run import NO_HISTORY

    if not resolve_store(load_settings()).exists(keys.ledger_key("daily")):
        raise InputError(NO_HISTORY)


def _live_side_by_side() -> list[dict[str, Any]]:
    from blocks.resolve import resolve_store
    from tradingstation.track.stats import side_by_side
    from tradingstation.track.store import jsonable, latest_outcomes, read_live

    store = resolve_store(load_settings())
    return jsonable(side_by_side(latest_outcomes(store), read_live(store)))
