"""The ``tradingstation anchors`` and ``tradingstation screen <name>`` commands.

The runbook's find_avwap_anchors.py and screeners/<name>.py, as the ``anchors`` and ``screen``
flows.

Registered as ``app.command("anchors")(analysis_cmd.anchors)`` and
``app.command("screen")(analysis_cmd.screen)``. Every flag is checked before Prefect starts:
an unknown screener, a flag the screener does not take, a value its parameter model refuses
or a ticker without stored daily bars is one ``error:`` line and exit 2.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from cli.common import (
    JsonOption,
    VerboseOption,
    console,
    load_settings,
    print_json,
    running,
)
from cli.fetch_cmd import check_as_of
from flows.ephemeral import run_once
from tradingstation.errors import InputError

# Flows (Prefect), blocks and pandas are imported inside the commands that use them, so that
# `tradingstation --help` and bad input stay fast (tests/cli/test_cli.py pins it).

MAX_LOOKBACK_DAYS = 250  # daily retention keeps 252 sessions; more finds nothing new
ANCHOR_ROWS = 50  # rows shown without --verbose (all with it, or with --ticker)
DEMO_NOTE = "DEMO DATA: synthetic market, not real prices. Do not trade from it."
# Screener flags: command-line name -> parameter name (which screeners take it is read from
# their parameter models, so a new screener with the same parameter gets the flag for free).
SCREEN_FLAGS = {
    "--or-window": "or_window",
    "--min-score": "min_score",
    "--min-consolidation-days": "min_consolidation_days",
    "--ema-period": "ema_period",
    "--volume-spike-threshold": "volume_spike_threshold",
}

AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="ISO time, e.g. 2025-11-24T17:00-05:00 (default: now; a closed day uses "
    "the last session).")]


def check_stored(symbols: list[str] | None, flag: str) -> None:
    """Fail unless every ticker has stored daily bars (anchors and screens read them).

    Raises:
        InputError: names the tickers without daily bars and how to fetch them.
    """
    if not symbols:
        return
    from blocks.resolve import resolve_store
    from tradingstation.storage import keys

    store = resolve_store(load_settings())
    missing = [s for s in symbols if not store.exists(keys.bars_key("daily", s))]
    if missing:
        listed = ",".join(missing)
        raise InputError(f"{flag}: no daily bars stored for {listed} (unknown ticker, or fetch "
                         f"it first: tradingstation fetch daily --tickers {listed})")


def _num(value: Any, digits: int = 2) -> str:
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return escape(str(value))


def load_session_anchors(session: str, ticker: str | None) -> list[dict]:
    """The anchors stored for ``session`` (filtered to ``ticker``) as JSON-ready records."""
    from datetime import date

    from blocks.resolve import resolve_store
    from tradingstation.anchor_table import anchors_for_symbol
    from tradingstation.storage import keys

    store = resolve_store(load_settings())
    frame = store.get_frame(keys.anchors_key(date.fromisoformat(session)))
    if ticker:
        frame = anchors_for_symbol(frame, ticker)
    records = []
    for row in frame.to_dict("records"):
        record = {"session": session}
        for name, value in row.items():
            if hasattr(value, "isoformat"):
                value = value.isoformat()[:10]
            elif hasattr(value, "item"):  # numpy scalars
                value = value.item()
            record[name] = None if isinstance(value, float) and value != value else value
        records.append(record)
    return records


def print_anchors(session: str, records: list[dict], lookback_days: int, verbose: bool) -> None:
    """The anchor table (first ``ANCHOR_ROWS`` rows unless ``verbose``)."""
    symbols = len({r["symbol"] for r in records})
    table = Table(header_style="bold", title_justify="left",
                  title=f"AVWAP anchors for session {session}: {len(records)} anchors over "
                  f"{symbols} symbols (lookback {lookback_days} sessions)")
    columns = ["symbol", "type", "date", "price", "strength", "avwap"]
    if verbose:
        columns.append("bars_since")
    for name in columns:
        table.add_column(name, justify="right" if name in ("price", "strength", "avwap",
                                                           "bars_since") else "left")
    shown = records if verbose else records[:ANCHOR_ROWS]
    for r in shown:
        cells = [r["symbol"], r["anchor_type"], str(r["anchor_date"]), _num(r["price"]),
                 _num(r["strength"], 3), _num(r["avwap"]) if r["avwap"] is not None else "-"]
        if verbose:
            cells.append(str(r["bars_since"]))
        table.add_row(*cells)
    console.print(table)
    if len(shown) < len(records):
        console.print(f"... {len(records) - len(shown)} more (use --verbose, --ticker or --json)")
    if verbose:
        by_type: dict[str, int] = {}
        for r in records:
            by_type[r["anchor_type"]] = by_type.get(r["anchor_type"], 0) + 1
        console.print("by type: " + ", ".join(f"{k}={v}" for k, v in sorted(by_type.items())))


def anchors(
    lookback_days: Annotated[int, typer.Option(
        "--lookback-days", help=f"Anchors within this many sessions (1-{MAX_LOOKBACK_DAYS}); "
        "52-week extremes are always reported.")] = 30,
    ticker: Annotated[str | None, typer.Option(
        "--ticker", help="Find and show the anchors of this ticker only.")] = None,
    as_of: AsOf = None,
    verbose: VerboseOption = False,
    json_out: JsonOption = False,
) -> None:
    """Find AVWAP anchors (gap days, volume spikes, pivots, 52-week extremes) for the session.

    Stores them per session (screeners read them) and prints symbol, type, date, price,
    strength and the current AVWAP from each anchor.
    """
    if not 0 < lookback_days <= MAX_LOOKBACK_DAYS:
        raise InputError(f"--lookback-days must be between 1 and {MAX_LOOKBACK_DAYS}, "
                         f"got {lookback_days}")
    from tradingstation.storage.keys import validate_symbol

    symbol = validate_symbol(ticker.strip().upper()) if ticker is not None else None
    instant = check_as_of(as_of)
    check_stored([symbol] if symbol else None, "--ticker")
    from flows.analysis import anchors as anchors_flow

    with running(anchors_flow, "anchors"):
        result = run_once(anchors_flow, lookback_days=lookback_days, ticker=symbol,
                          as_of=instant)
    records = load_session_anchors(result["session"], symbol)
    if json_out:
        print_json(records)
    else:
        print_anchors(result["session"], records, lookback_days, verbose)


def screen_params(name: str, flags: dict[str, Any],
                  extra: list[str] | None = None) -> dict[str, Any]:
    """Check the screener name, which flags apply to it, and their values.

    Args:
        name: Screener registry name.
        flags: ``{"--flag": value}`` as given (None = not given).
        extra: ``--param name=value`` items (values are converted by the parameter model).

    Returns:
        The given values as screener parameters, validated by its parameter model.

    Raises:
        InputError: unknown screener (lists the valid names), a flag the screener does not
            take (names the screeners it applies to), or a value out of range.
    """
    from tradingstation.screeners import SCREENERS, get_screener

    screener = get_screener(name)
    params = {}
    for flag, value in flags.items():
        if value is None:
            continue
        param = SCREEN_FLAGS[flag]
        if param not in screener.params_model.model_fields:
            owners = [n for n, cls in SCREENERS.items() if param in cls.params_model.model_fields]
            raise InputError(f"{flag} applies to {' and '.join(owners)} only, not {name}")
        params[param] = value
    for item in extra or []:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key or not value.strip():
            raise InputError(f"--param {item[:40]!r}: expected name=value")
        if key in params:
            raise InputError(f"--param {key} given twice")
        params[key] = value.strip()
    parsed = screener.parse_params(**params)
    # The model's converted values (numbers, not the command line's strings) go to the flow.
    return {key: getattr(parsed, key) for key in params}


def print_signals(result: dict, verbose: bool) -> None:
    """The signals as a table; ``verbose`` adds each signal's reasons under the table."""
    signals = result["signals"]
    if any(s.get("demo") for s in signals):
        console.print(Panel(DEMO_NOTE, border_style="red", title="DEMO"))
    table = Table(header_style="bold", title_justify="left",
                  title=f"{result['screener']} {result['session']}: {len(signals)} signals")
    for col in ("symbol", "side", "status", "score", "entry", "stop", "targets", "risk/share"):
        table.add_column(col, justify="left" if col in ("symbol", "side", "status", "targets")
                         else "right")
    for s in signals:
        table.add_row(s["symbol"], s["direction"], s["status"], f"{s['score']:.1f}",
                      _num(s["entry"]), _num(s["stop"]), ", ".join(_num(t) for t in s["targets"]),
                      _num(s["risk_per_share"]))
    console.print(table)
    if verbose:
        for s in signals:
            console.print(f"[bold]{s['symbol']} {s['direction']} {s['status']}[/] "
                          f"score {s['score']:.1f}")
            for reason in s["reasons"]:
                console.print(f"  - {escape(reason)}", highlight=False, soft_wrap=True)


