"""`tradingstation data|health|dashboard` on a seeded local store, in process, each command
running its real Prefect flow against the session's temporary Prefect server."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from prefect.artifacts import Artifact

from tests.flows.conftest import Invoke
from tests.flows.ops_seed import AS_OF_TEXT, DEMO_SYMBOLS, clone, seed_store, snapshot
from tradingstation.config import get_settings
from tradingstation.screeners.store import save_signals
from tradingstation.signals import Signal, make_signal_id
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore

SESSION = date(2025, 11, 24)

pytestmark = pytest.mark.slow  # ~10 flow runs; the Prefect server start dominates


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pristine")
    seed_store(root)
    return root


@pytest.fixture
def store(pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalStore:
    root = clone(pristine, tmp_path / "data")
    monkeypatch.setenv("TS_DATA_DIR", str(root))
    monkeypatch.setenv("TS_DEMO_SYMBOLS", str(DEMO_SYMBOLS))
    get_settings.cache_clear()
    return LocalStore(root)




def data(invoke: Invoke, *args: str) -> tuple[int, dict]:
    code, out, err = invoke("data", *args, "--as-of", AS_OF_TEXT, "--json")
    assert out.strip(), err[-2000:]
    return code, json.loads(out)


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err[-2000:]
    return lines[0]


def test_verify_finds_deleted_object_and_rebuild_daily_repairs_it(
    store: LocalStore, invoke: Invoke
) -> None:
    code, clean = data(invoke, "verify", "--check-gaps")
    assert code == 0 and clean["ok"] and clean["checked"] > 10, clean["problems"]
    victim = keys.bars_key("daily", "GPUP")
    store.delete(victim)
    code, broken = data(invoke, "verify")
    assert code == 1
    assert [(p["kind"], p["symbol"]) for p in broken["problems"]] == [("data_loss", "GPUP")]
    assert broken["problems"][0]["repair"] == "tradingstation data rebuild-daily --symbols GPUP"
    before = snapshot(store.root)
    code, rebuilt = data(invoke, "rebuild-daily", "--symbols", "gpup")
    assert code == 0 and rebuilt["rebuilt"] == {"daily": ["GPUP"]}
    after = snapshot(store.root)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {victim, keys.ledger_key("daily")}
    assert not store.list_objects("staging/")
    assert data(invoke, "verify")[0] == 0


def test_detect_and_fill_gaps_refetch_only_the_hole(store: LocalStore, invoke: Invoke) -> None:
    key = keys.bars_key("daily", "ORBX")
    bars = store.get_frame(key)
    holed = bars.drop(index=bars.index[-6:-3]).reset_index(drop=True)
    store.put_frame(key, holed)
    missing = set(bars["timestamp"].dt.date) - set(holed["timestamp"].dt.date)
    code, found = data(invoke, "detect-gaps")
    assert code == 1 and found["refetchable"] == 1
    gap = found["gaps"][0]
    assert (gap["symbol"], gap["dataset"], gap["kind"], gap["sessions"]) == (
        "ORBX", "daily", "not_fetched", 3)
    assert {gap["start"], gap["end"]} == {min(missing).isoformat(), max(missing).isoformat()}
    others = {k: v for k, v in snapshot(store.root).items()
              if k not in (key, keys.ledger_key("daily"))}
    code, filled = data(invoke, "fill-gaps", "--symbol", "ORBX")
    assert code == 0 and filled["added"] == {"daily:ORBX": 3} and filled["remaining"] == []
    repaired = store.get_frame(key)
    pd.testing.assert_frame_equal(repaired, bars)
    after = snapshot(store.root)
    assert {k: after[k] for k in others} == others


def test_backup_damage_restore_is_byte_identical(store: LocalStore, invoke: Invoke) -> None:
    code, made = data(invoke, "backup")
    assert code == 0 and made["label"] == "2025-11-24" and made["objects"] > 10
    good = {k: v for k, v in snapshot(store.root).items() if not k.startswith("backups/")}
    root_file = sorted((store.root / "bars" / "daily").glob("*.parquet"))[0]
    raw = bytearray(root_file.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    root_file.write_bytes(bytes(raw))
    store.delete(keys.bars_key("1min", "GPUP"))
    store.put_bytes("signals/2025-11-24/extra.json", b"{}")
    code, restored = data(invoke, "restore", "--date", "2025-11-24")
    assert code == 0, restored
    assert restored["safety_backup"].startswith("pre-restore-")
    assert "signals/2025-11-24/extra.json" in restored["removed"]
    now = {k: v for k, v in snapshot(store.root).items() if not k.startswith("backups/")}
    assert now == good


def test_restore_missing_date_fails_cleanly_and_changes_nothing(
    store: LocalStore, invoke: Invoke
) -> None:
    before = snapshot(store.root)
    code, out, err = invoke("data", "restore", "--date", "2024-01-15")
    assert code == 2 and out == ""
    assert "no complete backup for 2024-01-15" in one_error_line(err)
    code, _, err = invoke("data", "restore", "--date", "2024-02-30")
    assert code == 2 and "2024-02-30" in one_error_line(err)
    assert snapshot(store.root) == before


def test_cleanup_removes_only_expired_objects(store: LocalStore, invoke: Invoke) -> None:
    store.put_bytes("signals/2025-09-01/orb.json", b"{}")
    store.put_bytes("signals/2025-11-20/orb.json", b"{}")
    store.put_bytes("anchors/2025-09-02.parquet", store.get_bytes(keys.universe_key()))
    before = snapshot(store.root)
    code, result = data(invoke, "cleanup")
    assert code == 0
    assert result["deleted_keys"]["signals"] == ["signals/2025-09-01/orb.json"]
    assert result["deleted_keys"]["anchors"] == ["anchors/2025-09-02.parquet"]
    after = snapshot(store.root)
    gone = set(before) - set(after)
    assert gone == {"signals/2025-09-01/orb.json", "anchors/2025-09-02.parquet"}
    # Bars are within retention after a fresh fetch: cleanup rewrote none of them.
    assert all(after[k] == before[k] for k in after if k.startswith("bars/"))


def test_rebuild_ledger_repairs_a_lost_ledger(store: LocalStore, invoke: Invoke) -> None:
    store.delete(keys.ledger_key("1min"))
    code, broken = data(invoke, "verify")
    assert code == 1 and {p["kind"] for p in broken["problems"]} == {"ledger"}
    assert {p["repair"] for p in broken["problems"]} == {
        "tradingstation data rebuild-ledger --dataset 1min"}
    code, result = data(invoke, "rebuild-ledger", "--dataset", "1min")
    assert code == 0 and result["ledgers"] == {"1min": 2}
    assert data(invoke, "verify")[0] == 0


def test_rebuild_all_replaces_every_stored_series(store: LocalStore, invoke: Invoke) -> None:
    code, result = data(invoke, "rebuild-all")
    assert code == 0 and result["failed"] == []
    assert len(result["rebuilt"]["daily"]) == DEMO_SYMBOLS
    assert result["rebuilt"]["1min"] == ["GPUP", "ORBX"]
    assert data(invoke, "verify")[0] == 0


def test_bad_ticker_is_one_line_before_any_flow(store: LocalStore, invoke: Invoke) -> None:
    before = snapshot(store.root)
    code, _, err = invoke("data", "rebuild-daily", "--symbols", "NVDA,$$$")
    assert code == 2 and "invalid ticker" in one_error_line(err)
    code, _, err = invoke("data", "rebuild-daily", "--symbols", "ZZZZ")
    assert code == 2 and "not in the universe" in one_error_line(err)
    assert "Created flow run" not in err
    assert snapshot(store.root) == before


def _signal(symbol: str, screener: str, entry: float, stop: float, reason: str) -> Signal:
    t = pd.Timestamp("2025-11-24T20:00Z").to_pydatetime()
    return Signal(id=make_signal_id(screener, symbol, SESSION, "t"), screener=screener,
                  symbol=symbol, session=SESSION, timestamp=t, direction="long",
                  status="triggered", score=7.5, entry=entry, stop=stop, targets=[],
                  risk_per_share=entry - stop, reasons=[reason], data_as_of=t, demo=True)


def test_health_exit_codes_and_json(store: LocalStore, invoke: Invoke, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = invoke("health", "--check-signals", "--as-of", AS_OF_TEXT, "--json")
    report = json.loads(out)
    assert code == 1 and report["status"] == "degraded"
    assert [c["name"] for c in report["checks"]] == ["signals"]
    save_signals(store, SESSION, "breakout", [_signal("GPUP", "breakout", 50, 48, "r")])
    code, out, _ = invoke("health", "--check-signals", "--check-data", "--check-storage",
                          "--data-freshness", "--as-of", AS_OF_TEXT, "--json")
    report = json.loads(out)
    assert code == 0 and report["status"] == "healthy", report
    assert [c["name"] for c in report["checks"]] == ["data", "data_freshness", "signals",
                                                     "storage"]
    # With a Prefect API (this harness has one) and no S3Bucket block, a data directory that
    # does not exist is not the flows' store: one line, nothing created to report on.
    empty = tmp_path / "empty"
    monkeypatch.setenv("TS_DATA_DIR", str(empty))
    get_settings.cache_clear()
    code, out, err = invoke("health", "--check-data", "--as-of", AS_OF_TEXT)
    assert code == 2 and "error: no data to check here" in err and "blocks register" in err
    assert not empty.exists()
    empty.mkdir()  # an existing store without data is reported on
    code, out, _ = invoke("health", "--check-data", "--as-of", AS_OF_TEXT)
    assert code == 2 and "no universe yet" in out


def test_dashboard_table_verbose_json_and_artifacts(store: LocalStore, invoke: Invoke) -> None:
    save_signals(store, SESSION, "breakout", [
        _signal("GPUP", "breakout", 50.0, 48.0, "GPUP broke out of a 6-day base"),
        _signal("ORBX", "breakout", 20.0, 19.5, "ORBX cleared its range high"),
    ])
    code, out, err = invoke("dashboard", "--as-of", AS_OF_TEXT, "--verbose",
                            "--equity", "50000")
    assert code == 0, err[-2000:]
    assert "GPUP" in out and "ORBX" in out and "DEMO" in out
    assert "GPUP broke out of a 6-day base" in out
    html_line = next(line for line in out.splitlines() if line.startswith("HTML: "))
    html = Path(html_line.removeprefix("HTML: "))
    assert html.is_file() and html.is_relative_to(store.root)
    assert "<html" in html.read_text().lower()
    code, out, _ = invoke("dashboard", "--as-of", AS_OF_TEXT, "--json")
    result = json.loads(out)
    assert code == 0 and {i["symbol"] for i in result["ideas"]} == {"GPUP", "ORBX"}
    assert all("reasons" not in i for i in result["ideas"])
    gpup = next(i for i in result["ideas"] if i["symbol"] == "GPUP")
    assert gpup["shares"] == 500  # floor(100000 * 0.01 / 2), under the position cap
    assert Path(result["locations"]["plan.json"]).is_file()
    code, out, _ = invoke("dashboard", "--latest-path")
    assert code == 0 and out.strip() == result["locations"]["index.html"]
    assert "GPUP" in str(Artifact.get("trade-plan").data)
    table = Artifact.get("trade-plan-table").data
    assert "ORBX" in str(table)
