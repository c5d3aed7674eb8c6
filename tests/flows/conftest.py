"""Flow tests run against one real (temporary) Prefect server shared by the whole session."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

import pytest

import cli

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

TASK_MODULES = ("tasks.data", "tasks.analysis", "tasks.maintenance", "tasks.plan", "tasks.report",
                "tasks.track")


@pytest.fixture(scope="session", autouse=True)
def prefect_server():
    """A temporary Prefect server and database for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(scope="session", autouse=True)
def no_backoff_waits():
    """Keep every task's retry policy (count, condition) but not its seconds of backoff."""
    from prefect import Task

    with pytest.MonkeyPatch.context() as patch:
        for name in TASK_MODULES:
            for value in vars(importlib.import_module(name)).values():
                if isinstance(value, Task) and value.retries:
                    patch.setattr(value, "retry_delay_seconds", [0.0] * value.retries)
        yield


Invoke = Callable[..., tuple[int, str, str]]


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str]) -> Invoke:
    """Run ``tradingstation`` in process (its real flows, this session's Prefect server) and
    return ``(exit code, stdout, stderr)``."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            cli.main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run
