"""Benchmark (issue 4): anchors + the four daily screeners over the universe vs a per-symbol
pandas-ta reference.

    python -m bench.screeners [--symbols 6000] [--bars 260] [--reference-every 10]

Ours runs once over every symbol (one wide panel). The reference loops over symbols calling
pandas-ta (``bench/reference.py``); it runs on every ``--reference-every``-th symbol because the
full loop takes minutes, and its time is extrapolated linearly to the universe (a per-symbol
loop scales linearly; the report says so). Signals are compared on the reference's symbols:
the set of (screener, symbol, direction) must be identical. Each side runs in its own process
so the peak memory of one is not charged to the other.
"""

from __future__ import annotations

import argparse

from bench.common import emit, peak_rss_mb, ratio, run_child, stopwatch, write_json
from bench.synth import BENCH_SESSION, daily_panel

SCREENERS = ("avwap_reclaim", "breakout", "ema_pullback", "exhaustion_reversal")
REPEATS = 3


def ours(symbols: int, bars: int, repeats: int = REPEATS) -> dict:
    """Anchors (from the bars before the evaluated one) + every daily screener, all symbols.

    Timed ``repeats`` times in one process; the best run is the figure (as ``timeit`` advises)
    and the first run is reported beside it: on this VM the first touch of fresh memory costs
    about 10 ms per MB, which the first run pays and a long-lived worker does not.
    """
    from tradingstation.anchors import find_anchors
    from tradingstation.calendar import get_calendar
    from tradingstation.screeners import ScreenInput, run_screeners
    from tradingstation.screeners.views import rows

    panel = daily_panel(symbols, bars)
    as_of = get_calendar().session_times(BENCH_SESSION).market_close
    base_rss = peak_rss_mb()
    runs = []
    for _ in range(repeats):
        with stopwatch() as t_anchor:
            anchors = find_anchors(rows(panel, panel.index < panel.index[-1]))
        with stopwatch() as t_screen:
            data = ScreenInput(session=BENCH_SESSION, as_of=as_of, daily=panel, anchors=anchors)
            found = run_screeners(data, SCREENERS)
        runs.append((t_anchor["seconds"] + t_screen["seconds"], t_anchor["seconds"],
                     t_screen["seconds"]))
    best = min(runs)
    signals = sorted((n, s.symbol, s.direction) for n, sigs in found.items() for s in sigs)
    return {
        "seconds": best[0],
        "anchor_seconds": best[1],
        "screen_seconds": best[2],
        "first_run_seconds": runs[0][0],
        "repeats": repeats,
        "anchors": len(anchors),
        "signals": signals,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_compute_mb": base_rss,
    }


def reference(symbols: int, bars: int, every: int, repeats: int = REPEATS) -> dict:
    """The per-symbol pandas-ta loop over every ``every``-th symbol."""
    from bench import reference as ref

    panel = daily_panel(symbols, bars)
    picked = panel.symbols[::every]
    frames = []
    for symbol in picked:  # data preparation is not timed: ours gets its panel for free too
        frame = panel.bars(symbol).set_index("timestamp")
        frame.attrs["symbol"] = symbol
        frames.append(frame)
    times = []
    for _ in range(repeats):  # best of ``repeats``, as for ours
        signals = []
        with stopwatch() as t:
            for frame in frames:
                signals.extend(ref.screen_symbol(frame))
        times.append(t["seconds"])
    return {"seconds": min(times), "first_run_seconds": times[0], "symbols": picked,
            "signals": sorted(signals), "peak_rss_mb": peak_rss_mb()}


def run(symbols: int = 6000, bars: int = 260, every: int = 10) -> dict:
    """Both sides in child processes, compared; the result also goes to bench/out."""
    mine = run_child("bench.screeners", "--part", "ours", "--symbols", str(symbols),
                     "--bars", str(bars))
    theirs = run_child("bench.screeners", "--part", "reference", "--symbols", str(symbols),
                       "--bars", str(bars), "--reference-every", str(every))
    subset = set(theirs["symbols"])
    a = {tuple(x) for x in mine["signals"] if x[1] in subset}
    b = {tuple(x) for x in theirs["signals"]}
    per_screener = {
        name: {"ours": sum(1 for x in a if x[0] == name),
               "reference": sum(1 for x in b if x[0] == name),
               "only_ours": sorted(x[1] for x in a - b if x[0] == name),
               "only_reference": sorted(x[1] for x in b - a if x[0] == name),
               "ours_full_universe": sum(1 for x in mine["signals"] if x[0] == name)}
        for name in SCREENERS
    }
    ref_full = theirs["seconds"] * symbols / len(subset)
    result = {
        "benchmark": "screeners",
        "universe": {"symbols": symbols, "daily_bars": bars, "session": str(BENCH_SESSION)},
        "ours": {k: v for k, v in mine.items() if k != "signals"},
        "reference": {
            "symbols_run": len(subset),
            "seconds_on_subset": theirs["seconds"],
            "first_run_seconds_on_subset": theirs["first_run_seconds"],
            "seconds_extrapolated_to_universe": ref_full,
            "peak_rss_mb": theirs["peak_rss_mb"],
        },
        "speedup_vs_reference": ratio(ref_full, mine["seconds"]),
        "identical_signals_on_subset": a == b,
        "signals_compared": len(a | b),
        "per_screener": per_screener,
        "goals": {
            "speedup_ge_30x": ratio(ref_full, mine["seconds"]) >= 30,
            "identical_signals": a == b,
            "peak_memory_le_2gb": mine["peak_rss_mb"] <= 2048,
        },
    }
    write_json("screeners", result)
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line: the whole benchmark, or one side (``--part``, used by :func:`run`)."""
    parser = argparse.ArgumentParser(prog="python -m bench.screeners", description=__doc__)
    parser.add_argument("--part", choices=("ours", "reference"))
    parser.add_argument("--symbols", type=int, default=6000)
    parser.add_argument("--bars", type=int, default=260)
    parser.add_argument("--reference-every", type=int, default=10)
    args = parser.parse_args(argv)
    if args.part == "ours":
        emit(ours(args.symbols, args.bars))
    elif args.part == "reference":
        emit(reference(args.symbols, args.bars, args.reference_every))
    else:
        result = run(args.symbols, args.bars, args.reference_every)
        emit({k: result[k] for k in ("speedup_vs_reference", "identical_signals_on_subset",
                                     "goals")})


if __name__ == "__main__":
    main()
