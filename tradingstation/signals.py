"""The one Signal model every screener emits and the dashboard consumes."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The metric every screener records with the newest price it saw (quote, 1-min or daily close):
# the plan drops an entry that price has already left behind.
LAST_PRICE_METRIC = "last_price"

Direction = Literal["long", "short"]
Status = Literal["watch", "triggered"]


def make_signal_id(screener: str, symbol: str, session: date, trigger: str) -> str:
    """Deterministic id: the same setup found twice gets the same id (reruns are idempotent)."""
    raw = f"{screener}|{symbol}|{session.isoformat()}|{trigger}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


class Signal(BaseModel):
    """A trade setup found by a screener.

    Attributes:
        id: Deterministic id from screener, symbol, session and trigger (``make_signal_id``).
        screener: Registry name of the screener (``gap_and_go`` ...).
        symbol: Ticker.
        session: Trading session the signal belongs to.
        timestamp: When the setup was observed (UTC).
        direction: ``long`` or ``short``.
        status: ``watch`` (conditions forming) or ``triggered`` (entry condition met).
        score: Quality 0-10.
        entry: Entry price.
        stop: Protective stop price (below entry for longs, above for shorts).
        targets: Target prices in order.
        risk_per_share: ``|entry - stop|``.
        reasons: Sentences with the numbers that produced the signal.
        metrics: The raw numbers, by name.
        data_as_of: Timestamp of the newest bar the screener saw (UTC).
        demo: True when made from the demo market.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    screener: str
    symbol: str
    session: date
    timestamp: datetime
    direction: Direction
    status: Status
    score: float = Field(ge=0, le=10)
    entry: float = Field(gt=0)
    stop: float = Field(gt=0)
    targets: list[float] = Field(default_factory=list)
    risk_per_share: float = Field(ge=0)
    reasons: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    data_as_of: datetime
    demo: bool = False

    @field_validator("timestamp", "data_as_of")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware (UTC)")
        return value

    @model_validator(mode="after")
    def _stop_side(self) -> Signal:
        # A stop on the wrong side of entry is a screener bug, not a tradeable idea.
        if self.direction == "long" and not self.stop < self.entry:
            raise ValueError(f"long signal needs stop < entry ({self.stop} >= {self.entry})")
        if self.direction == "short" and not self.stop > self.entry:
            raise ValueError(f"short signal needs stop > entry ({self.stop} <= {self.entry})")
        return self
