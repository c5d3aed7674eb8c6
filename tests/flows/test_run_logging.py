"""Every flow run: our INFO records reach its logs (the Prefect UI) in every log format, and its
name reads like a log book entry."""

from __future__ import annotations

import logging
import warnings

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogHandler

from flows.daily import daily
from flows.health import health_check
from flows.runs import configure_run_logging
from tradingstation.config import get_settings


def _run_logs(run_id) -> list:
    APILogHandler().flush()  # records are shipped in batches by a background worker
    with get_client(sync_client=True) as client:
        return client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))


def _name(run_id) -> str:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).name


@pytest.mark.parametrize("fmt", ["auto", "json", "human"])
def test_our_info_records_reach_the_run_logs_in_every_format(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TS_LOG_FORMAT", fmt)
    get_settings.cache_clear()
    # What Prefect leaves a flow-run process with: our logger inherits the root's WARNING.
    logging.getLogger("tradingstation").setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.WARNING)
    state = health_check(checks=["storage"], return_state=True)
    run_id = state.state_details.flow_run_id
    records = [(r.name, r.level, r.message) for r in _run_logs(run_id)]
    assert any(name == "tradingstation.ops" and level == logging.INFO
               and message.startswith("health: ") for name, level, message in records), records
    assert _name(run_id).startswith("health storage ")


def test_records_outside_a_run_stay_on_the_console_without_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_run_logging(get_settings())
    configure_run_logging(get_settings())  # twice: still one API handler
    package = logging.getLogger("tradingstation")
    assert sum(isinstance(h, APILogHandler) for h in package.handlers) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Prefect's handler warns about run-less records
        logging.getLogger("tradingstation.data.fetch").info("between runs")
    assert "between runs" in capsys.readouterr().err


def test_session_runs_are_named_by_mode_and_new_york_time() -> None:
    state = daily(as_of="2025-11-27T21:00", return_state=True)  # Thanksgiving: closed, quick
    assert _name(state.state_details.flow_run_id) == "daily 2025-11-27 21:00"
