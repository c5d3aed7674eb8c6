"""Checks that keep self-contradicting or stale setups out of the sized plan.

Measured on real history: opposite-direction signals on one symbol both entered the plan,
first targets sat as close as 0.12R, and a demo Gap & Go kept an entry 34 % below its quote.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tradingstation.signals import LAST_PRICE_METRIC, Signal

# A long whose entry is more than this fraction below the latest price the screener saw (a
# short: above) has already moved away: buying there is not the setup the signal describes.
ENTRY_DRIFT_MAX = 0.05


def reward_risk(direction: str, entry: float, risk_per_share: float,
                targets: Sequence[float]) -> float | None:
    """Reward:risk to the first target (``(target - entry) / R``, signed for shorts).

    Returns:
        The ratio rounded to 2 decimals, or None without a target or a defined risk.
    """
    if not targets or not (risk_per_share > 0):
        return None
    sign = 1.0 if direction == "long" else -1.0
    return round(sign * (targets[0] - entry) / risk_per_share, 2)


def entry_off_tape(signal: Signal, margin: float = ENTRY_DRIFT_MAX) -> str | None:
    """Why ``signal``'s entry is too far from the latest price it saw, or None when it is not.

    A long whose entry is below the latest price by more than ``margin`` (a short: above) is
    stale; signals without a recorded latest price are not judged.
    """
    last = signal.metrics.get(LAST_PRICE_METRIC)
    if last is None or not (math.isfinite(last) and last > 0):
        return None
    drift = (last - signal.entry) / last
    if signal.direction == "short":
        drift = -drift
    if drift <= margin + 1e-12:
        return None
    side = "below" if signal.direction == "long" else "above"
    return (f"{signal.direction} entry {signal.entry:.2f} is {drift:.1%} {side} the latest "
            f"price {last:.2f} (more than {margin:.0%}): the move is gone")


def conflicting(groups: Sequence[Sequence[Signal]]) -> dict[tuple[str, str], list[str]]:
    """The opposite side's reasons of each group that faces a conflict.

    For each (symbol, direction) group facing the opposite direction on the same symbol, the
    opposite side's reasons (``"<screener>: <reason>"``).
    """
    reasons: dict[tuple[str, str], list[str]] = {}
    for group in groups:
        key = (group[0].symbol, group[0].direction)
        reasons[key] = [f"{s.screener}: {r}" for s in group for r in s.reasons]
    opposite = {"long": "short", "short": "long"}
    return {
        (symbol, direction): reasons[(symbol, opposite[direction])]
        for symbol, direction in reasons
        if (symbol, opposite[direction]) in reasons
    }
