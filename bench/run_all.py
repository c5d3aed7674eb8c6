"""Run every benchmark, each in its own process, and write bench/RESULTS.md + bench/out/*.json.

    make bench            # or: .venv/bin/python -m bench.run_all [--quick]

``--quick`` runs every benchmark at toy scale (a smoke run; RESULTS.md is not rewritten).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench.common import machine, out_dir, run_child, write_json
from bench.report import write_results

COMMAND = "make bench   (= .venv/bin/python -m bench.run_all)"
FULL = {
    "fetch_rate": [],
    "screeners": [],
    "session": [],
    "backtest": ["--reference-sessions", "10"],  # all 150 sessions measured, not extrapolated
    "track_update": [],
    "watch_triggers": ["--scale", "20", "--window", "60"],
}
QUICK = {
    "fetch_rate": ["--fresh", "10", "--stale", "6", "--deep", "4", "--rate", "6000"],
    "screeners": ["--symbols", "60", "--bars", "120", "--reference-every", "3"],
    "session": ["--symbols", "40", "--rate", "6000", "--naive-every", "8"],
    "backtest": ["--symbols", "40", "--sessions", "6", "--reference-sessions", "2"],
    "track_update": ["--symbols", "40", "--signal-sessions", "4", "--per-session", "5"],
    "watch_triggers": ["--ideas", "20", "--rates", "600", "--scale", "60", "--window", "12"],
}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; return a process exit code (0 when all ran)."""
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="toy scale, no RESULTS.md")
    parser.add_argument("--only", choices=sorted(FULL), action="append",
                        help="run only this benchmark (repeatable)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    info = machine()
    timings = {}
    for name, extra in plan.items():
        if args.only and name not in args.only:
            continue
        print(f"== bench.{name} {' '.join(extra)}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        summary = run_child(f"bench.{name}", *extra, timeout=1800)
        timings[name] = round(time.perf_counter() - started, 1)
        print(f"   {json.dumps(summary)} ({timings[name]} s)", file=sys.stderr, flush=True)
    info["quick"] = args.quick
    if args.only and not args.quick:
        # a partial rerun keeps the other benchmarks' figures and says which were rerun
        previous = out_dir() / "machine.json"
        earlier = json.loads(previous.read_text()) if previous.exists() else {}
        timings = {**earlier.get("bench_seconds", {}), **timings}
        info["rerun_only"] = sorted(set(earlier.get("rerun_only", [])) | set(args.only))
    info["bench_seconds"] = timings
    write_json("machine", info)
    if not args.quick and all((out_dir() / f"{n}.json").exists() for n in FULL):
        write_results(COMMAND, info, out_dir())
        print("wrote bench/RESULTS.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
