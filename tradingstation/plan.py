"""Trade plan: merge signals into ideas, rank them by quality and confluence, size positions."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tradingstation.config import Settings
from tradingstation.errors import InputError
from tradingstation.plan_checks import ENTRY_DRIFT_MAX, conflicting, entry_off_tape, reward_risk
from tradingstation.signals import Direction, Signal, Status
from tradingstation.storage.keys import SYMBOL_RE

log = logging.getLogger(__name__)

PLAN_SCHEMA_VERSION = 1
# Each extra screener agreeing on a symbol and direction is worth this many score points.
CONFLUENCE_BONUS = 1.5
DEFAULT_MIN_REWARD_RISK = 1.0
# What the live-trigger watcher last saw of an idea (``tradingstation.live.triggers.STATES``).
LiveState = Literal["watch", "triggered", "invalidated", "expired"]

__all__ = ["ENTRY_DRIFT_MAX", "Dropped", "Idea", "LiveState", "Plan", "RiskSettings", "build_plan",
           "merge_signals", "parse_signals", "size_position"]


@dataclass(frozen=True)
class RiskSettings:
    """Sizing rules.

    Attributes:
        equity: Account equity in dollars.
        risk_per_trade: Fraction of equity risked per idea (0.01 = 1 %).
        max_position_pct: Max position value as a fraction of equity.
        max_open_risk: Max total risk across the plan as a fraction of equity.
        min_reward_risk: Lowest reward:risk to the first target that is sized (ideas below it
            stay in the plan with 0 shares).
    """

    equity: float
    risk_per_trade: float
    max_position_pct: float
    max_open_risk: float
    min_reward_risk: float = DEFAULT_MIN_REWARD_RISK

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: float | None) -> RiskSettings:
        """Sizing rules from settings, with command-line overrides where given (not None)."""
        values = {
            "equity": settings.equity, "risk_per_trade": settings.risk_per_trade,
            "max_position_pct": settings.max_position_pct,
            "max_open_risk": settings.max_open_risk, "min_reward_risk": settings.min_reward_risk,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __post_init__(self) -> None:
        checks = {
            "equity": self.equity > 0,
            "risk_per_trade": 0 < self.risk_per_trade <= 0.1,
            "max_position_pct": 0 < self.max_position_pct <= 1,
            "max_open_risk": 0 < self.max_open_risk <= 1,
            "min_reward_risk": 0 <= self.min_reward_risk <= 20,
        }
        for name, ok in checks.items():
            value = getattr(self, name)
            if not ok or not math.isfinite(value):
                raise InputError(f"invalid {name} {value!r}: out of range")


# Idea fields in the order plan.json and plan.csv list them. The first block is every
# version-1 idea's; fields with a default were added later (additive, so optional in the schema).
class Idea(BaseModel):
    """One symbol and direction, merged across every screener that flagged it, with sizing.

    Attributes:
        rank: 1 = best.
        symbol: Ticker.
        direction: ``long`` or ``short``.
        status: ``triggered`` when any contributing signal triggered, else ``watch``.
        score: Best contributing score (0-10).
        rank_score: ``score`` plus the confluence bonus; what ranking sorts by.
        screeners: Contributing screeners, best first.
        entry: Entry of the best signal.
        stop: Stop of the best signal.
        targets: Targets of the best signal (1R/2R/3R unless the screener set its own).
        risk_per_share: ``|entry - stop|``.
        shares: Position size after every cap (0 when the open-risk cap is used up).
        position_value: ``shares * entry``.
        risk_dollars: ``shares * risk_per_share``.
        sizing_note: Which rule limited the size.
        invalidation: When the idea is void.
        reasons: ``"<screener>: <reason>"`` sentences from every contributing signal.
        signal_ids: Ids of the merged signals.
        timestamp: Newest contributing signal time.
        data_as_of: Newest data any contributing signal saw.
        demo: Made from demo data.
        reward_risk: Reward:risk from entry to the first target (None without targets).
        conflict: The same symbol also has an idea in the opposite direction: not sized.
        conflict_reasons: The opposite direction's reasons (empty without a conflict).
        track_expectancy_r: R per signal its first screener earned in this score band and
            direction (latest backtest; None below the minimum sample).
        track_sample: How many decided signals that figure rests on.
        track_note: ``"not enough history"`` when there are too few, else empty.
        live_state: What the live-trigger watcher saw: ``watch``, ``triggered``,
            ``invalidated`` or ``expired`` (None when it did not watch the idea).
        live_at: When ``live_state`` was reached (None while still watched).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rank: int = Field(ge=1)
    symbol: str = Field(pattern=SYMBOL_RE.pattern)
    direction: Direction
    status: Status
    score: float = Field(ge=0, le=10)
    rank_score: float
    screeners: list[str] = Field(min_length=1)
    entry: float = Field(gt=0)
    stop: float = Field(gt=0)
    targets: list[float]
    risk_per_share: float = Field(gt=0)
    shares: int = Field(ge=0)
    position_value: float = Field(ge=0)
    risk_dollars: float = Field(ge=0)
    sizing_note: str
    invalidation: str
    reasons: list[str]
    signal_ids: list[str]
    timestamp: datetime
    data_as_of: datetime
    demo: bool
    reward_risk: float | None = None
    conflict: bool = False
    conflict_reasons: list[str] = Field(default_factory=list)
    track_expectancy_r: float | None = None
    track_sample: int = Field(default=0, ge=0)
    track_note: str = ""
    live_state: LiveState | None = None
    live_at: datetime | None = None

    @property
    def confluence(self) -> int:
        """How many screeners agree on this idea."""
        return len(self.screeners)


