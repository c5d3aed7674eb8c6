"""Session flows on a real (temporary) Prefect server: each mode on the demo market, the closed
day, and the premarket plan printed for the README's first command."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from prefect.artifacts import Artifact

from flows.daily import daily
from flows.market import market
from flows.postmarket import postmarket
from flows.premarket import premarket
from tests.data.memory_store import CountingLocalStore
from tradingstation.calendar import NY
from tradingstation.providers.demo.plants import PLANTED
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore
from tradingstation.track.outcome import OutcomeRules
from tradingstation.track.run import summarize_backtest
from tradingstation.track.store import save_backtest

pytestmark = pytest.mark.slow

SESSION = "2025-11-24"


def _at(hour: int, minute: int, day: tuple[int, int, int] = (2025, 11, 24)) -> datetime:
    return datetime(*day, hour, minute, tzinfo=NY)


@pytest.fixture(scope="module")
def day_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory for the whole simulated session (premarket -> daily)."""
    return tmp_path_factory.mktemp("session-day")


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, day_dir: Path) -> Path:
    from tradingstation.config import get_settings

    monkeypatch.setenv("TS_DATA_DIR", str(day_dir))
    monkeypatch.setenv("TS_DEMO_SYMBOLS", "40")
    get_settings.cache_clear()
    return day_dir


def _artifact_text(key: str) -> str:
    artifact = Artifact.get(key)
    assert artifact is not None, f"artifact {key} missing"
    return str(artifact.data)


def _signals(root: Path, screener: str) -> list[dict]:
    doc = json.loads((root / "signals" / SESSION / f"{screener}.json").read_text())
    return doc["signals"]


def _seed_backtest(root: Path) -> None:
    """A stored backtest in which Gap & Go longs earned +0.5R in every score band."""
    rows = []
    for score in (6.5, 7.5, 8.5, 9.5):
        for r in [2.0, -1.0] * 15:
            rows.append({"id": f"g{len(rows)}", "screener": "gap_and_go", "direction": "long",
                         "session": "2025-10-01",
                         "score": score, "timestamp": pd.Timestamp("2025-10-01T13:00Z"),
                         "exit_reason": "target" if r > 0 else "stop", "filled": True,
                         "r": r, "held_sessions": 1.0, "exit_session": "2025-10-01"})
    frame = pd.DataFrame(rows)
    save_backtest(LocalStore(root), "20251001T220000Z", frame, {
        **summarize_backtest(frame, OutcomeRules()), "generated_at": "2025-10-01T22:00:00+00:00"})


def test_premarket_builds_plan_from_planted_setups(demo_env: Path) -> None:
    _seed_backtest(demo_env)
    state = premarket(as_of=_at(8, 45), return_state=True)
    assert state.is_completed()
    result = state.result()
    assert result["session"] == SESSION and result["demo"] is True
    gap = {s["symbol"] for s in _signals(demo_env, "gap_and_go")}
    assert set(PLANTED["gap_and_go"]) <= gap
    assert not gap & set(PLANTED["gap_and_go_near_miss"])
    assert (demo_env / "bars" / "daily" / "GPUP.parquet").exists()
    assert (demo_env / "bars" / "1min" / "GPUP.parquet").exists()
    assert (demo_env / "anchors" / f"{SESSION}.parquet").exists()
    ideas = result["plan"]["ideas"]
    assert ideas and all(i["stop"] < i["entry"] for i in ideas if i["direction"] == "long")
    gappers = [i for i in ideas if i["screeners"][0] == "gap_and_go"]
    assert gappers and all(i["track_expectancy_r"] == 0.5 and i["track_sample"] == 30
                           for i in gappers)
    summary = _artifact_text("premarket-summary")
    assert "DEMO DATA" in summary and "Gap & Go" in summary
    assert "GPUP" in _artifact_text("premarket-plan")


def test_premarket_rerun_loads_the_daily_panel_once_and_rewrites_nothing(
    demo_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.session

    if not (demo_env / "anchors" / f"{SESSION}.parquet").exists():
        assert premarket(as_of=_at(8, 45), return_state=True).is_completed()
    store = CountingLocalStore(demo_env)
    monkeypatch.setattr(flows.session, "resolve_store", lambda settings: store)
    state = premarket(as_of=_at(8, 45), return_state=True)
    assert state.is_completed()
    # the daily panel is loaded once, from the snapshot the first run stored: no daily object
    # is read, since none changed
    assert store.gets[keys.panel_snapshot_key("daily")] == 1
    assert not [k for k in store.gets if k.startswith("bars/daily/")]
    # anchors unchanged, quotes younger than TS_QUOTES_MAX_AGE_SECONDS, bars fresh: no rewrite
    rewritten = {k for k in store.puts if k.startswith(("anchors/", "quotes/", "bars/", "panels/"))}
    assert rewritten == set()


def test_market_screens_with_intraday_data(demo_env: Path) -> None:
    state = market(as_of=_at(10, 30), return_state=True)
    assert state.is_completed()
    result = state.result()
    assert set(result["signals"]) == {
        "AVWAP Reclaim", "Breakout", "EMA Pullback", "Opening Range Breakout"
    }
    for name in ("avwap_reclaim", "breakout", "ema_pullback"):
        assert isinstance(_signals(demo_env, name), list)
    # The opening range (09:30-09:45) has formed by 10:30: planted ORB names have triggered.
    orb = {s["symbol"]: s["status"] for s in _signals(demo_env, "orb")}
    assert all(orb.get(symbol) == "triggered" for symbol in PLANTED["orb"])
    assert "Market scan" in _artifact_text("market-summary")


def test_postmarket_publishes_dashboard(demo_env: Path) -> None:
    state = postmarket(as_of=_at(17, 0), return_state=True)
    assert state.is_completed()
    result = state.result()
    assert (demo_env / "bars" / "30min").is_dir()
    pointer = json.loads((demo_env / "dashboards" / "latest.json").read_text())
    assert pointer["session"] == SESSION and "index.html" in pointer["files"]
    assert result["dashboard"]["stamp"] == pointer["stamp"]
    assert "dashboard" in _artifact_text("postmarket-summary")


def test_daily_checks_and_cleans(demo_env: Path) -> None:
    state = daily(as_of=_at(21, 0), return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert result["integrity"]["checked"] > 0
    assert {c["name"] for c in result["health"]["checks"]} >= {"storage", "data_freshness"}
    assert result["gaps"] == []  # the sessions before fetched every bar they needed
    summary = _artifact_text("daily-summary")
    assert "integrity" in summary and "gaps: 0 refetchable" in summary
    # the session's published signals enter the live track record
    track = result["track_record"]
    assert track["added"] > 0 and track["total"] == track["added"]
    record = pd.read_parquet(demo_env / "research" / "live" / "outcomes.parquet")
    assert len(record) == track["added"] and set(record["screener"]) >= {"orb", "gap_and_go"}
    assert "track record:" in summary


def test_closed_day_finishes_completed_and_writes_nothing(tmp_path: Path) -> None:
    state = premarket(as_of=_at(8, 45, (2025, 12, 25)), return_state=True)
    assert state.is_completed()
    result = state.result()
    assert result["status"] == "market_closed"
    assert "market closed on 2025-12-25" in result["message"]
    assert "Next session: 2025-12-26" in result["message"]
    assert "--as-of 2025-12-24T08:45-05:00" in result["message"]
    data_dir = Path(os.environ["TS_DATA_DIR"])
    assert not any(data_dir.rglob("*.parquet"))
    assert "market closed" in _artifact_text("premarket-summary")
