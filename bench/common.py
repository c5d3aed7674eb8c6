"""Helpers shared by the benchmarks: peak memory, child processes, JSON output, timing."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def out_dir() -> Path:
    """Where results go: ``bench/out``, or ``$BENCH_OUT_DIR`` (the smoke tests use a tmp dir)."""
    return Path(os.environ.get("BENCH_OUT_DIR") or OUT)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB; Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_child(module: str, *args: str, timeout: float = 900) -> dict:
    """Run ``python -m module args`` in a fresh process and return the JSON it prints last.

    A fresh process per measurement keeps one measurement's peak memory out of the next.
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def emit(result: dict) -> None:
    """Print a child's result as the last line of stdout (read by :func:`run_child`)."""
    print(json.dumps(result, default=str))


def write_json(name: str, result: dict) -> Path:
    """Write ``bench/out/<name>.json``."""
    out = out_dir()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    return path


def machine() -> dict:
    """What the figures were measured on."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


@contextmanager
def stopwatch() -> Iterator[dict]:
    """``with stopwatch() as t: ...`` then ``t["seconds"]`` (perf_counter)."""
    box: dict = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start


def ratio(a: float, b: float) -> float | None:
    """``a / b`` rounded, or None when ``b`` is 0."""
    return round(a / b, 4) if b else None
