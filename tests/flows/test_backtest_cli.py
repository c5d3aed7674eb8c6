"""`tradingstation backtest` end to end on a 30-symbol demo market: the real flow, its stored
outcomes and summary, its Prefect artifact; bad input changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from cli.fetch_cmd import run_fetch_flow
from tests.flows.conftest import Invoke
from tradingstation.config import get_settings
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore

pytestmark = pytest.mark.slow

CLOSE = "2025-11-24T17:00-05:00"
ENV = {"TS_DEMO_SYMBOLS": "30", "TS_BATCH_SIZE": "30", "TS_PROVIDER": "demo"}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("backtest")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**ENV, "TS_DATA_DIR": str(root)}.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        as_of = datetime.fromisoformat(CLOSE)
        run_fetch_flow("universe", as_of=as_of)
        run_fetch_flow("daily", as_of=as_of)
        get_settings.cache_clear()
        yield root
    get_settings.cache_clear()


@pytest.fixture
def store(root: Path, monkeypatch: pytest.MonkeyPatch) -> LocalStore:
    for name, value in {**ENV, "TS_DATA_DIR": str(root)}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return LocalStore(root)


def _research(store: LocalStore) -> list[str]:
    return sorted(i.key for i in store.list_objects("research/"))


@pytest.mark.parametrize("args", [
    ("--screeners", "breakout,nope"), ("--sessions", "0"), ("--tickers", "../X"),
    ("--tickers", "ZZZZ"), ("--as-of", "2025-13-01"), ("--time-stop", "0"),
    ("--slippage-bps", "-1"), ("--fill-sessions", "x"), ("--scale-out", "1"),
])
def test_bad_input_is_one_error_line_and_stores_nothing(invoke: Invoke, store, args):
    code, _out, err = invoke("backtest", *args)
    assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert _research(store) == []


def test_an_empty_store_is_one_error_line_before_any_flow(invoke: Invoke, tmp_path,
                                                          monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    code, _out, err = invoke("backtest")
    assert code == 2 and err.strip().splitlines() == [
        "error: no daily bars stored to replay: run `tradingstation fetch universe` and "
        "`tradingstation fetch daily` (or `./dev premarket`) first"]
    assert not (tmp_path / "research").exists()


def test_backtest_stores_outcomes_summary_and_artifact(invoke: Invoke, store):
    code, out, err = invoke("backtest", "--sessions", "12", "--screeners",
                            "breakout,ema_pullback,avwap_reclaim,exhaustion_reversal",
                            "--as-of", CLOSE, "--json")
    assert code == 0, err[-2000:]
    result = json.loads(out)
    assert result["demo"] is True and result["sessions"]["count"] == 12
    assert result["sessions"]["last"] == "2025-11-24"
    assert result["signals"] > 0
    frame = store.get_frame(keys.backtest_key(result["run"], "outcomes.parquet"))
    assert len(frame) == result["signals"]
    assert set(frame["exit_reason"]) <= {"target", "stop", "time", "not_filled", "open"}
    assert store.get_json(keys.backtest_latest_key())["run"] == result["run"]
    assert sum(r["signals"] for r in result["by_screener"]) == int(
        (frame["exit_reason"] != "open").sum())

    from prefect.client.orchestration import get_client

    async def artifact() -> str:
        async with get_client() as client:
            found = await client.read_latest_artifacts()
        return next(a.data for a in found if a.key == "backtest")

    import asyncio

    markdown = asyncio.run(artifact())
    assert "DEMO DATA" in markdown and "| screener |" in markdown

    code, out, err = invoke("backtest", "--sessions", "3", "--screeners", "breakout",
                            "--time-stop", "3", "--slippage-bps", "0", "--scale-out", "0.5",
                            "--as-of", CLOSE)
    assert code == 0, err[-2000:]
    assert "DEMO" in out and "breakout" in out and "Calibration" in out
    text = " ".join(out.split())
    assert "time stop 3 sessions, slippage 0.0 bps" in text and "scale-out 50%" in text