def screen(
    name: Annotated[str, typer.Argument(
        help="gap_and_go | orb | avwap_reclaim | breakout | ema_pullback | exhaustion_reversal",
        show_default=False)],
    tickers: Annotated[str | None, typer.Option(
        "--tickers", help="Comma-separated tickers to screen (default: the universe).")] = None,
    or_window: Annotated[int | None, typer.Option(
        "--or-window", help="orb: opening-range minutes, 5, 15 or 30 (default 15).")] = None,
    min_score: Annotated[float | None, typer.Option(
        "--min-score", help="avwap_reclaim: lowest score reported, 0-10 (default 7).")] = None,
    min_consolidation_days: Annotated[int | None, typer.Option(
        "--min-consolidation-days", help="breakout: shortest base in sessions (default 5).")]
    = None,
    ema_period: Annotated[int | None, typer.Option(
        "--ema-period", help="ema_pullback: EMA the pullback touches (default 21).")] = None,
    volume_spike_threshold: Annotated[float | None, typer.Option(
        "--volume-spike-threshold",
        help="exhaustion_reversal: volume vs its 20-day average (default 2.0).")] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="Any other parameter of the screener as name=value, e.g. "
        "--param min_gap=0.05 (repeatable; checked against the screener's ranges).")] = None,
    as_of: AsOf = None,
    verbose: VerboseOption = False,
    json_out: JsonOption = False,
) -> None:
    """Run one screener over the stored data and save its signals for the session.

    Prints each signal's side, status, score 0-10, entry, stop, targets and risk per share;
    --verbose adds the reasons (sentences with the numbers that produced the signal).
    """
    params = screen_params(name, {
        "--or-window": or_window, "--min-score": min_score,
        "--min-consolidation-days": min_consolidation_days, "--ema-period": ema_period,
        "--volume-spike-threshold": volume_spike_threshold,
    }, param)
    from tradingstation.storage.keys import parse_symbol_filter

    symbols = parse_symbol_filter(tickers)
    instant = check_as_of(as_of)
    check_stored(symbols, "--tickers")
    from flows.analysis import screen as screen_flow

    with running(screen_flow, f"screen {name}"):
        result = run_once(screen_flow, name=name, tickers=",".join(symbols) if symbols else None,
                          params=params, as_of=instant)
    if json_out:
        print_json(result["signals"])
    else:
        print_signals(result, verbose)
