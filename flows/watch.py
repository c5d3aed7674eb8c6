"""Watcher flow (09:30-16:00 New York): alert when a watched idea of the plan triggers.

python flows/watch.py                      # today's session, live
python flows/watch.py --as-of 2026-12-02T09:30-05:00 --speed 60   # replay a session
"""

from __future__ import annotations

import argparse
from datetime import datetime, time

from prefect import flow

from blocks.resolve import resolve_provider, resolve_store
from flows.ephemeral import run_once
from flows.runs import names_failed_task, session_run_name
from flows.session import configure_run_logging
from tasks.watch import alert_sender, poll_ideas
from tradingstation.calendar import NY, get_calendar, parse_as_of
from tradingstation.config import get_settings
from tradingstation.errors import InputError
from tradingstation.live.alerts import AlertPolicy
from tradingstation.live.pacing import Clock, poll_interval
from tradingstation.live.watcher import Watcher
from tradingstation.plan import RiskSettings


def parse_until(until: str | None) -> time | None:
    """``HH:MM`` (New York) or None.

    Raises:
        InputError: Not a time of day.
    """
    if until is None:
        return None
    try:
        return time.fromisoformat(until)
    except ValueError:
        raise InputError(f"invalid --until {until!r}: expected HH:MM (New York)") from None


@flow(name="watch", log_prints=True, flow_run_name=session_run_name("watch"))
@names_failed_task
def watch(as_of: datetime | None = None, until: str | None = None, speed: float = 1.0) -> dict:
    """Watch the session's open ideas until the close (or ``until``) and alert on triggers.

    Args:
        as_of: Start time (default now); with ``speed`` > 1 a past session is replayed.
        until: Stop at this New York time (default: the session's close).
        speed: Replay speed (1 = live).

    Returns:
        Summary: session, ideas watched, state changes and alerts.
    """
    if not 1 <= speed <= 3600:
        raise InputError(f"invalid speed {speed!r}: between 1 and 3600")
    stop_at = parse_until(until)
    start = parse_as_of(as_of)
    settings = get_settings()
    configure_run_logging(settings)
    calendar = get_calendar()
    session = calendar.session_for(start)
    if session is None:
        return {"status": "market closed", "session": None, "transitions": 0, "alerts": 0}
    times = calendar.session_times(session)
    end = times.market_close
    if stop_at is not None:
        end = min(end, datetime.combine(session, stop_at, NY))
    store = resolve_store(settings)
    send, destination = alert_sender(settings)
    clock = Clock(start, speed)
    watcher = Watcher(store, resolve_provider(settings, start), session,
                      RiskSettings.from_settings(settings),
                      AlertPolicy.parse(settings.watch_quiet_hours, settings.watch_alert_cap),
                      send, settings.dashboard_url)
    print(f"watching session {session} until {end.astimezone(NY):%H:%M} New York; "
          f"alerts: {destination}")
    transitions = alerts = polls = 0
    demo = watcher.provider.is_demo
    while (now := clock.now()) < end:
        if demo:  # the demo market is generated up to a moment: move it with the clock
            watcher.provider = resolve_provider(settings, now)
        report = poll_ideas(watcher, now)
        for event in report.transitions:
            print(f"{now.astimezone(NY):%H:%M:%S} {event['symbol']} {event['direction']} "
                  f"{event['state']} at {event['price']:.2f}")
        for record in report.alerts:
            print(f"alert {record['outcome']}: {record['symbol']} {record['state']}")
        polls += 1
        transitions += len(report.transitions)
        alerts += sum(1 for a in report.alerts if a["outcome"] == "sent")
        bulk = getattr(watcher.provider, "bulk_quotes_available", True)
        clock.sleep(poll_interval(settings.watch_poll_seconds, report.open, bool(bulk),
                                  settings.rate_limit_per_minute, settings.watch_rate_share))
    return {"status": "completed", "session": session.isoformat(), "polls": polls,
            "transitions": transitions, "alerts": alerts}


def main(argv: list[str] | None = None) -> dict:
    """``python flows/watch.py [--as-of T] [--until HH:MM] [--speed N]``."""
    parser = argparse.ArgumentParser(prog="flows/watch.py", description=__doc__.split("\n")[0])
    parser.add_argument("--as-of", help="start time, ISO (default: now)")
    parser.add_argument("--until", help="stop at HH:MM New York (default: the close)")
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = live)")
    args = parser.parse_args(argv)
    as_of = parse_as_of(args.as_of)
    parse_until(args.until)
    result = run_once(watch, as_of=as_of, until=args.until, speed=args.speed)
    print(result)
    return result


if __name__ == "__main__":
    main()
