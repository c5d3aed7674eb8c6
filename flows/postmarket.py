"""Postmarket flow (16:00-20:00 New York).

30-min bars of the watchlist, Exhaustion Reversal, 1-min bars through the close of the session's
signal symbols (the track record's entry-day paths), and the master dashboard (HTML + plan.json/csv
in storage, markdown/table artifacts).

    python flows/postmarket.py --as-of 2025-11-24T17:00-05:00
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from flows.console import print_summary
from flows.runs import names_failed_task, session_run_name
from flows.script import run_script
from flows.session import (
    fetch_stage,
    finish_closed,
    publish,
    scan_watchlist,
    start_session,
)
from tasks.analysis import session_signal_symbols
from tasks.plan import publish_trade_plan
from tradingstation.plan import RiskSettings

POSTMARKET_SCREENERS = ("exhaustion_reversal",)


@flow(name="postmarket", task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=True,
      flow_run_name=session_run_name("postmarket"))
@names_failed_task
def postmarket(as_of: datetime | None = None, allow_closed: bool = False,
               refetch: bool = False) -> dict:
    """Postmarket session flow.

    Args:
        as_of: The moment to run for (default: now). Naive times are New York time.
        allow_closed: On a closed day, run the last completed session (from a deployment, also
            before the mode's window opens).
        refetch: Refetch data that is already fresh (bars, the universe, quotes).

    Returns:
        Summary: session, signals, the dashboard pointer, failed symbols.
    """
    run = start_session("postmarket", as_of, allow_closed)
    if run.session is None:
        return finish_closed(run)
    _, found = scan_watchlist(run, "intraday_30min", POSTMARKET_SCREENERS, refetch)
    # The market cycles fetch 1-min bars only for their candidates (and ORB's until 11:30):
    # the track record follows each signal from its entry day's minutes, so once a day the
    # session's signal symbols get theirs through the close.
    signalled = session_signal_symbols(run.store, run.session, run.as_of)
    if signalled:
        fetch_stage(run, "intraday_1min", tickers=signalled, refetch=refetch)
    dashboard = publish_trade_plan(run.store, run.as_of, run.settings, 24,
                                   RiskSettings.from_settings(run.settings))
    run.notes.append(f"dashboard: {len(dashboard.plan.ideas)} ideas, "
                     f"published {dashboard.pointer.get('stamp')}")
    sections = {"Exhaustion Reversal": found["exhaustion_reversal"]}
    return publish(run, "Postmarket", sections, {"dashboard": dashboard.pointer})


if __name__ == "__main__":
    run_script(postmarket, "postmarket", print_summary)
