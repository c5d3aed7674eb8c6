"""Alerts: Prefect automations that notify when a TradingStation run fails or runs late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.events.actions import SendNotification
from prefect.events.schemas.automations import (
    AutomationCore,
    CompoundTrigger,
    EventTrigger,
    Posture,
)

from blocks.register import NOTIFICATION_BLOCK
from tradingstation.errors import ConfigError

# Every deployment in prefect.yaml carries this tag; flow runs inherit it, and the automations
# match on it so runs of unrelated flows on the same server never page the trader.
DEPLOYMENT_TAG = "tradingstation"
# Only the four session deployments carry this one: "overdue" means nothing for the all-day
# watcher or an operator's long backtest.
SESSION_TAG = "tradingstation-session"
FAILED_AUTOMATION = "tradingstation-run-failed"
OVERDUE_AUTOMATION = "tradingstation-run-overdue"
FAILURE_STATES = ("Failed", "Crashed", "TimedOut")
TERMINAL_STATES = ("Completed", "Failed", "Crashed", "Cancelled", "TimedOut")

# The deployment is named as Prefect's CLI names it (premarket/default). A failed run's state
# message names the failed task and its error's first line (flows/runs.names_failed_task). A
# crash only says "Process exited with status code: 1", so the body says what that means.
FAILED_SUBJECT = ("TradingStation: {{ flow.name }}/{{ deployment.name }} run {{ flow_run.name }} "
                  "{{ flow_run.state.name }}")
FAILED_BODY = """\
TradingStation run {{ flow_run.state.name }}
flow: {{ flow.name }}
deployment: {{ flow.name }}/{{ deployment.name }}
run: {{ flow_run.name }} ({{ flow_run.id }})
parameters: {{ flow_run.parameters }}
what failed: {{ flow_run.state.message }}
{% if flow_run.state.name == 'Crashed' %}\
why: the run's process stopped before it could report an error (killed, out of memory, or \
the code could not be loaded on the worker: is TS_APP_DIR set there?). Its last lines are in \
the run's logs (link below) and in the worker's output.
{% endif %}\
link: {{ flow_run|ui_url }}
"""
OVERDUE_SUBJECT = ("TradingStation: {{ flow.name }}/{{ deployment.name }} run {{ flow_run.name }} "
                   "is overdue")
OVERDUE_BODY = """\
TradingStation session run has not completed on time
flow: {{ flow.name }}
deployment: {{ flow.name }}/{{ deployment.name }}
run: {{ flow_run.name }} ({{ flow_run.id }})
state now: {{ flow_run.state.name }} {{ flow_run.state.message or '' }}
expected start: {{ flow_run.expected_start_time }}
link: {{ flow_run|ui_url }}
"""


@dataclass(frozen=True)
class AlertResult:
    """Outcome of ``create_alerts``.

    Attributes:
        automations: ``{automation name: id}`` of the automations now in place.
        created: Names that did not exist before this call (the others were replaced).
    """

    automations: dict[str, UUID]
    created: list[str]


def _tag_match(tag: str = DEPLOYMENT_TAG) -> dict[str, str]:
    return {"prefect.resource.id": f"prefect.tag.{tag}", "prefect.resource.role": "tag"}


def failure_automation(block_id: UUID) -> AutomationCore:
    """A run of our deployments entered Failed, Crashed or TimedOut: notify at once."""
    return AutomationCore(
        name=FAILED_AUTOMATION,
        description="Notify when a TradingStation flow run fails, crashes or times out.",
        trigger=EventTrigger(
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related=_tag_match(),
            expect={f"prefect.flow-run.{s}" for s in FAILURE_STATES},
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[
            SendNotification(block_document_id=block_id, subject=FAILED_SUBJECT, body=FAILED_BODY)
        ],
    )


def overdue_automation(block_id: UUID, deadline_minutes: int) -> AutomationCore:
    """A session run that started (or went Late) has not finished within the deadline."""
    running_too_long = EventTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related=_tag_match(SESSION_TAG),
        after={"prefect.flow-run.Running"},
        expect={f"prefect.flow-run.{s}" for s in TERMINAL_STATES},
        for_each={"prefect.resource.id"},
        posture=Posture.Proactive,
        threshold=1,
        within=timedelta(minutes=deadline_minutes),
    )
    # A run that never starts (no worker, pool paused) is marked Late by the server.
    never_started = EventTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related=_tag_match(SESSION_TAG),
        expect={"prefect.flow-run.Late"},
        posture=Posture.Reactive,
        threshold=1,
        within=timedelta(0),
    )
    return AutomationCore(
        name=OVERDUE_AUTOMATION,
        description=(
            f"Notify when a TradingStation run is Late or has not finished "
            f"{deadline_minutes} minutes after it started."
        ),
        trigger=CompoundTrigger(
            require="any",
            triggers=[running_too_long, never_started],
            within=timedelta(minutes=deadline_minutes),
        ),
        actions=[
            SendNotification(
                block_document_id=block_id, subject=OVERDUE_SUBJECT, body=OVERDUE_BODY
            )
        ],
    )


def _notification_block_id(block_name: str) -> UUID:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock, SlackWebhook

    for block_type in (CustomWebhookNotificationBlock, SlackWebhook):
        try:
            block = block_type.load(block_name)
        except ValueError:
            continue
        if block._block_document_id is not None:
            return block._block_document_id
    raise ConfigError(
        f"notification block {block_name!r} not found: set TS_WEBHOOK_URL and run "
        "'tradingstation blocks register' first"
    )


def _replace(client, automation: AutomationCore) -> tuple[UUID, bool]:
    # Recreate rather than PATCH: the update endpoint drops defaulted discriminator fields of
    # nested triggers, and recreating also removes copies left by earlier non-idempotent tools.
    existing = client.read_automations_by_name(automation.name)
    for old in existing:
        client.delete_automation(old.id)
    return client.create_automation(automation), not existing


def create_alerts(
    block_name: str = NOTIFICATION_BLOCK, deadline_minutes: int = 45
) -> AlertResult:
    """Create or update the TradingStation automations (idempotent).

    Args:
        block_name: Notification block the automations send through.
        deadline_minutes: How long a started session run may take before it is overdue.

    Returns:
        The automations now in place and which of them were newly created.

    Raises:
        ConfigError: The notification block does not exist, or the deadline is not positive.
    """
    if deadline_minutes <= 0:
        raise ConfigError(f"deadline must be positive minutes, got {deadline_minutes}")
    block_id = _notification_block_id(block_name)
    wanted = [failure_automation(block_id), overdue_automation(block_id, deadline_minutes)]
    ids: dict[str, UUID] = {}
    created: list[str] = []
    with get_client(sync_client=True) as client:
        for automation in wanted:
            ids[automation.name], was_created = _replace(client, automation)
            if was_created:
                created.append(automation.name)
    return AlertResult(automations=ids, created=created)
