"""Benchmark (issue 3): fetch calls vs the minimum, achieved call rate vs the limit, throttles.

    python -m bench.fetch_rate [--fresh 300] [--stale 100] [--deep 20] [--rate 600]
                               [--latency 0.02]

Scenario (daily job, local store, the fake Alpha Vantage server over real HTTP):
``fresh`` symbols already hold the previous session (0 calls each), ``stale`` symbols miss the
last 3 sessions (1 compact call each), ``deep`` symbols miss 150 sessions (1 full call each).
The minimum is therefore ``stale + deep`` calls. The fake enforces ``rate`` requests per sliding
minute and answers each request after ``latency`` seconds. Time is scaled, not the work: real
premium plans run 75-1200 requests/min with ~0.3 s latency; the default 600/min with 20 ms
finishes in seconds while leaving each call 100 ms of the (shared, 2-core) CPU for parsing,
merging and writing, which is not scaled down with the limit.

Split figure (issue 13): the job above has no split-like move, so split detection must add no
call (``ours.splits_calls`` = 0). Then a day with one: ``split_symbols`` stale symbols one
session behind, one of which had a 4:1 split on the newest session (served as-traded, and by
``SPLITS``); the calls split detection adds that day are the ``SPLITS`` calls.

Reference run: the same symbols refetched naively (one full call per symbol, as the runbook's
scripts did) through the same client and limiter, on every 4th symbol, extrapolated linearly.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Iterator

import pandas as pd

from bench.common import emit, ratio, stopwatch, write_json
from bench.synth import BENCH_AS_OF, per_symbol_bars
from bench.synth import daily_panel as make_panel
from tests.support.fake_alphavantage import FakeAlphaVantage
from tests.support.fake_av_data import as_traded
from tests.support.fetching import fetch_job
from tradingstation.config import Settings
from tradingstation.data.ledger import ledger_row, update_ledger
from tradingstation.providers.alphavantage import AlphaVantageProvider
from tradingstation.providers.ratelimit import RateLimiter
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore

KEY = "BENCH-KEY-0000"
BEHIND = {"fresh": 0, "stale": 3, "deep": 150, "split_day": 1}
REFERENCE_EVERY = 4  # the naive refetch runs on every 4th symbol, extrapolated linearly


def _seed(store: LocalStore, bars: dict[str, pd.DataFrame], groups: dict[str, list[str]],
          now: pd.Timestamp) -> None:
    """Store each symbol's bars minus the sessions its group is behind, plus ledger rows."""
    rows = []
    for group, symbols in groups.items():
        for symbol in symbols:
            frame = bars[symbol]
            kept = frame.iloc[: len(frame) - BEHIND[group]].tail(200).reset_index(drop=True)
            store.put_frame(keys.bars_key("daily", symbol), kept)
            rows.append(ledger_row(symbol, "daily", kept, now - pd.Timedelta(days=1), "ok"))
    update_ledger(store, "daily", pd.DataFrame(rows))


def _rate_figures(fake: FakeAlphaVantage, wall: float, rate: int) -> dict:
    stamps = sorted(r.at for r in fake.requests)
    calls = len(stamps)
    span = stamps[-1] - stamps[0] if calls > 1 else 0.0
    # calls ÷ the whole job's wall time (planning, reads and writes included): the honest one
    per_min_wall = calls / wall * 60 if wall else 0.0
    # (calls - 1) ÷ time between the first and last request: the limiter's own pacing
    per_min_span = (calls - 1) / span * 60 if span else 0.0
    return {
        "calls": calls,
        "splits_calls": fake.count(function="SPLITS"),
        "throttled": fake.count(outcome="throttled"),
        "wall_seconds": round(wall, 3),
        "rate_per_min_over_wall": round(per_min_wall, 1),
        "rate_per_min_between_first_and_last_call": round(per_min_span, 1),
        "rate_vs_limit_over_wall": ratio(per_min_wall, rate),
        "rate_vs_limit_between_calls": ratio(per_min_span, rate),
        "rate_limit_bound_seconds": round(calls / rate * 60, 3),
    }


@contextlib.contextmanager
def _prefect_server() -> Iterator[None]:
    """A running Prefect server for the jobs' flow runs, as a deployment has one.

    Its start (seconds) is not part of any job's time; the flow runs' own cost is. A server
    already configured (``PREFECT_API_URL``: the test session's, for the smoke test) is used.
    """
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    if PREFECT_API_URL.value():
        yield
        return
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    with prefect_test_harness(server_startup_timeout=120):
        yield


def _job(symbols, store, fake, rate, settings, force) -> tuple[dict, object]:
    limiter = RateLimiter(rate)
    provider = AlphaVantageProvider(KEY, fake.url, limiter, timeout=10)
    fake.reset_requests()
    with stopwatch() as t:
        report = fetch_job("daily", store, provider, BENCH_AS_OF, settings,
                           tickers=symbols, refetch=force)
    figures = _rate_figures(fake, t["seconds"], rate)
    figures["limiter"] = limiter.stats()
    return figures, report


