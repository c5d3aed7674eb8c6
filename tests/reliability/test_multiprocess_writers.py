"""Writers of the same bars in separate OS processes: retention cleanup beside forced fetches,
and premarket's fetches + a forced daily fetch + cleanup at once, on a local directory and on
S3 (moto). Measured before the fix: cleanup wrote back the bars it had read before a fetch
wrote (1,315 bars lost in one round), and in the 3-process run expired bars came back.

The fetcher processes run fetch jobs as the flows run them (``tests.support.fetching``, on
this session's Prefect server): each stage takes its dataset's lock. Cleanup runs the core
operation under the locks its flow takes (every dataset); that every flow really holds them
while it writes is ``test_every_bars_writer_holds_its_lock``.

No sleep orders the processes (file handshake): the fetchers start when cleanup has read every
bars object, just before its first write; if at that moment nothing stops another writer (no
lock held), cleanup waits for the fetchers to finish before writing back: the interleaving that
lost bars. With the lock held the fetchers wait for cleanup instead. Cleanup and fetches for the
same instant commute, so the outcome is known: the control applies them one after the other in
this process. Every round repeats the race on a fresh copy of the same seeded store.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.support.fetching import fetch_job
from tests.support.moto_server import create_bucket, moto_s3_config, running_moto_server
from tradingstation.calendar import NY, get_calendar
from tradingstation.config import Settings
from tradingstation.data.retention import retention_horizon
from tradingstation.data.universe import load_universe
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore
from tradingstation.storage.local import LocalStore
from tradingstation.storage.s3 import S3Config, S3Store
from tradingstation.upkeep.cleanup import cleanup

ROOT = Path(__file__).resolve().parents[2]
SYMBOLS = 24
ROUNDS = 3
SETTINGS = dict(demo_symbols=SYMBOLS, batch_size=8, http_concurrency=4)
COMMAND_TIMEOUT = 300

# One writer. Every process signals "writing" after its first bars write, and fetchers wait for
# cleanup's "writing" (it has read all bars by then) before they start.
DRIVER = textwrap.dedent("""
    import json, os, sys, time
    from datetime import datetime
    from tradingstation.config import Settings
    from tests.support.fetching import fetch_job
    from tradingstation.upkeep.cleanup import cleanup
    from tradingstation.providers.demo.market import DemoMarket
    from tradingstation.storage import keys
    from tradingstation.storage.local import LocalStore
    from tradingstation.storage.locks import hold_dataset_locks
    from tradingstation.storage.s3 import S3Config, S3Store

    role, where, now, handshake = sys.argv[1], json.loads(sys.argv[2]), \\
        datetime.fromisoformat(sys.argv[3]), sys.argv[4]
    settings = Settings(**json.loads(sys.argv[5]))
    base = LocalStore if "root" in where else S3Store
    marker = os.path.join(handshake, "cleanup-writing")

    fetchers = sys.argv[8].split(",")

    def wait_for(*paths):
        deadline = time.monotonic() + 120
        while not all(os.path.exists(p) for p in paths):
            assert time.monotonic() < deadline, f"handshake: no {paths} after 120 s"
            time.sleep(0.01)

    class Store(base):
        def put_bytes(self, key, data, content_type=None):
            if role == "cleanup" and key.startswith("bars/") and not os.path.exists(marker):
                # Cleanup has read every bars object. If the lock lets anyone write now, let
                # the fetchers do it all before this write: the worst order for them.
                try:
                    with hold_dataset_locks(store, keys.DATASETS, 0):
                        unguarded = True
                except TimeoutError:
                    unguarded = False
                open(marker, "w").close()
                if unguarded:
                    wait_for(*(os.path.join(handshake, f"{r}-done") for r in fetchers))
            return super().put_bytes(key, data, content_type)

    store = Store(where["root"]) if "root" in where else Store(S3Config(**where))
    if role == "cleanup":
        with hold_dataset_locks(store, keys.DATASETS, 120):
            cleanup(store, now, settings)
    else:
        wait_for(marker)  # cleanup has read the bars it will write back
        provider = DemoMarket(seed=settings.demo_seed, n_symbols=settings.demo_symbols, now=now)
        every, watchlist = sys.argv[6].split(","), sys.argv[7].split(",")
        jobs = {"fetch-1min": [("intraday_1min", every)], "fetch-daily": [("daily", None)],
                "premarket": [("daily", None), ("intraday_1min", watchlist)]}
        for job, tickers in jobs[role]:  # each takes its dataset's lock, as every flow does
            report = fetch_job(job, store, provider, now, settings, tickers=tickers,
                               refetch=True)
            assert not report.failed, report.summary()
        open(os.path.join(handshake, f"{role}-done"), "w").close()
    print("done", flush=True)
