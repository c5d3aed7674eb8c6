"""Test-wide isolation: no TS_* setting or .env leaks in from the developer's environment."""

from __future__ import annotations

import os

import pytest

from tradingstation.config import Settings, get_settings


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
