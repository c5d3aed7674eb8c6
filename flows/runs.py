"""What every flow run shares.

A name that reads like a log book entry, our log records in the run's logs (Prefect UI) in every
``TS_LOG_FORMAT``, and a failure message that names the failed task (the alert quotes it).
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prefect.context import FlowRunContext, TaskRunContext
from prefect.logging.handlers import APILogHandler

from tradingstation import logs
from tradingstation.calendar import NY, parse_as_of
from tradingstation.config import Settings

PACKAGE_LOGGER = "tradingstation"
# How long a failing deployment run waits for the API to record which task failed.
FAILED_TASK_WAIT_SECONDS = 10


class _RunLogHandler(APILogHandler):
    """Prefect's API log handler, fed only records emitted inside a flow or task run.

    Outside a run (a CLI before or after its flow) Prefect's handler would warn about every
    record; those records still reach the console through the root logger.
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Ship ``record`` to the current run's logs; ignore it outside a run."""
        if FlowRunContext.get() is None and TaskRunContext.get() is None:
            return
        super().emit(record)


def configure_run_logging(settings: Settings) -> None:
    """Our records reach the run's logs in the UI and the console, in every log format.

    The ``tradingstation`` logger gets ``TS_LOG_LEVEL`` (Prefect leaves it at the root's
    WARNING) and Prefect's API handler; the console gets ``TS_LOG_FORMAT`` (``auto``: human
    on a terminal, JSON lines otherwise). Prefect's own records go through the same console
    handler, so a JSON stream holds nothing but JSON lines.
    """
    logs.configure_logging(settings.log_level, settings.log_format, settings.secret_values())
    package = logging.getLogger(PACKAGE_LOGGER)
    if not any(isinstance(h, APILogHandler) for h in package.handlers):
        package.addHandler(_RunLogHandler())


def _parameters() -> dict[str, Any]:
    ctx = FlowRunContext.get()
    return dict(ctx.parameters or {}) if ctx is not None else {}


def _stamp(as_of: Any) -> str:
    """``YYYY-MM-DD HH:MM`` New York time of a run's ``as_of`` (default: now)."""
    try:
        instant = parse_as_of(as_of)
    except Exception:  # a bad as_of fails the run itself; its name just shows "now"
        instant = datetime.now(UTC)
    return f"{instant.astimezone(NY):%Y-%m-%d %H:%M}"


def session_run_name(mode: str) -> Callable[[], str]:
    """``flow_run_name`` of a session flow: ``premarket 2026-12-03 08:45`` (New York time)."""

    def name() -> str:
        return f"{mode} {_stamp(_parameters().get('as_of'))}"

    return name


def command_run_name(command: str, *fields: str) -> Callable[[], str]:
    """``flow_run_name`` of an operator command's flow.

    The command, its main parameters and the New York time, e.g. ``fetch daily 2026-12-03 10:42``.
    """

    def name() -> str:
        params = _parameters()
        words = [command]
        for key in fields:
            value = params.get(key)
            if value not in (None, "", False, [], ()):
                words.append(",".join(map(str, value)) if isinstance(value, list) else str(value))
        return " ".join([*words, _stamp(params.get("as_of"))])

    return name


def _failed_task_name() -> str | None:
    """Name of the last task run of the current flow run that ended Failed, if any."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import TaskRunSort

    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        return None
    # Task-run states reach the API as events, recorded a moment later: ask a few times.
    deadline = time.monotonic() + FAILED_TASK_WAIT_SECONDS
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[ctx.flow_run.id])),
                task_run_filter=TaskRunFilter(state=TaskRunFilterState(
                    type=TaskRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED]))),
                sort=TaskRunSort.END_TIME_DESC, limit=1,
            )
            if runs or time.monotonic() > deadline:
                return runs[0].name if runs else None
            threading.Event().wait(0.5)


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` of an exception."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def names_failed_task(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make a failed deployment run's message name the task that failed.

    Decorate a flow function (under ``@flow``) so a deployment run that fails says which task
    failed: the exception keeps its type, its message becomes ``task <name> failed: <Type>: <first
    line>``, and Prefect puts that in the run's state message, which the failure alert quotes. Runs
    outside a deployment keep the original message.
    """
    # Annotations resolved here, in fn's module: Prefect builds the parameter schema and
    # validates parameters from the signature, and could not resolve fn's names from here.
    hints = typing.get_type_hints(fn)
    signature = inspect.signature(fn)
    resolved = signature.replace(
        parameters=[p.replace(annotation=hints.get(p.name, p.annotation))
                    for p in signature.parameters.values()],
        return_annotation=hints.get("return", signature.return_annotation),
    )

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            ctx = FlowRunContext.get()
            if ctx is not None and ctx.flow_run is not None and ctx.flow_run.deployment_id:
                try:
                    task = _failed_task_name()
                except Exception:  # the explanation must never hide the failure itself
                    task = None
                if task:
                    exc.args = (f"task {task} failed: {first_line(exc)}",)
            raise

    wrapper.__annotations__ = hints
    wrapper.__signature__ = resolved  # type: ignore[attr-defined]
    return wrapper
