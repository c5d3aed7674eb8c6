"""`tradingstation data`: input validation before any flow starts (flows: tests/flows)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.cli.cli_support import error_line, run_main, run_script
from tradingstation.errors import InputError
from tradingstation.upkeep.operations import OPERATIONS, check_parameters


def test_help_lists_every_runbook_operation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "data", "--help")
    assert code == 0
    for operation in OPERATIONS:
        assert operation in out


def test_impossible_restore_date_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = run_script("data", "restore", "--date", "2024-02-30", cwd=tmp_path,
                      env={"TS_DATA_DIR": str(data)})
    assert proc.returncode == 2 and proc.stdout == ""
    assert "2024-02-30" in error_line(proc.stderr)
    assert not data.exists()


@pytest.mark.parametrize(("args", "needle"), [
    (("restore",), "restore needs --date"),
    (("restore", "--date", "2024-01-15"), "no complete backup for 2024-01-15 (available: none)"),
    (("rebuild-daily",), "rebuild-daily needs --symbols"),
    (("rebuild-daily", "--symbols", "NVDA,a b"), "invalid ticker"),
    (("fill-gaps", "--symbol", "NVDA,AAPL"), "--symbol takes one ticker"),
    (("detect-gaps", "--symbol", "1BAD"), "invalid ticker"),
    (("rebuild-ledger", "--dataset", "5min"), "5min"),
])
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...], needle: str,
) -> None:
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path / "data"))
    code, out, err = run_main(capsys, "data", *args)
    assert code == 2 and out == ""
    assert needle in error_line(err)
    assert not (tmp_path / "data").exists()


def test_check_parameters_parses_and_normalizes() -> None:
    params = check_parameters("rebuild-daily", symbols=" nvda, AAPL,NVDA")
    assert params.symbols == ["AAPL", "NVDA"]
    assert check_parameters("restore", restore_date="2024-01-15").date == date(2024, 1, 15)
    assert check_parameters("rebuild-ledger", dataset="1min").datasets == ["1min"]
    assert check_parameters("verify").datasets == ["daily", "1min", "30min"]
    assert check_parameters("fill-gaps", symbol="nvda").symbol == "NVDA"
    with pytest.raises(InputError, match="unknown operation"):
        check_parameters("rebuild-everything")
