"""Which runs the alert automations watch: failures of every deployment, lateness of sessions."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import yaml

from deploy.alerts import DEPLOYMENT_TAG, SESSION_TAG, failure_automation, overdue_automation

ROOT = Path(__file__).resolve().parents[2]


def _tags_by_flow() -> dict[str, set[str]]:
    document = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    return {d["entrypoint"].rsplit(":", 1)[1]: set(d.get("tags") or [])
            for d in document["deployments"]}


def _tag_resources(trigger) -> set[str]:
    triggers = getattr(trigger, "triggers", None) or [trigger]
    found: set[str] = set()
    for t in triggers:
        related = t.match_related
        for resource in related if isinstance(related, list) else [related]:
            value = resource.get("prefect.resource.id")
            found.update([value] if isinstance(value, str) else value)
    return found


def test_overdue_alerts_watch_session_runs_only() -> None:
    tags = _tags_by_flow()
    sessions = {"premarket", "market", "postmarket", "daily"}
    assert all(SESSION_TAG in tags[name] for name in sessions)
    assert SESSION_TAG not in tags["watch"]  # runs all day by design
    assert all(SESSION_TAG not in t for name, t in tags.items() if name not in sessions)
    assert _tag_resources(overdue_automation(uuid4(), 45).trigger) == {f"prefect.tag.{SESSION_TAG}"}


def test_failure_alerts_watch_every_deployment() -> None:
    assert all(DEPLOYMENT_TAG in t for t in _tags_by_flow().values())
    assert _tag_resources(failure_automation(uuid4()).trigger) == {f"prefect.tag.{DEPLOYMENT_TAG}"}
