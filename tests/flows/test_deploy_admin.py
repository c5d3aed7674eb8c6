"""Deployment checks, cancel and the smoke test against the session's real Prefect server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, MutableMapping
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentScheduleCreate, WorkPoolCreate
from prefect.client.schemas.schedules import CronSchedule

from deploy.deployments import (
    cancel_runs,
    cancellable_runs,
    check_deployments,
    check_work_pool,
    expected_deployments,
    last_runs_check,
)
from tests.flows.conftest import Invoke
from tradingstation.config import get_settings

POOL = "ts-ops-test-pool"
YAML = f"""
deployments:
  - name: default
    entrypoint: flows/dashboard.py:dashboard
    work_pool: {{name: {POOL}}}
    schedules:
      - cron: "30 16 * * 1-5"
        timezone: America/New_York
  - name: default
    entrypoint: flows/data_ops.py:backup
    work_pool: {{name: {POOL}}}
    schedules: []
"""


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("app")
    (root / "prefect.yaml").write_text(YAML)
    return root


@pytest.fixture
def ours(app_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TS_APP_DIR", str(app_dir))
    return app_dir


def _deploy(client, flow_name: str, crons: list[str], pool: str | None = POOL) -> str:
    flow_id = client.create_flow_from_name(flow_name)
    return client.create_deployment(
        flow_id=flow_id, name="default", work_pool_name=pool,
        schedules=[DeploymentScheduleCreate(
            schedule=CronSchedule(cron=c, timezone="America/New_York"), active=True)
            for c in crons],
        entrypoint="x.py:y",
    )


@pytest.fixture(scope="module")
def registered(app_dir: Path) -> Iterator[None]:
    """Work pool + our two deployments (dashboard with a wrong schedule at first)."""
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=POOL, type="process"), overwrite=True)
        _deploy(client, "dashboard", ["0 9 * * 1-5"])
        _deploy(client, "data-backup", [])
        _deploy(client, "not-ours", [], pool=None)
    yield


def test_expected_deployments_read_flow_names_and_schedules(ours: Path) -> None:
    found = {d.full_name: d for d in expected_deployments()}
    assert set(found) == {"dashboard/default", "data-backup/default"}
    assert found["dashboard/default"].schedules == {("30 16 * * 1-5", "America/New_York")}
    assert found["data-backup/default"].work_pool == POOL


def test_repo_prefect_yaml_is_readable() -> None:
    names = {d.full_name for d in expected_deployments()}
    assert {"premarket/default", "daily/default"} <= names


def test_deployment_and_pool_checks(ours: Path) -> None:
    missing = check_deployments(expected_deployments())
    assert {f.status for f in missing} <= {"fail", "pass"}
    assert check_work_pool("no-such-pool-here").status == "fail"


def test_schedules_compared_with_prefect_yaml(ours: Path, registered: None) -> None:
    findings = {f.name: f for f in check_deployments(expected_deployments())}
    wrong = findings["deployment dashboard/default"]
    assert wrong.status == "fail" and "30 16 * * 1-5" in wrong.detail and "0 9" in wrong.detail
    assert "prefect deploy" in wrong.fix
    assert findings["deployment data-backup/default"].status == "pass"
    assert check_work_pool(POOL).status == "pass"
    with get_client(sync_client=True) as client:
        _deploy(client, "dashboard", ["30 16 * * 1-5"])
    fixed = {f.name: f for f in check_deployments(expected_deployments())}
    assert fixed["deployment dashboard/default"].status == "pass"


def test_verify_deployment_with_api_reports_each_check(
    ours: Path, registered: None, invoke: Invoke
) -> None:
    code, out, _ = invoke("verify-deployment", "--json")
    result = json.loads(out)
    status = {c["name"]: c["status"] for c in result["checks"]}
    assert status["settings"] == "pass" and status["storage"] == "pass"
    assert status["prefect api"] == "pass"
    assert status["block tradingstation-alerts"] == "warn"  # no webhook registered
    assert status[f"work pool {POOL}"] == "pass"
    assert "deployment data-backup/default" in status
    assert code == (1 if "fail" in status.values() else 0)


def test_cancel_stops_only_our_due_runs(
    ours: Path, registered: None, invoke: Invoke
) -> None:
    with get_client(sync_client=True) as client:
        mine = client.read_deployment_by_name("data-backup/default")
        other = client.read_deployment_by_name("not-ours/default")
        run = client.create_flow_run_from_deployment(mine.id)
        foreign = client.create_flow_run_from_deployment(other.id)
    listed = cancellable_runs()
    assert [r.id for r in listed] == [str(run.id)]
    assert cancellable_runs("dashboard") == []
    with pytest.raises(Exception, match="unknown deployment"):
        cancellable_runs("not-ours")
    code, out, _ = invoke("cancel", "--deployment", "data-backup/default", "--yes",
                           "--json")
    assert code == 0
    cancelled = json.loads(out)["cancelled"]
    assert [c["id"] for c in cancelled] == [str(run.id)]
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(run.id).state.type.value in ("CANCELLING", "CANCELLED")
        assert client.read_flow_run(foreign.id).state.type.value == "SCHEDULED"
    assert cancellable_runs() == []
    assert cancel_runs([]) == []


def test_last_runs_check_warns_on_never_succeeded_schedule(ours: Path, registered: None) -> None:
    check = last_runs_check()
    assert check.name == "deployments" and check.level == "warn"
    assert "dashboard/default never succeeded" in check.detail


class WatchedEnviron(MutableMapping[str, str]):
    """``os.environ`` that records the name of every change made through it (and makes it)."""

    def __init__(self, real: MutableMapping[str, str]) -> None:
        self.real = real
        self.changed: list[str] = []

    def __getitem__(self, name: str) -> str:
        return self.real[name]

    def __setitem__(self, name: str, value: str) -> None:
        self.changed.append(name)
        self.real[name] = value

    def __delitem__(self, name: str) -> None:
        self.changed.append(name)
        del self.real[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.real)

    def __len__(self) -> int:
        return len(self.real)

    def copy(self) -> dict[str, str]:
        return dict(self.real)


@pytest.mark.slow
def test_smoke_test_passes_on_demo_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke: Invoke
) -> None:
    root = tmp_path / "live"
    root.mkdir()
    (root / "keep.txt").write_text("live data")
    monkeypatch.setenv("TS_DATA_DIR", str(root))
    get_settings.cache_clear()
    # Flows running concurrently in a worker share the process environment: the smoke test must
    # point its session flows at the scratch prefix without changing it, even for a moment.
    watched = WatchedEnviron(os.environ)
    monkeypatch.setattr(os, "environ", watched)
    code, out, err = invoke("smoke-test", "--demo-symbols", "20",
                             "--as-of", "2025-11-25T12:00-05:00", "--json")
    # (Prefect's engine toggles its own PYDANTIC_DISABLE_PLUGINS around each run)
    assert [name for name in watched.changed if not name.startswith("PYDANTIC_")] == []
    result = json.loads(out)
    assert code == 0, (result, err[-3000:])
    assert result["session"] == "2025-11-24"
    assert list(result["modes"]) == ["premarket", "market", "postmarket", "daily"]
    assert all(m["ok"] and m["missing"] == [] for m in result["modes"].values())
    assert result["deleted"] > 20 and result["left_behind"] == 0
    assert sorted(p.name for p in root.iterdir() if p.name != ".meta") == ["keep.txt"]
    assert not [p for p in root.rglob("*") if p.is_file() and p.name != "keep.txt"]
