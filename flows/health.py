"""The health flow (``tradingstation health``): the runbook's health_check.py as a Prefect run.

The data operations (``tradingstation data <operation>``) are in :mod:`flows.data_ops`.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from blocks.resolve import api_configured, resolve_provider, resolve_store
from deploy.deployments import last_runs_check
from flows.runs import command_run_name, configure_run_logging, names_failed_task
from tasks.maintenance import run_checks
from tradingstation.calendar import parse_as_of
from tradingstation.config import get_settings
from tradingstation.errors import InputError
from tradingstation.upkeep.health import CHECK_NAMES, Check, HealthReport


@flow(name="health", flow_run_name=command_run_name("health", "checks"))
@names_failed_task
def health_check(checks: list[str] | None = None, as_of: datetime | None = None,
                 deployments: bool = True) -> dict:
    """Health checks (``tradingstation health``).

    Args:
        checks: Names from ``CHECK_NAMES`` (default: all).
        as_of: Time to check for (default now).
        deployments: Also report the last successful run per deployment when a Prefect API
            server is configured.

    Returns:
        ``HealthReport.to_dict()``: status, exit_code (0/1/2) and every check.
    """
    selected = list(checks or CHECK_NAMES)
    unknown = set(selected) - set(CHECK_NAMES)
    if unknown:
        raise InputError(f"unknown health check(s): {', '.join(sorted(unknown))}")
    now = parse_as_of(as_of)
    settings = get_settings()
    configure_run_logging(settings)
    store = resolve_store(settings)
    extra = []
    provider = None
    if "api" in selected:
        try:
            provider = resolve_provider(settings, now)
        except InputError:
            raise
        except Exception as exc:  # a bad key configuration is a failing check, not a crash
            selected.remove("api")
            message = str(exc)
            extra.append(lambda: Check("api", "fail", message))
    if deployments and not checks and api_configured():
        extra.append(last_runs_check)
    if not selected:  # only the api check was asked for, and it could not be set up
        return HealthReport([fn() for fn in extra]).to_dict()
    report = run_checks(store, provider, settings, now, selected, extra)
    return report.to_dict()
