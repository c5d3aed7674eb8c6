"""The ``tradingstation watch`` command: alert when a watched idea of the plan triggers."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import JsonOption, console, load_settings, print_json
from flows.ephemeral import run_once
from tradingstation.calendar import parse_as_of
from tradingstation.errors import InputError


def watch(
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Start time, ISO (default: now). With --speed, replays that session.")]
    = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Stop at HH:MM New York (default: the session's close).")] = None,
    speed: Annotated[float, typer.Option(
        "--speed", help="Replay speed: 60 plays an hour in a minute (1 = live).")] = 1.0,
    json_out: JsonOption = False,
) -> None:
    """Watch the session's open ideas and alert once when each changes state.

    Watch the session's open ideas (status watch) and alert once when each triggers (price reaches
    entry), is invalidated (stop first) or expires.

    Polls quotes of exactly those symbols (REALTIME_BULK_QUOTES, 100 a call; GLOBAL_QUOTE
    when the plan refuses bulk) every TS_WATCH_POLL_SECONDS, within TS_WATCH_RATE_SHARE of
    the API budget. Alerts go to the registered notification block (or TS_WEBHOOK_URL).
    Stops at the close, at --until, or on Ctrl-C / cancel; a restart resumes without
    repeating an alert.
    """
    from flows.watch import parse_until
    from flows.watch import watch as watch_flow

    instant = parse_as_of(as_of)  # bad input fails before any flow starts
    parse_until(until)
    if not 1 <= speed <= 3600:
        raise InputError(f"invalid --speed {speed!r}: between 1 and 3600")
    load_settings()
    result = run_once(watch_flow, as_of=instant, until=until, speed=speed)
    if json_out:
        print_json(result)
        return
    console.print(f"session {result['session']}: {result['status']}, "
                  f"{result['transitions']} state changes, {result['alerts']} alerts sent",
                  highlight=False)
