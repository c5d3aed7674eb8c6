"""Layering rules that keep the code easy to change: the domain core never loads Prefect."""

from __future__ import annotations

import ast
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


# Top-level names the core must never import, in any form (statement, function-local,
# importlib.import_module("..."), __import__("...")): the layers above it, and Prefect.
UPPER_LAYERS = ("flows", "tasks", "blocks", "cli", "prefect")


def _names_upper_layer(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in UPPER_LAYERS


def _string_arg(call: ast.Call) -> str | None:
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if isinstance(first, ast.JoinedStr) and first.values:  # f"flows.{mode}"
        head = first.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return head.value
    return None


def _dynamic_import_target(call: ast.Call) -> str | None:
    """The module string of ``importlib.import_module(...)``/``__import__(...)``, if any."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name in ("import_module", "__import__"):
        return _string_arg(call) or "<computed>"
    return None


def upward_imports(source: str) -> list[str]:
    """Every import in ``source`` that names an upper layer or Prefect, as ``line: module``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = [node.module] if node.level == 0 else []
        elif isinstance(node, ast.Call):
            target = _dynamic_import_target(node)
            # A computed module name cannot be checked, so the core may not use one.
            targets = [target] if target is not None else []
            if target == "<computed>":
                found.append(f"{node.lineno}: {target}")
                continue
        else:
            continue
        found += [f"{node.lineno}: {t}" for t in targets if _names_upper_layer(t)]
    return found


def test_upward_imports_catches_every_import_form() -> None:
    source = (
        "import flows.session\n"
        "from blocks.resolve import resolve_store\n"
        "import importlib\n"
        "def f(mode):\n"
        "    import prefect\n"
        "    from tasks import data\n"
        "    importlib.import_module('cli.common')\n"
        "    importlib.import_module(f'flows.{mode}')\n"
        "    __import__('prefect.client')\n"
        "    importlib.import_module(mode)\n"
        "from tradingstation.calendar import NY\n"
        "from . import sibling\n"
        "import flowsy\n"
    )
    assert upward_imports(source) == [
        "1: flows.session", "2: blocks.resolve", "5: prefect", "6: tasks", "7: cli.common",
        "8: flows.", "9: prefect.client", "10: <computed>",
    ]


def test_core_source_never_names_an_upper_layer_in_any_import_form() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "tradingstation").rglob("*.py"))
        if (found := upward_imports(path.read_text()))
    }
    assert offenders == {}
