"""A fetch job on a given store and provider, run by the flows' own composition.

:func:`fetch_job` runs :func:`flows.analysis.fetch_job` (what the ``fetch`` flow runs: the
universe task, or :func:`flows.session.fetch_stage`, the stage of every session flow) in a
Prefect flow run with the ``fetch`` flow's task runner. The only difference from
``tradingstation fetch`` is where the store, provider and settings come from: handed in here,
resolved from blocks and settings there. So the plan, batch and summary tasks, their retry
policy, the dataset's write lock and the split reconciliation are the flows' code.

A Prefect API is needed: the process's configured one (a test session's server, passed to a
child process as ``PREFECT_API_URL``), else Prefect's ephemeral one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from prefect import flow

from flows import analysis
from tradingstation.config import Settings
from tradingstation.data.fetch import JobPlan, JobReport
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage.base import ObjectStore


def fetch_job(
    job: str,
    store: ObjectStore,
    provider: MarketDataProvider,
    now: datetime,
    settings: Settings,
    tickers: Sequence[str] | str | None = None,
    refetch: bool = False,
    force_compact: bool = False,
    on_progress: Callable[[JobPlan, int, int], None] | None = None,
) -> JobReport:
    """Run fetch job ``job`` for ``now`` on ``store`` from ``provider``, as the flows do.

    ``on_progress(plan, batches done, batches)`` is the fetch stage's progress hook.

    Raises:
        InputError: Unknown job or malformed ticker; nothing was called or written.
        PermanentError: The provider refused the whole job (the step stops, as in a flow).
    """

    # Built per call, so the run takes no parameters: store and provider objects are not
    # flow-run parameters Prefect could record.
    @flow(name="fetch", task_runner=analysis.fetch.task_runner.duplicate(),
          validate_parameters=False)
    def fetch() -> JobReport:
        run = analysis.open_run("fetch", now, settings=settings, store=store, provider=provider)
        return analysis.fetch_job(run, job, tickers, refetch, force_compact, on_progress)

    return fetch()
