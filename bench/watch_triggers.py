"""Live triggers: calls and alert delay of the watcher against the 15-minute market cycle.

300 watched ideas (published premarket) on a planted 1-min tape: most cross their entry at a
random minute (some only for one minute, between polls), some trade their stop first, some
never move. The fake Alpha Vantage serves the tape as ``REALTIME_BULK_QUOTES`` from its own
process; the watcher (the real ``Watcher``, provider, rate limiter and notification block)
polls it and posts alerts to a webhook receiver on 127.0.0.1. Time runs ``--scale`` times
faster than real time for the tape, the watcher's clock and the rate limit alike, so calls
per hour and delays are reported in session time.

Delay = alert arrival - end of the tape minute in which price reached the entry (a minute
bar shows the cross at its end; a live quote would show it up to a minute earlier).
Reference: the 15-minute market cycle (``market/default``) sees a cross at the first cycle
that starts after it and reports it when its 1-min fetch of the watchlist completes; its
fetch time is taken at the rate-limit bound (calls / rate), a lower bound.

    .venv/bin/python -m bench.watch_triggers [--ideas 300] [--rates 75,600] [--scale 60]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.common import emit, write_json
from tradingstation.calendar import ny_time

SESSION = date(2026, 12, 2)
PUBLISHED = (9, 0)
OPEN = (9, 30)
KEY = "BENCH-KEY"
CYCLE_MINUTES = 15
WATCHLIST = 300  # symbols the market cycle fetches 1-min bars for (TS_WATCHLIST_CAP)


def plant(ideas: int, window: int, seed: int = 7) -> tuple[dict, list, dict]:
    """Tapes, signals and each idea's expected fate (``{symbol: (state, minute) | None}``)."""
    from tests.support.tape import minute_bars
    from tradingstation.signals import Signal, make_signal_id

    rng = np.random.default_rng(seed)
    tapes, signals, expected = {}, [], {}
    at = ny_time(SESSION, *PUBLISHED)
    for i in range(ideas):
        symbol = f"W{i:04d}"
        kind = rng.choice(["cross", "spike", "stop", "never"], p=[0.5, 0.2, 0.1, 0.2])
        minute = int(rng.integers(3, window - 5))
        h, m = divmod(9 * 60 + 30 + minute, 60)
        moves = {}
        if kind == "cross":
            moves = {divmod(9 * 60 + 30 + k, 60): (51.3, 50.9, 51.2) for k in range(minute, window)}
        elif kind == "spike":
            moves = {(h, m): (51.05, 49.9, 50.1)}
        elif kind == "stop":
            moves = {(h, m): (50.2, 47.9, 48.5)}
        tapes[symbol] = minute_bars(50.0, moves, SESSION)
        expected[symbol] = None if kind == "never" else (
            "invalidated" if kind == "stop" else "triggered", minute)
        signals.append(Signal(
            id=make_signal_id("breakout", symbol, SESSION, "bench"), screener="breakout",
            symbol=symbol, session=SESSION, timestamp=at, direction="long", status="watch",
            score=7.0, entry=51.0, stop=48.0, targets=[54.0, 57.0, 60.0], risk_per_share=3.0,
            reasons=["bench"], data_as_of=at))
    return tapes, signals, expected


def _serve_tape(conn, tapes: dict, origin: float, scale: float, per_minute: int) -> None:
    from tests.support.fake_alphavantage import FakeAlphaVantage

    start = ny_time(SESSION, *OPEN)

    def now() -> datetime:
        return start + timedelta(seconds=(time.time() - origin) * scale)

    fake = FakeAlphaVantage(KEY, now=now, per_minute=per_minute).start()
    for symbol, bars in tapes.items():
        fake.set_tape(symbol, bars)
    conn.send(fake.url)
    conn.recv()  # stop
    conn.send([(r.function, r.outcome) for r in fake.requests])
    fake.stop()


