"""The pull step of every deployment.

Start each flow run in the worker's TradingStation checkout (``TS_APP_DIR``), or fail at once saying
what to set.
"""

from __future__ import annotations

import os
from pathlib import Path

from tradingstation.errors import ConfigError

FIX = ("export TS_APP_DIR=<your TradingStation checkout> before `prefect worker start` "
       "(the Docker image sets TS_APP_DIR=/app)")


def enter_app_dir() -> dict[str, str]:
    """Change into ``TS_APP_DIR`` as read from the worker's environment at run time.

    Prefect's own ``set_working_directory`` step with ``{{ $TS_APP_DIR }}`` let a run start
    without it and crash later with a bare ``FileNotFoundError``.

    Returns:
        ``{"directory": <absolute path>}``, like Prefect's step.

    Raises:
        ConfigError: ``TS_APP_DIR`` is unset or does not hold the flows.
    """
    raw = os.environ.get("TS_APP_DIR", "").strip()
    if not raw:
        raise ConfigError(f"TS_APP_DIR is not set on the worker: {FIX}")
    path = Path(raw).expanduser().resolve()
    if not (path / "flows").is_dir():
        raise ConfigError(f"TS_APP_DIR={raw[:200]} holds no flows/ folder: {FIX}")
    os.chdir(path)
    return {"directory": str(path)}
