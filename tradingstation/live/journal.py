"""The live-trigger journal of a session: append-only records of state changes and alerts.

Each idea's change of state is one object (``live/<session>/events/<idea>.<state>.json``),
written once and never modified; the delivery of its alert is another
(``live/<session>/alerts/<idea>.<state>.json``), written after the webhook accepted it. A
restarted watcher reads both: an event already recorded is not recorded again, and an event
without a delivery record is delivered. A kill between the webhook's answer and the delivery
record (a few milliseconds) is the only moment that can repeat an alert; none can lose one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

SENT = "sent"
QUIET = "suppressed: quiet hours"
CAPPED = "suppressed: session alert cap reached"
NO_DESTINATION = "not sent: no alert destination configured"


@dataclass
class Journal:
    """What the journal of one session holds.

    Attributes:
        events: ``{(idea_id, state): event document}``.
        deliveries: ``{(idea_id, state): delivery document}``.
    """

    events: dict[tuple[str, str], dict] = field(default_factory=dict)
    deliveries: dict[tuple[str, str], dict] = field(default_factory=dict)

    def undelivered(self) -> list[dict]:
        """Events whose alert has not been handled yet, oldest first."""
        todo = [e for k, e in self.events.items() if k not in self.deliveries]
        return sorted(todo, key=lambda e: (e["at"], e["symbol"], e["state"]))

    def sent_count(self) -> int:
        """Alerts actually sent this session (what the per-session cap counts)."""
        return sum(1 for d in self.deliveries.values() if d.get("outcome") == SENT)


def _pair(key: str) -> tuple[str, str]:
    idea_id, state, _ = key.rsplit("/", 1)[-1].split(".")
    return idea_id, state


def load_journal(store: ObjectStore, session: date) -> Journal:
    """Read every event and delivery record of ``session``."""
    prefix = keys.live_prefix(session)
    wanted = [i.key for i in store.list_objects(prefix)
              if i.key.startswith((f"{prefix}events/", f"{prefix}alerts/"))]
    journal = Journal()
    for key, data in store.get_many(wanted).items():
        target = journal.events if "/events/" in key else journal.deliveries
        target[_pair(key)] = json.loads(data)
    return journal


def record_event(store: ObjectStore, session: date, event: dict) -> bool:
    """Write ``event`` unless the journal already has it.

    Returns:
        True when it was new.
    """
    key = keys.live_event_key(session, event["idea_id"], event["state"])
    if store.exists(key):
        return False
    store.put_json(key, event)
    return True


def record_delivery(store: ObjectStore, session: date, event: dict, outcome: str,
                    at: str) -> dict:
    """Record what happened to the alert of ``event`` (sent, or why not)."""
    document = {"idea_id": event["idea_id"], "symbol": event["symbol"], "state": event["state"],
                "outcome": outcome, "at": at}
    store.put_json(keys.live_alert_key(session, event["idea_id"], event["state"]), document)
    return document
