"""Benchmark (issue 9): the premarket session flow for the whole universe, end to end.

    python -m bench.session [--symbols 6000] [--rate 900] [--latency 0.02]
                            [--naive-every 50]

Real parts: the premarket and market flows (flows/) under a temporary Prefect server, the
Alpha Vantage client against the fake server (real HTTP on 127.0.0.1, per-minute limit,
per-request latency), and an S3 store on moto's server. Only the store and provider resolution
is redirected to those (``flows.session.resolve_store/resolve_provider``), and task bodies are
wrapped with timers to tell our code's time from Prefect's. See bench/world.py for the state
before the run and bench/naive.py for the reference.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
from datetime import datetime

import pandas as pd

from bench.common import emit, peak_rss_mb, ratio, stopwatch, write_json
from bench.remote_fake import RemoteFake
from bench.stores import CountingStore
from bench.synth import BENCH_AS_OF, BENCH_SESSION
from bench.world import Intervals, moto_process, seed_world

KEY = "BENCH-KEY-0000"
MARKET_AS_OF = datetime(2025, 11, 24, 9, 50, tzinfo=BENCH_AS_OF.tzinfo)
FETCH_TASKS = {"fetch-universe", "fetch-batch", "fetch-quotes"}


def _environment(tmp: str, rate: int) -> None:
    os.environ.update({
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
        "TS_DATA_DIR": f"{tmp}/data",
        "TS_RATE_LIMIT_PER_MINUTE": str(rate),
        "TS_HTTP_CONCURRENCY": "8",
        "TS_BATCH_SIZE": "250",
        "TS_WATCHLIST_CAP": "300",
        "TS_TASK_BACKOFF_SECONDS": "0",
        "TS_LOG_LEVEL": "WARNING",
    })
    from tradingstation.config import get_settings

    get_settings.cache_clear()


def _instrument(timer: Intervals) -> None:
    """Time every task body and the flows' own helpers (our code), in place."""
    from prefect import Task

    import flows.market
    import flows.premarket
    import tasks.analysis
    import tasks.data
    import tasks.plan
    import tasks.report

    for module in (tasks.data, tasks.analysis, tasks.plan, tasks.report):
        for obj in vars(module).values():
            if isinstance(obj, Task) and not getattr(obj.fn, "_bench_timed", False):
                obj.fn = timer.wrap(obj.name, obj.fn)
                obj.fn._bench_timed = True
    for module in (flows.premarket, flows.market):
        for name in ("start_session", "publish"):
            setattr(module, name, timer.wrap(name, getattr(module, name)))


def _task_runs(flow_run_id) -> dict:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs: list = []
    with get_client(sync_client=True) as client:
        while True:  # the API pages at 200
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                limit=200, offset=len(runs),
            )
            runs.extend(page)
            if len(page) < 200:
                break
    names: dict[str, int] = {}
    for r in runs:
        base = r.task_key.rsplit("-", 1)[0] if r.task_key else r.name
        names[base] = names.get(base, 0) + 1
    return {"total": len(runs), "by_task": names}


def _calls(fake, since: int = 0) -> dict:
    reqs = fake.requests[since:]
    by_fn: dict[str, int] = {}
    spans = []
    for fn in sorted({r.function for r in reqs}):
        at = sorted(r.at for r in reqs if r.function == fn)
        by_fn[fn] = len(at)
        if len(at) > 1:
            spans.append((len(at) - 1, at[-1] - at[0]))
    paced = sum(n for n, _ in spans) / sum(s for _, s in spans) * 60 if spans else 0.0
    return {"calls": len(reqs), "by_function": by_fn,
            "throttled": sum(1 for r in reqs if r.outcome == "throttled"),
            "paced_rate_per_min": round(paced, 1)}


def _run_flow(flow_fn, as_of, timer: Intervals) -> dict:
    timer.reset()
    with stopwatch() as t:
        state = flow_fn(as_of=as_of, return_state=True)
    result = state.result()
    ours = timer.union_seconds()
    by_name = timer.by_name()
    compute = sum(v for k, v in by_name.items() if k not in FETCH_TASKS)
    return {"wall_seconds": round(t["seconds"], 3), "result": result,
            "our_code_seconds": round(ours, 3), "task_seconds": by_name,
            "compute_seconds": round(compute, 3),
            "prefect_share": ratio(t["seconds"] - ours, t["seconds"]),
            "task_runs": _task_runs(state.state_details.flow_run_id)}


