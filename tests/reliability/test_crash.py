"""Crash consistency: a fetch-and-anchors session in a child process, SIGKILLed at a random
point of its work, then verify and a rerun, over 20+ trials on one local data directory.

Each trial runs the session one trading day later than the last, so every trial rewrites every
bars object and the ledger (a kill lands among real writes). The kill comes right after a
randomly chosen bars write of the child (see ``tests.reliability.killable``), while its other
worker threads are mid-write. After each kill: no object is unreadable or fails its hash, no bar
stored before the trial is missing, and rerunning the same session (a fetch job as the flows run
it) completes and leaves a clean store.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.support.fetching import fetch_job
from tradingstation.calendar import NY, get_calendar
from tradingstation.config import Settings
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.storage.local import LocalStore
from tradingstation.upkeep.verify import verify_store

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("flow_runs")]

TRIALS = 20
SYMBOLS = 20
ROOT = Path(__file__).resolve().parents[2]
# Retention beyond the demo history (400 sessions) + the trials: only a defect drops a bar.
SETTINGS = dict(batch_size=10, http_concurrency=4, demo_symbols=SYMBOLS,
                retention_daily_sessions=450)
DATA_FAULTS = {"unreadable", "hash_mismatch", "invalid_bars", "invalid_json"}

DRIVER = textwrap.dedent("""
    import json
    import sys
    from datetime import datetime
    from tradingstation.anchors import find_anchors
    from tradingstation.config import Settings
    from tests.reliability.killable import write_fetch_job
    from tradingstation.data.panel_store import load_panel
    from tradingstation.providers.demo.market import DemoMarket
    from tradingstation.storage import keys
    from tradingstation.storage.local import LocalStore

    class Store(LocalStore):
        def put_bytes(self, key, data, content_type=None):
            info = super().put_bytes(key, data, content_type)
            if key.startswith("bars/"):
                print("progress", flush=True)
            return info

    root, now, settings = sys.argv[1], datetime.fromisoformat(sys.argv[2]), sys.argv[3]
    settings = Settings(**json.loads(settings))
    store = Store(root)
    provider = DemoMarket(seed=settings.demo_seed, n_symbols=settings.demo_symbols, now=now)
    print("ready", flush=True)
    write_fetch_job("universe", store, provider, now, settings)
    write_fetch_job("daily", store, provider, now, settings)
    anchors = find_anchors(load_panel(store, "daily"), lookback_days=30)
    store.put_frame(keys.anchors_key(now.date()), anchors.reset_index(drop=True))
    print("done", flush=True)
""")


def _sessions(count: int) -> list[datetime]:
    calendar = get_calendar()
    day = datetime(2025, 9, 2).date()
    out = []
    while len(out) < count:
        day = calendar.next_session(day)
        out.append(datetime(day.year, day.month, day.day, 20, 30, tzinfo=NY))
    return out


def _bar_stamps(root: Path) -> dict[str, set[pd.Timestamp]]:
    out = {}
    for path in sorted((root / "bars").glob("*/*.parquet")):
        out[f"{path.parent.name}/{path.stem}"] = set(pd.read_parquet(path)["timestamp"])
    return out


def _run_and_kill(root: Path, now: datetime, rng: random.Random) -> tuple[bool, int]:
    """Run the driver, kill it after a random bars write; (killed mid-run, writes seen)."""
    kill_after = rng.randint(0, SYMBOLS + 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TS_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(root), now.isoformat(), json.dumps(SETTINGS)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env,
    )
    seen, killed = 0, False
    try:
        for line in proc.stdout:
            if line.strip() == "progress":
                seen += 1
            if (line.strip() == "ready" and kill_after == 0) or seen == kill_after > 0:
                proc.send_signal(signal.SIGKILL)
                killed = True
                break
    finally:
        if proc.poll() is None and not killed:
            proc.kill()
        proc.wait(timeout=60)
        proc.stdout.close()
    return killed and proc.returncode == -signal.SIGKILL, seen


def test_sigkill_at_random_points_loses_nothing(tmp_path: Path, record_figures) -> None:
    root = tmp_path / "data"
    store = LocalStore(root)
    settings = Settings(**SETTINGS)
    rng = random.Random(20251124)
    killed_mid_run = rerun_writes = 0
    for trial, now in enumerate(_sessions(TRIALS), 1):
        before = _bar_stamps(root)
        killed, _ = _run_and_kill(root, now, rng)
        killed_mid_run += killed

        after_kill = verify_store(store, now, settings)
        broken = [p for p in after_kill.problems if p.kind in DATA_FAULTS]
        assert not broken, broken[:3]
        stamps = _bar_stamps(root)
        for name, old in before.items():
            assert old <= stamps.get(name, set()), f"{name} lost bars after a kill at {now}"

        provider = DemoMarket(seed=settings.demo_seed, n_symbols=SYMBOLS, now=now)
        for job in ("universe", "daily"):
            report = fetch_job(job, store, provider, now, settings)
            assert report.exit_code == 0 and not report.failed, report.summary()
            rerun_writes += report.writes
        if trial % 5 == 0:  # the rerun repaired everything (checked every 5th trial: time)
            clean = verify_store(store, now, settings)
            assert clean.ok, clean.problems[:3]
        assert {k: v for k, v in _bar_stamps(root).items() if k in before}.keys() == before.keys()
    assert killed_mid_run >= TRIALS // 2  # most kills landed while the session was working
    record_figures("crash", {"trials": TRIALS, "killed_mid_run": killed_mid_run,
                             "objects_unreadable": 0, "bars_lost": 0, "reruns_completed": TRIALS,
                             "rerun_writes": rerun_writes})
