"""A damaged panel snapshot (issue 14 §4): the last close of every symbol in
``panels/daily.parquet`` cut by 20 %, schema and metadata kept, written behind the store's back.
The next premarket run must make the same plan as the control run (the snapshot's rows fail
their recorded hashes, so they are discarded and the objects read), and ``data verify`` must
report the snapshot."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.test_panel import bars
from tradingstation.calendar import NY
from tradingstation.config import Settings, get_settings
from tradingstation.data.panel_store import load_panel, repair_snapshot, snapshot_problems
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore
from tradingstation.upkeep.verify import verify_store

AS_OF = datetime(2025, 11, 24, 8, 45, tzinfo=NY)


def cut_last_closes(path: Path) -> int:
    """Cut each symbol's last close by 20 % in the snapshot file; returns the rows changed."""
    table = pq.read_table(path)
    symbols = table["symbol"].to_pylist()
    last = [i for i in range(len(symbols)) if i + 1 == len(symbols) or symbols[i + 1] != symbols[i]]
    close = table["close"].to_pylist()
    for i in last:
        close[i] *= 0.8
    index = table.schema.get_field_index("close")
    damaged = table.set_column(index, table.schema.field(index), pa.array(close, pa.float64()))
    pq.write_table(damaged.replace_schema_metadata(table.schema.metadata), path)
    assert pc.sum(pc.not_equal(damaged["close"], table["close"])).as_py() == len(last)
    return len(last)


def plan_of(result: dict) -> list[tuple]:
    return [(i["symbol"], i["direction"], i["entry"], i["stop"], i["score"])
            for i in result["plan"]["ideas"]]


@pytest.mark.slow
def test_damaged_snapshot_rows_are_discarded_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_api: str
) -> None:
    from flows.premarket import premarket

    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TS_DEMO_SYMBOLS", "40")
    get_settings.cache_clear()
    control = premarket(as_of=AS_OF, return_state=True)
    assert control.is_completed()
    snapshot = tmp_path / keys.panel_snapshot_key("daily")
    assert cut_last_closes(snapshot) == 40

    store = LocalStore(tmp_path)
    problems = [p for p in verify_store(store, AS_OF, Settings(), ["daily"]).problems
                if p.kind == "snapshot"]
    assert len(problems) == 1 and problems[0].key == keys.panel_snapshot_key("daily")
    assert "and 35 more" in problems[0].detail and problems[0].repair

    rerun = premarket(as_of=AS_OF, return_state=True)
    assert rerun.is_completed()
    assert plan_of(rerun.result()) == plan_of(control.result())
    assert plan_of(control.result())  # the control plan has ideas to compare
    # the load stored a sound snapshot again
    assert not [p for p in verify_store(store, AS_OF, Settings(), ["daily"]).problems
                if p.kind == "snapshot"]


def test_load_discards_damaged_rows_and_repair_stores_a_sound_snapshot(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for n, symbol in enumerate(["AAPL", "MSFT", "NVDA"]):
        store.put_frame(keys.bars_key("daily", symbol), bars("2025-10-01", [10.0 + n] * 30))
    control = load_panel(store, "daily")  # stores the snapshot
    snapshot = tmp_path / keys.panel_snapshot_key("daily")
    assert cut_last_closes(snapshot) == 3
    assert snapshot_problems(store, "daily") == ["AAPL", "MSFT", "NVDA"]
    assert load_panel(store, "daily").close.equals(control.close)
    assert cut_last_closes(snapshot) == 3  # the load stored a sound one: damage it again
    assert repair_snapshot(store, "daily") == ["AAPL", "MSFT", "NVDA"]
    assert snapshot_problems(store, "daily") == []
    assert repair_snapshot(store, "daily") == []
