"""Flow tests run against one real (temporary) Prefect server shared by the whole session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import cli


@pytest.fixture(scope="session", autouse=True)
def prefect_server(prefect_api: str, no_backoff_waits: None) -> str:
    """One temporary Prefect server for every flow test of the session; no backoff waits."""
    return prefect_api


Invoke = Callable[..., tuple[int, str, str]]


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str]) -> Invoke:
    """Run ``tradingstation`` in process (its real flows, this session's Prefect server) and
    return ``(exit code, stdout, stderr)``."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            cli.main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run