def _split_day(bars: dict[str, pd.DataFrame], symbols: list[str], rate: int,
               latency: float, settings: Settings, now: pd.Timestamp) -> dict:
    """Daily job over ``symbols`` one session behind, the first with a 4:1 split on the
    newest session: the calls split detection adds (SPLITS) next to the daily calls."""
    split_symbol = symbols[0]
    frames = dict(bars)
    day = frames[split_symbol]["timestamp"].iloc[-1].date()
    frames[split_symbol] = as_traded(frames[split_symbol], [(day, 4.0)])
    with tempfile.TemporaryDirectory(prefix="ts-bench-split-") as tmp, FakeAlphaVantage(
        KEY, per_minute=rate, latency=latency, premium=True
    ) as fake:
        for symbol in symbols:
            fake.set_daily(symbol, frames[symbol])
        fake.set_splits(split_symbol, [(day, 4.0)])
        store = LocalStore(f"{tmp}/split")
        _seed(store, frames, {"split_day": symbols}, now)
        figures, report = _job(symbols, store, fake, rate, settings, force=False)
    splits = report.details["splits"]
    return {"symbols": len(symbols), "splits": 1,
            "daily_calls": figures["calls"] - figures["splits_calls"],
            "splits_calls": figures["splits_calls"], "added_calls": figures["splits_calls"],
            "applied": splits["applied"], "wall_seconds": figures["wall_seconds"]}


def run(fresh: int = 300, stale: int = 100, deep: int = 20, rate: int = 600,
        latency: float = 0.02) -> dict:
    """Run the scenario and the naive reference; write bench/out/fetch_rate.json."""
    total = fresh + stale + deep
    panel = make_panel(total, 260, last=pd.Timestamp("2025-11-21").date())
    bars = per_symbol_bars(panel)
    symbols = panel.symbols
    groups = {"fresh": symbols[:fresh], "stale": symbols[fresh:fresh + stale],
              "deep": symbols[fresh + stale:]}
    minimum = stale + deep
    settings = Settings(_env_file=None, rate_limit_per_minute=rate, http_concurrency=8,
                        batch_size=250)
    now = pd.Timestamp(BENCH_AS_OF).tz_convert("UTC")
    with _prefect_server(), tempfile.TemporaryDirectory(prefix="ts-bench-") as tmp, \
            FakeAlphaVantage(KEY, per_minute=rate, latency=latency, premium=True) as fake:
        for symbol, frame in bars.items():
            fake.set_daily(symbol, frame)
        store = LocalStore(f"{tmp}/ours")
        _seed(store, bars, groups, now)
        ours, report = _job(symbols, store, fake, rate, settings, force=False)
        ours["outcomes"] = report.counts
        ours["planned_calls"] = report.planned_calls
        with stopwatch() as t_rerun:
            rerun, _ = _job(symbols, store, fake, rate, settings, force=False)
        rerun["wall_seconds"] = round(t_rerun["seconds"], 3)
        # the fake's sliding minute still holds our calls: stale+deep+reference stay < rate
        naive_store = LocalStore(f"{tmp}/naive")
        subset = symbols[::REFERENCE_EVERY]
        _seed(naive_store, bars, {g: [s for s in v if s in set(subset)]
                                  for g, v in groups.items()}, now)
        naive, _ = _job(subset, naive_store, fake, rate, settings, force=True)
        naive["symbols_run"] = len(subset)
        scale = len(symbols) / len(subset)
        naive["calls_extrapolated"] = round(naive["calls"] * scale)
        naive["wall_seconds_extrapolated"] = round(naive["wall_seconds"] * scale, 3)
        split_day = _split_day(bars, groups["stale"][:10], rate, latency, settings, now)
    result = {
        "benchmark": "fetch_rate",
        "scenario": {"fresh": fresh, "stale_3_sessions": stale, "deep_gap_150_sessions": deep,
                     "rate_limit_per_min": rate, "latency_seconds": latency,
                     "http_concurrency": settings.http_concurrency},
        "minimum_calls": minimum,
        "ours": ours,
        "rerun": rerun,
        "reference_full_refetch": naive,
        "splits": {"no_candidate_day_splits_calls": ours["splits_calls"],
                   "split_day": split_day},
        "ratios": {
            "calls_vs_minimum": ratio(ours["calls"], minimum),
            "calls_vs_reference": ratio(ours["calls"], naive["calls_extrapolated"]),
            "wall_vs_reference": ratio(ours["wall_seconds"], naive["wall_seconds_extrapolated"]),
            "rate_vs_limit": ours["rate_vs_limit_over_wall"],
            "reference_rate_vs_limit": naive["rate_vs_limit_over_wall"],
        },
        "goals": {
            "calls_equal_minimum": ours["calls"] == minimum,
            "rate_ge_90pct": (ours["rate_vs_limit_over_wall"] or 0) >= 0.90,
            "zero_throttles": ours["throttled"] == 0 and naive["throttled"] == 0,
            "rerun_free": rerun["calls"] == 0,
            "no_split_call_without_candidates": ours["splits_calls"] == 0,
        },
    }
    write_json("fetch_rate", result)
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.fetch_rate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", type=int, default=300)
    parser.add_argument("--stale", type=int, default=100)
    parser.add_argument("--deep", type=int, default=20)
    parser.add_argument("--rate", type=int, default=600)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args(argv)
    result = run(args.fresh, args.stale, args.deep, args.rate, args.latency)
    emit({"ratios": result["ratios"], "goals": result["goals"]})


if __name__ == "__main__":
    main()