""")


def _instant(day) -> datetime:
    return datetime(day.year, day.month, day.day, 20, 0, tzinfo=NY)


def _sessions(count: int) -> list:
    calendar, days, day = get_calendar(), [], datetime(2025, 10, 20).date()
    while len(days) < count:
        day = calendar.next_session(day)
        days.append(day)
    return days


def _provider(now: datetime) -> DemoMarket:
    return DemoMarket(seed=Settings().demo_seed, n_symbols=SYMBOLS, now=now)


def _seed(store: ObjectStore, seed_now: datetime) -> list[str]:
    """Universe, daily and 1-min bars of every symbol as of ``seed_now``; the symbols."""
    for job in ("universe", "daily"):
        report = fetch_job(job, store, _provider(seed_now), seed_now, Settings(**SETTINGS))
        assert report.exit_code == 0, report.summary()
    symbols = load_universe(store)
    report = fetch_job("intraday_1min", store, _provider(seed_now), seed_now,
                           Settings(**SETTINGS), tickers=symbols)
    assert not report.failed, report.summary()
    return symbols


def _stamps(store: ObjectStore, dataset: str) -> dict[str, set[pd.Timestamp]]:
    out = {}
    for info in store.list_objects(keys.bars_prefix(dataset)):
        frame = store.get_frame(info.key)
        out[keys.symbol_from_bars_key(info.key)] = set(pd.to_datetime(frame["timestamp"],
                                                                      utc=True))
    return out


def _control(template: Path, root: Path, now: datetime, symbols: list[str]) -> dict[str, dict]:
    """Cleanup, then forced daily and 1-min fetches of every symbol, one after the other."""
    shutil.copytree(template, root)
    store, settings = LocalStore(root), Settings(**SETTINGS)
    cleanup(store, now, settings)
    out = {"cleaned_1min": _stamps(store, "1min")}
    for job in ("daily", "intraday_1min"):
        report = fetch_job(job, store, _provider(now), now, settings, tickers=symbols,
                               refetch=True)
        assert not report.failed, report.summary()
    return {**out, "1min": _stamps(store, "1min"), "daily": _stamps(store, "daily")}


def _copy_of(template: Path, target: Path, endpoint: str | None) -> tuple[ObjectStore, dict]:
    """A fresh copy of the seeded store (a directory, or a new moto bucket); (store, where)."""
    if endpoint is None:
        shutil.copytree(template, target)
        return LocalStore(target), {"root": str(target)}
    where = asdict(moto_s3_config(endpoint, create_bucket(endpoint)))
    store, seeded = S3Store(S3Config(**where)), LocalStore(template)
    for info in seeded.list_objects():
        store.put_bytes(info.key, seeded.get_bytes(info.key))
    return store, where


def _run_together(roles: list[str], where: dict, now: datetime, handshake: Path,
                  symbols: list[str], watchlist: list[str]) -> None:
    from prefect.settings import PREFECT_API_URL

    handshake.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TS_")},
           "PYTHONPATH": str(ROOT), "PREFECT_API_URL": PREFECT_API_URL.value()}
    procs = [subprocess.Popen(
        [sys.executable, "-c", DRIVER, role, json.dumps(where), now.isoformat(), str(handshake),
         json.dumps(SETTINGS), ",".join(symbols), ",".join(watchlist), ",".join(roles[1:])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        for role in roles]
    try:
        for role, proc in zip(roles, procs, strict=True):
            out, err = proc.communicate(timeout=COMMAND_TIMEOUT)
            assert proc.returncode == 0 and "done" in out, (role, err[-3000:])
    finally:  # a failed round leaves no writer behind
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def _damage(actual: dict, expected: dict, horizon: pd.Timestamp | None) -> tuple[int, int]:
    """(bars of ``expected`` missing from ``actual``, bars of ``actual`` before ``horizon``)."""
    lost = sum(len(want - actual.get(symbol, set())) for symbol, want in expected.items())
    expired = 0 if horizon is None else sum(
        sum(stamp < horizon for stamp in have) for have in actual.values())
    return lost, expired


def _writers_lose_nothing(tmp_path: Path, endpoint: str | None) -> dict:
    days = _sessions(4)
    seed_now, now = _instant(days[0]), _instant(days[3])
    horizon = retention_horizon(now, Settings(**SETTINGS))
    template = tmp_path / "seeded"
    symbols = _seed(LocalStore(template), seed_now)
    watchlist = symbols[::3]  # premarket fetches 1-min bars of its watchlist only
    control = _control(template, tmp_path / "control", now, symbols)
    lost = expired = 0
    for round_ in range(ROUNDS):
        store, where = _copy_of(template, tmp_path / f"data{round_}", endpoint)
        three = round_ == ROUNDS - 1  # the last round: premarket + forced daily fetch + cleanup
        roles = ["cleanup", "premarket", "fetch-daily"] if three else ["cleanup", "fetch-1min"]
        _run_together(roles, where, now, tmp_path / f"handshake{round_}", symbols, watchlist)
        expected = control["1min"]
        if three:
            expected = {s: control["1min"][s] if s in watchlist else bars
                        for s, bars in control["cleaned_1min"].items()}
            daily_lost, _ = _damage(_stamps(store, "daily"), control["daily"], None)
            lost += daily_lost
            assert daily_lost == 0, f"3-process run lost {daily_lost} daily bars"
        round_lost, round_expired = _damage(_stamps(store, "1min"), expected, horizon)
        assert (round_lost, round_expired) == (0, 0), (
            f"round {round_}: {round_lost} 1-min bars lost, {round_expired} expired bars back")
        lost, expired = lost + round_lost, expired + round_expired
    return {"rounds": ROUNDS - 1, "three_process_runs": 1, "symbols": SYMBOLS,
            "bars_lost": lost, "expired_bars_resurrected": expired}


@pytest.mark.slow
@pytest.mark.usefixtures("flow_runs")  # the fetchers run the flows' composition
def test_cleanup_beside_fetches_loses_no_bar_local(tmp_path: Path, record_figures) -> None:
    record_figures("writers_local", _writers_lose_nothing(tmp_path, None))


@pytest.mark.slow
@pytest.mark.usefixtures("flow_runs")  # the fetchers run the flows' composition
def test_cleanup_beside_fetches_loses_no_bar_s3(tmp_path: Path, record_figures) -> None:
    with running_moto_server() as endpoint:
        record_figures("writers_s3", _writers_lose_nothing(tmp_path, endpoint))