def run_rate(rate: int, ideas: int, scale: float, window: int, poll: float) -> dict:
    """One watcher run at ``rate`` requests/minute; figures in session time."""
    from blocks.register import notification_block
    from tests.support.webhook import WebhookReceiver
    from tradingstation.live.alerts import AlertPolicy
    from tradingstation.live.pacing import Clock, poll_interval
    from tradingstation.live.watcher import Watcher
    from tradingstation.plan import RiskSettings
    from tradingstation.providers.alphavantage import AlphaVantageProvider
    from tradingstation.providers.ratelimit import RateLimiter
    from tradingstation.screeners.store import save_signals
    from tradingstation.storage.local import LocalStore

    tapes, signals, expected = plant(ideas, window)
    store = LocalStore(Path(tempfile.mkdtemp(prefix="bench-watch-")))
    save_signals(store, SESSION, "breakout", signals)
    start = ny_time(SESSION, *OPEN)
    end = start + timedelta(minutes=window)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    origin = time.time() + 3.0  # the tape starts when both sides are ready
    server = ctx.Process(target=_serve_tape,
                         args=(child, tapes, origin, scale, int(rate * scale)), daemon=True)
    server.start()
    url = parent.recv()
    arrivals: dict[str, list[float]] = {}
    with WebhookReceiver() as hook:
        block = notification_block(hook.url)
        risk = RiskSettings(equity=1e9, risk_per_trade=0.01, max_position_pct=1.0,
                            max_open_risk=1.0)
        provider = AlphaVantageProvider(KEY, url, RateLimiter(int(rate * scale)), timeout=10)
        watcher = Watcher(store, provider, SESSION, risk, AlertPolicy(session_cap=10_000),
                          lambda subject, body: block.notify(body, subject))
        time.sleep(max(0.0, origin - time.time()))
        clock = Clock(start, speed=scale, _origin=origin)
        polls, busy = 0, 0.0
        while (now := clock.now()) < end:
            began = time.perf_counter()
            report = watcher.poll(now)
            busy += time.perf_counter() - began
            polls += 1
            clock.sleep(poll_interval(poll, report.open, True, rate, 0.10))
        seen = hook.received_at()
    parent.send("stop")
    requests = parent.recv()
    server.join(timeout=10)
    for body, at in seen:
        symbol = json.loads(body)["text"].split()[0]
        arrivals.setdefault(symbol, []).append(start.timestamp() + (at - origin) * scale)
    return _figures(rate, ideas, scale, window, poll, expected, arrivals, requests, polls, busy)


def _figures(rate, ideas, scale, window, poll, expected, arrivals, requests, polls, busy) -> dict:
    start = ny_time(SESSION, *OPEN).timestamp()
    due = {s: v for s, v in expected.items() if v is not None}
    delays, reference = [], []
    for symbol, (_, minute) in due.items():
        visible = start + (minute + 1) * 60  # end of the crossing minute
        if symbol in arrivals:
            delays.append(min(arrivals[symbol]) - visible)
        cycle = math.ceil((minute + 1) / CYCLE_MINUTES) * CYCLE_MINUTES
        fetch = WATCHLIST / rate * 60
        reference.append(start + cycle * 60 + fetch - visible)
    calls = sum(1 for f, _ in requests if f == "REALTIME_BULK_QUOTES")
    hours = window / 60
    return {
        "rate_per_min": rate, "ideas": ideas, "scale": scale, "window_minutes": window,
        "poll_seconds": poll, "polls": polls,
        "watcher": {
            "calls": calls, "calls_per_hour": round(calls / hours, 1),
            "share_of_plan_budget": round(calls / hours / (rate * 60), 4),
            "throttled": sum(1 for _, o in requests if o != "ok"),
            "alerts_expected": len(due), "alerts_received": sum(len(v) for v in arrivals.values()),
            "missed": sorted(set(due) - set(arrivals)),
            "duplicates": sorted(s for s, v in arrivals.items() if len(v) > 1),
            "unexpected": sorted(set(arrivals) - set(due)),
            "delay_median_s": round(float(np.median(delays)), 1) if delays else None,
            "delay_p95_s": round(float(np.percentile(delays, 95)), 1) if delays else None,
            "poll_compute_ms": round(busy / max(polls, 1) * 1000, 1),
        },
        "market_cycle_reference": {
            "calls_per_hour": WATCHLIST * (60 // CYCLE_MINUTES),
            "delay_median_s": round(float(np.median(reference)), 1),
            "delay_p95_s": round(float(np.percentile(reference, 95)), 1),
        },
    }


def run(ideas: int, rates: list[int], scale: float, window: int, poll: float) -> dict:
    """Run the benchmark at each rate and write bench/out/watch_triggers.json."""
    runs = [run_rate(rate, ideas, scale, window, poll) for rate in rates]
    first = runs[0]["watcher"]
    result = {
        "runs": runs,
        "goals": {
            "p95_le_60s_at_75": first["delay_p95_s"] is not None and first["delay_p95_s"] <= 60,
            "calls_le_10pct_of_budget": all(
                r["watcher"]["share_of_plan_budget"] <= 0.10 for r in runs),
            "none_missed_or_duplicated": all(
                not r["watcher"]["missed"] and not r["watcher"]["duplicates"]
                and not r["watcher"]["unexpected"] for r in runs),
        },
    }
    write_json("watch_triggers", result)
    return result


def main(argv: list[str] | None = None) -> dict:
    """Command line: ``python -m bench.watch_triggers [...]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.watch_triggers", description=__doc__)
    parser.add_argument("--ideas", type=int, default=300)
    parser.add_argument("--rates", default="75,600")
    parser.add_argument("--scale", type=float, default=30.0)
    parser.add_argument("--window", type=int, default=120, help="session minutes replayed")
    parser.add_argument("--poll", type=float, default=30.0, help="TS_WATCH_POLL_SECONDS")
    args = parser.parse_args(argv)
    return run(args.ideas, [int(r) for r in args.rates.split(",")], args.scale, args.window,
               args.poll)


if __name__ == "__main__":
    emit(main())
