"""What every session flow shares.

Resolving the session, the store and provider, fetch stages, the closed-day exit, and the summary
artifact.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from prefect import get_run_logger
from prefect.futures import as_completed, wait

from blocks.resolve import resolve_provider, resolve_store
from flows.runs import configure_run_logging
from tasks import data as data_tasks
from tasks.analysis import find_session_anchors, load_daily, screen, select_minute_symbols
from tasks.locks import dataset_lock
from tasks.report import publish_summary, session_summary_markdown, signal_rows
from tradingstation.calendar import NY, get_calendar, parse_as_of
from tradingstation.config import Settings, get_settings
from tradingstation.data.fetch import JobPlan, JobReport, Stops, job_dataset, split_batches
from tradingstation.data.panel import Panel
from tradingstation.data.symbol_fetch import SPLIT_SCANNED
from tradingstation.errors import PermanentError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.screeners.minute_needs import MinuteNeeds
from tradingstation.signals import Signal
from tradingstation.storage.base import ObjectStore
from tradingstation.upkeep.operations import check_operation_time

log = logging.getLogger("tradingstation.flows")
# Settings the session flows started in this context use instead of the process's (the smoke
# test's scratch prefix): a context variable, so flows running concurrently in one worker never
# see each other's, and the process environment is never touched.
_SESSION_SETTINGS: ContextVar[Settings | None] = ContextVar("session_settings", default=None)


@contextlib.contextmanager
def sessions_using(settings: Settings) -> Iterator[None]:
    """Session flows started inside the block, in this context, run with ``settings``."""
    token = _SESSION_SETTINGS.set(settings)
    try:
        yield
    finally:
        _SESSION_SETTINGS.reset(token)


@dataclass
class SessionRun:
    """One run of a session flow: where it reads and writes, and what it has to report.

    Attributes:
        mode: premarket | market | postmarket | daily.
        as_of: The run's instant (UTC).
        session: The NYSE session it works on (None on a closed day).
        settings: Settings in force.
        store: Object store (local directory or the S3Bucket block's bucket).
        provider: Market data (Alpha Vantage, or the demo market).
        notes: Lines for the summary (fetch outcomes, failed symbols).
        failed_symbols: ``{job: [symbols]}`` still failing after every retry.
        notice: Why the run works on another session than the one of its start (or on none).
    """

    mode: str
    as_of: datetime
    session: date | None
    settings: Settings
    store: ObjectStore | None = None
    provider: MarketDataProvider | None = None
    notes: list[str] = field(default_factory=list)
    failed_symbols: dict[str, list[str]] = field(default_factory=dict)
    notice: str | None = None

    @property
    def demo(self) -> bool:
        """Whether the data comes from the demo market."""
        return bool(self.provider is not None and self.provider.is_demo)

    @property
    def source(self) -> str:
        """The provider's name: the source its data is recorded with."""
        return self.provider.name if self.provider is not None else ""

    @property
    def artifact_key(self) -> str:
        """Stable artifact key of this mode's summary (history kept per key in the UI)."""
        return f"{self.mode}-summary"


def start_session(mode: str, as_of: datetime | str | None, allow_closed: bool) -> SessionRun:
    """Resolve the session for ``as_of``; open the store and provider unless the market is closed.

    With ``allow_closed``, a run on a closed day (or, from a deployment, before the mode's
    window) works on the last completed session. The settings are the
    process's, or those of an enclosing :func:`sessions_using` block.
    """
    instant = parse_as_of(as_of)
    check_operation_time(mode, instant, datetime.now(UTC))  # daily's cleanup, far ahead
    settings = _SESSION_SETTINGS.get() or get_settings()
    configure_run_logging(settings)
    calendar = get_calendar()
    session = calendar.session_for(instant)
    if session is None and allow_closed:
        session = calendar.last_completed_session(instant)
    notice = None
    if session is not None and calendar.before_window(mode, instant):
        session, instant, notice = _before_window(mode, session, instant, allow_closed)
        get_run_logger().info(notice)
    run = SessionRun(mode=mode, as_of=instant, session=session, settings=settings, notice=notice,
                     notes=[notice] if notice and session else [])
    if session is not None:
        run.store = resolve_store(settings)
        run.provider = resolve_provider(settings, instant)
    return run


def _before_window(mode: str, session: date, instant: datetime, allow_closed: bool
                   ) -> tuple[date | None, datetime, str]:
    """``(session, as_of, notice)`` of a run started before today's ``mode`` window opens.

    Today's data does not exist yet: a deployment run does nothing (unless ``allow_closed``), any
    other
    run works on the last session whose window has passed, as of the usual time of that mode.
    """
    opens = get_calendar().window_opens(mode, session).astimezone(NY)
    head = f"the {mode} window of {session.isoformat()} opens at {opens:%H:%M} New York"
    if _from_deployment() and not allow_closed:
        return None, instant, f"{head}: nothing to do before it."
    last = get_calendar().previous_session(session)
    shown = example_instant(mode, last)
    return last, shown.astimezone(UTC), (
        f"{head}; showing the last session, {last.isoformat()}, as of {shown:%H:%M} New York.")


def _from_deployment() -> bool:
    from prefect.runtime import deployment

    return bool(deployment.id)


def closed_message(run: SessionRun) -> str:
    """The "market closed" explanation, with the next session and how to run the last one."""
    calendar = get_calendar()
    day = run.as_of.astimezone(NY).date()
    nxt = calendar.next_session(day)
    last = calendar.previous_session(day)
    example = example_instant(run.mode, last).isoformat(timespec="minutes")
    if run.notice:  # a session day, before the mode's window
        return f"{run.notice} To run it for the last session, {last.isoformat()}: " \
               f"{_rerun_hint(example)}."
    return (
        f"market closed on {day.isoformat()} ({day:%A}): {run.mode} has nothing to do. "
        f"Next session: {nxt.isoformat()}. To run it for the last session, {last.isoformat()}: "
        f"{_rerun_hint(example)}."
    )


def _rerun_hint(example: str) -> str:
    """How to run again at ``example``.

    Command-line options, or the deployment's parameters when this run came from a deployment
    (``--as-of`` means nothing to ``prefect deployment run``).
    """
    from prefect.runtime import deployment, flow_run

    if _from_deployment():
        name = f"{flow_run.flow_name}/{deployment.name}"
        return f"prefect deployment run '{name}' -p as_of={example} (or -p allow_closed=true)"
    return f"--as-of {example} (or --allow-closed)"


def example_instant(mode: str, day: date) -> datetime:
    """The usual time of ``mode`` on ``day`` (New York): what a rerun hint or a script shows."""
    hour, minute = {"premarket": (8, 45), "market": (10, 30), "postmarket": (17, 0)}.get(
        mode, (21, 0)
    )
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def finish_closed(run: SessionRun) -> dict:
    """End a run with nothing to do (a closed day, or before the mode's window).

    Log, publish the summary, return it.
    """
    message = closed_message(run)
    get_run_logger().info(message)
    what = "window not open" if run.notice else "market closed"
    markdown = session_summary_markdown(
        f"{run.mode.capitalize()} - {what}", None, run.as_of, False, {}, [message]
    )
    publish_summary(run.artifact_key, markdown, f"{run.mode}: {what}")
    return {"mode": run.mode, "status": what.replace(" ", "_"), "message": message,
            "as_of": run.as_of.isoformat(), "markdown": markdown}


def fetch_stage(
    run: SessionRun,
    job: str,
    tickers: list[str] | None = None,
    refetch: bool = False,
    force_compact: bool = False,
    on_progress: Callable[[JobPlan, int, int], None] | None = None,
) -> JobReport:
    """Plan a bars job, fetch it in batch tasks (run concurrently), summarize it.

    Holds the dataset's cross-run write lock for the stage (see :mod:`tasks.locks`). Symbols
    still failing after every retry are recorded on ``run`` and the flow carries on.
    ``on_progress(plan, done, total)`` is called once the batches are submitted (``done`` 0)
    and again as each batch task finishes, whatever its state.
    """
    dataset = job_dataset(job)
    with dataset_lock(dataset, store=run.store):
        plan = data_tasks.plan_job(
            job, run.store, run.provider, run.as_of, run.settings, tickers, refetch, force_compact
        )
        stops = Stops()  # one batch's provider-wide refusal stops the batches not yet called
        futures = [
            data_tasks.fetch_bars_batch.submit(
                run.store, run.provider, plan.dataset, batch, run.as_of, run.settings, stops
            )
            for batch in split_batches(plan.requests, run.settings.batch_size)
        ]
        if on_progress is not None:
            on_progress(plan, 0, len(futures))
            for done, _ in enumerate(as_completed(futures), 1):
                on_progress(plan, done, len(futures))
        wait(futures)
        results = [f.result() for f in futures]
    report = data_tasks.summarize(run.store, plan, results, run.provider)
    note(run, report)
    if dataset in SPLIT_SCANNED:
        split_stage(run, report)
    return report


def split_stage(run: SessionRun, report: JobReport) -> None:
    """After a daily or 1-min fetch released its lock.

    Confirm the split-like moves it saw, adjust the stored bars of confirmed splits, and recompute
    the session's stored anchors of those symbols. Symbols left under an unresolved move are named
    in the summary (not screened). ``report.details["splits"]["recomputed"]`` lists the adjusted
    symbols: a daily panel loaded before is stale for them (see :func:`refreshed_daily`).
    """
    splits = data_tasks.reconcile_splits(run.store, run.provider, report.split_candidates,
                                         run.as_of)
    report.calls += splits.calls
    report.details["splits"] = splits.to_dict()
    run.notes += splits.notes()
    if splits.recomputed and run.session is not None:
        find_session_anchors(run.store, run.session, run.as_of, symbols=splits.recomputed,
                             only_if_stored=True)


def refreshed_daily(run: SessionRun, intraday: JobReport, daily: Panel) -> Panel:
    """The daily panel to screen with after an intraday fetch stage.

    Reloaded when that stage applied a split (on a split's first morning only the 1-min bars show
    it), since the panel loaded before holds those symbols' unadjusted history.
    """
    if intraday.details.get("splits", {}).get("recomputed"):
        return load_daily(run.store, run.source)
    return daily


def scan_watchlist(
    run: SessionRun, intraday_job: str, screeners: Sequence[str], refetch: bool
) -> tuple[list[str], dict[str, list[Signal]]]:
    """The postmarket body: refresh, the watchlist's intraday bars, then the screeners.

    The postmarket body (:func:`refresh_watchlist`), then the watchlist's ``intraday_job`` bars for
    all of it, then ``screeners``.

    Returns:
        ``(watchlist, {screener: signals})``.
    """
    daily, watchlist = refresh_watchlist(run)
    intraday = fetch_stage(run, intraday_job, tickers=watchlist, refetch=refetch)
    daily = refreshed_daily(run, intraday, daily)
    check_sources(run)
    found = screen(run.store, run.session, run.as_of, screeners, run.demo, watchlist,
                   daily=daily, source=run.source)
    return watchlist, found


def scan_market(
    run: SessionRun, screeners: Sequence[str], refetch: bool
) -> tuple[list[str], MinuteNeeds, dict[str, list[Signal]]]:
    """The market body: refresh, session quotes, the 1-min bars needed, then the screeners.

    The market body (:func:`refresh_watchlist`), then session quotes of the watchlist in bulk (every
    symbol's developing daily bar), 1-min bars only for the symbols a screener needs minutes of
    (:mod:`tradingstation.screeners.minute_needs`), then ``screeners``.

    Returns:
        ``(watchlist, minute needs, {screener: signals})``.
    """
    daily, watchlist = refresh_watchlist(run)
    max_age = 0.0 if refetch else run.settings.quotes_max_age_seconds
    data_tasks.fetch_quotes(run.store, run.provider, run.session, watchlist, max_age,
                            run.settings.http_concurrency, session_extremes=True)
    needs = select_minute_symbols(run.store, run.session, run.as_of, watchlist, daily,
                                  run.source)
    run.notes.append(needs.summary())
    if needs.symbols:
        intraday = fetch_stage(run, "intraday_1min", tickers=needs.symbols, refetch=refetch)
        daily = refreshed_daily(run, intraday, daily)
    check_sources(run)
    found = screen(run.store, run.session, run.as_of, screeners, run.demo, needs.symbols,
                   daily=daily, source=run.source)
    return watchlist, needs, found


def refresh_watchlist(run: SessionRun) -> tuple[Panel, list[str]]:
    """``(daily panel, watchlist)`` after refreshing the universe and daily bars.

    ``(daily panel, watchlist)`` after refreshing the universe and daily bars (free after a
    premarket run: a mode never depends on an earlier run having succeeded).
    """
    data_tasks.refresh_universe(run.store, run.provider, run.as_of)
    fetch_stage(run, "daily")
    daily = load_daily(run.store, run.source)
    watchlist = data_tasks.select_watchlist(
        run.store, run.session, run.settings.watchlist_cap, daily=daily, as_of=run.as_of)
    return daily, watchlist


def check_sources(run: SessionRun) -> None:
    """Note the symbols still holding another provider's data (they are not screened)."""
    line = data_tasks.check_sources(run.store, run.source)
    if line:
        run.notes.append(line)


def note(run: SessionRun, report: JobReport) -> None:
    """Record a job report's summary line and failed symbols on ``run``."""
    run.notes.append(report.summary())
    failed = [o.symbol for o in report.failed]
    if failed:
        run.failed_symbols[report.job] = failed
        run.notes.append(f"{report.job}: failed symbols: {', '.join(failed[:30])}"
                         + (" ..." if len(failed) > 30 else ""))
    if report.fatal_error:
        # A bad key or configuration: later steps would only repeat it, so the run fails here
        # and the alert names this step.
        raise PermanentError(f"step fetch-{report.job} stopped: {report.fatal_error}")


def publish(run: SessionRun, title: str, sections: dict[str, list[Signal]],
            extra: dict | None = None) -> dict:
    """Publish the run summary artifact and return the flow's result document."""
    markdown = session_summary_markdown(
        title, run.session, run.as_of, run.demo, sections, run.notes
    )
    publish_summary(run.artifact_key, markdown, f"{run.mode} {run.session}")
    result = {
        "mode": run.mode,
        "status": "completed",
        "session": run.session.isoformat() if run.session else None,
        "as_of": run.as_of.isoformat(),
        "demo": run.demo,
        "signals": {name: len(sigs) for name, sigs in sections.items()},
        "top": {name: signal_rows(sigs, 10) for name, sigs in sections.items()},
        "failed_symbols": run.failed_symbols,
        "markdown": markdown,
    }
    if run.notice:
        result["notice"] = run.notice
    result.update(extra or {})
    return result
