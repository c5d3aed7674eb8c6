"""Test-wide isolation: no TS_* setting or .env leaks in from the developer's environment."""

from __future__ import annotations

import atexit
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
