"""Premarket flow (04:00-09:30 New York).

Universe, daily bars, anchors, quotes, 1-min bars of the watchlist, Gap & Go and ORB watch
candidates, and the premarket plan.

Run it locally (Prefect ephemeral mode, local data directory, demo market without a key)::

    python flows/premarket.py                       # now
    python flows/premarket.py --as-of 2025-11-24T08:45-05:00
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from flows.console import print_premarket
from flows.runs import names_failed_task, session_run_name
from flows.script import run_script
from flows.session import (
    check_sources,
    fetch_stage,
    finish_closed,
    publish,
    refreshed_daily,
    start_session,
)
from tasks import data as data_tasks
from tasks.analysis import find_session_anchors, load_daily, screen
from tasks.plan import build_session_plan
from tradingstation.screeners import PREMARKET_SCREENERS


@flow(name="premarket", task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=True,
      flow_run_name=session_run_name("premarket"))
@names_failed_task
def premarket(as_of: datetime | None = None, allow_closed: bool = False,
              refetch: bool = False) -> dict:
    """Premarket session flow.

    Args:
        as_of: The moment to run for (default: now). Naive times are New York time.
        allow_closed: On a closed day, run the last completed session (from a deployment, also
            before the mode's window opens).
        refetch: Refetch data that is already fresh (bars, the universe, quotes).

    Returns:
        Summary: session, signal counts, failed symbols, the plan's markdown.
    """
    run = start_session("premarket", as_of, allow_closed)
    if run.session is None:
        return finish_closed(run)
    data_tasks.refresh_universe(run.store, run.provider, run.as_of, refetch)
    fetch_stage(run, "daily", refetch=refetch)
    # Loading the panel and finding anchors (CPU) run while the quotes are fetched (rate limit).
    loaded = load_daily.submit(run.store, run.source)
    anchored = find_session_anchors.submit(run.store, run.session, run.as_of, daily=loaded)
    max_age = 0.0 if refetch else run.settings.quotes_max_age_seconds
    quoted = data_tasks.fetch_quotes.submit(run.store, run.provider, run.session, None,
                                            max_age, run.settings.http_concurrency)
    daily = loaded.result()
    anchored.result()
    quoted.result()
    watchlist = data_tasks.select_watchlist(
        run.store, run.session, run.settings.watchlist_cap, daily=daily, as_of=run.as_of)
    intraday = fetch_stage(run, "intraday_1min", tickers=watchlist, refetch=refetch)
    daily = refreshed_daily(run, intraday, daily)
    check_sources(run)
    found = screen(run.store, run.session, run.as_of, PREMARKET_SCREENERS, run.demo, watchlist,
                   daily=daily, source=run.source)
    plan = build_session_plan(run.session, run.as_of, run.settings, "premarket",
                              [s for sigs in found.values() for s in sigs], run.store)
    sections = {"Gap & Go": found["gap_and_go"], "Opening Range Breakout": found["orb"]}
    return publish(run, "Premarket plan", sections, {"plan": plan, "watchlist": watchlist})


if __name__ == "__main__":
    run_script(premarket, "premarket", print_premarket)
