"""The track record beside each idea: its screener's expectancy in its score band and direction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd

from tradingstation.plan import Plan, RiskSettings, build_plan
from tradingstation.signals import Signal
from tradingstation.storage.base import ObjectStore
from tradingstation.track.stats import lookup
from tradingstation.track.store import latest_summary, stats_table


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
        ideas.append(idea.model_copy(update={
            "track_expectancy_r": found["expectancy_r"], "track_sample": int(found["sample"]),
            "track_note": str(found["note"])}))
    return plan.model_copy(update={"ideas": ideas})


def plan_with_track_record(signals: list[Signal], risk: RiskSettings, as_of: datetime,
                           store: ObjectStore | None, rank_by_expectancy: bool = False) -> Plan:
    """The plan of ``signals``, each idea carrying its track record.

    The plan of ``signals``, each idea carrying its track record from the newest backtest generated
    by ``as_of`` (one small read; none without a store), ranked by expectancy x score when
    ``rank_by_expectancy``.
    """
    table = stats_table(latest_summary(store, as_of) if store is not None else None)
    ranking = expectancy_of(table) if rank_by_expectancy else None
    return annotate_plan(build_plan(signals, risk, generated_at=as_of, expectancy=ranking), table)


def expectancy_of(table: pd.DataFrame) -> Callable[[Signal], float | None]:
    """For ``build_plan(expectancy=...)``.

    A signal's screener/band/direction expectancy in R, None below the minimum sample.
    """
    def figure(signal: Signal) -> float | None:
        return lookup(table, signal.screener, signal.score, signal.direction)["expectancy_r"]
    return figure
