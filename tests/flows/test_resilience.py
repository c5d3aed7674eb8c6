"""Flow resilience on a real Prefect server and the fake Alpha Vantage server: transient failures
are retried (only what failed), permanent ones reported without failing the run, overlapping
runs never lose bars, and a bad key fails the run with the step named."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from flows.analysis import fetch
from tests.support.fake_alphavantage import FakeAlphaVantage
from tradingstation.calendar import NY
from tradingstation.config import get_settings

pytestmark = pytest.mark.slow

AS_OF = datetime(2025, 11, 24, 17, 0, tzinfo=NY)
TICKERS = "AAA,BBB,CCC,DDD"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    """A fake Alpha Vantage the flows reach over HTTP, with a generous rate limit."""
    with FakeAlphaVantage(api_key="FAKE-KEY", now=lambda: AS_OF) as server:
        monkeypatch.setenv("TS_ALPHAVANTAGE_API_KEY", "FAKE-KEY")
        monkeypatch.setenv("TS_ALPHAVANTAGE_BASE_URL", server.url)
        monkeypatch.setenv("TS_RATE_LIMIT_PER_MINUTE", "6000")
        get_settings.cache_clear()
        yield server


def _task_runs(flow_run_id, name: str):
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return [r for r in runs if r.name.startswith(name)]


def _daily_calls(server: FakeAlphaVantage, symbol: str) -> int:
    return server.count(function="TIME_SERIES_DAILY", symbol=symbol)


def test_transient_failure_is_retried_for_the_failed_symbol_only(fake: FakeAlphaVantage) -> None:
    fake.fail_next("http_503", n=1, function="TIME_SERIES_DAILY")
    state = fetch(job="daily", tickers=TICKERS, as_of=AS_OF, return_state=True)
    assert state.is_completed()
    report = state.result()
    assert report["counts"] == {"ok": 4}
    calls = {symbol: _daily_calls(fake, symbol) for symbol in TICKERS.split(",")}
    # One symbol failed once and was retried; the retry did not refetch the others.
    assert sorted(calls.values()) == [1, 1, 1, 2]
    batch = _task_runs(state.state_details.flow_run_id, "fetch-daily")
    assert len(batch) == 1 and batch[0].run_count == 2


def test_permanent_failure_is_reported_not_retried(fake: FakeAlphaVantage) -> None:
    fake.fail_symbol("BBB", "error_message")
    state = fetch(job="daily", tickers=TICKERS, as_of=AS_OF, return_state=True)
    assert state.is_completed()
    report = state.result()
    failed = [s for s in report["symbols"] if s["outcome"] == "failed"]
    assert [s["symbol"] for s in failed] == ["BBB"]
    assert _daily_calls(fake, "BBB") == 1
    assert report["counts"]["ok"] == 3


def test_bad_key_fails_the_run_naming_the_step(
    fake: FakeAlphaVantage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TS_ALPHAVANTAGE_API_KEY", "WRONG-KEY")
    get_settings.cache_clear()
    state = fetch(job="daily", tickers=TICKERS, as_of=AS_OF, return_state=True)
    assert state.is_failed()
    assert "fetch-daily" in state.message and "WRONG-KEY" not in state.message


def test_overlapping_runs_never_lose_bars(fake: FakeAlphaVantage) -> None:
    states: list = []

    def run() -> None:
        states.append(fetch(job="daily", tickers=TICKERS, as_of=AS_OF, return_state=True))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(states) == 2 and all(s.is_completed() for s in states)
    # The dataset write lock serialized the runs: the second planned after the first wrote,
    # found every symbol fresh and made no call.
    assert sum(_daily_calls(fake, s) for s in TICKERS.split(",")) == 4
    data_dir = Path(get_settings().data_dir)
    for symbol in TICKERS.split(","):
        bars = pd.read_parquet(data_dir / "bars" / "daily" / f"{symbol}.parquet")
        assert bars["timestamp"].is_unique and len(bars) >= 100
