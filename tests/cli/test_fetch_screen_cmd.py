"""`tradingstation fetch|anchors|screen`: input checked before any flow starts (flows:
tests/flows/test_fetch_screen_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.analysis_cmd import screen_params
from tests.cli.cli_support import error_line, run_main, run_script
from tradingstation.errors import InputError
from tradingstation.screeners import screener_names


@pytest.mark.parametrize(("args", "needle"), [
    (("fetch", "bogus"), "unknown fetch job 'bogus': expected one of universe, daily, "
                         "intraday_1min, intraday_30min"),
    (("fetch", "daily", "--tickers", "NVDA,../X"), "invalid ticker '../X'"),
    (("screen", "orb", "--or-window", "7"), "orb: invalid or_window (got '7')"),
    (("screen", "avwap_reclaim", "--min-score", "11"), "avwap_reclaim: invalid min_score"),
    (("screen", "nope"), "unknown screener 'nope': expected one of " + ", ".join(
        screener_names())),
    (("screen", "breakout", "--or-window", "15"), "--or-window applies to orb only, not "
                                                 "breakout"),
])
def test_console_script_rejects_bad_input_before_any_flow(
    tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    data = tmp_path / "data"
    proc = run_script(*args, cwd=tmp_path, env={"TS_DATA_DIR": str(data)})
    assert proc.returncode == 2 and proc.stdout == ""
    assert needle in error_line(proc.stderr)
    assert not data.exists()
    # No Prefect home was created: the command stopped before Prefect started.
    assert not (tmp_path / ".prefect").exists()


@pytest.mark.parametrize(("args", "needle"), [
    (("fetch", "universe", "--tickers", "NVDA"), "--tickers does not apply to the universe job"),
    (("fetch", "daily", "--as-of", "2025-02-30T10:00"), "is not an ISO-8601 time"),
    (("anchors", "--lookback-days", "0"), "--lookback-days must be between 1 and 250, got 0"),
    (("anchors", "--lookback-days", "-5"), "got -5"),
    (("anchors", "--lookback-days", "251"), "got 251"),
    (("anchors", "--ticker", "../X"), "invalid ticker '../X'"),
    (("anchors", "--ticker", "NVDA"), "no daily bars stored for NVDA"),
    (("screen", "breakout", "--tickers", "NVDA,AAPL"), "no daily bars stored for AAPL,NVDA"),
    (("screen", "orb", "--or-window", "-5"), "invalid or_window"),
    (("screen", "orb", "--or-window", "0"), "invalid or_window"),
    (("screen", "avwap_reclaim", "--min-score", "-1"), "invalid min_score"),
    (("screen", "ema_pullback", "--ema-period", "0"), "ema_pullback: invalid ema_period"),
    (("screen", "breakout", "--min-consolidation-days", "-3"), "invalid min_consolidation_days"),
    (("screen", "exhaustion_reversal", "--volume-spike-threshold", "-1"),
     "invalid volume_spike_threshold"),
    (("screen", "gap_and_go", "--min-score", "5"), "--min-score applies to avwap_reclaim only"),
    (("screen", "orb", "--ema-period", "21"), "--ema-period applies to ema_pullback only"),
    (("screen", "breakout", "--volume-spike-threshold", "2"),
     "--volume-spike-threshold applies to exhaustion_reversal only"),
    (("screen", "gap_and_go", "--min-consolidation-days", "5"),
     "--min-consolidation-days applies to breakout only"),
    (("screen", "breakout", "--as-of", "yesterday"), "'yesterday' is not an ISO-8601 time"),
    (("screen", "gap_and_go", "--param", "min_gap=1.5"), "gap_and_go: invalid min_gap"),
    (("screen", "gap_and_go", "--param", "min_gapp=0.05"), "unknown parameter 'min_gapp'"),
    (("screen", "gap_and_go", "--param", "min_gap"), "expected name=value"),
    (("screen", "orb", "--or-window", "5", "--param", "or_window=15"), "or_window given twice"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...], needle: str,
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("TS_DATA_DIR", str(data))
    code, out, err = run_main(capsys, *args)
    assert code == 2 and out == ""
    assert needle in error_line(err)
    assert not data.exists() or not any(data.rglob("*.parquet"))


def test_help_explains_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "fetch", "--help")
    assert code == 0
    for word in ("intraday_30min", "--tickers", "--force-compact", "--as-of", "--json"):
        assert word in out
    code, out, _ = run_main(capsys, "screen", "--help")
    assert code == 0
    for word in ("--or-window", "--min-score", "--min-consolidation-days", "--ema-period",
                 "--volume-spike-threshold", "--verbose", "exhaustion_reversal"):
        assert word in out
    code, out, _ = run_main(capsys, "anchors", "--help")
    assert code == 0 and "--lookback-days" in out and "--ticker" in out


def test_screen_params_keep_only_given_flags_and_validate_them() -> None:
    assert screen_params("orb", {"--or-window": 5, "--min-score": None}) == {"or_window": 5}
    assert screen_params("avwap_reclaim", {"--min-score": 10.0}) == {"min_score": 10.0}
    assert screen_params("breakout", {"--or-window": None}) == {}
    assert screen_params("gap_and_go", {}, ["min-gap=0.05", "rvol_sessions = 5"]) == {
        "min_gap": 0.05, "rvol_sessions": 5}
    with pytest.raises(InputError, match="or_window"):
        screen_params("orb", {"--or-window": 45})  # 390 is not a multiple of 45
