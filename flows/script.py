"""``python flows/<mode>.py``: run one session flow once from the command line."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC

from flows.ephemeral import run_once
from flows.session import example_instant
from tradingstation.calendar import NY, get_calendar, parse_as_of
from tradingstation.errors import InputError

# What the session flows' old ``force`` meant is two options now; typing it names them.
FORCE_SPLIT = ("--force is split in two: --allow-closed (run on a closed day: the last session) "
               "and --refetch (refetch data that is already fresh)")


def script_args(mode: str, argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments of ``python flows/<mode>.py``."""
    parser = argparse.ArgumentParser(
        prog=f"flows/{mode}.py",
        description=f"Run the {mode} flow once, locally (Prefect ephemeral mode).",
    )
    parser.add_argument("--as-of", help="ISO time, e.g. 2025-11-24T08:45-05:00 (default: now)")
    parser.add_argument("--allow-closed", action="store_true",
                        help="on a closed day, run the last session (default for this script: "
                             "it shows the last session as of the usual time)")
    parser.add_argument("--refetch", action="store_true",
                        help="refetch data that is already fresh")
    parser.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.force:
        parser.exit(2, f"error: {FORCE_SPLIT}\n")
    return args


def run_script(flow_fn, mode: str, printer, argv: list[str] | None = None) -> dict:
    """Run ``flow_fn`` once from the command line.

    ``python flows/<mode>.py [--as-of T] [--allow-closed] [--refetch]``; a bad ``--as-of`` fails
    before Prefect starts.
    """
    # Offline, the temporary server's telemetry only logs "Failed to send telemetry" errors.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    args = script_args(mode, argv)
    try:
        as_of = parse_as_of(args.as_of)  # a bad --as-of fails here, before Prefect starts
    except InputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from None
    calendar = get_calendar()
    if not args.allow_closed and calendar.session_for(as_of) is None:
        # A script run is someone wanting to see the flow work (./dev premarket on a Sunday):
        # show the last session rather than a "market closed" note.
        day = as_of.astimezone(NY).date()
        last = calendar.previous_session(day)
        shown = example_instant(mode, last)
        as_of = shown.astimezone(UTC)
        sys.stderr.write(f"market closed on {day.isoformat()} ({day:%A}): showing the last "
                         f"session, {last.isoformat()}, as of {shown:%H:%M} New York\n")
    options = {"allow_closed": args.allow_closed}
    if mode != "daily":
        options["refetch"] = args.refetch
    result = run_once(flow_fn, as_of=as_of, **options)
    printer(result)
    return result
