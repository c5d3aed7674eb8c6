"""Running the real console script (subprocess) and main() in process, for command tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import cli

SCRIPT = Path(sys.executable).parent / "tradingstation"


def run_script(*args: str, cwd: Path, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess:
    """The installed console script with only ``env`` set (HOME isolated: no Prefect profile)."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run([str(SCRIPT), *args], env={**base, **(env or {})}, cwd=cwd,
                          capture_output=True, text=True, timeout=180)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``main(args)`` in process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        cli.main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    """The single ``error:`` line of stderr (fails on a traceback or several lines)."""
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]
