"""`verify-deployment` and `cancel` without a Prefect API (with one: tests/flows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.cli_support import error_line, run_main, run_script


def test_verify_deployment_local_defaults_passes_and_skips_prefect(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = run_script("verify-deployment", cwd=tmp_path, env={"TS_DATA_DIR": str(data)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("PASS settings") for line in lines)
    assert any(line.startswith("PASS storage: local directory") for line in lines)
    assert any(line.startswith("WARN api key") for line in lines)  # demo market, no key
    for name in ("prefect api", "blocks", "deployments", "work pool"):
        assert any(line.startswith(f"SKIP {name}") for line in lines), name
    assert "PREFECT_API_URL" in proc.stdout
    assert not [p for p in data.rglob("*") if p.is_file()]  # the probe cleaned up


def test_verify_deployment_fails_with_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = run_script("verify-deployment", "--json", cwd=tmp_path,
                      env={"TS_DATA_DIR": str(blocker / "data")})
    assert proc.returncode == 1
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert checks["storage"]["status"] == "fail"
    assert checks["storage"]["fix"] == "make TS_DATA_DIR writable"


def test_verify_deployment_reports_bad_settings(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_STORAGE_BACKEND", "ftp")
    code, out, _ = run_main(capsys, "verify-deployment")
    assert code == 1
    assert "FAIL settings: invalid setting TS_STORAGE_BACKEND" in out
    assert "fix: fix the named TS_ variable" in out


@pytest.mark.parametrize("command", ["pause", "resume"])
def test_pause_and_resume_without_prefect_api_are_one_line(command: str, tmp_path: Path) -> None:
    proc = run_script(command, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "pausing schedules needs a Prefect server: set PREFECT_API_URL" in error_line(
        proc.stderr)


def test_cancel_without_prefect_api_is_one_line(tmp_path: Path) -> None:
    proc = run_script("cancel", "--all", "--yes", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "cancel needs a Prefect server: set PREFECT_API_URL" in error_line(proc.stderr)


def test_cancel_needs_a_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "cancel")
    assert code == 2 and "choose what to cancel" in error_line(err)


def test_api_key_check_against_a_fake_alpha_vantage() -> None:
    from deploy.verification import check_api_key
    from tests.support.fake_alphavantage import FakeAlphaVantage
    from tradingstation.config import Settings

    with FakeAlphaVantage(api_key="GOOD-KEY") as fake:
        fake.set_quote("IBM", 250.0)
        good = check_api_key(Settings(alphavantage_api_key="GOOD-KEY",
                                      alphavantage_base_url=fake.url))
        bad = check_api_key(Settings(alphavantage_api_key="WRONG-KEY",
                                     alphavantage_base_url=fake.url))
    assert good.status == "pass" and "key accepted" in good.detail
    assert bad.status == "fail" and "WRONG-KEY" not in bad.detail
    assert "TS_ALPHAVANTAGE_API_KEY" in bad.fix
    demo = check_api_key(Settings(provider="alphavantage"))
    assert demo.status == "fail" and "no API key" in demo.detail
