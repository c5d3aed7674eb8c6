"""Session flows started outside their window, by hand or from a deployment (issue 16 #9, #12).

Measured: ``./dev premarket`` at 02:13 New York ran "today's" premarket before 04:00 and printed
three empty tables; through a deployment it made 562 calls for 0 signals; a closed-day run of a
deployment suggested ``--as-of``, which ``prefect deployment run`` does not take.
"""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

import pytest
from prefect import get_client
from prefect.flow_engine import run_flow
from rich.console import Console

import flows.console as flow_console
from flows.premarket import premarket
from flows.script import run_script
from tradingstation.calendar import NY


def _at(day: tuple[int, int, int], hour: int, minute: int) -> datetime:
    return datetime(*day, hour, minute, tzinfo=NY)


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    from tradingstation.config import get_settings

    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TS_DEMO_SYMBOLS", "40")
    get_settings.cache_clear()
    return tmp_path / "data"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _deployment_run(as_of: datetime, **params) -> dict:
    """Run ``premarket`` as a run of deployment ``premarket/default`` (what a worker does)."""
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow(premarket)
        deployment_id = client.create_deployment(
            flow_id=flow_id, name="default", entrypoint="flows/premarket.py:premarket")
        flow_run = client.create_flow_run_from_deployment(
            deployment_id, parameters={"as_of": as_of.isoformat(), **params})
    return run_flow(premarket, flow_run=flow_run, parameters=flow_run.parameters)


def test_manual_premarket_before_4am_shows_the_last_session(demo_env: Path) -> None:
    result = premarket(as_of=_at((2025, 11, 25), 2, 13))  # a Tuesday, before 04:00
    assert result["status"] == "completed" and result["session"] == "2025-11-24"
    assert datetime.fromisoformat(result["as_of"]) == _at((2025, 11, 24), 8, 45)
    assert result["notice"] == ("the premarket window of 2025-11-25 opens at 04:00 New York; "
                                "showing the last session, 2025-11-24, as of 08:45 New York.")
    assert result["plan"]["ideas"] and sum(result["signals"].values()) > 0
    assert result["notice"] in result["markdown"]


@pytest.mark.parametrize("as_of", [
    "2025-11-25T02:13",  # before the premarket window
    "2025-11-24T12:30",  # market hours
    "2025-11-24T21:00",  # evening, after the post-market
    "2025-11-29T10:00",  # a Saturday
])
def test_flow_script_shows_a_non_empty_demo_plan_at_any_hour(
    as_of: str, demo_env: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # ./dev premarket is `python flows/premarket.py`: its first run must show something.
    out = io.StringIO()
    monkeypatch.setattr(flow_console, "console", Console(file=out, width=200))
    result = run_script(premarket, "premarket", flow_console.print_premarket,
                        ["--as-of", as_of])
    assert result["status"] == "completed" and result["plan"]["ideas"], result.get("message")
    text = out.getvalue()
    assert f"Premarket plan for {result['session']}" in text and "DEMO" in text
    assert "none" not in text.split("Ranked ideas")[1].splitlines()[4]
    if as_of.startswith("2025-11-29"):
        assert "market closed on 2025-11-29 (Saturday): showing the last session, 2025-11-28" \
            in capsys.readouterr().err
    if as_of.startswith("2025-11-25"):
        assert "showing the last session, 2025-11-24" in text


def test_deployment_run_before_the_window_does_nothing(demo_env: Path) -> None:
    result = _deployment_run(_at((2025, 11, 25), 2, 13))
    assert result["status"] == "window_not_open"
    assert result["message"] == (
        "the premarket window of 2025-11-25 opens at 04:00 New York: nothing to do before it. "
        "To run it for the last session, 2025-11-24: prefect deployment run "
        "'premarket/default' -p as_of=2025-11-24T08:45-05:00 (or -p allow_closed=true).")
    assert not _files(demo_env)  # no call made, nothing stored


def test_deployment_run_on_a_closed_day_names_deployment_parameters(demo_env: Path) -> None:
    result = _deployment_run(_at((2025, 12, 25), 8, 45))
    assert result["status"] == "market_closed"
    assert result["message"].endswith(
        "To run it for the last session, 2025-12-24: prefect deployment run "
        "'premarket/default' -p as_of=2025-12-24T08:45-05:00 (or -p allow_closed=true).")
    assert "--as-of" not in result["message"]
    assert not _files(demo_env)
    assert os.environ["TS_DATA_DIR"] == str(demo_env)
