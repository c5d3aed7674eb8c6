"""On-demand analysis flows behind `tradingstation fetch`, `anchors` and `screen`.

Each runs as a Prefect flow, so it shows in Prefect's run history. Unscheduled deployments in
prefect.yaml.

Dashboard and data-operation flows (backup, restore, rebuild, gaps) live beside these and
follow the same shape: resolve store/provider, call one task per core operation, return a
JSON-ready document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

from prefect import flow
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.task_runners import ThreadPoolTaskRunner

from blocks.resolve import resolve_provider, resolve_store
from flows.runs import command_run_name, configure_run_logging, names_failed_task
from flows.session import SessionRun, fetch_stage
from tasks import data as data_tasks
from tasks.analysis import find_session_anchors
from tasks.analysis import screen as screen_task
from tradingstation.calendar import get_calendar, parse_as_of
from tradingstation.config import Settings, get_settings
from tradingstation.data.fetch import JobPlan, JobReport, job_dataset
from tradingstation.errors import InputError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage.base import ObjectStore
from tradingstation.storage.keys import parse_symbols

FetchJob = Literal["universe", "daily", "intraday_1min", "intraday_30min"]


def open_run(
    mode: str,
    as_of: datetime | str | None,
    settings: Settings | None = None,
    store: ObjectStore | None = None,
    provider: MarketDataProvider | None = None,
) -> SessionRun:
    """The run of an on-demand command at ``as_of``: its session, settings, store and provider.

    The session is the one open at ``as_of``, else the last completed one. Settings, store and
    provider are the process's configured ones unless given (tests and benches hand in their
    own store and provider, and then run the same composition the flows run).
    """
    instant = parse_as_of(as_of)
    calendar = get_calendar()
    session = calendar.session_for(instant) or calendar.last_completed_session(instant)
    settings = settings if settings is not None else get_settings()
    configure_run_logging(settings)
    return SessionRun(mode=mode, as_of=instant, session=session, settings=settings,
                      store=store if store is not None else resolve_store(settings),
                      provider=provider if provider is not None
                      else resolve_provider(settings, instant))


def _tickers(tickers: str | None) -> list[str] | None:
    return parse_symbols(tickers)


def progress_artifact(key: str | None) -> Callable[[JobPlan, int, int], None]:
    """A fetch stage's ``on_progress``.

    One Prefect progress artifact (under ``key``, if given) showing the share of batch tasks
    finished, updated as each finishes. It shows in the run's Artifacts tab; ``tradingstation
    fetch`` polls it for its progress bar.
    """
    created: list[UUID] = []

    def report(plan: JobPlan, done: int, total: int) -> None:
        percent = 100.0 * done / total if total else 100.0
        description = (f"fetch {plan.job}: {len(plan.to_fetch)} of {len(plan.symbols)} symbols "
                       f"need calls; {done} of {total} batches done")
        if created:
            update_progress_artifact(created[0], percent, description=description)
        else:
            created.append(create_progress_artifact(percent, key=key, description=description))

    return report


@flow(name="fetch", task_runner=ThreadPoolTaskRunner(max_workers=4),
      flow_run_name=command_run_name("fetch", "job", "tickers"))
@names_failed_task
def fetch(
    job: FetchJob,
    tickers: str | None = None,
    refetch: bool = False,
    force_compact: bool = False,
    as_of: datetime | None = None,
    progress_key: str | None = None,
) -> dict:
    """Run one fetch job (``tradingstation fetch <job>``).

    Args:
        job: universe | daily | intraday_1min | intraday_30min.
        tickers: Comma-separated tickers to restrict to (not for universe).
        refetch: Refetch even fresh data.
        force_compact: Never ask for full (premium) history; deep holes are reported.
        as_of: Time to fetch for (default now).
        progress_key: Key of the progress artifact the run reports its batches under
            (lowercase letters, digits, dashes; the command's progress bar reads it).

    Returns:
        The job report as a JSON-ready document.
    """
    symbols = _tickers(tickers)  # bad tickers fail before anything is opened or called
    run = open_run("fetch", as_of)
    return fetch_job(run, job, symbols, refetch, force_compact,
                     on_progress=progress_artifact(progress_key)).to_dict()


def fetch_job(
    run: SessionRun,
    job: str,
    tickers: Sequence[str] | str | None = None,
    refetch: bool = False,
    force_compact: bool = False,
    on_progress: Callable[[JobPlan, int, int], None] | None = None,
) -> JobReport:
    """The ``fetch`` flow's work on ``run``: the universe job's task, or a bars job's stage.

    A bars job is :func:`flows.session.fetch_stage`, the stage every session flow runs.

    Raises:
        InputError: Unknown job, malformed ticker, or tickers given to the universe job.
        PermanentError: The provider refused the whole job (bad key, ...): the step stops.
    """
    if job_dataset(job) is None:
        if tickers:
            raise InputError("--tickers does not apply to the universe job")
        return data_tasks.refresh_universe(run.store, run.provider, run.as_of, refetch)
    return fetch_stage(run, job, tickers=tickers, refetch=refetch, force_compact=force_compact,
                       on_progress=on_progress)


@flow(name="anchors", flow_run_name=command_run_name("anchors", "ticker"))
@names_failed_task
def anchors(lookback_days: int = 30, ticker: str | None = None,
            as_of: datetime | None = None) -> dict:
    """Find AVWAP anchors for the session (``tradingstation anchors``).

    Args:
        lookback_days: Anchors within this many sessions (52-week extremes excepted).
        ticker: Restrict to one ticker.
        as_of: Session time (default now; closed days use the last session).
    """
    if lookback_days <= 0:
        raise InputError(f"--lookback-days must be positive, got {lookback_days}")
    symbols = _tickers(ticker)
    run = open_run("anchors", as_of)
    count = find_session_anchors(run.store, run.session, run.as_of, lookback_days, symbols,
                                 source=run.source)
    return {"session": run.session.isoformat(), "anchors": count}


@flow(name="screen", flow_run_name=command_run_name("screen", "name", "tickers"))
@names_failed_task
def screen(
    name: str,
    tickers: str | None = None,
    params: dict | None = None,
    as_of: datetime | None = None,
) -> dict:
    """Run one screener over the universe (``tradingstation screen <name>``).

    Args:
        name: Screener registry name (gap_and_go, orb, avwap_reclaim, breakout, ema_pullback,
            exhaustion_reversal).
        tickers: Comma-separated tickers to restrict to.
        params: Screener parameters, e.g. ``{"min_score": 7}``.
        as_of: Screen time (default now).
    """
    symbols = _tickers(tickers)
    run = open_run("screen", as_of)
    intraday = symbols or data_tasks.select_watchlist(
        run.store, run.session, run.settings.watchlist_cap, as_of=run.as_of
    )
    found = screen_task(run.store, run.session, run.as_of, [name], run.demo, intraday,
                        {name: params or {}}, symbols, source=run.source)
    return {"session": run.session.isoformat(), "screener": name,
            "signals": [s.model_dump(mode="json") for s in found[name]]}
