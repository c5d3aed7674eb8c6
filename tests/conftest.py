"""Test-wide isolation: no TS_* setting or .env leaks in from the developer's environment."""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from tradingstation import redaction
from tradingstation.config import Settings, get_settings

# Prefect reads its home (profiles, local result storage) once, at import: give every test
# process its own, so parallel workers (pytest -n) and a developer's ~/.prefect never mix.
_PREFECT_HOME = tempfile.mkdtemp(
    prefix=f"prefect-home-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

_SERVERS: list[str] = []  # the session's temporary Prefect server, once started
TASK_MODULES = ("tasks.data", "tasks.analysis", "tasks.maintenance", "tasks.plan", "tasks.report",
                "tasks.track")


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """A temporary Prefect server (and database) for the session's flow runs, never a
    developer's own: its URL, which child processes get as ``PREFECT_API_URL``."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    # No heartbeat thread per flow run: it only feeds a server's crashed-run detection, which no
    # in-process test relies on, and joining it costs up to 1 s at the end of every run.
    with (prefect_test_harness(server_startup_timeout=120),
          temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})):
        _SERVERS.append(PREFECT_API_URL.value())
        yield _SERVERS[-1]
        _SERVERS.clear()


@pytest.fixture(autouse=True)
def _no_leaked_write_slots() -> Iterator[None]:
    """After each test, free the dataset-lock slots a dead process left taken on the session's
    server (see ``tests.support.write_slots``)."""
    yield
    if _SERVERS:
        from tests.support.write_slots import free_leaked_write_slots

        free_leaked_write_slots()


@pytest.fixture(scope="session")
def no_backoff_waits() -> Iterator[None]:
    """Keep every task's retry policy (count, condition) but not its seconds of backoff."""
    from prefect import Task

    with pytest.MonkeyPatch.context() as patch:
        for name in TASK_MODULES:
            for value in vars(importlib.import_module(name)).values():
                if isinstance(value, Task) and value.retries:
                    patch.setattr(value, "retry_delay_seconds", [0.0] * value.retries)
        yield


@pytest.fixture
def flow_runs(prefect_api: str, no_backoff_waits: None) -> str:
    """For tests that run flows (or the flows' fetch composition, ``tests.support.fetching``):
    the session's Prefect API, with retries that do not wait."""
    return prefect_api


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Each test starts from embedded defaults with a private data directory."""
    for name in list(os.environ):
        if name.startswith("TS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    # pydantic-settings would otherwise read a developer's .env from the working directory.
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """For tests that call ``configure_logging``: put the logging tree, the record factory, the
    urllib3 filters and the known secrets back as they were."""
    names = ("", "tradingstation", "urllib3", "urllib3.connectionpool")
    loggers = [logging.getLogger(name) for name in names]
    saved = [(list(lg.handlers), list(lg.filters), lg.level) for lg in loggers]
    factory = logging.getLogRecordFactory()
    yield
    for logger, (handlers, filters, level) in zip(loggers, saved, strict=True):
        logger.handlers[:] = handlers
        logger.filters[:] = filters
        logger.setLevel(level)
    logging.setLogRecordFactory(factory)
    redaction.clear_secrets()
