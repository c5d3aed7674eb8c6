"""Backtest flow (``tradingstation backtest``).

The walk-forward replay of the screeners over the stored history, with outcomes in R. An unscheduled
deployment in prefect.yaml:

    prefect deployment run backtest/default -p sessions=60
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from blocks.resolve import resolve_provider, resolve_store
from flows.runs import command_run_name, names_failed_task
from flows.session import configure_run_logging
from tasks.track import backtest as backtest_task
from tradingstation.calendar import parse_as_of
from tradingstation.config import get_settings
from tradingstation.errors import InputError
from tradingstation.storage.keys import parse_symbols
from tradingstation.track.replay import check_names
from tradingstation.track.run import rules_from_settings


def parse_screeners(text: str | None) -> list[str] | None:
    """Comma-separated screener names (None or empty: all six), validated.

    Raises:
        InputError: an unknown name (the message lists the valid ones).
    """
    if text is None or not text.strip():
        return None
    return check_names([n.strip() for n in text.split(",") if n.strip()])


@flow(name="backtest", flow_run_name=command_run_name("backtest", "screeners"))
@names_failed_task
def backtest(screeners: str | None = None, sessions: int | None = None,
             tickers: str | None = None, as_of: datetime | None = None,
             time_stop: int | None = None, fill_sessions: int | None = None,
             slippage_bps: float | None = None, commission: float | None = None,
             scale_out: float | None = None) -> dict:
    """Replay the screeners as of every stored session and evaluate every signal's outcome.

    Args:
        screeners: Comma-separated screener names (default: all six).
        sessions: Replay only the last N sessions (default: every stored session after the
            indicator warm-up).
        tickers: Comma-separated tickers to restrict to.
        as_of: See the store as it was at this moment (default now).
        time_stop: Sessions a trade is held at most (default TS_TRACK_TIME_STOP_SESSIONS).
        fill_sessions: Sessions a watch signal may take to fill (TS_TRACK_FILL_SESSIONS).
        slippage_bps: Slippage per fill in basis points (TS_TRACK_SLIPPAGE_BPS).
        commission: Commission per share and side in dollars (TS_TRACK_COMMISSION_PER_SHARE).
        scale_out: Fraction closed at the first target (TS_TRACK_SCALE_OUT; 0 = off).

    Returns:
        The summary document (statistics, calibration, rules) and its storage key.
    """
    names = parse_screeners(screeners)  # bad input fails before anything is opened
    symbols = parse_symbols(tickers)
    if sessions is not None and sessions <= 0:
        raise InputError(f"--sessions must be positive, got {sessions}")
    settings = get_settings()
    rules = rules_from_settings(settings, time_stop_sessions=time_stop,
                                fill_sessions=fill_sessions, slippage_bps=slippage_bps,
                                commission_per_share=commission, scale_out=scale_out)
    now = parse_as_of(as_of)
    configure_run_logging(settings)
    store = resolve_store(settings)
    demo = resolve_provider(settings, now).is_demo
    result = backtest_task(store, now, names, sessions, symbols, demo, rules)
    return {**result.summary, "key": result.key, "store": store.describe()}