class Dropped(TypedDict):
    """A signal left out of the plan and why."""

    symbol: str
    screener: str
    reason: str


class Plan(BaseModel):
    """A ranked, sized trade plan plus what was dropped and why."""

    ideas: list[Idea]
    dropped: list[Dropped] = Field(default_factory=list)
    generated_at: datetime | None = None
    demo: bool = False
    min_reward_risk: float = DEFAULT_MIN_REWARD_RISK

    @property
    def open_risk(self) -> float:
        """Total dollars at risk across the plan."""
        return round(sum(i.risk_dollars for i in self.ideas), 2)


def parse_signals(
    raw: Iterable[Signal | Mapping[str, Any]],
) -> tuple[list[Signal], list[Dropped]]:
    """Validate signals, keeping the good ones and describing each rejected one.

    A stop on the wrong side of entry, zero risk, or a malformed record is dropped with its
    reason logged; it never reaches the plan.

    Returns:
        ``(signals, dropped)`` where each dropped item has ``symbol``, ``screener``, ``reason``.
    """
    good: list[Signal] = []
    dropped: list[Dropped] = []
    for item in raw:
        if isinstance(item, Signal):
            signal = item
        else:
            try:
                signal = Signal.model_validate(dict(item))
            except ValidationError as exc:
                reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
                entry = {
                    "symbol": str(item.get("symbol", "?"))[:12],
                    "screener": str(item.get("screener", "?"))[:40],
                    "reason": reason,
                }
                log.warning("dropped signal %(symbol)s/%(screener)s: %(reason)s", entry)
                dropped.append(entry)
                continue
        if signal.risk_per_share <= 0 or math.isclose(signal.entry, signal.stop):
            entry = {"symbol": signal.symbol, "screener": signal.screener, "reason": "zero risk"}
            log.warning("dropped signal %(symbol)s/%(screener)s: %(reason)s", entry)
            dropped.append(entry)
            continue
        good.append(signal)
    return good, dropped


def merge_signals(signals: Iterable[Signal]) -> list[list[Signal]]:
    """Group signals by (symbol, direction); each group is sorted best first.

    "Best" = triggered before watch, then higher score, then newer. Only the newest signal of
    each screener in a group is kept, so a screener rerun does not count as confluence.
    """
    groups: dict[tuple[str, str], dict[str, Signal]] = {}
    for signal in signals:
        group = groups.setdefault((signal.symbol, signal.direction), {})
        current = group.get(signal.screener)
        if current is None or signal.timestamp > current.timestamp:
            group[signal.screener] = signal
    return [sorted(g.values(), key=_signal_quality) for g in groups.values()]


def _signal_quality(signal: Signal) -> tuple:
    return (signal.status != "triggered", -signal.score, -signal.timestamp.timestamp())


def size_position(entry: float, risk_per_share: float, risk: RiskSettings) -> tuple[int, str]:
    """Shares for one idea: floor(equity × risk_per_trade / R), capped by max position value.

    Raises:
        InputError: when ``risk_per_share`` or ``entry`` is not positive.
    """
    if not (risk_per_share > 0 and math.isfinite(risk_per_share)):
        raise InputError(f"invalid risk per share {risk_per_share!r}: must be positive")
    if not (entry > 0 and math.isfinite(entry)):
        raise InputError(f"invalid entry {entry!r}: must be positive")
    by_risk = math.floor(risk.equity * risk.risk_per_trade / risk_per_share + 1e-9)
    by_value = math.floor(risk.equity * risk.max_position_pct / entry + 1e-9)
    if by_value < by_risk:
        return by_value, f"capped at {risk.max_position_pct:.0%} of equity"
    return by_risk, f"{risk.risk_per_trade:.1%} of equity at risk"


