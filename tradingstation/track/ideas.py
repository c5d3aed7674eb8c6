"""The track record beside each idea: its screener's expectancy in its score band and direction."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from tradingstation.plan import Plan
from tradingstation.track.stats import lookup


def annotate_plan(plan: Plan, table: pd.DataFrame) -> Plan:
    """``plan`` with every idea's ``track_*`` fields filled from ``table``.

    Args:
        plan: The ranked plan.
        table: Statistics per screener, band and direction
            (:func:`tradingstation.track.store.stats_table` of the latest backtest).

    The figure is that of the idea's first (best) screener at the idea's score; below the
    minimum sample it is None with the note "not enough history".
    """
    ideas = []
    for idea in plan.ideas:
        found = lookup(table, idea.screeners[0], idea.score, idea.direction)
        ideas.append(replace(idea, track_expectancy_r=found["expectancy_r"],
                             track_sample=int(found["sample"]), track_note=str(found["note"])))
    return replace(plan, ideas=ideas)
