"""The deployments' pull step, run by Prefect's own step runner as a worker runs it (issue 16 #7).

Measured: without ``TS_APP_DIR`` on the worker, ``{{ $TS_APP_DIR }}`` became "" and Prefect's
``set_working_directory`` stayed in the worker's directory: the pull step succeeded and the run
crashed later with a bare ``FileNotFoundError``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import yaml
from prefect.deployments.steps.core import StepExecutionError, run_steps

ROOT = Path(__file__).resolve().parents[2]


def _pull(monkeypatch: pytest.MonkeyPatch, app_dir: str | None) -> dict:
    if app_dir is None:
        monkeypatch.delenv("TS_APP_DIR", raising=False)
    else:
        monkeypatch.setenv("TS_APP_DIR", app_dir)
    monkeypatch.chdir(Path("/"))
    steps = yaml.safe_load((ROOT / "prefect.yaml").read_text())["pull"]
    return asyncio.run(run_steps(steps, print_function=lambda *_: None))


@pytest.mark.parametrize("app_dir", [None, "", "/nonexistent/checkout"])
def test_pull_step_without_a_usable_app_dir_fails_saying_what_to_set(
    app_dir: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(StepExecutionError) as caught:
        _pull(monkeypatch, app_dir)
    message = str(caught.value.__cause__ or caught.value)
    assert "TS_APP_DIR" in message and "prefect worker start" in message
    assert os.getcwd() == "/"


def test_pull_step_enters_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    output = _pull(monkeypatch, str(ROOT))
    assert Path(os.getcwd()) == ROOT and output["directory"] == str(ROOT)
