"""Inputs that were accepted and then destroyed or hid data (issue 14 §6), beyond the one-line
refusals of the catalogue in ``test_hostile_input.py``: a data directory that is missing, empty
or a file; a read-only filesystem; credentials too short to mask; infinite screener bounds."""

from __future__ import annotations

import errno
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from tests.reliability.cli_harness import ROOT, invoke, run_script
from tests.reliability.retrying import Attempts, retry
from tests.support.fetching import fetch_job
from tests.support.frame_provider import FrameProvider
from tradingstation.calendar import NY
from tradingstation.config import Settings
from tradingstation.errors import InputError, PermanentError, StorageRefusedError, TransientError
from tradingstation.screeners import SCREENERS, get_screener
from tradingstation.storage.local import LocalStore

NOW = pd.Timestamp("2025-11-24 20:30", tz=NY).to_pydatetime()


def _verify(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return invoke(["data", "verify"])


def _one_error_line(result) -> str:
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr[-1500:]
    return lines[0]


@pytest.mark.parametrize("kind", ["nonexistent", "empty"])
def test_verify_of_a_store_without_data_is_a_problem(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Measured: TS_DATA_DIR=/nonexistent/typo exited 0 with "0 objects checked".
    data_dir = tmp_path / "typo" / "data"
    if kind == "empty":
        data_dir.mkdir(parents=True)
    result = _verify(data_dir, monkeypatch)
    assert result.code == 1, result.stdout + result.stderr
    line = _one_error_line(result)
    assert "no data objects" in line and str(data_dir) in line and "TS_DATA_DIR" in line
    assert "0 problems" not in result.stdout
    assert not data_dir.exists() or not any(data_dir.iterdir())  # nothing created in it


def test_verify_of_a_data_dir_that_is_a_file_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("oops")
    result = _verify(not_a_dir, monkeypatch)
    assert result.code == 2, result.stdout + result.stderr
    assert "not a directory" in _one_error_line(result)
    assert not_a_dir.read_text() == "oops"


def _read_only(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Writes under ``root`` fail as on a filesystem mounted read-only (EROFS).

    Injected at the first system call of a write (creating the temp file), because tests may
    run as root, for whom permission bits do not stop a write, and may not mount anything.
    """
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir).is_relative_to(root):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition
def test_a_read_only_filesystem_is_permanent_and_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Measured: retried as transient, 4 attempts over 84 s, for a mount a human must fix.
    store = LocalStore(tmp_path / "data")
    _read_only(monkeypatch, tmp_path / "data")
    attempts = Attempts()
    with pytest.raises(StorageRefusedError) as caught:
        retry(lambda: store.put_bytes("bars/daily/AAPL.parquet", b"x"), attempts=attempts)
    assert attempts.attempts == 1 and attempts.transient == 0
    error = caught.value
    assert isinstance(error, PermanentError) and not isinstance(error, TransientError)
    assert "read-only" in str(error).lower() and "not retried" in str(error)
    # A whole fetch job stops at its first write with that error, once: no retry either.
    days = pd.bdate_range(end="2025-11-24", periods=30, tz="UTC")
    bars = pd.DataFrame({"timestamp": days, "open": 10.0, "high": 11.0, "low": 9.0,
                         "close": 10.5, "volume": 1000})
    provider = FrameProvider(daily={"AAPL": bars})
    with pytest.raises(StorageRefusedError, match=r"(?i)read-only"):
        fetch_job("daily", store, provider, NOW, Settings(), tickers=["AAPL"])
    assert sum(provider.calls.values()) == 1  # the batch task was not retried
    # Nothing stored: only the fetch stage's dataset lock file exists (a lock, not data).
    written = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert [p.relative_to(tmp_path / "data").as_posix() for p in written] == [".locks/daily.lock"]


def test_short_credentials_are_refused_at_load_and_never_mangle_messages(
    tmp_path: Path,
) -> None:
    # Measured: TS_S3_ACCESS_KEY_ID=a masked every "a": "f**********iled".
    result = run_script(["storage", "check"], {
        "TS_DATA_DIR": str(tmp_path), "TS_STORAGE_BACKEND": "s3", "TS_S3_BUCKET": "bucket",
        "TS_S3_ACCESS_KEY_ID": "a", "TS_S3_SECRET_ACCESS_KEY": "a-long-enough-secret"})
    assert result.code == 2
    line = _one_error_line(result)
    assert line.startswith("error: invalid setting TS_S3_ACCESS_KEY_ID: too short")
    assert "*" not in result.stderr + result.stdout


def test_secrets_are_masked_as_whole_values_only() -> None:
    # In a fresh process: the redactor is process-wide.
    code = (
        "from tradingstation.redaction import add_secrets, redact\n"
        "add_secrets(['abc123', 'a', 'p@ss/w0rd'])\n"
        "print(redact('failed: key abc123, url ?k=abc123&x; xabc123y; p@ss/w0rd.'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.strip()
    assert out == "failed: key **********, url ?k=**********&x; xabc123y; **********."


FLOAT_PARAMS = [
    pytest.param(name, field, id=f"{name}.{field}")
    for name, cls in sorted(SCREENERS.items())
    for field, info in cls.params_model.model_fields.items()
    if info.annotation is float
]


@pytest.mark.parametrize(("screener", "field"), FLOAT_PARAMS)
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "inf", "nan"])
def test_screener_parameters_are_finite(screener: str, field: str, value) -> None:
    # Measured: max_price=inf and min_premarket_volume=inf were accepted (a bound switched off).
    with pytest.raises(InputError, match=field):
        get_screener(screener).parse_params(**{field: value})


def test_infinite_screener_bounds_are_refused_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path))
    for param in ("max_price=inf", "min_premarket_volume=inf"):
        result = invoke(["screen", "gap_and_go", "--param", param])
        assert result.code == 2, result.stdout + result.stderr
        assert param.split("=")[0] in _one_error_line(result)
    assert FLOAT_PARAMS and {"gap_and_go.max_price", "gap_and_go.min_premarket_volume"} <= {
        p.id for p in FLOAT_PARAMS}
