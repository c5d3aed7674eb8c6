"""The two intents ``force`` used to carry, apart: run a closed day, refetch fresh data.

Measured: ``--force`` meant "run even when the market is closed" *and* "refetch data that is
already fresh", so replaying a closed day's last session refetched every symbol's daily bars,
and a refetch of today could not be asked for without also allowing a closed day.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from flows.premarket import premarket
from tests.flows.conftest import Invoke
from tradingstation.calendar import NY

pytestmark = pytest.mark.slow

MONDAY = datetime(2025, 11, 24, 8, 45, tzinfo=NY)
SUNDAY = datetime(2025, 11, 23, 12, 0, tzinfo=NY)  # closed; the last session is Friday 11-21


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("intents")


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, seeded: Path) -> Path:
    """A demo store where Monday's premarket already ran (every daily bar to Friday stored)."""
    from tradingstation.config import get_settings

    monkeypatch.setenv("TS_DATA_DIR", str(seeded))
    monkeypatch.setenv("TS_DEMO_SYMBOLS", "20")
    get_settings.cache_clear()
    if not (seeded / "universe").exists():
        assert premarket(as_of=MONDAY, return_state=True).is_completed()
    return seeded


def daily_calls(result: dict) -> int:
    """Daily-bar calls the run made (from its summary line)."""
    found = re.search(r"daily: \d+ symbols \([^)]*\); (\d+) calls", result["markdown"])
    assert found, result["markdown"]
    return int(found.group(1))


def test_refetch_refetches_the_fresh_daily_bars_of_an_open_session(demo_env: Path) -> None:
    assert daily_calls(premarket(as_of=MONDAY)) == 0  # fresh: nothing to fetch
    result = premarket(as_of=MONDAY, refetch=True)
    assert result["session"] == "2025-11-24" and daily_calls(result) == 20


def test_allow_closed_runs_the_last_session_without_refetching(demo_env: Path) -> None:
    result = premarket(as_of=SUNDAY, allow_closed=True)
    assert result["status"] == "completed" and result["session"] == "2025-11-21"
    assert daily_calls(result) == 0


def test_refetch_alone_does_not_run_a_closed_day(demo_env: Path) -> None:
    before = sorted(p for p in demo_env.rglob("*") if p.is_file())
    result = premarket(as_of=SUNDAY, refetch=True)
    assert result["status"] == "market_closed"
    assert sorted(p for p in demo_env.rglob("*") if p.is_file()) == before


@pytest.mark.parametrize("argv", [
    ["run", "premarket", "--force"],
    ["run", "daily", "--as-of", "2025-11-23T21:00", "--force"],
])
def test_the_old_force_flag_names_the_two_new_ones(argv: list[str], invoke: Invoke,
                                                   demo_env: Path) -> None:
    before = sorted(p for p in demo_env.rglob("*") if p.is_file())
    code, out, err = invoke(*argv)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "error: --force is split in two: --allow-closed (run on a closed day: the last "
        "session) and --refetch (refetch data that is already fresh)"]
    assert sorted(p for p in demo_env.rglob("*") if p.is_file()) == before
