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
UPPER_LAYERS = ("flows", "tasks", "blocks", "deploy", "cli", "prefect")
# What each layer may import of ours (README "Development"): arrows point down only.
MAY_IMPORT = {
    "tradingstation": set(),
    "blocks": {"tradingstation"},
    "tasks": {"tradingstation", "blocks"},
    "deploy": {"tradingstation", "blocks"},
    "flows": {"tradingstation", "blocks", "tasks", "deploy"},
    "cli": {"tradingstation", "blocks", "tasks", "deploy", "flows"},
}
COMPUTED = "<computed>"


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
        return _string_arg(call) or COMPUTED
    return None


def imported_modules(source: str) -> list[tuple[int, str, bool]]:
    """Every absolute import in ``source``, in any form, as ``(line, module, dynamic)``; a
    dynamic import whose module name is computed at run time is ``COMPUTED``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, False) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, False))
        elif isinstance(node, ast.Call) and (target := _dynamic_import_target(node)):
            found.append((node.lineno, target, True))
    return sorted(found)


def upward_imports(source: str) -> list[str]:
    """Every import in ``source`` that names an upper layer or Prefect, as ``line: module``."""
    return [f"{line}: {module}" for line, module, _ in imported_modules(source)
            if module == COMPUTED or module.split(".")[0] in UPPER_LAYERS]


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


def test_each_layer_imports_only_the_layers_below_it_and_only_by_name() -> None:
    offenders = []
    for package, allowed in MAY_IMPORT.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, module, dynamic in imported_modules(path.read_text()):
                top = module.split(".")[0]
                # importlib by string hides an arrow from readers and tools: ordinary imports.
                ours = top in MAY_IMPORT or module == COMPUTED
                if (dynamic and ours) or (top in MAY_IMPORT and top not in {package, *allowed}):
                    offenders.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    assert offenders == []


def test_deploy_reads_each_deployments_flow_name_from_source_as_prefect_names_it() -> None:
    # deploy/ sits below flows/ (the health flow asks it about deployments): it reads the flow
    # names from the entrypoints' source instead of importing them; they must match.
    import importlib

    from deploy.deployments import expected_deployments

    expected = expected_deployments(ROOT / "prefect.yaml")
    assert len(expected) >= 10
    for deployment in expected:
        path, _, attr = deployment.entrypoint.partition(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert deployment.flow_name == getattr(module, attr).name, deployment.entrypoint
