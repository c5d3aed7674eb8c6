"""Shared pieces of the live-trigger tests: the planted store, an outbox, a poll loop."""

from __future__ import annotations

from datetime import timedelta

from tests.support import tape
from tradingstation.calendar import ny_time
from tradingstation.live.alerts import AlertPolicy
from tradingstation.live.watcher import Watcher
from tradingstation.plan import RiskSettings
from tradingstation.screeners.store import save_signals
from tradingstation.storage.local import LocalStore

RISK = RiskSettings(equity=100_000, risk_per_trade=0.01, max_position_pct=0.25,
                    max_open_risk=0.5)


class Outbox:
    """Records every alert; can be told to fail the next sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail_next = 0

    def __call__(self, subject: str, body: str) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("webhook unreachable")
        self.sent.append((subject, body))

    def fates(self) -> list[tuple[str, str]]:
        return [(b.split()[0], b.split("\n")[0].split()[2].lower()) for _, b in self.sent]


def make_watcher(store, provider, outbox, policy: AlertPolicy | None = None) -> Watcher:
    return Watcher(store, provider, tape.SESSION, RISK, policy or AlertPolicy(), outbox,
                   "https://dash.example/index.html")


def run(watcher: Watcher, provider, start: tuple[int, int], end: tuple[int, int],
        every: int = 1) -> None:
    now = ny_time(tape.SESSION, *start)
    stop = ny_time(tape.SESSION, *end)
    while now <= stop:
        provider.now = now
        watcher.poll(now)
        now += timedelta(minutes=every)




def planted_store(root) -> LocalStore:
    """A local store holding the planted session's signals."""
    local = LocalStore(root)
    by_screener: dict[str, list] = {}
    for signal in tape.signals():
        by_screener.setdefault(signal.screener, []).append(signal)
    for screener, found in by_screener.items():
        save_signals(local, tape.SESSION, screener, found)
    return local
