"""The dashboard's "Track record" section.

Backtest vs live per screener, calibration by score band, and the equity curve in R of each
screener.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from tradingstation.dashboard.html import svg_data_uri
from tradingstation.dashboard.track_chart import render_equity_svg
from tradingstation.track.report import calibration_cells
from tradingstation.track.stats import BANDS, MIN_OUTCOMES, NOT_ENOUGH


def _exp(row: dict[str, Any], side: str) -> str:
    if not row.get(f"enough_{side}"):
        return NOT_ENOUGH
    return f"{row[f'expectancy_{side}']:+.2f}R"


def _table(table_id: str, head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(
        f"<td{'' if i == 0 else ' class=num'}>{escape(c)}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    return f"<table id='{table_id}'><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def render_track_section(side_by_side: list[dict[str, Any]], calibration: list[dict[str, Any]],
                         curves: dict[str, pd.Series], run: str | None, demo: bool) -> str:
    """The HTML of the section (always present; says how to get a track record when empty)."""
    out = ["<h2 id='track-record'>Track record</h2>"]
    if not side_by_side:
        out.append("<p id='no-track'>No track record yet: run <code>tradingstation "
                   "backtest</code>; the daily flow records live outcomes.</p>")
        return "".join(out)
    label = " (DEMO data)" if demo else ""
    out.append(f"<div class='meta'>Outcomes in R of each screener's signals: backtest "
               f"{escape(run or '-')}{label} and the live record. Expectancy = R per signal "
               f"(not filled = 0 R); fewer than {MIN_OUTCOMES} decided signals: "
               f"{NOT_ENOUGH}.</div>")
    rows = [[r["screener"], str(r["signals_backtest"]), _exp(r, "backtest"),
             str(r["signals_live"]), _exp(r, "live")] for r in side_by_side]
    out.append(_table("track", ["Screener", "Backtest n", "Backtest expectancy", "Live n",
                                "Live expectancy"], rows))
    if calibration:
        out.append("<h3>Calibration: does a higher score earn more R?</h3>")
        out.append(_table("calibration", ["Screener", *BANDS, "Rank corr.", "Trades"],
                          [calibration_cells(r) for r in calibration]))
    svg = render_equity_svg(curves, "Equity in R per screener (backtest, closed trades)")
    out.append(f"<figure><img class='equity' src='{svg_data_uri(svg)}' alt='equity curves "
               f"in R' width='640' height='300'><figcaption>Cumulative R of every closed trade, "
               f"by exit session</figcaption></figure>")
    return "".join(out)