def build_plan(
    raw_signals: Iterable[Signal | Mapping[str, Any]],
    risk: RiskSettings,
    generated_at: datetime | None = None,
    expectancy: Callable[[Signal], float | None] | None = None,
) -> Plan:
    """Merge, rank and size signals into a trade plan.

    Signals whose entry has drifted more than ``ENTRY_DRIFT_MAX`` from the latest price they
    saw are dropped with the reason. Ideas are ranked by best score plus ``CONFLUENCE_BONUS``
    per extra agreeing screener, triggered before watch on ties. Sizing walks the ranking: an
    idea facing the opposite direction on the same symbol (a conflict) or whose reward:risk to
    the first target is below ``risk.min_reward_risk`` gets 0 shares; the others get their
    risk-based size (capped by max position), then the total open-risk cap shrinks or zeroes
    later ideas.

    With ``expectancy`` (R per signal of a signal's screener, band and direction, or None when
    there is not enough history; ``TS_RANK_BY_EXPECTANCY``), ideas with a figure rank first,
    by expectancy x rank score, then the others by rank score.
    """
    parsed, dropped = parse_signals(raw_signals)
    signals = []
    for signal in parsed:
        stale = entry_off_tape(signal)
        if stale is None:
            signals.append(signal)
            continue
        entry = {"symbol": signal.symbol, "screener": signal.screener, "reason": stale}
        log.warning("dropped signal %(symbol)s/%(screener)s: %(reason)s", entry)
        dropped.append(entry)
    groups = merge_signals(signals)
    conflicts = conflicting(groups)
    scored = []
    for group in groups:
        best = group[0]
        rank_score = best.score + CONFLUENCE_BONUS * (len(group) - 1)
        triggered = any(s.status == "triggered" for s in group)
        figure = expectancy(best) if expectancy is not None else None
        order = (0, -figure * rank_score) if figure is not None else (1, -rank_score)
        scored.append((order, -rank_score, not triggered, best.symbol, best.direction, group))
    scored.sort(key=lambda t: t[:5])

    ideas: list[Idea] = []
    budget = risk.equity * risk.max_open_risk
    for rank, (_, neg_rank_score, not_triggered, _, _, group) in enumerate(scored, start=1):
        best = group[0]
        targets = list(best.targets) or _r_targets(best)
        ratio = reward_risk(best.direction, best.entry, best.risk_per_share, targets)
        against = conflicts.get((best.symbol, best.direction))
        shares, note = size_position(best.entry, best.risk_per_share, risk)
        remaining = budget - sum(i.risk_dollars for i in ideas)
        if against is not None:
            other = "short" if best.direction == "long" else "long"
            shares, note = 0, f"not sized: conflict, {best.symbol} also has a {other} idea"
        elif ratio is not None and ratio < risk.min_reward_risk - 1e-9:
            shares = 0
            note = (f"not sized: reward:risk {ratio:.2f} to the first target is below "
                    f"{risk.min_reward_risk:.2f}")
        elif shares * best.risk_per_share > remaining + 1e-9:
            shares = max(0, math.floor(remaining / best.risk_per_share + 1e-9))
            note = f"open-risk cap {risk.max_open_risk:.0%} of equity reached"
        side = "below" if best.direction == "long" else "above"
        ideas.append(
            Idea(
                rank=rank,
                symbol=best.symbol,
                direction=best.direction,
                status="watch" if not_triggered else "triggered",
                screeners=[s.screener for s in group],
                signal_ids=[s.id for s in group],
                score=best.score,
                rank_score=round(-neg_rank_score, 2),
                entry=best.entry,
                stop=best.stop,
                targets=targets,
                risk_per_share=round(best.risk_per_share, 4),
                shares=shares,
                position_value=round(shares * best.entry, 2),
                risk_dollars=round(shares * best.risk_per_share, 2),
                sizing_note=note,
                invalidation=f"void if price trades {side} {best.stop:.2f} before entry",
                reasons=[f"{s.screener}: {r}" for s in group for r in s.reasons],
                timestamp=max(s.timestamp for s in group),
                data_as_of=max(s.data_as_of for s in group),
                demo=any(s.demo for s in group),
                reward_risk=ratio,
                conflict=against is not None,
                conflict_reasons=list(against or []),
            )
        )
    return Plan(
        ideas=ideas,
        dropped=dropped,
        generated_at=generated_at,
        # dropped signals count too: a page listing demo signals says DEMO
        demo=any(s.demo for s in parsed),
        min_reward_risk=risk.min_reward_risk,
    )


def _r_targets(signal: Signal) -> list[float]:
    sign = 1 if signal.direction == "long" else -1
    return [round(signal.entry + sign * k * signal.risk_per_share, 2) for k in (1, 2, 3)]
