"""Market flow (09:30-16:00 New York, every 15 minutes): 1-min bars of the watchlist, then
AVWAP Reclaim, Breakout, EMA Pullback and ORB triggers (once the opening range has formed).

    python flows/market.py --as-of 2025-11-24T10:30-05:00
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from flows.console import print_summary
from flows.session import fetch_stage, finish_closed, publish, run_script, start_session
from tasks import data as data_tasks
from tasks.analysis import load_daily, screen

MARKET_SCREENERS = ("avwap_reclaim", "breakout", "ema_pullback", "orb")
TITLES = {
    "avwap_reclaim": "AVWAP Reclaim",
    "breakout": "Breakout",
    "ema_pullback": "EMA Pullback",
    "orb": "Opening Range Breakout",
}


@flow(name="market", task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=True)
def market(as_of: datetime | None = None, force: bool = False) -> dict:
    """Market session flow.

    Args:
        as_of: The moment to run for (default: now). Naive times are New York time.
        force: Run even when the market is closed (works on the last session) and refetch
            data that is already fresh.

    Returns:
        Summary: session, signal counts per screener, failed symbols.
    """
    run = start_session("market", as_of, force)
    if run.session is None:
        return finish_closed(run)
    # Free when premarket already ran (fresh snapshot, fresh bars): a mode never depends on
    # an earlier run having succeeded.
    data_tasks.refresh_universe(run.store, run.provider, run.as_of)
    fetch_stage(run, "daily")
    daily = load_daily(run.store)
    watchlist = data_tasks.select_watchlist(
        run.store, run.session, run.settings.watchlist_cap, daily=daily)
    fetch_stage(run, "intraday_1min", tickers=watchlist, force=force)
    found = screen(run.store, run.session, run.as_of, MARKET_SCREENERS, run.demo, watchlist,
                   daily=daily)
    sections = {TITLES[name]: found[name] for name in MARKET_SCREENERS}
    return publish(run, "Market scan", sections, {"watchlist": watchlist})


if __name__ == "__main__":
    run_script(market, "market", print_summary)
