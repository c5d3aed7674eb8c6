"""One home for each cross-cutting helper: a constant or helper is defined once, used everywhere.

Source-level checks over the project's own code (not tests, not the virtualenv), in the spirit
of ``test_architecture.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {".venv", "tests", ".git", "node_modules", ".prefect-home"}


def project_sources() -> list[Path]:
    """Every project Python file outside tests and tool directories."""
    return sorted(
        path for path in ROOT.rglob("*.py")
        if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
    )


def string_constants(path: Path) -> list[str]:
    return [
        node.value for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_new_york_timezone_is_defined_only_in_the_calendar() -> None:
    sources = project_sources()
    assert ROOT / "tradingstation" / "calendar.py" in sources
    defining = [
        str(path.relative_to(ROOT)) for path in sources
        if "America/New_York" in string_constants(path)
    ]
    assert defining == ["tradingstation/calendar.py"]


def test_the_secret_mask_is_defined_only_in_the_redaction_module() -> None:
    from tradingstation.redaction import REDACTED

    masks = [
        str(path.relative_to(ROOT)) for path in project_sources()
        if any(c.strip("*") == "" and c.count("*") >= 3 for c in string_constants(path))
    ]
    assert REDACTED.strip("*") == ""
    assert masks == ["tradingstation/redaction.py"]
