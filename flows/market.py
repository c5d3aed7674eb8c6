"""Market flow (09:30-16:00 New York, every 15 minutes).

Session quotes of the watchlist in bulk, 1-min bars only for ORB candidates and AVWAP reclaims to
confirm (:mod:`tradingstation.screeners.minute_needs`), then AVWAP Reclaim, Breakout, EMA Pullback
and ORB triggers (once the opening range has formed; ORB until its window closes at 11:30).

    python flows/market.py --as-of 2025-11-24T10:30-05:00
"""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from flows.console import print_summary
from flows.runs import names_failed_task, session_run_name
from flows.script import run_script
from flows.session import finish_closed, publish, scan_market, start_session
from tradingstation.screeners.minute_needs import orb_window_open

MARKET_SCREENERS = ("avwap_reclaim", "breakout", "ema_pullback", "orb")
TITLES = {
    "avwap_reclaim": "AVWAP Reclaim",
    "breakout": "Breakout",
    "ema_pullback": "EMA Pullback",
    "orb": "Opening Range Breakout",
}


def market_screeners(session: date, as_of: datetime) -> tuple[str, ...]:
    """The screeners a cycle at ``as_of`` runs: ORB only within its window."""
    if orb_window_open(session, as_of):
        return MARKET_SCREENERS
    return tuple(name for name in MARKET_SCREENERS if name != "orb")


@flow(name="market", task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=True,
      flow_run_name=session_run_name("market"))
@names_failed_task
def market(as_of: datetime | None = None, allow_closed: bool = False,
           refetch: bool = False) -> dict:
    """Market session flow.

    Args:
        as_of: The moment to run for (default: now). Naive times are New York time.
        allow_closed: On a closed day, run the last completed session (from a deployment, also
            before the mode's window opens).
        refetch: Refetch data that is already fresh (bars, the universe, quotes).

    Returns:
        Summary: session, signal counts per screener, failed symbols.
    """
    run = start_session("market", as_of, allow_closed)
    if run.session is None:
        return finish_closed(run)
    screeners = market_screeners(run.session, run.as_of)
    if "orb" not in screeners:
        run.notes.append("ORB not screened after its window (11:30 New York): the session's "
                         "ORB signals stay as published")
    watchlist, needs, found = scan_market(run, screeners, refetch)
    sections = {TITLES[name]: found[name] for name in screeners}
    return publish(run, "Market scan", sections, {
        "watchlist": watchlist,
        "minute_symbols": {"orb": needs.orb, "avwap_reclaim": needs.avwap_reclaim}})


if __name__ == "__main__":
    run_script(market, "market", print_summary)
