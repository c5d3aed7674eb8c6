"""Tests of the real ``tradingstation`` console script (subprocess) and main()'s error mapping."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

import cli
from tradingstation import __version__, redaction
from tradingstation.errors import ConfigError, InputError, ProviderError
from tradingstation.redaction import REDACTED, add_secrets

SCRIPT = Path(sys.executable).parent / "tradingstation"

SENTINEL_KEY = "AVKEY-SENTINEL-5d1e"
SENTINEL_S3 = "S3SECRET-SENTINEL-77aa"
SENTINEL_HOOK = "https://hooks.example.invalid/services/T0/B0/HOOK-SENTINEL-c3"


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess:
    """Run the installed console script with only the given TS_ variables set."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run(
        [str(SCRIPT), *args],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def test_script_is_installed() -> None:
    assert SCRIPT.exists(), f"console script missing at {SCRIPT}"


def test_help(tmp_path: Path) -> None:
    proc = run_cli("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: tradingstation" in proc.stdout
    assert "config" in proc.stdout and "storage" in proc.stdout
    assert "--version" in proc.stdout
    sub = run_cli("storage", "check", "--help", cwd=tmp_path)
    assert sub.returncode == 0
    assert "--json" in sub.stdout and "write" in sub.stdout


def test_version(tmp_path: Path) -> None:
    proc = run_cli("--version", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == f"tradingstation {__version__}\n"


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("no-such-command", cwd=tmp_path)
    assert proc.returncode == 2
    assert "No such command" in proc.stderr
    assert "Traceback" not in proc.stderr


def secret_env(data_dir: Path) -> dict[str, str]:
    return {
        "TS_DATA_DIR": str(data_dir),
        "TS_ALPHAVANTAGE_API_KEY": SENTINEL_KEY,
        "TS_S3_SECRET_ACCESS_KEY": SENTINEL_S3,
        "TS_WEBHOOK_URL": SENTINEL_HOOK,
    }


def test_config_show_redacts_secrets(tmp_path: Path, data_dir: Path) -> None:
    proc = run_cli("config", "show", env=secret_env(data_dir), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    for sentinel in (SENTINEL_KEY, SENTINEL_S3, SENTINEL_HOOK, "HOOK-SENTINEL"):
        assert sentinel not in out
    assert "TS_ALPHAVANTAGE_API_KEY" in proc.stdout
    assert REDACTED in proc.stdout


def test_config_show_json(tmp_path: Path, data_dir: Path) -> None:
    env = {**secret_env(data_dir), "TS_RATE_LIMIT_PER_MINUTE": "5"}
    proc = run_cli("config", "show", "--json", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    values = json.loads(proc.stdout)
    assert values["alphavantage_api_key"] == REDACTED
    assert values["s3_secret_access_key"] == REDACTED
    assert values["webhook_url"] == REDACTED
    assert values["s3_access_key_id"] is None
    assert values["rate_limit_per_minute"] == 5
    assert values["data_dir"] == str(data_dir)
    assert values["resolved_provider"] == "alphavantage"
    assert SENTINEL_KEY not in proc.stdout


@pytest.mark.parametrize("value", ["-5", "abc"])
def test_bad_setting_is_one_line_naming_the_variable(
    tmp_path: Path, data_dir: Path, value: str
) -> None:
    env = {"TS_DATA_DIR": str(data_dir), "TS_RATE_LIMIT_PER_MINUTE": value}
    proc = run_cli("config", "show", env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert_one_line_error(proc, "TS_RATE_LIMIT_PER_MINUTE")
    # Help still works with a broken environment.
    assert run_cli("--help", env=env, cwd=tmp_path).returncode == 0


def test_bad_setting_never_echoes_a_secret(tmp_path: Path, data_dir: Path) -> None:
    env = {**secret_env(data_dir), "TS_STORAGE_BACKEND": "floppy"}
    proc = run_cli("storage", "check", env=env, cwd=tmp_path)
    assert proc.returncode == 2
    line = assert_one_line_error(proc, "TS_STORAGE_BACKEND")
    assert SENTINEL_KEY not in line and "floppy" not in line


def probe_leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if "_probe" in p.parts and p.is_file()]


def test_storage_check_local_passes(tmp_path: Path, data_dir: Path) -> None:
    env = {"TS_DATA_DIR": str(data_dir)}
    proc = run_cli("storage", "check", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "storage check passed" in proc.stdout
    assert str(data_dir) in proc.stdout
    assert probe_leftovers(data_dir) == []

    proc = run_cli("storage", "check", "--json", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["ok"] is True
    assert result["backend"] == "local"
    assert result["key"].startswith("_probe/")
    assert result["elapsed_ms"] >= 0
    assert probe_leftovers(data_dir) == []


def test_storage_check_local_fails_on_unwritable_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    proc = run_cli("storage", "check", env={"TS_DATA_DIR": str(blocker)}, cwd=tmp_path)
    assert proc.returncode != 0
    assert_one_line_error(proc, "storage check failed")


def test_storage_check_s3_without_bucket_names_missing_variables(
    tmp_path: Path, data_dir: Path
) -> None:
    env = {"TS_DATA_DIR": str(data_dir), "TS_STORAGE_BACKEND": "s3"}
    proc = run_cli("storage", "check", env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert_one_line_error(proc, "TS_S3_BUCKET", "TS_S3_SECRET_ACCESS_KEY")

    proc = run_cli("storage", "check", "--json", env=env, cwd=tmp_path)
    assert proc.returncode == 2
    result = json.loads(proc.stdout)
    assert result["ok"] is False and "TS_S3_BUCKET" in result["error"]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from tests.support.moto_server import running_moto_server

    with running_moto_server() as endpoint:
        yield endpoint


def s3_env(endpoint: str, bucket: str, data_dir: Path, **extra: str) -> dict[str, str]:
    from tests.support.moto_server import MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY

    return {
        "TS_DATA_DIR": str(data_dir),
        "TS_STORAGE_BACKEND": "s3",
        "TS_S3_BUCKET": bucket,
        "TS_S3_ENDPOINT_URL": endpoint,
        "TS_S3_REGION": MOTO_REGION,
        "TS_S3_ACCESS_KEY_ID": MOTO_ACCESS_KEY_ID,
        "TS_S3_SECRET_ACCESS_KEY": MOTO_SECRET_ACCESS_KEY,
        **extra,
    }


def test_storage_check_s3_against_moto(tmp_path: Path, data_dir: Path, moto_endpoint: str) -> None:
    from tests.support.moto_server import create_bucket, delete_bucket, moto_client

    bucket = create_bucket(moto_endpoint)
    try:
        env = s3_env(moto_endpoint, bucket, data_dir, TS_S3_PREFIX="probe-test")
        proc = run_cli("storage", "check", "--json", env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        assert result["ok"] is True and result["backend"] == "s3"
        assert f"s3://{bucket}/probe-test" in result["store"]
        listing = moto_client(moto_endpoint).list_objects_v2(Bucket=bucket)
        assert listing.get("KeyCount", 0) == 0  # probe deleted
    finally:
        delete_bucket(moto_endpoint, bucket)


def test_debug_json_logs_are_parseable_and_redacted(
    tmp_path: Path, data_dir: Path, moto_endpoint: str
) -> None:
    """botocore's DEBUG output (signed requests) goes out as JSON lines without any secret."""
    from tests.support.moto_server import create_bucket, delete_bucket

    bucket = create_bucket(moto_endpoint)
    access_key = "AKIDSENTINEL0000CLI"
    try:
        env = s3_env(moto_endpoint, bucket, data_dir, TS_S3_ACCESS_KEY_ID=access_key,
                     TS_S3_SECRET_ACCESS_KEY=SENTINEL_S3, TS_LOG_LEVEL="DEBUG",
                     TS_LOG_FORMAT="json")
        proc = run_cli("storage", "check", env=env, cwd=tmp_path)
    finally:
        delete_bucket(moto_endpoint, bucket)
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = [json.loads(line) for line in proc.stderr.splitlines()]
    assert any(r["component"].startswith("botocore") for r in records)
    for record in records:
        assert {"timestamp", "level", "component", "message"} <= record.keys()
    assert access_key not in proc.stderr and SENTINEL_S3 not in proc.stderr
    assert any(REDACTED in r["message"] for r in records)


def test_storage_check_s3_missing_bucket_fails(
    tmp_path: Path, data_dir: Path, moto_endpoint: str
) -> None:
    env = s3_env(moto_endpoint, "ts-test-no-such-bucket", data_dir)
    proc = run_cli("storage", "check", env=env, cwd=tmp_path)
    assert proc.returncode != 0
    assert_one_line_error(proc, "storage check failed")


def test_storage_check_s3_unreachable_endpoint(tmp_path: Path, data_dir: Path) -> None:
    from tests.support.moto_server import unused_local_port

    endpoint = f"http://127.0.0.1:{unused_local_port()}"
    env = s3_env(endpoint, "bucket", data_dir, TS_S3_SECRET_ACCESS_KEY=SENTINEL_S3)
    proc = run_cli("storage", "check", env=env, cwd=tmp_path)
    assert proc.returncode == 1
    line = assert_one_line_error(proc, "storage check failed")
    assert SENTINEL_S3 not in proc.stdout + proc.stderr
    assert "127.0.0.1" in line


def test_storage_check_s3_bad_credentials(
    tmp_path: Path, data_dir: Path, moto_endpoint: str
) -> None:
    from tests.support.moto_server import create_bucket, delete_bucket, moto_auth_enforced

    bucket = create_bucket(moto_endpoint)
    try:
        env = s3_env(moto_endpoint, bucket, data_dir, TS_S3_ACCESS_KEY_ID="AKIANOTAREALKEY00000",
                     TS_S3_SECRET_ACCESS_KEY=SENTINEL_S3)
        with moto_auth_enforced(moto_endpoint):
            proc = run_cli("storage", "check", env=env, cwd=tmp_path)
        assert proc.returncode != 0
        assert_one_line_error(proc, "storage check failed")
        assert SENTINEL_S3 not in proc.stdout + proc.stderr
    finally:
        delete_bucket(moto_endpoint, bucket)


# main()'s mapping of errors, in process, on a throwaway app.


@pytest.fixture
def scratch_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    """A throwaway app in place of the real one; main()'s logging setup is undone afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    factory = logging.getLogRecordFactory()
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """Scratch."""

    monkeypatch.setattr(cli, "app", app)
    yield app
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    logging.setLogRecordFactory(factory)
    redaction.clear_secrets()


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InputError("bad ticker 'x y'"), 2),
        (ConfigError("missing block\nsecond line"), 2),
        (ProviderError("upstream 503"), 1),
    ],
)
def test_main_maps_expected_errors(
    scratch_app: typer.Typer, capsys: pytest.CaptureFixture[str], error: Exception, code: int
) -> None:
    @scratch_app.command()
    def boom() -> None:
        raise error

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["boom"])
    assert exit_info.value.code == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert "Traceback" not in err


def test_main_unexpected_error_shows_redacted_traceback(
    scratch_app: typer.Typer, capsys: pytest.CaptureFixture[str]
) -> None:
    add_secrets([SENTINEL_KEY])

    @scratch_app.command()
    def crash() -> None:
        raise RuntimeError(f"key {SENTINEL_KEY} leaked")

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["crash"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError" in err
    assert SENTINEL_KEY not in err
    assert err.strip().splitlines()[-1].startswith("error: unexpected RuntimeError")


@pytest.mark.parametrize("argv", [["--help"], ["fetch", "--help"], ["data", "--help"],
                                  ["run", "premarket", "--help"]])
def test_help_loads_neither_prefect_nor_the_flows_nor_pandas(argv: list[str]) -> None:
    # The commands import flows, blocks and pandas where they run them: help stays instant.
    code = (
        "import sys\nfrom cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "heavy = ('prefect', 'pandas', 'flows.session', 'blocks.resolve', 'deploy.deployments')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=Path(cli.__file__).parents[1])
    assert "Usage" in out.stdout and out.stdout.splitlines()[-1] == "[]", out.stdout[-500:]
