"""One watcher poll: refresh the watched ideas, quote them, advance them, journal and alert.

The loop (poll, wait, poll ...) belongs to the caller; this module owns one step, so a
restarted watcher simply continues from what the store holds (see :mod:`.journal`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd

from tradingstation.calendar import get_calendar
from tradingstation.data.point_in_time import cut_signals
from tradingstation.errors import ObjectNotFoundError
from tradingstation.live import journal as jr
from tradingstation.live.alerts import AlertPolicy, format_alert
from tradingstation.live.ideas import empty_watch, merge_watch, normalize_watch, plan_ideas
from tradingstation.live.triggers import OPEN, advance_ideas
from tradingstation.plan import RiskSettings
from tradingstation.providers.base import MarketDataProvider
from tradingstation.screeners.store import signals_from_json
from tradingstation.signals import Signal
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

log = logging.getLogger(__name__)

Send = Callable[[str, str], None]


@dataclass
class PollReport:
    """What one poll did."""

    at: datetime
    watched: int = 0
    open: int = 0
    quoted: int = 0
    transitions: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """True when no idea is left open (the watcher may stop early)."""
        return self.watched > 0 and self.open == 0


@dataclass
class Watcher:
    """Watches one session's open ideas.

    State lives in the store (journal, watch state); this object only caches what it read,
    so a new instance (a restarted process) continues where the last one stopped.

    Attributes:
        store: Where signals, the journal and the watch state live.
        provider: Quotes with the running session high/low (``session_quotes``).
        session: The trading session watched.
        risk: Sizing rules (the alert names the plan's shares).
        policy: Quiet hours and the per-session alert cap.
        send: Delivers one alert ``(subject, body)``; ``None`` = no destination (journal only).
        dashboard: Link or location of the dashboard, named in every alert.
    """

    store: ObjectStore
    provider: MarketDataProvider
    session: date
    risk: RiskSettings
    policy: AlertPolicy
    send: Send | None = None
    dashboard: str | None = None
    _ideas: pd.DataFrame | None = field(default=None, repr=False)
    _journal: jr.Journal | None = field(default=None, repr=False)
    _signals: dict[str, tuple[str | None, list[Signal]]] = field(default_factory=dict,
                                                                 repr=False)
    _planned: frozenset[str] = field(default=frozenset(), repr=False)
    _saved: pd.DataFrame | None = field(default=None, repr=False)

    def poll(self, now: datetime) -> PollReport:
        """One step at wall-clock ``now``: only signals stamped at or before ``now`` count."""
        report = PollReport(at=now)
        ideas = self._refresh_ideas(now)
        report.watched = len(ideas)
        open_symbols = sorted(set(ideas.loc[ideas["state"] == OPEN, "symbol"]))
        if open_symbols:
            quotes = self.provider.session_quotes(open_symbols)
            report.quoted = len(quotes)
            open_at = get_calendar().session_times(self.session).market_open
            ideas, moved = advance_ideas(ideas, quotes, open_at)
            journal = self._load_journal()
            for row in moved.to_dict("records"):
                event = self._event(ideas, row)
                if (event["idea_id"], event["state"]) in journal.events:
                    continue
                jr.record_event(self.store, self.session, event)
                journal.events[event["idea_id"], event["state"]] = event
                report.transitions.append(event)
                log.info("%s %s %s at %.2f", event["symbol"], event["direction"],
                         event["state"], event["price"])
        self._save_state(ideas)
        report.open = int((ideas["state"] == OPEN).sum())
        report.alerts = self.deliver(now)
        return report

    def deliver(self, now: datetime) -> list[dict]:
        """Send (or journal why not) every event of the session whose alert is pending."""
        journal = self._load_journal()
        sent = journal.sent_count()
        done = []
        for event in journal.undelivered():
            if not self.policy.wants(event):
                outcome = "not alerted: expiries are journaled only"
            elif (held := self.policy.holds_back(event, sent, now)) is not None:
                outcome = held
            elif self.send is None:
                outcome = jr.NO_DESTINATION
            else:
                subject, body = format_alert(event, self.dashboard)
                self.send(subject, body)  # raises on failure: the event stays pending
                outcome = jr.SENT
                sent += 1
            record = jr.record_delivery(self.store, self.session, event, outcome,
                                        now.astimezone(UTC).isoformat())
            journal.deliveries[event["idea_id"], event["state"]] = record
            done.append(record)
        return done

    def _load_journal(self) -> jr.Journal:
        if self._journal is None:
            self._journal = jr.load_journal(self.store, self.session)
        return self._journal

    def _refresh_ideas(self, now: datetime) -> pd.DataFrame:
        if self._ideas is None:
            self._ideas = self._load_state()
        signals = cut_signals(self._session_signals(), now)
        ids = frozenset(s.id for s in signals)
        if ids != self._planned:  # the plan changed: fold its ideas in
            self._ideas = merge_watch(self._ideas, plan_ideas(signals, self.risk, self.session))
            self._planned = ids
        return self._ideas

    def _session_signals(self) -> list[Signal]:
        """The session's signals, re-read only for documents whose version changed."""
        listed = {i.key: i.version for i in self.store.list_objects(
            keys.signals_prefix(self.session)) if i.key.endswith(".json")}
        for key in set(self._signals) - set(listed):
            del self._signals[key]
        for key, version in listed.items():
            cached = self._signals.get(key)
            if cached is None or version is None or cached[0] != version:
                self._signals[key] = (version, signals_from_json(self.store.get_json(key)))
        return [s for _, found in self._signals.values() for s in found]

    def _event(self, ideas: pd.DataFrame, row: dict) -> dict:
        idea = ideas.loc[ideas["idea_id"] == row["idea_id"]].iloc[0]
        return {
            "idea_id": row["idea_id"], "session": self.session.isoformat(),
            "symbol": row["symbol"], "direction": row["direction"], "state": row["state"],
            "at": pd.Timestamp(row["at"]).isoformat(), "price": float(row["price"]),
            "entry": float(idea["entry"]), "stop": float(idea["stop"]),
            "targets": [float(t) for t in idea["targets"]], "shares": int(idea["shares"]),
            "screeners": list(idea["screeners"]), "score": float(idea["score"]),
        }

    def _load_state(self) -> pd.DataFrame:
        try:
            frame = self.store.get_frame(keys.live_watch_key(self.session))
        except ObjectNotFoundError:
            return empty_watch()
        return normalize_watch(frame)

    def _save_state(self, ideas: pd.DataFrame) -> None:
        self._ideas = ideas
        if len(ideas) and (self._saved is None or not ideas.equals(self._saved)):
            self.store.put_frame(keys.live_watch_key(self.session), ideas)
            self._saved = ideas.copy()


def load_watch(store: ObjectStore, session: date) -> pd.DataFrame:
    """The live state of every watched idea of ``session`` (empty before the watcher ran)."""
    try:
        return store.get_frame(keys.live_watch_key(session))
    except ObjectNotFoundError:
        return empty_watch()
