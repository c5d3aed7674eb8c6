"""The ``tradingstation fetch <job>`` command.

The runbook's data_fetch_manager.py, as the ``fetch`` flow. Registered as
``app.command("fetch")(fetch_cmd.fetch)``.

Input (job name, tickers, ``--as-of``) is checked before Prefect starts. While the flow runs, a
progress bar on stderr advances as each batch task finishes; the exit code is the job report's.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cli.common import (
    JsonOption,
    console,
    err_console,
    load_settings,
    print_json,
)
from flows.ephemeral import api_ready, run_once
from tradingstation.calendar import parse_as_of
from tradingstation.errors import InputError
from tradingstation.redaction import one_line

# Flows (Prefect) and pandas are imported inside the commands that use them, so that
# `tradingstation --help` and bad input stay fast (tests/cli/test_cli.py pins it).

JOB_NAMES = ("universe", "daily", "intraday_1min", "intraday_30min")
DEMO_NOTE = "DEMO DATA: synthetic market, not real prices."
POLL_SECONDS = 0.5  # how often the progress bar reads the flow's progress artifact
OUTCOMES = ("ok", "no_data", "failed", "fresh", "known_no_data")


class BatchProgress:
    """Drives a progress bar from the fetch flow's progress artifact.

    Drives a progress bar from the fetch flow's progress artifact (see
    ``flows.analysis.progress_artifact``), polled from the Prefect API while the flow runs.

    Attributes:
        key: The artifact key this run's flow reports under.
        percent: Share of the batch tasks finished at the last poll (None before the plan).
        description: The artifact's description at the last poll (jobs, symbols, batches).
    """

    def __init__(self, progress: Progress, task_id: Any, key: str) -> None:
        """Drive ``progress``'s task ``task_id`` from the artifact ``key``."""
        self.progress = progress
        self.task_id = task_id
        self.key = key
        self.percent: float | None = None
        self.description: str | None = None

    def poll(self) -> None:
        """Read the artifact once and move the bar to it (nothing yet: nothing moves)."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

        with get_client(sync_client=True) as client:
            found = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[self.key])), limit=1)
        if not found:
            return
        self.percent, self.description = float(found[0].data), found[0].description
        self.progress.update(self.task_id, total=100, completed=self.percent,
                             description=self.description)

    @contextlib.contextmanager
    def following(self, every: float = POLL_SECONDS) -> Iterator[None]:
        """Poll every ``every`` seconds in a thread while the body runs, then once more."""
        stop = threading.Event()

        def follow() -> None:
            while not stop.wait(every):
                # A display aid must never fail the fetch: a missed poll is the next one's.
                with contextlib.suppress(Exception):
                    if api_ready():
                        self.poll()

        thread = threading.Thread(target=follow, name="fetch-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
        with contextlib.suppress(Exception):
            self.poll()  # the final state, however short the run


def run_fetch_flow(job: str, **params: Any) -> tuple[dict, BatchProgress]:
    """Run the ``fetch`` flow once in this process with a progress bar on stderr.

    Args:
        job: Fetch job name (already validated).
        **params: The flow's other parameters (tickers, refetch, force_compact, as_of).

    Returns:
        The flow's report document and the progress tracker (its last reading).
    """
    from flows.analysis import fetch as fetch_flow

    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
        TimeElapsedColumn(), console=err_console, transient=True,
    )
    task_id = progress.add_task(f"fetch {job} (Prefect flow fetch)", total=None)
    tracker = BatchProgress(progress, task_id, f"fetch-progress-{uuid.uuid4().hex}")
    with progress, tracker.following():
        result = run_once(fetch_flow, job=job, progress_key=tracker.key, **params)
    return result, tracker


def check_job(job: str) -> str:
    """Return ``job`` if it is a fetch job.

    Raises:
        InputError: one line listing the jobs.
    """
    if job not in JOB_NAMES:
        raise InputError(f"unknown fetch job {job[:40]!r}: expected one of {', '.join(JOB_NAMES)}")
    return job


def check_as_of(as_of: str | None) -> datetime | None:
    """Parse ``--as-of`` (ISO-8601; naive means New York time) before any flow starts.

    Raises:
        InputError: not an ISO-8601 time.
    """
    return None if as_of is None else parse_as_of(as_of)


def print_report(report: dict) -> None:
    """The job report as a summary table, then failed symbols and deep holes, one line each."""
    if report.get("demo"):
        console.print(Panel(DEMO_NOTE, border_style="red", title="DEMO"))
    counts = report.get("counts", {})
    console.print(f"[bold]fetch {report['job']} ({report.get('dataset') or 'listing'})[/] "
                  f"as of {report['now']}", highlight=False, soft_wrap=True)
    table = Table(header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("symbols", str(len(report.get("symbols", []))))
    for outcome in (*OUTCOMES, *sorted(set(counts) - set(OUTCOMES))):
        if outcome in counts:
            table.add_row(f"  {outcome}", str(counts[outcome]))
    table.add_row("calls made", str(report["calls"]))
    table.add_row("calls planned", str(report["planned_calls"]))
    table.add_row("objects written", str(report["writes"]))
    if report.get("holes"):
        table.add_row("deep holes (compact forced)", str(len(report["holes"])))
    if report.get("quarantined"):
        table.add_row("quarantined responses", str(len(report["quarantined"])))
    for name, value in sorted((report.get("details") or {}).items()):
        if isinstance(value, int | float | str):
            table.add_row(escape(str(name)), escape(str(value)))
    console.print(table)
    failed = [s for s in report.get("symbols", []) if s["outcome"] == "failed"]
    if failed:
        console.print(f"[red]{len(failed)} failed symbols:[/]")
        for item in failed:
            kind = "transient" if item.get("transient") else "permanent"
            console.print(f"  {item['symbol']} ({kind}): {escape(one_line(item['reason']))}",
                          highlight=False, soft_wrap=True)
    if report.get("holes"):
        console.print("[yellow]deep holes left by --force-compact (rerun without it to "
                      "backfill):[/] " + ", ".join(report["holes"]), highlight=False,
                      soft_wrap=True)
    if report.get("fatal_error"):
        console.print(f"[red]stopped:[/] {escape(one_line(report['fatal_error']))}")
    colour = "green" if report["exit_code"] == 0 else "red"
    console.print(f"[{colour}]exit code {report['exit_code']}[/]")


def fetch(
    job: Annotated[str, typer.Argument(
        help="universe | daily | intraday_1min | intraday_30min", show_default=False)],
    tickers: Annotated[str | None, typer.Option(
        "--tickers", help="Comma-separated tickers, e.g. NVDA,AAPL (default: the universe for "
        "daily, the active watchlist for intraday; not for universe).")] = None,
    refetch: Annotated[bool, typer.Option(
        "--refetch", "--force", help="Refetch even when the stored data is fresh (--force is "
        "the same).")] = False,
    force_compact: Annotated[bool, typer.Option(
        "--force-compact", help="Never ask for full (premium) history; deep holes are "
        "reported instead of backfilled.")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="ISO time to fetch for, e.g. 2025-11-24T17:00-05:00 (default: now).")]
    = None,
    json_out: JsonOption = False,
) -> None:
    """Run one fetch job: incremental, self-healing, batched (the runbook's data_fetch_manager).

    Fresh symbols cost no call, slightly stale ones one compact call, deeper holes a backfill.
    Prints a summary of the job (outcomes, calls, failed symbols); exits 1 when the job failed
    (every attempted symbol failed, or the provider refused the key or plan).
    """
    check_job(job)
    from tradingstation.storage.keys import parse_symbol_filter

    symbols = parse_symbol_filter(tickers)
    if symbols and job == "universe":
        raise InputError("--tickers does not apply to the universe job")
    instant = check_as_of(as_of)
    load_settings()  # a bad TS_ variable is one line, exit 2, before Prefect starts
    report, _ = run_fetch_flow(
        job, tickers=",".join(symbols) if symbols else None,
        refetch=refetch,
        force_compact=force_compact, as_of=instant,
    )
    if json_out:
        print_json(report)
    else:
        print_report(report)
    if report["exit_code"]:
        raise typer.Exit(report["exit_code"])
