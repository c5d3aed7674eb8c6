"""Terminal output of flows run as scripts: the premarket plan and run summaries."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from tasks.report import DEMO_BANNER
from tradingstation.calendar import NY
from tradingstation.dashboard.export import format_reward_risk, format_track

console = Console()
# Results of runs that had nothing to do (see flows.session.finish_closed).
IDLE = ("market_closed", "window_not_open")
SHORT = {"gap_and_go": "G&G", "orb": "ORB", "avwap_reclaim": "AVWAP", "breakout": "BRK",
         "ema_pullback": "EMA", "exhaustion_reversal": "EXH"}


def _signals_table(title: str, rows: list[dict]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for name in ("symbol", "side", "status", "score", "entry", "stop", "targets"):
        table.add_column(name, justify="right" if name in ("score", "entry", "stop") else "left")
    for row in rows:
        table.add_row(row["symbol"], row["side"], row["status"], f"{row['score']:.1f}",
                      f"{row['entry']:.2f}", f"{row['stop']:.2f}", str(row["targets"]))
    if not rows:
        table.add_row("none", "", "", "", "", "", "")
    return table


def print_premarket(result: dict) -> None:
    """Print the premarket plan (or the market-closed message) of a premarket flow result."""
    if result.get("status") in IDLE:
        console.print(Panel(result["message"], title="premarket", border_style="yellow"))
        return
    if result.get("notice"):
        console.print(Panel(result["notice"], title="premarket", border_style="yellow"))
    if result.get("demo"):
        console.print(Panel(DEMO_BANNER, border_style="red", title="DEMO"))
    as_of = datetime.fromisoformat(result["as_of"]).astimezone(NY)
    console.print(f"[bold]Premarket plan for {result['session']}[/] "
                  f"(as of {as_of:%Y-%m-%d %H:%M} New York)")
    for title, rows in result.get("top", {}).items():
        console.print(_signals_table(title, rows))
    ideas = result.get("plan", {}).get("ideas", [])
    table = Table(title="Ranked ideas (sized)", title_justify="left", header_style="bold")
    for name in ("#", "symbol", "side", "status", "score", "screeners", "entry", "stop",
                 "R:R", "shares", "track record"):
        table.add_column(name, no_wrap=name not in ("screeners", "track record"))
    for idea in ideas[:10]:
        screeners = "+".join(SHORT.get(s, s) for s in idea["screeners"])
        status = "CONFLICT" if idea.get("conflict") else idea["status"]
        table.add_row(str(idea["rank"]), idea["symbol"], idea["direction"], status,
                      f"{idea['score']:.1f}", screeners, f"{idea['entry']:.2f}",
                      f"{idea['stop']:.2f}", format_reward_risk(idea.get("reward_risk")),
                      str(idea["shares"]),
                      format_track(idea.get("track_expectancy_r"), idea.get("track_sample", 0),
                                   idea.get("track_note", "")))
    console.print(table)
    failed = result.get("failed_symbols") or {}
    for job, symbols in failed.items():
        console.print(f"[yellow]{job}: {len(symbols)} symbols failed[/]: {', '.join(symbols[:20])}")


def print_summary(result: dict) -> None:
    """Print a session flow's result: market closed, or its top signals per screener."""
    mode = result.get("mode", "run")
    if result.get("status") in IDLE:
        console.print(Panel(result["message"], title=mode, border_style="yellow"))
        return
    if result.get("notice"):
        console.print(Panel(result["notice"], title=mode, border_style="yellow"))
    if result.get("demo"):
        console.print(Panel(DEMO_BANNER, border_style="red", title="DEMO"))
    as_of = datetime.fromisoformat(result["as_of"]).astimezone(NY)
    console.print(f"[bold]{mode} {result.get('session')}[/] "
                  f"(as of {as_of:%Y-%m-%d %H:%M} New York)")
    for title, rows in result.get("top", {}).items():
        console.print(_signals_table(title, rows))
    for job, symbols in (result.get("failed_symbols") or {}).items():
        console.print(f"[yellow]{job}: {len(symbols)} symbols failed[/]: {', '.join(symbols[:20])}")
