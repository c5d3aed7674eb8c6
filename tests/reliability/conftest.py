"""Shared pieces of the reliability suite: a Prefect server for flow runs, store snapshots."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Backoff of retried tasks: real delays are seconds; the suite keeps the policy, not the wait.
os.environ.setdefault("TS_TASK_BACKOFF_SECONDS", "0")


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """A Prefect API for flow runs: the one already running in this session, else a temporary
    server (the flows suite starts one per session; two at once would only cost memory)."""
    from prefect.settings import PREFECT_API_URL

    current = PREFECT_API_URL.value()
    if current:
        yield current
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


def snapshot_tree(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root`` (empty when it does not exist)."""
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def record_figures(request: pytest.FixtureRequest):
    """Keep a test's figures in pytest's cache (``reliability/<name>``) for docs/RELIABILITY.md
    (``python -m tests.reliability.figures`` prints them)."""

    def record(name: str, figures: dict) -> None:
        cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
        if cache is not None:
            cache.set(f"reliability/{name}", figures)

    return record
