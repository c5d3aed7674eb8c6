"""The ``tradingstation dashboard`` command.

The runbook's master_dashboard.py, as the ``dashboard`` flow. Registered as
``app.command("dashboard")(dashboard_cmd.dashboard)``.
"""

from __future__ import annotations

import webbrowser
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
from flows.ephemeral import run_once
from tradingstation.calendar import parse_as_of

COLUMNS = ("rank", "symbol", "direction", "status", "score", "screeners", "entry", "stop",
           "targets", "reward_risk", "shares", "risk_dollars", "track")
DEMO_NOTE = "DEMO DATA: synthetic market, not real prices. Do not trade from it."


def object_location(store: Any, key: str) -> str:
    """Where ``key`` can be opened: a file path for the local store, else an ``s3://`` URI."""
    root = getattr(store, "root", None)
    if root is not None:
        return str(root.joinpath(*key.split("/")))
    config = getattr(store, "config", None)
    if config is not None and getattr(config, "bucket", None):
        full = f"{config.prefix}/{key}" if config.prefix else key
        return f"s3://{config.bucket}/{full}"
    return f"{store.describe()}: {key}"


def latest_locations() -> dict:
    """The "latest" dashboard pointer with each file's location.

    Raises:
        ObjectNotFoundError: No dashboard was published yet.
        DataError: "latest" names a missing or damaged file.
    """
    from blocks.resolve import resolve_store
    from tradingstation.dashboard.publish import load_latest

    store = resolve_store(load_settings())
    return locations_of(store, load_latest(store))


def locations_of(store: Any, pointer: dict) -> dict:
    """Session, stamp and the location of each file of a dashboard pointer."""
    return {"session": pointer["session"], "stamp": pointer["stamp"],
            "files": {name: object_location(store, meta["key"])
                      for name, meta in pointer["files"].items()}}


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return escape(str(value))


def print_plan(result: dict, verbose: bool) -> None:
    """The ranked, sized ideas as a table; ``verbose`` adds each idea's reasons."""
    from tradingstation.dashboard.export import format_reward_risk, format_track

    if result["demo"]:
        console.print(Panel(DEMO_NOTE, border_style="red", title="DEMO"))
    ideas = result["ideas"]
    table = Table(header_style="bold", title_justify="left",
                  title=f"Trade plan {result['session']}: {len(ideas)} ideas "
                  f"(signals of the last {result['hours_lookback']:g} h)")
    for name in COLUMNS:
        # identity and size never wrap or truncate; long text (screeners, track) wraps instead
        table.add_column(name, justify="right" if name in ("rank", "score", "entry", "stop",
                                                           "shares", "risk_dollars") else "left",
                         no_wrap=name in ("rank", "symbol", "shares"))
    for idea in ideas:
        shown = {**idea, "status": "CONFLICT" if idea.get("conflict") else idea["status"],
                 "reward_risk": format_reward_risk(idea.get("reward_risk")),
                 "track": format_track(idea.get("track_expectancy_r"),
                                       idea.get("track_sample", 0), idea.get("track_note", ""))}
        table.add_row(*(_cell(shown[c]) for c in COLUMNS))
    console.print(table)
    if verbose:
        for idea in ideas:
            console.print(f"[bold]#{idea['rank']} {idea['symbol']} {idea['direction']}[/] "
                          f"({_cell(idea['screeners'])})")
            for reason in idea.get("reasons", []):
                console.print(f"  - {escape(reason)}")
            console.print(f"  invalidation: {escape(idea['invalidation'])}")
        for dropped in result.get("dropped", []):
            console.print(f"[yellow]dropped[/] {escape(str(dropped))}")


def dashboard(
    hours_lookback: Annotated[float, typer.Option(
        "--hours-lookback", help="Gather signals of the last N hours (0 < N <= 744).")] = 24,
    verbose: VerboseOption = False,
    equity: Annotated[float | None, typer.Option(
        "--equity", help="Account equity (default TS_EQUITY).")] = None,
    risk_per_trade: Annotated[float | None, typer.Option(
        "--risk-per-trade", help="Fraction of equity at risk per idea, e.g. 0.01.")] = None,
    max_position_pct: Annotated[float | None, typer.Option(
        "--max-position-pct", help="Max position value as a fraction of equity.")] = None,
    max_open_risk: Annotated[float | None, typer.Option(
        "--max-open-risk", help="Max total open risk as a fraction of equity.")] = None,
    min_reward_risk: Annotated[float | None, typer.Option(
        "--min-reward-risk",
        help="Lowest reward:risk to the first target that is sized (default TS_MIN_REWARD_RISK)."
    )] = None,
    open_page: Annotated[bool, typer.Option(
        "--open", help="Open the HTML page in a browser afterwards (local store).")] = False,
    latest_path: Annotated[bool, typer.Option(
        "--latest-path", help="Only print where the latest dashboard's files are.")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="ISO time to build for (default: now).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Build and publish the master dashboard: ranked, sized trade ideas from recent signals.

    Writes a self-contained HTML page, plan.json and plan.csv (kept 7 days, with a stable
    "latest"), and the Prefect artifacts trade-plan / trade-plan-table. Prints the table and
    where the HTML page is.
    """
    if latest_path:
        locations = latest_locations()
        if json_out:
            print_json(locations)
        else:
            console.print(locations["files"]["index.html"], highlight=False, soft_wrap=True)
        return
    from tradingstation.errors import InputError
    from tradingstation.plan import RiskSettings

    settings = load_settings()
    # Bad values fail here with one line, before Prefect starts or anything is written.
    RiskSettings.from_settings(settings, equity=equity, risk_per_trade=risk_per_trade,
                               max_position_pct=max_position_pct, max_open_risk=max_open_risk,
                               min_reward_risk=min_reward_risk)
    if not 0 < hours_lookback <= 744:
        raise InputError(f"invalid --hours-lookback {hours_lookback!r}: must be in (0, 744]")
    if as_of is not None:
        parse_as_of(as_of)
    from flows.dashboard import dashboard as dashboard_flow

    with running(dashboard_flow, "dashboard"):
        result = run_once(dashboard_flow, hours_lookback=hours_lookback,
                          verbose=verbose, equity=equity, risk_per_trade=risk_per_trade,
                          max_position_pct=max_position_pct, max_open_risk=max_open_risk,
                          min_reward_risk=min_reward_risk, as_of=as_of)
    from blocks.resolve import resolve_store

    locations = locations_of(resolve_store(settings), result["pointer"])
    html = locations["files"]["index.html"]
    if json_out:
        print_json({**{k: v for k, v in result.items() if k != "markdown"},
                    "locations": locations["files"]})
    else:
        print_plan(result, verbose)
        console.print(f"HTML: {html}", highlight=False, soft_wrap=True)
    if open_page and not html.startswith("s3://"):
        webbrowser.open(f"file://{html}")
