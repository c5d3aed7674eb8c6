"""Screener registry: every screener by name, and a runner for several at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tradingstation.errors import InputError
from tradingstation.screeners.avwap_reclaim import AvwapReclaim
from tradingstation.screeners.base import Screener, ScreenInput
from tradingstation.screeners.breakout import Breakout
from tradingstation.screeners.ema_pullback import EmaPullback
from tradingstation.screeners.exhaustion_reversal import ExhaustionReversal
from tradingstation.screeners.gap_and_go import GapAndGo
from tradingstation.screeners.orb import OpeningRangeBreakout
from tradingstation.signals import Signal

SCREENERS: dict[str, type[Screener]] = {
    cls.name: cls
    for cls in (
        GapAndGo,
        OpeningRangeBreakout,
        AvwapReclaim,
        Breakout,
        EmaPullback,
        ExhaustionReversal,
    )
}

# Screeners that only need daily bars (the rest need today's 1-min bars).
DAILY_SCREENERS = ("avwap_reclaim", "breakout", "ema_pullback", "exhaustion_reversal")
INTRADAY_SCREENERS = ("gap_and_go", "orb")
# The premarket session's screeners: their signals head the intraday watchlist.
PREMARKET_SCREENERS = (GapAndGo.name, OpeningRangeBreakout.name)


def screener_names() -> list[str]:
    """Registered screener names, in registry order."""
    return list(SCREENERS)


def get_screener(name: str) -> Screener:
    """A new instance of the screener registered as ``name``.

    Raises:
        InputError: unknown name (the message lists the valid ones).
    """
    cls = SCREENERS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise InputError(
            f"unknown screener {str(name)[:40]!r}: expected one of {', '.join(SCREENERS)}"
        )
    return cls()


def run_screeners(
    data: ScreenInput,
    names: Iterable[str],
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, list[Signal]]:
    """Run several screeners on one input.

    Every name and every parameter set is validated before any screener runs, so a typo fails
    fast and nothing is half-done.

    Args:
        data: The screening input (read once for the universe).
        names: Screener names to run.
        params: ``{screener name: {parameter: value}}``; missing screeners use defaults.

    Returns:
        ``{name: signals}`` in the order of ``names``.

    Raises:
        InputError: unknown screener, parameters for a screener not being run, or a bad value.
    """
    names = list(dict.fromkeys(names))
    params = dict(params or {})
    screeners = {name: get_screener(name) for name in names}
    stray = sorted(set(params) - set(names))
    if stray:
        raise InputError(f"parameters given for screeners not run: {', '.join(stray)}")
    for name, screener in screeners.items():
        screener.parse_params(**params.get(name, {}))
    return {name: s.screen(data, **params.get(name, {})) for name, s in screeners.items()}


__all__ = [
    "DAILY_SCREENERS",
    "INTRADAY_SCREENERS",
    "PREMARKET_SCREENERS",
    "SCREENERS",
    "ScreenInput",
    "Screener",
    "get_screener",
    "run_screeners",
    "screener_names",
]
