"""Health: exit codes and JSON for healthy, degraded and failing states."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.support.frame_provider import FrameProvider
from tests.upkeep.test_integrity import NOW, SYMBOLS, daily_truth
from tradingstation.config import Settings
from tradingstation.data.ledger import rebuild_ledger
from tradingstation.errors import InputError, StorageError
from tradingstation.providers.usage import persist_usage
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectInfo
from tradingstation.storage.local import LocalStore
from tradingstation.upkeep.health import run_health


def healthy_store(root: Path) -> LocalStore:
    store = LocalStore(root)
    for symbol in SYMBOLS:
        store.put_frame(keys.bars_key("daily", symbol), daily_truth(symbol))
    rebuild_ledger(store, "daily")
    store.put_json(keys.signals_key(date(2025, 11, 25), "breakout"), {"signals": []})
    return store


def run(store: LocalStore, settings: Settings | None = None, **kw: object):
    return run_health(store, FrameProvider(), settings or Settings(), NOW, SYMBOLS, **kw)


def test_healthy(tmp_path: Path) -> None:
    report = run(healthy_store(tmp_path))
    assert report.exit_code == 0, [c for c in report.checks if c.level != "ok"]
    document = json.loads(json.dumps(report.to_dict()))
    assert document["status"] == "healthy"
    assert {c["name"] for c in document["checks"]} == {
        "api", "api_limits", "api_usage", "data", "data_freshness", "signals", "storage",
        "storage_usage"}
    assert LocalStore(tmp_path).list_objects("_probe/") == []  # the probe cleaned up


def test_degraded_by_stale_data_and_missing_symbol(tmp_path: Path) -> None:
    store = healthy_store(tmp_path)
    key = keys.bars_key("daily", "NVDA")
    store.put_frame(key, store.get_frame(key).iloc[:-1])
    rebuild_ledger(store, "daily")
    report = run_health(store, FrameProvider(), Settings(), NOW, [*SYMBOLS, "TSLA"])
    levels = {c.name: c.level for c in report.checks}
    assert report.exit_code == 1 and report.to_dict()["status"] == "degraded"
    assert levels["data_freshness"] == "warn" and levels["data"] == "warn"
    assert "daily 1/3 stale" in next(c.detail for c in report.checks
                                     if c.name == "data_freshness")


def test_degraded_when_daily_quota_nearly_used(tmp_path: Path, monkeypatch) -> None:
    store = healthy_store(tmp_path)
    persist_usage(store, {"calls": 24, "throttles": 0, "errors": 0, "by_endpoint": {}},
                  date(2025, 11, 25))
    monkeypatch.setenv("TS_RATE_LIMIT_PER_DAY", "25")
    report = run(store, Settings(), only=["api_limits"])
    assert [(c.name, c.level) for c in report.checks] == [("api_limits", "warn")]
    assert report.checks[0].data["remaining_today"] == 1


class BrokenStore(LocalStore):
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        raise StorageError("endpoint unreachable")


def test_failing_when_storage_is_down_or_no_data(tmp_path: Path) -> None:
    report = run(BrokenStore(tmp_path), only=["storage", "data", "data_freshness"])
    assert report.exit_code == 2 and report.to_dict()["status"] == "failing"
    assert {c.name: c.level for c in report.checks} == {
        "storage": "fail", "data": "fail", "data_freshness": "fail"}
    storage = next(c for c in report.checks if c.name == "storage")
    assert "endpoint unreachable" in storage.detail


def test_unknown_check_is_rejected() -> None:
    with pytest.raises(InputError, match="unknown health check"):
        run_health(LocalStore("/nonexistent"), None, Settings(), NOW, [], only=["bogus"])