def log(message: str) -> None:
    """Progress on stderr (stdout carries the result)."""
    print(f"[bench.session {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _phase(flow_fn, as_of, timer, fake, store, rate, minimum=None) -> dict:
    log(f"{flow_fn.name} as of {as_of}")
    since = len(fake.requests)
    store.reset()
    out = _run_flow(flow_fn, as_of, timer)
    out.update(_calls(fake, since))
    out["storage"] = store.snapshot()
    out["rewritten_keys"] = sorted(store.writes_by_key)
    bound = out["calls"] / rate * 60
    out["rate_limit_bound_seconds"] = round(bound, 3)
    out["rate_vs_limit_over_wall"] = ratio(out["calls"] / out["wall_seconds"] * 60, rate)
    out["paced_rate_vs_limit"] = ratio(out["paced_rate_per_min"], rate)
    out["wall_vs_bound_plus_compute"] = ratio(out["wall_seconds"], bound + out["compute_seconds"])
    out["wall_vs_bound"] = ratio(out["wall_seconds"], bound)
    if minimum is not None:
        out["minimum_calls"] = minimum
    return out


def _cycle_minimum(result: dict) -> dict:
    """The market cycle's minimum calls (issue 18 #4): ceil(watchlist / 100) bulk session
    quotes + one 1-min call per symbol needing minutes (ORB candidates, AVWAP reclaims to
    confirm); universe and daily bars are fresh. Before: one 1-min call per watchlist symbol."""
    needs = result["minute_symbols"]
    minutes = len({*needs["orb"], *needs["avwap_reclaim"]})
    quotes = math.ceil(len(result["watchlist"]) / 100)
    return {"minimum_calls": quotes + minutes, "quote_calls_minimum": quotes,
            "minute_symbols": {"orb": len(needs["orb"]),
                               "avwap_reclaim": len(needs["avwap_reclaim"]), "total": minutes},
            "calls_before": len(result["watchlist"])}


def _load_times(s3_inner, local, symbols: list[str], cold_every: int = 4) -> dict:
    """Load the universe's daily bars from S3 (moto) and from a local copy of the same objects:
    warm, as a session does (listing + a valid snapshot), and cold (each object read, no
    snapshot; on every ``cold_every``-th symbol: reading all of them from moto takes a minute)."""
    from tradingstation.data.panel_store import load_panel

    sample = symbols[::cold_every]
    out: dict = {"symbols": len(symbols), "cold_symbols": len(sample)}
    panels = {}
    for name, store in (("local", local), ("s3", s3_inner)):
        with stopwatch() as cold:
            sampled = load_panel(store, "daily", sample)
        load_panel(store, "daily")  # makes sure the snapshot matches the objects
        with stopwatch() as warm:
            panels[name] = load_panel(store, "daily")
        out[f"{name}_cold_seconds"] = round(cold["seconds"], 3)
        out[f"{name}_seconds"] = round(warm["seconds"], 3)
        out[f"{name}_same"] = sampled.close.equals(panels[name].select(sample).close)
    out["same_panel"] = bool(panels["local"].close.equals(panels["s3"].close)
                             and out["local_same"] and out["s3_same"])
    out["s3_vs_local"] = ratio(out["s3_seconds"], out["local_seconds"])
    out["s3_vs_local_cold"] = ratio(out["s3_cold_seconds"], out["local_cold_seconds"])
    return out


def _naive(endpoint, rate, latency, world, watchlist, every, timer) -> dict:
    from bench.naive import naive_premarket
    from tests.support.fake_alphavantage import FakeAlphaVantage
    from tests.support.moto_server import create_bucket, moto_s3_config
    from tradingstation.providers.alphavantage import AlphaVantageProvider
    from tradingstation.providers.ratelimit import RateLimiter
    from tradingstation.storage.s3 import S3Store

    subset = world["symbols"][::every]
    watch = [s for s in subset if s in set(watchlist)]
    store = S3Store(moto_s3_config(endpoint, create_bucket(endpoint)))
    with FakeAlphaVantage(KEY, per_minute=rate, latency=latency, premium=True,
                          now=lambda: pd.Timestamp(BENCH_AS_OF).to_pydatetime()) as fake:
        provider = AlphaVantageProvider(KEY, fake.url, RateLimiter(rate), timeout=10)
        with stopwatch() as t:
            state = naive_premarket(store, provider, subset, watch, return_state=True)
        state.result()
        calls = _calls(fake)
    runs = _task_runs(state.state_details.flow_run_id)
    scale = len(world["symbols"]) / len(subset)
    return {"symbols_run": len(subset), "watchlist_run": len(watch), "scale": scale,
            "wall_seconds": round(t["seconds"], 3), **calls, "task_runs": runs,
            "extrapolated": {"calls": round((calls["calls"] - 1) * scale + 1),
                             "wall_seconds": round(t["seconds"] * scale, 1),
                             "task_runs": round(runs["total"] * scale)}}


def run(symbols: int = 6000, rate: int = 900, latency: float = 0.02, naive_every: int = 50
        ) -> dict:
    """The whole session benchmark; writes bench/out/session.json."""
    from prefect.testing.utilities import prefect_test_harness

    from tests.support.moto_server import create_bucket, moto_s3_config
    from tradingstation.providers.alphavantage import AlphaVantageProvider
    from tradingstation.providers.ratelimit import RateLimiter
    from tradingstation.storage.local import LocalStore
    from tradingstation.storage.s3 import S3Store

    timer = Intervals()
    with tempfile.TemporaryDirectory(prefix="ts-bench-") as tmp, moto_process() as ep:
        _environment(tmp, rate)
        inner = S3Store(moto_s3_config(ep, create_bucket(ep)))
        log("seeding the store")
        local = LocalStore(f"{tmp}/local-copy")
        world = seed_world(inner, symbols, BENCH_SESSION, mirror=local)
        log(f"seeded {symbols} symbols in {world['seed_seconds']:.1f}s")
        store = CountingStore(inner)
        as_of = pd.Timestamp(BENCH_AS_OF).tz_convert("UTC")
        with RemoteFake(world, BENCH_SESSION, as_of, rate, latency, KEY) as fake:
            import flows.session
            from flows.market import market
            from flows.premarket import premarket

            flows.session.resolve_store = lambda settings: store
            flows.session.resolve_provider = lambda settings, now: AlphaVantageProvider(
                KEY, fake.url, RateLimiter(rate), timeout=10)
            _instrument(timer)
            with prefect_test_harness(server_startup_timeout=120):
                # moto's werkzeug access log, routed through Prefect's console handler, would
                # cost more CPU than the requests themselves
                logging.getLogger("werkzeug").disabled = True
                first = _phase(premarket, BENCH_AS_OF, timer, fake, store, rate)
                watchlist = first["result"]["watchlist"]
                first["minimum_calls"] = 1 + math.ceil(symbols / 100) + len(watchlist)
                rerun = _phase(premarket, BENCH_AS_OF, timer, fake, store, rate)
                fake.bench_now = pd.Timestamp(MARKET_AS_OF).tz_convert("UTC")
                cycle = _phase(market, MARKET_AS_OF, timer, fake, store, rate)
                cycle.update(_cycle_minimum(cycle["result"]))
                log("naive reference")
                naive = _naive(ep, rate, latency, world, watchlist, naive_every, timer)
        log("daily load S3 vs local")
        loads = _load_times(inner, local, world["symbols"])
    for phase in (first, rerun, cycle):
        phase["result"] = {k: v for k, v in phase["result"].items()
                           if k in ("status", "session", "signals", "failed_symbols")}
    result = {
        "benchmark": "session",
        "scenario": {"symbols": symbols, "rate_limit_per_min": rate, "latency_seconds": latency,
                     "premarket_as_of": BENCH_AS_OF.isoformat(),
                     "market_as_of": MARKET_AS_OF.isoformat(), "watchlist": len(watchlist),
                     "seed_seconds": round(world["seed_seconds"], 1)},
        "premarket": first, "rerun": rerun, "market_cycle": cycle, "naive_reference": naive,
        "daily_load": loads, "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    write_json("session", result)
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.session", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=6000)
    parser.add_argument("--rate", type=int, default=900)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--naive-every", type=int, default=50)
    args = parser.parse_args(argv)
    result = run(args.symbols, args.rate, args.latency, args.naive_every)
    emit({k: result[k] for k in ("peak_rss_mb",)})


if __name__ == "__main__":
    main()
