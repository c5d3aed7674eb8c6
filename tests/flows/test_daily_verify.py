"""The nightly daily flow repairs what it can (the ledger) and fails, naming them, on integrity
problems only a person can repair."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.daily import daily
from tests.flows.ops_seed import AS_OF, DEMO_SYMBOLS, seed_store
from tradingstation.config import get_settings
from tradingstation.data.ledger import load_ledger, update_ledger
from tradingstation.storage import keys
from tradingstation.upkeep.verify import verify_store

pytestmark = pytest.mark.slow


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TS_DEMO_SYMBOLS", str(DEMO_SYMBOLS))
    get_settings.cache_clear()
    return seed_store(tmp_path)


def test_ledger_problems_are_repaired_and_the_run_completes(seeded) -> None:
    # what a replay did to the ledger before it recorded wall-clock fetch times
    ledger = load_ledger(seeded, "daily")
    row = ledger.iloc[[0]].assign(bar_count=ledger["bar_count"].iloc[0] - 12)
    update_ledger(seeded, "daily", row.assign(fetched_at=row["fetched_at"] + pd_day()))
    assert [p.kind for p in verify_store(seeded, AS_OF, get_settings()).problems] == ["ledger"]
    state = daily(as_of=AS_OF, return_state=True)
    assert state.is_completed(), state.message
    assert "ledger" in " ".join(state.result()["markdown"].splitlines()).lower()
    assert verify_store(seeded, AS_OF, get_settings()).problems == []


def test_problems_it_cannot_repair_fail_the_run_naming_them(seeded, tmp_path: Path) -> None:
    key = keys.bars_key("daily", "GPUP")
    # silently changed behind the store's back: readable, but not what was written
    bars = seeded.get_frame(key)
    bars.iloc[:-1].to_parquet(tmp_path / key, index=False)
    state = daily(as_of=AS_OF, return_state=True)
    assert state.is_failed()
    message = str(state.message)
    assert "integrity" in message and key in message and "hash" in message
    assert "tradingstation data rebuild-daily --symbols GPUP" in message


def pd_day():
    import pandas as pd

    return pd.Timedelta(days=1)
