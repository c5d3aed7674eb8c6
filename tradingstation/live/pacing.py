"""How often the watcher polls: its setting, bounded by its share of the API budget."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

BULK_SYMBOLS_PER_CALL = 100


def calls_per_poll(symbols: int, bulk: bool) -> int:
    """Provider calls one poll of ``symbols`` costs (bulk quotes: 100 a call; else one each)."""
    if symbols <= 0:
        return 0
    return math.ceil(symbols / BULK_SYMBOLS_PER_CALL) if bulk else symbols


def poll_interval(wanted_seconds: float, symbols: int, bulk: bool, per_minute: int,
                  share: float) -> float:
    """Seconds between polls.

    ``wanted_seconds``, or longer when the polls would spend more than ``share`` of the
    ``per_minute`` request budget (the rest stays with the session flows, which draw on the same
    limiter).
    """
    calls = calls_per_poll(symbols, bulk)
    floor = 60.0 * calls / (per_minute * share) if calls else 0.0
    return max(wanted_seconds, floor)


@dataclass
class Clock:
    """Wall clock of a watcher; a replay runs from ``start`` at ``speed`` times real time.

    Live (``speed`` 1, ``start`` = now) it is the real clock. A replay of a past session
    (``tradingstation watch --as-of … --speed 60``) compresses an hour into a minute; waits
    are compressed the same way.
    """

    start: datetime
    speed: float = 1.0
    _origin: float = field(default_factory=time.time)

    def now(self) -> datetime:
        """The current (replayed) time."""
        return self.start + timedelta(seconds=(time.time() - self._origin) * self.speed)

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of (replayed) time."""
        time.sleep(max(0.0, seconds) / self.speed)
