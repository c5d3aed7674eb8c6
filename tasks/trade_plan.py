"""Trade-plan task of ``tradingstation dashboard``: publish the dashboard and its artifacts."""

from __future__ import annotations

import logging
from datetime import datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks.plan import TABLE_COLUMNS
from tasks.policy import retry_options, run_ids
from tradingstation import logs
from tradingstation.config import Settings
from tradingstation.dashboard.build import DashboardResult, build_dashboard
from tradingstation.dashboard.export import idea_to_dict
from tradingstation.plan import RiskSettings
from tradingstation.storage.base import ObjectStore

log = logging.getLogger("tradingstation.dashboard")

MARKDOWN_KEY = "trade-plan"
TABLE_KEY = "trade-plan-table"


def table_rows(result: DashboardResult) -> list[dict]:
    """The ideas as flat rows for the table artifact (lists joined with commas)."""
    rows = []
    for idea in result.plan.ideas:
        values = idea_to_dict(idea)
        rows.append({c: (", ".join(map(str, values[c])) if isinstance(values[c], list)
                         else values[c]) for c in TABLE_COLUMNS})
    return rows


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
        create_table_artifact(key=TABLE_KEY, table=table_rows(result),
                              description="trade plan ideas")
        log.info("trade plan: %d ideas", len(result.plan.ideas))
        return result
