"""Dashboard flow (``tradingstation dashboard``): the runbook's master_dashboard.py.

Publishes the HTML page, plan.json and plan.csv under a stable "latest", and the Prefect
artifacts ``trade-plan`` (markdown) and ``trade-plan-table`` (table).
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from blocks.resolve import resolve_store
from flows.runs import command_run_name, configure_run_logging, names_failed_task
from tasks.plan import publish_trade_plan
from tradingstation.calendar import parse_as_of
from tradingstation.config import get_settings
from tradingstation.dashboard.export import idea_to_dict
from tradingstation.plan import RiskSettings


@flow(name="dashboard", flow_run_name=command_run_name("dashboard"))
@names_failed_task
def dashboard(
    hours_lookback: float = 24,
    verbose: bool = False,
    equity: float | None = None,
    risk_per_trade: float | None = None,
    max_position_pct: float | None = None,
    max_open_risk: float | None = None,
    min_reward_risk: float | None = None,
    as_of: datetime | None = None,
) -> dict:
    """Build and publish the master dashboard from the last ``hours_lookback`` hours of signals.

    Args:
        hours_lookback: Signals newer than this many hours are gathered (0 < h <= 744).
        verbose: Include each idea's reasons in the result.
        equity: Account equity override (default: TS_EQUITY).
        risk_per_trade: Fraction of equity risked per idea override.
        max_position_pct: Max position value as a fraction of equity override.
        max_open_risk: Max total open risk (fraction of equity) override.
        min_reward_risk: Lowest reward:risk to the first target that is sized, override.
        as_of: Time to build for (default now).

    Returns:
        ``{"pointer", "session", "demo", "open_risk", "ideas": [...], "dropped", "store",
        "markdown"}``; ideas carry ``reasons`` only when ``verbose``.
    """
    settings = get_settings()
    configure_run_logging(settings)
    # Bad sizing values fail here, before the store is opened or anything is written.
    risk = RiskSettings.from_settings(settings, equity=equity, risk_per_trade=risk_per_trade,
                                      max_position_pct=max_position_pct,
                                      max_open_risk=max_open_risk, min_reward_risk=min_reward_risk)
    now = parse_as_of(as_of)
    store = resolve_store(settings)
    result = publish_trade_plan(store, now, settings, hours_lookback, risk)
    ideas = []
    for idea in result.plan.ideas:
        row = idea_to_dict(idea)
        if not verbose:
            row.pop("reasons", None)
        ideas.append(row)
    return {
        "pointer": result.pointer,
        "session": result.pointer.get("session"),
        "demo": result.plan.demo,
        "open_risk": result.plan.open_risk,
        "hours_lookback": hours_lookback,
        "ideas": ideas,
        "dropped": result.plan.dropped,
        "store": store.describe(),
        "markdown": result.markdown,
    }
