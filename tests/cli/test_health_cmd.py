"""`tradingstation health`: flags, bad input (flows and exit codes 0/1/2: tests/flows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.health_cmd import print_report
from tests.cli.cli_support import error_line, run_main
from tradingstation.upkeep.health import Check, HealthReport


def test_help_lists_every_runbook_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "health", "--help")
    assert code == 0
    for flag in ("--check-api", "--check-api-limits", "--check-data", "--check-signals",
                 "--check-storage", "--api-usage", "--storage-usage", "--data-freshness",
                 "--json"):
        assert flag in out


def test_bad_as_of_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "health", "--as-of", "yesterday-ish")
    assert code == 2 and out == ""
    assert "is not an ISO-8601 time" in error_line(err)


def test_bad_setting_is_one_line_exit_2(capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TS_RATE_LIMIT_PER_MINUTE", "-3")
    code, _, err = run_main(capsys, "health")
    assert code == 2 and "TS_RATE_LIMIT_PER_MINUTE" in error_line(err)


def test_report_table_shows_status_and_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    report = HealthReport([Check("storage", "ok", "probe ok"),
                           Check("signals", "warn", "no signals since 2025-11-21")])
    print_report(report.to_dict())
    out = capsys.readouterr().out
    assert "health: degraded" in out
    assert "storage" in out and "no signals since 2025-11-21" in out
    assert report.exit_code == 1
