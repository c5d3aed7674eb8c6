"""Shared pieces of the reliability suite: store snapshots, recorded figures."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

# Backoff of retried tasks: real delays are seconds; the suite keeps the policy, not the wait.
os.environ.setdefault("TS_TASK_BACKOFF_SECONDS", "0")


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
