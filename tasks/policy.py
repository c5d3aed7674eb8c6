"""Retry policy shared by every task: only TransientError is retried, with jittered backoff."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect.context import FlowRunContext, TaskRunContext
from prefect.tasks import exponential_backoff

from tradingstation.config import get_settings
from tradingstation.errors import TransientError

JITTER = 0.5


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """``retry_condition_fn``: retry a task run only when it failed with a ``TransientError``.

    A ``PermanentError`` (bad key, invalid symbol, bad input) fails at once: retrying cannot
    fix it and would only burn API quota.
    """
    exc = state.data
    if not isinstance(exc, BaseException):
        try:
            exc = state.result(raise_on_failure=False)
        except Exception as error:  # the stored result may itself be unreadable
            exc = error
    return isinstance(exc, TransientError)


def retry_options(retries: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``@task`` giving the standard transient-only retry policy.

    The count (``task_retries``) and first delay (``task_backoff_seconds``; then 2x, 4x ...)
    come from :func:`get_settings` when this is called, i.e. when a task module applies the
    policy in its decorator, so the policy follows the process's one settings object.

    Args:
        retries: Overrides the configured retry count.
    """
    settings = get_settings()
    count = settings.task_retries if retries is None else retries
    return {
        "retries": count,
        "retry_delay_seconds": exponential_backoff(
            backoff_factor=settings.task_backoff_seconds)(count)
        if count
        else 0,
        "retry_jitter_factor": JITTER,
        "retry_condition_fn": retry_transient,
    }


def attempt() -> tuple[int, int]:
    """``(this attempt number starting at 1, total attempts allowed)`` of the current task run."""
    ctx = TaskRunContext.get()
    if ctx is None:
        return 1, 1
    return ctx.task_run.run_count or 1, (ctx.task.retries or 0) + 1


def first_attempt_started() -> datetime:
    """When the current task run's first attempt started; now outside a task run.

    Prefect keeps the start time across retries, in whichever process they run.
    """
    ctx = TaskRunContext.get()
    started = ctx.task_run.start_time if ctx is not None else None
    return started if started is not None else datetime.now(UTC)


def run_ids() -> dict[str, str]:
    """Flow and task run ids of the current Prefect context (for JSON log lines)."""
    out: dict[str, str] = {}
    task_ctx = TaskRunContext.get()
    flow_ctx = FlowRunContext.get()
    if flow_ctx is not None and flow_ctx.flow_run is not None:
        out["flow_run_id"] = str(flow_ctx.flow_run.id)
    if task_ctx is not None:
        out["task_run_id"] = str(task_ctx.task_run.id)
        out.setdefault("flow_run_id", str(task_ctx.task_run.flow_run_id))
    return out
