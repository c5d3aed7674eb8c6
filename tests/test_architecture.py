"""Layering rules that keep the code easy to change: the domain core never loads Prefect."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import tradingstation

ROOT = Path(__file__).resolve().parents[1]


def core_modules() -> list[str]:
    return sorted(
        m.name for m in pkgutil.walk_packages(tradingstation.__path__, "tradingstation.")
    )


def test_importing_every_core_module_does_not_load_prefect() -> None:
    modules = core_modules()
    assert len(modules) > 40
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=300)
    assert out.stdout.strip() == "[]"


def test_core_source_has_no_prefect_import_statement() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tradingstation").rglob("*.py")
        for line in path.read_text().splitlines()
        if line.strip().startswith(("import prefect", "from prefect"))
    ]
    assert offenders == []
