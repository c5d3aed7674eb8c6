"""What our entry points (the ``tradingstation`` command, ``python flows/<mode>.py`` behind
``./dev premarket``) set up before Prefect starts, each checked in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What prefect's SubprocessASGIServer passes to the temporary server it starts.
REPORT = (
    "import os\n"
    "from prefect.settings import get_current_settings\n"
    "server_env = {**os.environ,"
    " **get_current_settings().to_environment_variables(exclude_unset=True)}\n"
    "print('server', server_env.get('PREFECT_SERVER_ANALYTICS_ENABLED'))\n"
)
CLI = ("from cli import main\n"
       "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n")
SCRIPT = (
    "import runpy, sys\n"
    "sys.argv = ['flows/premarket.py', '--as-of', '1800-01-01T08:45']\n"
    "try:\n    runpy.run_path('flows/premarket.py', run_name='__main__')\n"
    "except SystemExit as exc:\n    print('exit', exc.code)\n"
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_SERVER_ANALYTICS_ENABLED"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)


@pytest.mark.parametrize("entry", [CLI, SCRIPT], ids=["tradingstation", "flows-script"])
def test_entry_points_turn_prefect_telemetry_off(entry: str) -> None:
    # Offline, every temporary server logged "ERROR | prefect.server.services.telemetry -
    # Failed to send telemetry"; the server inherits the setting from our process.
    proc = _run(entry + REPORT)
    assert proc.stdout.splitlines()[-1].lower() == "server false", proc.stdout + proc.stderr[-2000:]


def test_flow_script_refuses_a_bad_as_of_in_one_line_before_prefect_starts() -> None:
    proc = _run(SCRIPT)
    assert "exit 2" in proc.stdout, proc.stdout + proc.stderr[-2000:]
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: as_of 1800-01-01T08:45") and "supported years" in line
