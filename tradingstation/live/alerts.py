"""What a live-trigger alert says, and whether it may be sent now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import pandas as pd

from tradingstation.calendar import NY
from tradingstation.errors import InputError
from tradingstation.live.journal import CAPPED, QUIET

VERBS = {"triggered": "TRIGGERED", "invalidated": "INVALIDATED (stop traded before entry)",
         "expired": "EXPIRED"}


@dataclass(frozen=True)
class AlertPolicy:
    """When alerts go out.

    Attributes:
        quiet_start: Start of quiet hours (New York); ``None`` = no quiet hours.
        quiet_end: End of quiet hours (exclusive).
        session_cap: Alerts sent per session at most; later events are journaled only.
        alert_expiries: Also alert when an idea expires (off by default: it is not news).
    """

    quiet_start: time | None = None
    quiet_end: time | None = None
    session_cap: int = 50
    alert_expiries: bool = False

    @classmethod
    def parse(cls, quiet_hours: str, session_cap: int, alert_expiries: bool = False
              ) -> AlertPolicy:
        """Build from settings text ``"HH:MM-HH:MM"`` (New York) or ``""``.

        Raises:
            InputError: A malformed quiet-hours range.
        """
        if not quiet_hours.strip():
            return cls(None, None, session_cap, alert_expiries)
        try:
            start, end = (time.fromisoformat(p.strip()) for p in quiet_hours.split("-"))
        except ValueError:
            raise InputError(f"invalid quiet hours {quiet_hours!r}: expected HH:MM-HH:MM") from None
        return cls(start, end, session_cap, alert_expiries)

    def holds_back(self, event: dict, sent: int, now: datetime) -> str | None:
        """Why the alert of ``event`` is not sent (``None`` = send it)."""
        if self.quiet_start is not None and self.quiet_end is not None:
            local = now.astimezone(NY).time()
            if self.quiet_start <= self.quiet_end:
                quiet = self.quiet_start <= local < self.quiet_end
            else:  # wraps midnight
                quiet = local >= self.quiet_start or local < self.quiet_end
            if quiet:
                return QUIET
        if sent >= self.session_cap:
            return CAPPED
        return None

    def wants(self, event: dict) -> bool:
        """Whether events of this kind are alerted at all."""
        return event["state"] != "expired" or self.alert_expiries


def _prices(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values) or "-"


def format_alert(event: dict, dashboard: str | None) -> tuple[str, str]:
    """``(subject, body)`` of the alert for one journal event. Holds no secret."""
    at = pd.Timestamp(event["at"]).tz_convert(NY)
    verb = VERBS[event["state"]]
    subject = (f"TradingStation: {event['symbol']} {event['direction']} {verb.split()[0]} "
               f"at {event['price']:.2f} ({at:%H:%M} NY)")
    lines = [
        f"{event['symbol']} {event['direction']} {verb}",
        f"screeners: {', '.join(event['screeners'])} (score {event['score']:.1f})",
        f"entry {event['entry']:.2f} · stop {event['stop']:.2f} · targets "
        f"{_prices(event['targets'])}",
        f"shares (plan): {event['shares']}",
        f"price {event['price']:.2f} at {at:%Y-%m-%d %H:%M:%S} New York",
        f"session: {event['session']}",
    ]
    if dashboard:
        lines.append(f"dashboard: {dashboard}")
    return subject, "\n".join(lines)
