"""Prefect API queries about our deployments.

Expected vs registered schedules, the work pool, last successful runs, and cancelling runs (the
runbook's emergency stop, done safely).

"Our deployments" are exactly those declared in ``prefect.yaml``; nothing else is ever read
for cancellation, let alone cancelled.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from tradingstation.errors import ConfigError, InputError
from tradingstation.upkeep.health import Check

REPO_ROOT = Path(__file__).resolve().parents[1]
CANCEL_STATES = ("RUNNING", "PENDING", "SCHEDULED")
STALE_SUCCESS = timedelta(days=7)


@dataclass(frozen=True)
class ExpectedDeployment:
    """A deployment declared in prefect.yaml.

    Attributes:
        flow_name: The flow's name (``premarket``).
        name: The deployment's name (``default``).
        entrypoint: ``flows/premarket.py:premarket``.
        schedules: ``(cron, timezone)`` pairs.
        work_pool: Work pool name.
    """

    flow_name: str
    name: str
    entrypoint: str
    schedules: frozenset[tuple[str, str]]
    work_pool: str | None

    @property
    def full_name(self) -> str:
        """``<flow>/<deployment>`` as Prefect names it."""
        return f"{self.flow_name}/{self.name}"


@dataclass
class Finding:
    """One deployment check: ``pass``, ``warn``, ``fail`` or ``skip``, and the fix."""

    name: str
    status: str
    detail: str
    fix: str = ""
    data: dict = field(default_factory=dict)


def prefect_yaml_path() -> Path:
    """prefect.yaml of the app directory (``TS_APP_DIR``, else this checkout)."""
    base = os.environ.get("TS_APP_DIR")
    return Path(base) / "prefect.yaml" if base else REPO_ROOT / "prefect.yaml"


def _declared_name(decorator: ast.expr) -> str | None:
    """The ``name=`` of an ``@flow(name=...)`` decorator, if it is one."""
    if not isinstance(decorator, ast.Call):
        return None
    func = decorator.func
    if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)) != "flow":
        return None
    for keyword in decorator.keywords:
        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return None


def flow_name(entrypoint: str, app_dir: Path) -> str:
    """The Prefect flow name behind ``entrypoint`` (``flows/<file>.py:<function>``).

    Read from the flow's source, not imported: this package sits below ``flows/`` (a flow's
    health check asks it about the deployments), so it treats the entrypoints as data. The file
    is looked up in ``app_dir`` (where prefect.yaml is), else in this checkout.

    Raises:
        ConfigError: No such file or function.
    """
    path, _, attr = entrypoint.partition(":")
    source = next((base / path for base in (app_dir, REPO_ROOT) if (base / path).is_file()), None)
    if source is None:
        raise ConfigError(f"entrypoint {entrypoint}: no file {path}")
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == attr:
            names = [n for n in map(_declared_name, node.decorator_list) if n]
            return names[0] if names else attr.replace("_", "-")  # Prefect's default name
    raise ConfigError(f"entrypoint {entrypoint}: no function {attr} in {path}")


def expected_deployments(path: Path | None = None) -> list[ExpectedDeployment]:
    """Deployments declared in prefect.yaml, with their flow names and schedules.

    Raises:
        ConfigError: The file is missing or malformed.
    """
    path = path or prefect_yaml_path()
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    out = []
    for entry in (document or {}).get("deployments") or []:
        try:
            entrypoint = entry["entrypoint"]
            schedules = frozenset(
                (s["cron"], s.get("timezone") or "UTC") for s in entry.get("schedules") or []
                if "cron" in s
            )
            pool = (entry.get("work_pool") or {}).get("name")
            out.append(ExpectedDeployment(flow_name(entrypoint, path.parent), entry["name"],
                                          entrypoint, schedules, pool))
        except (KeyError, TypeError, AttributeError, OSError, SyntaxError) as exc:
            raise ConfigError(f"{path}: bad deployment entry {entry!r:.80}: {exc}") from None
    return out


def _client():
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def _registered_schedules(deployment: Any) -> set[tuple[str, str]]:
    found = set()
    for item in deployment.schedules or []:
        schedule = item.schedule
        cron = getattr(schedule, "cron", None)
        if cron and item.active:
            found.add((cron, getattr(schedule, "timezone", None) or "UTC"))
    return found


def check_deployments(expected: list[ExpectedDeployment]) -> list[Finding]:
    """Each expected deployment is registered with exactly its schedules (active)."""
    from prefect.exceptions import ObjectNotFound

    findings = []
    with _client() as client:
        for want in expected:
            name = f"deployment {want.full_name}"
            try:
                got = client.read_deployment_by_name(want.full_name)
            except ObjectNotFound:
                findings.append(Finding(name, "fail", "not registered",
                                        "prefect deploy --all  (from the app directory)"))
                continue
            have = _registered_schedules(got)
            if have != set(want.schedules):
                missing = sorted(set(want.schedules) - have)
                extra = sorted(have - set(want.schedules))
                findings.append(Finding(
                    name, "fail", f"schedules differ: missing {missing or '-'}, "
                    f"unexpected {extra or '-'}", "prefect deploy --all  (redeploy prefect.yaml)"))
                continue
            if want.work_pool and got.work_pool_name != want.work_pool:
                findings.append(Finding(name, "fail", f"work pool {got.work_pool_name!r}, "
                                        f"expected {want.work_pool!r}", "prefect deploy --all"))
                continue
            if getattr(got, "paused", False) and want.schedules:
                findings.append(Finding(name, "warn", "paused: its schedules do not run",
                                        f"tradingstation resume --deployment {want.full_name}"))
                continue
            findings.append(Finding(name, "pass",
                                    f"{len(want.schedules)} schedule(s) as in prefect.yaml"))
    return findings


def check_work_pool(name: str) -> Finding:
    """The work pool exists (and is not paused)."""
    from prefect.exceptions import ObjectNotFound

    with _client() as client:
        try:
            pool = client.read_work_pool(name)
        except ObjectNotFound:
            return Finding(f"work pool {name}", "fail", "does not exist",
                           f"prefect work-pool create {name} --type process")
    if pool.is_paused:
        return Finding(f"work pool {name}", "warn", "paused",
                       f"prefect work-pool resume {name}")
    return Finding(f"work pool {name}", "pass", f"exists (type {pool.type})")


def _deployment_ids(client, expected: list[ExpectedDeployment]) -> dict[Any, ExpectedDeployment]:
    from prefect.exceptions import ObjectNotFound

    ids = {}
    for want in expected:
        try:
            ids[client.read_deployment_by_name(want.full_name).id] = want
        except ObjectNotFound:
            continue
    return ids


def last_runs(expected: list[ExpectedDeployment] | None = None) -> dict[str, dict]:
    """Per registered deployment: its last successful run and its latest finished run."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    expected = expected if expected is not None else expected_deployments()
    out: dict[str, dict] = {}
    with _client() as client:
        for deployment_id, want in _deployment_ids(client, expected).items():
            row: dict = {"scheduled": bool(want.schedules), "last_success": None,
                         "latest_state": None}
            for key, types in (("last_success", [StateType.COMPLETED]),
                               ("latest_state", [StateType.COMPLETED, StateType.FAILED,
                                                 StateType.CRASHED])):
                runs = client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(
                        deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
                        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=types)),
                    ),
                    sort=FlowRunSort.END_TIME_DESC, limit=1,
                )
                if runs and key == "last_success":
                    row[key] = runs[0].end_time.isoformat() if runs[0].end_time else None
                elif runs:
                    row[key] = runs[0].state.name if runs[0].state else None
            out[want.full_name] = row
    return out


