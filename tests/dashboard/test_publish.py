"""Publishing: complete dashboards only behind "latest", retention keeps 7 days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tradingstation.dashboard.publish import cleanup_dashboards, load_latest, publish_dashboard
from tradingstation.errors import DataError, ObjectNotFoundError, StorageError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectInfo
from tradingstation.storage.local import LocalStore

FILES = {"index.html": b"<html>v1</html>", "plan.json": b"{}", "plan.csv": b"rank\n"}


class CrashingStore(LocalStore):
    """A LocalStore whose ``fail_after``-th write fails, like a process dying mid-publish."""

    def __init__(self, root: Path, fail_after: int) -> None:
        super().__init__(root)
        self.fail_after = fail_after
        self.puts = 0

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        self.puts += 1
        if self.puts > self.fail_after:
            raise StorageError("injected failure")
        return super().put_bytes(key, data, content_type)


def test_latest_points_at_the_newest_complete_dashboard(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(ObjectNotFoundError, match="no dashboard published yet"):
        load_latest(store)
    first = publish_dashboard(store, date(2025, 11, 24), datetime(2025, 11, 24, 21, tzinfo=UTC),
                              FILES)
    assert load_latest(store) == first
    html_key = first["files"]["index.html"]["key"]
    assert html_key == "dashboards/2025-11-24/20251124T210000Z/index.html"
    assert store.get_bytes(html_key) == FILES["index.html"]


@pytest.mark.parametrize("fail_after", [0, 1, 2, 3])
def test_a_crash_mid_publish_leaves_the_previous_dashboard_current(
    tmp_path: Path, fail_after: int
) -> None:
    publish_dashboard(LocalStore(tmp_path), date(2025, 11, 24),
                      datetime(2025, 11, 24, 21, tzinfo=UTC), FILES)
    crashing = CrashingStore(tmp_path, fail_after)
    newer = {name: data.replace(b"v1", b"v2") + b"!" for name, data in FILES.items()}
    with pytest.raises(StorageError):
        publish_dashboard(crashing, date(2025, 11, 25), datetime(2025, 11, 25, 21, tzinfo=UTC),
                          newer)
    pointer = load_latest(LocalStore(tmp_path))
    assert pointer["stamp"] == "20251124T210000Z"


def test_tampered_latest_file_is_detected(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    pointer = publish_dashboard(store, date(2025, 11, 24), datetime(2025, 11, 24, tzinfo=UTC),
                                FILES)
    store.put_bytes(pointer["files"]["plan.json"]["key"], b'{"tampered": true}')
    with pytest.raises(DataError, match=r"plan\.json"):
        load_latest(store)


def test_retention_removes_dashboards_older_than_seven_days_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    today = date(2025, 11, 24)

    def publish(*ages: int) -> None:
        for age in ages:
            day = today - timedelta(days=age)
            publish_dashboard(store, day, datetime(day.year, day.month, day.day, 21, tzinfo=UTC),
                              FILES)

    def remaining() -> set[str]:
        return {i.key.split("/")[1] for i in store.list_objects(keys.dashboard_prefix())
                if i.key.count("/") == 3}

    publish(30, 8)
    # nothing newer was published for 8 days: "latest" (2025-11-16) must survive retention
    deleted = cleanup_dashboards(store, today, keep_days=7)
    assert remaining() == {"2025-11-16"}
    assert all("/2025-10-25/" in k for k in deleted) and len(deleted) == len(FILES)
    assert load_latest(store)["session"] == "2025-11-16"
    publish(7, 3, 0)
    deleted = cleanup_dashboards(store, today, keep_days=7)
    assert remaining() == {"2025-11-24", "2025-11-21", "2025-11-17"}
    assert all("/2025-11-16/" in k for k in deleted) and len(deleted) == len(FILES)
    assert load_latest(store)["session"] == "2025-11-24"
    assert store.exists(keys.dashboard_latest_key())


def test_latest_stays_at_the_newest_session_whatever_order_runs_finish_in(
    tmp_path: Path
) -> None:
    store = LocalStore(tmp_path)
    today = publish_dashboard(store, date(2025, 11, 25), datetime(2025, 11, 25, 22, tzinfo=UTC),
                              FILES)
    # a replay of yesterday's postmarket finishes after today's dashboard
    replay = publish_dashboard(store, date(2025, 11, 24),
                               datetime(2025, 11, 24, 22, tzinfo=UTC), FILES)
    assert store.exists(replay["files"]["plan.json"]["key"])  # published, just not "latest"
    assert load_latest(store) == today
    # an earlier run of today finishing late does not move it back either
    publish_dashboard(store, date(2025, 11, 25), datetime(2025, 11, 25, 21, tzinfo=UTC), FILES)
    assert load_latest(store) == today
    later = publish_dashboard(store, date(2025, 11, 25), datetime(2025, 11, 25, 23, tzinfo=UTC),
                              FILES)
    assert load_latest(store) == later
