"""Plan tasks: a session's ranked, sized trade plan and the published dashboard, as artifacts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks.policy import retry_options, run_ids
from tradingstation import logs
from tradingstation.config import Settings
from tradingstation.dashboard.build import DashboardResult, build_dashboard
from tradingstation.dashboard.export import idea_to_dict, plan_to_markdown
from tradingstation.plan import Plan, RiskSettings
from tradingstation.signals import Signal
from tradingstation.storage.base import ObjectStore
from tradingstation.track.ideas import plan_with_track_record

log = logging.getLogger("tradingstation.plan")
TABLE_COLUMNS = ("rank", "symbol", "direction", "status", "score", "screeners", "entry", "stop",
                 "targets", "reward_risk", "conflict", "shares", "risk_dollars")
# Prefect artifact keys of the dashboard's plan (``tradingstation dashboard``, postmarket).
MARKDOWN_KEY = "trade-plan"
TABLE_KEY = "trade-plan-table"


def table_rows(plan: Plan) -> list[dict]:
    """The ideas as flat rows for a table artifact (lists joined with commas)."""
    rows = []
    for idea in plan.ideas:
        values = idea_to_dict(idea)
        rows.append({c: (", ".join(map(str, values[c])) if isinstance(values[c], list)
                         else values[c]) for c in TABLE_COLUMNS})
    return rows


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
        plan = plan_with_track_record(signals, RiskSettings.from_settings(settings), as_of,
                                      store, settings.rank_by_expectancy)
        title = f"{mode.capitalize()} plan {session.isoformat()}"
        markdown = plan_to_markdown(plan, title)
        create_markdown_artifact(key=f"{mode}-plan", markdown=markdown, description=title)
        create_table_artifact(key=f"{mode}-plan-table", table=table_rows(plan),
                              description=title)
        log.info("%s: %d ideas, open risk %.2f", title, len(plan.ideas), plan.open_risk)
        return {"ideas": [idea_to_dict(i) for i in plan.ideas], "markdown": markdown,
                "demo": plan.demo, "dropped": plan.dropped}


@task(name="publish-trade-plan", cache_policy=NO_CACHE, **retry_options())
def publish_trade_plan(
    store: ObjectStore,
    now: datetime,
    settings: Settings,
    hours_lookback: float,
    risk: RiskSettings,
) -> DashboardResult:
    """Build and publish the dashboard; show it as the ``trade-plan`` artifacts.

    Retrying is safe: a rerun publishes a new time-stamped folder and moves "latest" to it.
    """
    with logs.set_run_context(**run_ids()):
        result = build_dashboard(store, now, settings, hours_lookback=hours_lookback, risk=risk)
        create_markdown_artifact(key=MARKDOWN_KEY, markdown=result.markdown,
                                 description="trade plan: ranked, sized ideas")
        create_table_artifact(key=TABLE_KEY, table=table_rows(result.plan),
                              description="trade plan ideas")
        log.info("trade plan: %d ideas", len(result.plan.ideas))
        return result
