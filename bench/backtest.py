"""Benchmark (issue 17): the walk-forward replay of the four daily screeners with outcomes, vs
running the screening step once per session.

    python -m bench.backtest [--symbols 6000] [--sessions 150] [--measure-sessions 150]
                             [--reference-sessions 3]

Ours: ``tradingstation.track.replay.run_backtest``'s daily replay over
``--measure-sessions`` of the ``--sessions`` sessions, evenly spaced (every one when equal),
outcomes included; when fewer are measured, the screening part is extrapolated linearly to
``--sessions`` (it is one screen per session) and the outcome part is not (one vectorised
pass). Reference: what a session does once per session, ``find_anchors`` on the bars before it
plus the four screeners (``run_screeners``), on ``--reference-sessions`` evenly spaced
sessions, extrapolated linearly. Each side runs in its own process; peak memory is that
process's ru_maxrss.
"""

from __future__ import annotations

import argparse

from bench.common import emit, peak_rss_mb, ratio, run_child, stopwatch, write_json
from bench.synth import daily_panel

SCREENERS = ("avwap_reclaim", "breakout", "ema_pullback", "exhaustion_reversal")


def spread(days: list, count: int) -> list:
    """``count`` of ``days`` evenly spaced (all when ``count`` covers them): both sides time
    the same mix of short and long histories."""
    if count >= len(days):
        return list(days)
    return [days[round(i * (len(days) - 1) / max(count - 1, 1))] for i in range(count)]


def ours(symbols: int, sessions: int, measured: int) -> dict:
    """The replay (screens + outcomes) over ``measured`` of the sessions, evenly spaced."""
    from tradingstation.track.paths import evaluate_signals, signal_rows
    from tradingstation.track.replay import WARMUP_SESSIONS, daily_sessions, replay_daily

    panel = daily_panel(symbols, WARMUP_SESSIONS + sessions)
    days = spread(daily_sessions(panel, sessions), measured)
    with stopwatch() as t_screen:
        found = replay_daily(panel, days, SCREENERS)
    with stopwatch() as t_outcome:
        outcomes = evaluate_signals(signal_rows(found), panel)
    per_session = t_screen["seconds"] / max(len(days), 1)
    return {
        "sessions_measured": len(days),
        "screen_seconds": t_screen["seconds"],
        "outcome_seconds": t_outcome["seconds"],
        "seconds_for_all_sessions": per_session * sessions + t_outcome["seconds"],
        "signals": len(outcomes),
        "decided": int((outcomes["exit_reason"] != "open").sum()),
        "peak_rss_mb": peak_rss_mb(),
    }


def reference(symbols: int, sessions: int, sample: int) -> dict:
    """Anchors + the four screeners once per session, on ``sample`` sessions."""
    from tradingstation.anchors import find_anchors
    from tradingstation.calendar import get_calendar
    from tradingstation.data import point_in_time as pit
    from tradingstation.screeners import ScreenInput, run_screeners
    from tradingstation.track.replay import WARMUP_SESSIONS, daily_sessions

    panel = daily_panel(symbols, WARMUP_SESSIONS + sessions)
    days = spread(daily_sessions(panel, sessions), sample)
    signals = 0
    with stopwatch() as t:
        for day in days:
            as_of = get_calendar().session_times(day).market_close
            daily = pit.cut_daily(panel, as_of)
            anchors = find_anchors(pit.sessions_before(daily, day))
            data = ScreenInput(session=day, as_of=as_of, daily=daily, anchors=anchors)
            signals += sum(len(v) for v in run_screeners(data, SCREENERS).values())
    return {"sessions_run": len(days), "seconds_on_sample": t["seconds"],
            "seconds_extrapolated": t["seconds"] * sessions / max(len(days), 1),
            "signals_on_sample": signals, "peak_rss_mb": peak_rss_mb()}


def run(symbols: int = 6000, sessions: int = 150, measured: int = 150,
        sample: int = 3) -> dict:
    """Both sides in child processes; the result also goes to bench/out/backtest.json."""
    mine = run_child("bench.backtest", "--part", "ours", "--symbols", str(symbols),
                     "--sessions", str(sessions), "--measure-sessions", str(measured),
                     timeout=3600)
    theirs = run_child("bench.backtest", "--part", "reference", "--symbols", str(symbols),
                       "--sessions", str(sessions), "--reference-sessions", str(sample))
    speedup = ratio(theirs["seconds_extrapolated"], mine["seconds_for_all_sessions"])
    result = {
        "benchmark": "backtest",
        "universe": {"symbols": symbols, "sessions": sessions},
        "ours": mine,
        "reference": theirs,
        "speedup_vs_reference": speedup,
        "goals": {
            "wall_le_60s": mine["seconds_for_all_sessions"] <= 60,
            "peak_memory_le_2gb": mine["peak_rss_mb"] <= 2048,
            "speedup_ge_20x": (speedup or 0) >= 20,
        },
    }
    write_json("backtest", result)
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line: the whole benchmark, or one side (``--part``, used by :func:`run`)."""
    parser = argparse.ArgumentParser(prog="python -m bench.backtest", description=__doc__)
    parser.add_argument("--part", choices=("ours", "reference"))
    parser.add_argument("--symbols", type=int, default=6000)
    parser.add_argument("--sessions", type=int, default=150)
    parser.add_argument("--measure-sessions", type=int, default=150)
    parser.add_argument("--reference-sessions", type=int, default=3)
    args = parser.parse_args(argv)
    if args.part == "ours":
        emit(ours(args.symbols, args.sessions, args.measure_sessions))
    elif args.part == "reference":
        emit(reference(args.symbols, args.sessions, args.reference_sessions))
    else:
        result = run(args.symbols, args.sessions, args.measure_sessions,
                     args.reference_sessions)
        emit({k: result[k] for k in ("speedup_vs_reference", "goals")})


if __name__ == "__main__":
    main()
