"""Pausing and resuming the schedules of our deployments (``tradingstation pause`` / ``resume``).

Prefect 3.8 has no ``prefect deployment pause``. Pausing a deployment through the API stops its
scheduler and deletes the runs it had already scheduled; resuming schedules them again. Only the
deployments declared in ``prefect.yaml`` that have schedules are touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from blocks.resolve import api_configured
from deploy.deployments import ExpectedDeployment, _client, expected_deployments
from tradingstation.errors import ConfigError, InputError


@dataclass(frozen=True)
class PauseResult:
    """One deployment's pause state before and after the command."""

    deployment: str
    was_paused: bool
    paused: bool


def _scheduled(deployment: str | None) -> list[ExpectedDeployment]:
    wanted = [d for d in expected_deployments() if d.schedules]
    if deployment:
        chosen = [d for d in wanted if deployment in (d.full_name, d.flow_name)]
        if not chosen:
            names = ", ".join(d.full_name for d in wanted)
            raise InputError(f"unknown scheduled deployment {deployment!r}: one of {names}")
        return chosen
    return wanted


def set_paused(paused: bool, deployment: str | None = None) -> list[PauseResult]:
    """Pause (or resume) the schedules of our scheduled deployments.

    Args:
        paused: True to pause, False to resume.
        deployment: ``flow/name`` or a flow name to act on only that deployment.

    Returns:
        One row per deployment acted on, in prefect.yaml order.

    Raises:
        ConfigError: No Prefect API is configured, or a deployment is not registered.
        InputError: ``deployment`` is not one of our scheduled deployments.
    """
    from prefect.exceptions import ObjectNotFound

    if not api_configured():
        raise ConfigError("pausing schedules needs a Prefect server: set PREFECT_API_URL")
    out = []
    with _client() as client:
        for want in _scheduled(deployment):
            try:
                got = client.read_deployment_by_name(want.full_name)
            except ObjectNotFound:
                raise ConfigError(f"deployment {want.full_name} is not registered: run "
                                  "`prefect deploy --all` from the app directory") from None
            if bool(got.paused) != paused:
                if paused:
                    client.pause_deployment(got.id)
                else:
                    client.resume_deployment(got.id)
            now = client.read_deployment(got.id)
            out.append(PauseResult(want.full_name, bool(got.paused), bool(now.paused)))
    return out
