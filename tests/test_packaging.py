"""What the package declares it needs: pyproject's dependencies, the runtime lock, the dev lock.

``pyproject.toml`` declares the direct runtime dependencies (ranges), ``requirements.txt`` pins
the whole runtime tree (what the Docker image installs), ``requirements-dev.txt`` adds the test
and benchmark tools (pandas-ta is only the indicators' test oracle).
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_DIRS = ("tradingstation", "tasks", "flows", "blocks", "deploy", "cli")
TEST_ONLY = {"pandas-ta", "numba", "llvmlite", "tqdm"}  # pandas-ta and what only it needs


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project.get("dependencies", [])]


def pins(name: str) -> dict[str, str]:
    out = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-") and "==" in line:
            package, version = line.split("==", 1)
            out[canonicalize_name(package)] = version.strip()
    return out


def runtime_imports() -> set[str]:
    """Top-level names of the third-party modules the runtime code imports."""
    found: set[str] = set()
    for folder in RUNTIME_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - set(RUNTIME_DIRS)


def test_every_runtime_import_is_a_declared_dependency() -> None:
    names = {canonicalize_name(r.name) for r in declared()}
    distributions = packages_distributions()
    missing = sorted(
        module for module in runtime_imports()
        if not {canonicalize_name(d) for d in distributions.get(module, [module])} & names
    )
    assert missing == []


def test_the_runtime_lock_satisfies_every_declared_range() -> None:
    locked = pins("requirements.txt")
    requirements = declared()
    assert {"prefect", "fastapi", "sqlalchemy"} <= {canonicalize_name(r.name) for r in requirements}
    unmet = [str(r) for r in requirements
             if not r.specifier.contains(locked.get(canonicalize_name(r.name), "0"),
                                         prereleases=True)]
    assert unmet == []


def test_pandas_ta_is_a_test_tool_not_a_runtime_dependency() -> None:
    assert TEST_ONLY.isdisjoint(pins("requirements.txt"))
    assert set(pins("requirements-dev.txt")) >= TEST_ONLY
    assert TEST_ONLY.isdisjoint(canonicalize_name(r.name) for r in declared())
    assert "pandas_ta" not in runtime_imports()
