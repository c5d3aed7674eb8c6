"""Running the ``tradingstation`` command for reliability tests: in-process (``main``) or as the
real console script, with the exit code, stdout and stderr captured."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cli import main
from tradingstation.config import get_settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".venv" / "bin" / "tradingstation"


@dataclass
class CliResult:
    """Exit code and output of one command."""

    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        """The last non-empty line of stderr."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def invoke(argv: list[str]) -> CliResult:
    """Run ``tradingstation <argv>`` in this process, exactly as the console script's ``main``."""
    get_settings.cache_clear()
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    get_settings.cache_clear()
    return CliResult(code, out.getvalue(), err.getvalue())


def run_script(argv: list[str], env: dict[str, str], timeout: float = 120) -> CliResult:
    """Run the real console script in a subprocess with ``env`` (plus PATH/HOME/Prefect)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TS_")}
    proc = subprocess.run([str(SCRIPT), *argv], env={**base, **env}, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)
