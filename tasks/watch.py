"""Watcher tasks: one poll of the live-trigger watcher, and where its alerts go."""

from __future__ import annotations

import logging
from datetime import datetime

from prefect import task
from prefect.blocks.core import Block
from prefect.cache_policies import NO_CACHE

from blocks.register import NOTIFICATION_BLOCK, NOTIFICATION_TYPES, notification_block
from tasks.policy import retry_options, run_ids
from tradingstation import logs
from tradingstation.config import Settings
from tradingstation.live.watcher import PollReport, Send, Watcher

log = logging.getLogger("tradingstation.tasks")


def alert_sender(settings: Settings) -> tuple[Send | None, str]:
    """Where trigger alerts go: the registered notification block, else ``TS_WEBHOOK_URL``.

    Returns:
        ``(send, description)``; ``send`` is None when neither is configured.
    """
    block = _registered_block()
    if block is not None:
        return _sender(block), f"block {NOTIFICATION_BLOCK}"
    if settings.webhook_url is not None:
        return _sender(notification_block(settings.webhook_url.get_secret_value())), \
            "TS_WEBHOOK_URL"
    return None, "none configured: triggers are journaled only"


def _registered_block() -> Block | None:
    for slug in NOTIFICATION_TYPES:
        try:
            return Block.load(f"{slug}/{NOTIFICATION_BLOCK}")
        except (ValueError, RuntimeError):
            continue  # not registered (or no API to ask): try the next type
    return None


def _sender(block: Block) -> Send:
    def send(subject: str, body: str) -> None:
        block.notify(body, subject)

    return send


@task(name="watch-poll", cache_policy=NO_CACHE, **retry_options())
def poll_ideas(watcher: Watcher, now: datetime) -> PollReport:
    """Quote the open ideas, journal their state changes and send their alerts.

    Retrying is safe: recorded events are not recorded again and delivered alerts are not
    delivered again (see ``tradingstation.live.journal``).
    """
    with logs.set_run_context(**run_ids()):
        report = watcher.poll(now)
        if report.transitions or report.alerts:
            log.info("watch %s: %d open of %d, %d changes, %d alerts handled",
                     now.isoformat(timespec="seconds"), report.open, report.watched,
                     len(report.transitions), len(report.alerts))
        return report
