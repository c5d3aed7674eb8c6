"""Benchmark (issue 17): the walk-forward replay of the four daily screeners with outcomes, vs
running the screening step once per session.

    python -m bench.backtest [--symbols 6000] [--sessions 150] [--measure-sessions 150]
                             [--reference-sessions 3]

Ours: ``tradingstation.track.replay.run_backtest``'s daily replay (``replay_daily_rows``:
every screener evaluated on all sessions at once, the signal rows a backtest keeps) over all
``--sessions`` sessions, measured for real, outcomes included. ``--measure-sessions`` below
``--sessions`` replays only that many, evenly spaced, and extrapolates the screening linearly
(it overstates: much of a sweep's cost does not grow with the sessions). Reference: what a
session does once per session, ``find_anchors`` on the bars before it plus the four screeners
(``run_screeners``), on ``--reference-sessions`` evenly spaced sessions, extrapolated linearly.
Both sides' signal rows on the reference's sessions are compared (``agree_on_sample``). Each
side runs in its own process; peak memory is that process's ru_maxrss; CPU seconds and the
load average are recorded beside the wall time (the CPUs may be shared).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time

from bench.common import emit, peak_rss_mb, ratio, run_child, stopwatch, write_json
from bench.synth import daily_panel

SCREENERS = ("avwap_reclaim", "breakout", "ema_pullback", "exhaustion_reversal")


def spread(days: list, count: int) -> list:
    """``count`` of ``days`` evenly spaced (all when ``count`` covers them): both sides time
    the same mix of short and long histories."""
    if count >= len(days):
        return list(days)
    return [days[round(i * (len(days) - 1) / max(count - 1, 1))] for i in range(count)]


def digest(rows) -> str:
    """A fingerprint of signal rows (``signal_rows`` columns: what an outcome needs), in the
    backtest's order; equal rows, equal digests."""
    order = ["session", "screener", "symbol", "direction"]
    text = rows.sort_values(order, kind="stable").to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ours(symbols: int, sessions: int, measured: int, sample: int) -> dict:
    """The replay (screens + outcomes) over ``measured`` of the sessions, evenly spaced; the
    digest of its signals on the reference's ``sample`` sessions."""
    from tradingstation.track.paths import evaluate_signals
    from tradingstation.track.replay import WARMUP_SESSIONS, daily_sessions, replay_daily_rows

    panel = daily_panel(symbols, WARMUP_SESSIONS + sessions)
    every = daily_sessions(panel, sessions)
    days = spread(every, measured)
    load, cpu = os.getloadavg()[0], time.process_time()
    with stopwatch() as t_screen:
        found = replay_daily_rows(panel, days, SCREENERS)
    with stopwatch() as t_outcome:
        outcomes = evaluate_signals(found, panel)
    sampled = [d.isoformat() for d in spread(every, sample)]
    per_session = t_screen["seconds"] / max(len(days), 1)
    return {
        "sessions_measured": len(days),
        "screen_seconds": t_screen["seconds"],
        "outcome_seconds": t_outcome["seconds"],
        "seconds_for_all_sessions": (per_session * sessions if len(days) < sessions
                                     else t_screen["seconds"]) + t_outcome["seconds"],
        "cpu_seconds": time.process_time() - cpu,
        "loadavg_1min": [load, os.getloadavg()[0]],
        "signals": len(outcomes),
        "decided": int((outcomes["exit_reason"] != "open").sum()),
        "sample_digest": (digest(found[found["session"].isin(sampled)])
                          if set(sampled) <= {d.isoformat() for d in days} else None),
        "peak_rss_mb": peak_rss_mb(),
    }


def reference(symbols: int, sessions: int, sample: int) -> dict:
    """Anchors + the four screeners once per session, on ``sample`` sessions."""
    from tradingstation.anchors import find_anchors
    from tradingstation.calendar import get_calendar
    from tradingstation.data import point_in_time as pit
    from tradingstation.screeners import ScreenInput, run_screeners
    from tradingstation.track.paths import signal_rows
    from tradingstation.track.replay import WARMUP_SESSIONS, daily_sessions

    panel = daily_panel(symbols, WARMUP_SESSIONS + sessions)
    days = spread(daily_sessions(panel, sessions), sample)
    found = []
    load, cpu = os.getloadavg()[0], time.process_time()
    with stopwatch() as t:
        for day in days:
            as_of = get_calendar().session_times(day).market_close
            daily = pit.cut_daily(panel, as_of)
            anchors = find_anchors(pit.sessions_before(daily, day))
            data = ScreenInput(session=day, as_of=as_of, daily=daily, anchors=anchors)
            found += [s for v in run_screeners(data, SCREENERS).values() for s in v]
    return {"sessions_run": len(days), "seconds_on_sample": t["seconds"],
            "seconds_extrapolated": t["seconds"] * sessions / max(len(days), 1),
            "cpu_seconds": time.process_time() - cpu,
            "loadavg_1min": [load, os.getloadavg()[0]],
            "signals_on_sample": len(found), "sample_digest": digest(signal_rows(found)),
            "peak_rss_mb": peak_rss_mb()}


def run(symbols: int = 6000, sessions: int = 150, measured: int = 150,
        sample: int = 3) -> dict:
    """Both sides in child processes; the result also goes to bench/out/backtest.json."""
    mine = run_child("bench.backtest", "--part", "ours", "--symbols", str(symbols),
                     "--sessions", str(sessions), "--measure-sessions", str(measured),
                     "--reference-sessions", str(sample), timeout=3600)
    theirs = run_child("bench.backtest", "--part", "reference", "--symbols", str(symbols),
                       "--sessions", str(sessions), "--reference-sessions", str(sample))
    speedup = ratio(theirs["seconds_extrapolated"], mine["seconds_for_all_sessions"])
    result = {
        "benchmark": "backtest",
        "universe": {"symbols": symbols, "sessions": sessions},
        "ours": mine,
        "reference": theirs,
        "speedup_vs_reference": speedup,
        "agree_on_sample": (None if mine["sample_digest"] is None
                            else mine["sample_digest"] == theirs["sample_digest"]),
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
        emit(ours(args.symbols, args.sessions, args.measure_sessions, args.reference_sessions))
    elif args.part == "reference":
        emit(reference(args.symbols, args.sessions, args.reference_sessions))
    else:
        result = run(args.symbols, args.sessions, args.measure_sessions,
                     args.reference_sessions)
        emit({k: result[k] for k in ("speedup_vs_reference", "agree_on_sample", "goals")})


if __name__ == "__main__":
    main()
