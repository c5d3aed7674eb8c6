"""`tradingstation dashboard`: validation, --latest-path, table rendering (flow: tests/flows)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from cli.dashboard_cmd import object_location, print_plan
from tests.cli.cli_support import error_line, run_main
from tradingstation.storage.local import LocalStore


@pytest.mark.parametrize(("args", "needle"), [
    (("--hours-lookback", "0"), "invalid --hours-lookback"),
    (("--hours-lookback", "1000"), "invalid --hours-lookback"),
    (("--risk-per-trade", "0.5"), "invalid risk_per_trade"),
    (("--equity", "-5"), "invalid equity"),
    (("--max-open-risk", "2"), "invalid max_open_risk"),
])
def test_bad_values_exit_2_before_anything_is_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...], needle: str,
) -> None:
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path / "data"))
    code, out, err = run_main(capsys, "dashboard", *args)
    assert code == 2 and out == ""
    assert needle in error_line(err)
    assert not (tmp_path / "data").exists()


def test_latest_path_without_a_dashboard(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "dashboard", "--latest-path")
    assert code == 1
    assert "no dashboard published yet: run `tradingstation dashboard`" in error_line(err)


def test_object_location_local_and_s3(tmp_path: Path) -> None:
    key = "dashboards/2025-11-24/20251124T220000Z/index.html"
    assert object_location(LocalStore(tmp_path), key) == str(tmp_path / key)
    s3 = SimpleNamespace(config=SimpleNamespace(bucket="b", prefix="ts"), describe=lambda: "")
    assert object_location(s3, key) == f"s3://b/ts/{key}"


def test_table_and_verbose_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    idea = {"rank": 1, "symbol": "NVDA", "direction": "long", "status": "triggered",
            "score": 8.2, "screeners": ["breakout", "avwap_reclaim"], "entry": 181.0,
            "stop": 174.5, "targets": [187.5, 194.0], "shares": 153, "risk_dollars": 994.5,
            "invalidation": "close below 174.50",
            "reasons": ["NVDA broke a 6-day base on 2.1x volume", "<b>escaped</b>"]}
    result = {"demo": True, "session": "2025-11-24", "hours_lookback": 24.0, "ideas": [idea],
              "dropped": []}
    print_plan(result, verbose=False)
    plain = capsys.readouterr().out
    assert "NVDA" in plain and "153" in plain and "DEMO" in plain
    assert "6-day base" not in plain
    print_plan(result, verbose=True)
    verbose = capsys.readouterr().out
    assert "NVDA broke a 6-day base on 2.1x volume" in verbose and "<b>escaped</b>" in verbose
    assert "close below 174.50" in verbose