def last_runs_check(now: datetime | None = None) -> Check:
    """Health check "deployments": scheduled deployments succeeded recently and last time."""
    now = now or datetime.now(UTC)
    expected = expected_deployments()
    rows = last_runs(expected)
    missing = [d.full_name for d in expected if d.full_name not in rows]
    problems = []
    for name, row in rows.items():
        if not row["scheduled"]:
            continue
        if row["latest_state"] in ("Failed", "Crashed"):
            problems.append(f"{name} last run {row['latest_state']}")
        elif row["last_success"] is None:
            problems.append(f"{name} never succeeded")
        elif now - datetime.fromisoformat(row["last_success"]) > STALE_SUCCESS:
            problems.append(f"{name} last success {row['last_success'][:10]}")
    data = {"deployments": rows, "not_registered": missing}
    if missing:
        problems.append(f"not registered: {', '.join(missing)} (prefect deploy --all)")
    if problems:
        return Check("deployments", "warn", "; ".join(problems), data)
    return Check("deployments", "ok", f"{len(rows)} deployments; scheduled ones succeeded "
                 "recently", data)


@dataclass(frozen=True)
class RunToCancel:
    """A flow run of one of our deployments that cancel would stop."""

    id: str
    name: str
    deployment: str
    state: str
    expected_start: str | None


def cancellable_runs(deployment: str | None = None,
                     now: datetime | None = None) -> list[RunToCancel]:
    """Running, pending and due scheduled (incl. late) runs of our deployments.

    Args:
        deployment: ``flow/name`` or a flow name, to restrict to one deployment.
        now: Scheduled runs starting after this are left alone (default now).

    Raises:
        InputError: ``deployment`` is not one of ours.
    """
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    now = now or datetime.now(UTC)
    expected = expected_deployments()
    if deployment:
        chosen = [d for d in expected if deployment in (d.full_name, d.flow_name)]
        if not chosen:
            names = ", ".join(d.full_name for d in expected)
            raise InputError(f"unknown deployment {deployment!r}: one of {names}")
        expected = chosen
    out = []
    with _client() as client:
        ids = _deployment_ids(client, expected)
        if not ids:
            return []
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=list(ids)),
            state=FlowRunFilterState(type=FlowRunFilterStateType(
                any_=[StateType[s] for s in CANCEL_STATES])),
        ))
    for run in runs:
        state = run.state.type.value if run.state else "UNKNOWN"
        start = run.expected_start_time
        if state == "SCHEDULED" and start is not None and start > now:
            continue  # a future schedule is not "running"; pause the deployment for that
        out.append(RunToCancel(str(run.id), run.name, ids[run.deployment_id].full_name,
                               run.state.name if run.state else state,
                               start.isoformat() if start else None))
    return sorted(out, key=lambda r: (r.deployment, r.expected_start or ""))


def cancel_runs(runs: list[RunToCancel]) -> list[dict]:
    """Move each run to Cancelling (its worker stops it) and report the resulting state."""
    from prefect.states import Cancelling

    results = []
    with _client() as client:
        for run in runs:
            result = client.set_flow_run_state(run.id, Cancelling(message="tradingstation cancel"))
            state = client.read_flow_run(run.id).state
            results.append({"id": run.id, "name": run.name, "deployment": run.deployment,
                            "accepted": result.status.value == "ACCEPT",
                            "state": state.name if state else None})
    return results
