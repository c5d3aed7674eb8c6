"""The Docker build context: ``.dockerignore`` keeps it to what the Dockerfile copies.

No Docker engine is needed: the patterns are matched the way Docker does (Go ``filepath.Match``
plus ``**``, a path also matching through its parent folders, the last matching pattern wins,
``!`` re-includes) against the checkout as it is on disk, ``.venv`` and ``data/`` included.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What made the context 1.1 GB, and what must never be sent (secrets, local state).
NEVER_SENT = (".venv/bin/python", ".venv/lib/python3.12/site-packages/x.py",
              "data/bars/daily/AAPL.parquet", ".git/HEAD", ".git/objects/ab/cdef",
              "bench/out/run.json", ".pytest_cache/v/cache", ".ruff_cache/0.1/x",
              "tradingstation/__pycache__/config.cpython-312.pyc", "flows/__pycache__/x.pyc",
              ".env", "flows/.env", ".prefect-home/prefect.db", "tests/test_plan.py",
              "tradingstation.egg-info/PKG-INFO", ".ci/run")
MAX_CONTEXT_BYTES = 5_000_000


def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def _rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _regex(line.lstrip("!").strip("/"))))
    return rules


def _excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, regex in rules:
        if any(regex.fullmatch(c) for c in candidates):
            excluded = not negated
    return excluded


def _copied_sources() -> list[str]:
    sources = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"]:
            sources += [w for w in words[1:-1] if not w.startswith("--")]
    return sources


def _context(rules) -> dict[str, int]:
    """Every file of the checkout Docker would send, with its size."""
    sent: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel = Path(dirpath).relative_to(ROOT).as_posix()
        prefix = "" if rel == "." else rel + "/"
        # An excluded folder is skipped unless a ``!`` pattern could re-include inside it
        # (the allow-list re-includes only top-level names, so none can).
        dirnames[:] = [d for d in dirnames if not _excluded(prefix + d, rules)]
        for name in filenames:
            path = prefix + name
            if not _excluded(path, rules):
                sent[path] = (Path(dirpath) / name).stat().st_size
    return sent


def test_matcher_follows_docker_rules() -> None:
    rules = [(False, _regex("*")), (True, _regex("src")), (False, _regex("**/*.pyc"))]
    assert _excluded("README.md", rules) and _excluded("src/a/b.pyc", rules)
    assert not _excluded("src/a/b.py", rules) and not _excluded("src", rules)


@pytest.mark.parametrize("path", NEVER_SENT)
def test_heavy_and_secret_paths_are_not_sent(path: str) -> None:
    assert _excluded(path, _rules())


def test_everything_the_dockerfile_copies_is_sent_and_the_context_is_small() -> None:
    rules = _rules()
    sources = _copied_sources()
    assert {"requirements.txt", "tradingstation", "flows", "prefect.yaml"} <= set(sources)
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    for source in sources:
        files = [f for f in tracked if f == source or f.startswith(source + "/")]
        assert files, f"COPY {source}: nothing tracked"
        assert not [f for f in files if _excluded(f, rules)], source
    sent = _context(rules)
    assert not [p for p in sent if p.split("/")[0] not in sources], sorted(sent)[:20]
    assert sum(sent.values()) < MAX_CONTEXT_BYTES
