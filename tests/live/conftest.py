"""Fixtures of the live-trigger tests."""

from __future__ import annotations

import pytest

from tests.live.watch_support import planted_store
from tradingstation.storage.local import LocalStore


@pytest.fixture
def store(tmp_path) -> LocalStore:
    """A store holding the planted session's signals (tests/support/tape.py)."""
    return planted_store(tmp_path / "data")
