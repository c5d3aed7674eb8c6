"""Benchmark (issue 17): what the live track-record update adds to the daily flow.

    python -m bench.track_update [--symbols 6000] [--signal-sessions 20] [--per-session 40]

A local store with ``--symbols`` symbols of daily bars (250 sessions, ``bench/synth.py``) and
``--per-session`` published signals on each of the last ``--signal-sessions`` sessions. Timed:
the daily flow's storage-bound steps (``verify_store`` with its re-read of every object, and
retention ``cleanup``), and ``update_live_record`` twice: the first run (every signal new) and
the steady state (the next evening: one session's signals new, the rest resolved or pending).
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta

import numpy as np

from bench.common import emit, stopwatch, write_json
from bench.synth import BENCH_SESSION, daily_panel, per_symbol_bars


def _signals(panel, sessions: int, per_session: int) -> dict:
    from tradingstation.calendar import ny_time
    from tradingstation.signals import Signal, make_signal_id

    rng = np.random.default_rng(17)
    out = {}
    for stamp in panel.index[-sessions:]:
        day = stamp.date()
        at = ny_time(day, 16, 0)
        picks = rng.choice(panel.symbols, per_session, replace=False)
        found = []
        for symbol in sorted(picks):
            close = round(float(panel.close.at[stamp, symbol]), 2)
            stop = round(close * 0.95, 2)
            found.append(Signal(
                id=make_signal_id("breakout", symbol, day, "bench"), screener="breakout",
                symbol=symbol, session=day, timestamp=at, direction="long",
                status="triggered", score=8.0, entry=close, stop=stop,
                targets=[round(close + 2 * (close - stop), 2)],
                risk_per_share=round(close - stop, 2), data_as_of=at))
        out[day] = found
    return out


def run(symbols: int = 6000, signal_sessions: int = 20, per_session: int = 40) -> dict:
    """Seed a store, time the daily steps and the update; write bench/out/track_update.json."""
    from tradingstation.calendar import get_calendar
    from tradingstation.config import Settings
    from tradingstation.screeners.store import save_signals
    from tradingstation.storage import keys
    from tradingstation.storage.local import LocalStore
    from tradingstation.track.run import update_live_record
    from tradingstation.upkeep.cleanup import cleanup
    from tradingstation.upkeep.verify import verify_store

    panel = daily_panel(symbols, 250)
    with tempfile.TemporaryDirectory() as root:
        store = LocalStore(root)
        for symbol, frame in per_symbol_bars(panel).items():
            store.put_frame(keys.bars_key("daily", symbol), frame)
        published = _signals(panel, signal_sessions, per_session)
        last = max(published)
        for day, signals in published.items():
            if day != last:
                save_signals(store, day, "breakout", signals)
        now = get_calendar().session_times(BENCH_SESSION).market_close + timedelta(hours=5)
        settings = Settings(retention_daily_sessions=400)
        with stopwatch() as t_verify:
            verify_store(store, now, settings)
        with stopwatch() as t_cleanup:
            cleanup(store, now, settings)
        with stopwatch() as t_first:
            first = update_live_record(store, now - timedelta(days=1))
        save_signals(store, last, "breakout", published[last])
        with stopwatch() as t_steady:
            steady = update_live_record(store, now)
    daily = t_verify["seconds"] + t_cleanup["seconds"]
    result = {
        "benchmark": "track_update",
        "universe": {"symbols": symbols, "signal_sessions": signal_sessions,
                     "signals": signal_sessions * per_session},
        "daily_steps_seconds": {"verify": t_verify["seconds"], "cleanup": t_cleanup["seconds"]},
        "update_first_seconds": t_first["seconds"], "first": first.to_dict(),
        "update_steady_seconds": t_steady["seconds"], "steady": steady.to_dict(),
        "steady_share_of_daily_steps": t_steady["seconds"] / daily,
        "goals": {"steady_le_5pct": t_steady["seconds"] / daily <= 0.05},
    }
    write_json("track_update", result)
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.track_update", description=__doc__)
    parser.add_argument("--symbols", type=int, default=6000)
    parser.add_argument("--signal-sessions", type=int, default=20)
    parser.add_argument("--per-session", type=int, default=40)
    args = parser.parse_args(argv)
    result = run(args.symbols, args.signal_sessions, args.per_session)
    emit({k: result[k] for k in ("steady_share_of_daily_steps", "goals")})


if __name__ == "__main__":
    main()
