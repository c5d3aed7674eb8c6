"""One home for each cross-cutting helper: a constant or helper is defined once, used everywhere.

Source-level checks over the project's own code (not tests, not the virtualenv), in the spirit
of ``test_architecture.py``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

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


def core_imports() -> dict[str, set[str]]:
    """Each core module's module-level imports of other core modules (``from`` and plain)."""
    modules = {}
    for path in (ROOT / "tradingstation").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                          else node.module for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_data_contracts_sit_below_data_and_providers() -> None:
    graph = core_imports()
    assert graph["tradingstation.contracts"] <= {"tradingstation.errors"}
    for package in ("tradingstation.data", "tradingstation.providers"):
        assert any("tradingstation.contracts" in deps
                   for name, deps in graph.items() if name.startswith(package + "."))
    # providers depend on the contracts, never on the data layer that uses them
    reaching_up = sorted(
        f"{name} -> {dep}" for name, deps in graph.items()
        if name.startswith("tradingstation.providers")
        for dep in deps if dep.startswith("tradingstation.data")
    )
    assert reaching_up == []


@pytest.mark.parametrize("module", ["tradingstation.contracts", "tradingstation.data.bars",
                                    "tradingstation.providers.base"])
def test_contract_modules_import_alone_in_a_fresh_interpreter(module: str) -> None:
    subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, check=True,
                   timeout=60)
