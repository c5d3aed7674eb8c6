"""Track-record tables as text.

The markdown of a backtest (Prefect artifact, README) and the rows the CLI prints.
"""

from __future__ import annotations

import math
from typing import Any

from tradingstation.track.stats import BANDS, MIN_OUTCOMES, NOT_ENOUGH

SCREENER_HEAD = ("screener", "signals", "fill rate", "win rate", "avg R", "expectancy (90% CI)",
                 "worst losing run", "avg held")


def _num(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, fmt)


def screener_cells(row: dict[str, Any]) -> list[str]:
    """One screener's statistics as display cells ("not enough history" below the minimum)."""
    exp = (f"{row['expectancy']:+.2f}R ({row['exp_low']:+.2f}..{row['exp_high']:+.2f})"
           if row.get("enough") else NOT_ENOUGH)
    return [str(row["screener"]), str(row["signals"]), _num(row["fill_rate"], ".0%"),
            _num(row["win_rate"], ".0%"), _num(row["avg_r"], "+.2f"), exp,
            str(row["worst_losing_run"]), _num(row["avg_held"], ".1f")]


def calibration_cells(row: dict[str, Any]) -> list[str]:
    """One screener's calibration row: expectancy per score band, rank correlation, trades."""
    return [str(row["screener"]), *(_num(row.get(b), "+.2f") for b in BANDS),
            _num(row.get("spearman"), "+.2f"), str(row.get("trades", 0))]


def _md_table(head: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
    return lines


def backtest_markdown(summary: dict[str, Any]) -> str:
    """Markdown of a backtest summary: per-screener table, calibration and the assumptions."""
    sessions = summary.get("sessions") or {}
    rules = summary.get("rules") or {}
    lines = []
    if summary.get("demo"):
        lines += ["**DEMO DATA** - synthetic market, not real prices.", ""]
    lines += [
        f"# Backtest {summary.get('run', '')}",
        "",
        f"{summary.get('signals', 0)} signals over {sessions.get('count', 0)} sessions "
        f"({sessions.get('first')} .. {sessions.get('last')}). Fill within "
        f"{rules.get('fill_sessions')} session(s); time stop {rules.get('time_stop_sessions')} "
        f"sessions; slippage {rules.get('slippage_bps')} bps per fill; commission "
        f"${rules.get('commission_per_share')}/share per side; scale-out "
        f"{rules.get('scale_out', 0):.0%} at the first target; a bar touching stop and target "
        f"counts the stop. Fewer than {summary.get('min_outcomes', MIN_OUTCOMES)} decided "
        f"signals: {NOT_ENOUGH}.",
        "",
    ]
    rows = [screener_cells(r) for r in summary.get("by_screener") or []]
    lines += _md_table(SCREENER_HEAD, rows) if rows else ["_no signals_"]
    calibration = summary.get("calibration") or []
    if calibration:
        lines += ["", "Calibration: expectancy (R per signal) by score band; does a higher "
                  "score earn more R?", ""]
        lines += _md_table(["screener", *BANDS, "rank corr.", "trades"],
                           [calibration_cells(r) for r in calibration])
    return "\n".join(lines) + "\n"
