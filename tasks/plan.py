"""Plan task: rank and size a session's signals into a trade plan, published as artifacts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks.policy import run_ids
from tradingstation import logs
from tradingstation.config import Settings
from tradingstation.dashboard.build import risk_from_settings
from tradingstation.dashboard.export import idea_to_dict, plan_to_markdown
from tradingstation.plan import RiskSettings
from tradingstation.signals import Signal
from tradingstation.storage.base import ObjectStore
from tradingstation.track.ideas import plan_with_track_record

log = logging.getLogger("tradingstation.plan")
TABLE_COLUMNS = ("rank", "symbol", "direction", "status", "score", "screeners", "entry", "stop",
                 "targets", "reward_risk", "conflict", "shares", "risk_dollars")


def risk_settings(settings: Settings) -> RiskSettings:
    """Sizing rules from settings."""
    return risk_from_settings(settings)


@task(name="build-plan", cache_policy=NO_CACHE)
def build_session_plan(
    session: date,
    as_of: datetime,
    settings: Settings,
    mode: str,
    signals: Sequence[Signal],
    store: ObjectStore | None = None,
) -> dict:
    """Merge, rank and size ``signals``; publish ``<mode>-plan`` markdown and table artifacts.

    Returns:
        ``{"ideas": [idea dicts], "markdown": str, "demo": bool, "dropped": [...]}``.
    """
    with logs.set_run_context(**run_ids()):
        plan = plan_with_track_record(signals, risk_settings(settings), as_of, store,
                                      settings.rank_by_expectancy)
        title = f"{mode.capitalize()} plan {session.isoformat()}"
        markdown = plan_to_markdown(plan, title)
        ideas = [idea_to_dict(i) for i in plan.ideas]
        create_markdown_artifact(key=f"{mode}-plan", markdown=markdown, description=title)
        rows = [
            {c: (", ".join(map(str, i[c])) if isinstance(i[c], list) else i[c])
             for c in TABLE_COLUMNS}
            for i in ideas
        ]
        create_table_artifact(key=f"{mode}-plan-table", table=rows, description=title)
        log.info("%s: %d ideas, open risk %.2f", title, len(ideas), plan.open_risk)
        return {"ideas": ideas, "markdown": markdown, "demo": plan.demo, "dropped": plan.dropped}
