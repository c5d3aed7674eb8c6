"""Render bench/RESULTS.md from bench/out/*.json (written by bench.run_all)."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _x(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}x"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f} %"


def _ok(flag: bool) -> str:
    return "met" if flag else "**not met**"


def _load(out: Path, name: str) -> dict | None:
    path = out / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _fetch(r: dict) -> list[str]:
    s, o, n, rr = r["scenario"], r["ours"], r["reference_full_refetch"], r["ratios"]
    g = r["goals"]
    return [
        "## 1. Fetch: calls and rate against the limit (issue 3) - `bench/fetch_rate.py`",
        "",
        f"Daily job over {s['fresh'] + s['stale_3_sessions'] + s['deep_gap_150_sessions']} "
        f"symbols: {s['fresh']} fresh, {s['stale_3_sessions']} three sessions behind, "
        f"{s['deep_gap_150_sessions']} 150 sessions behind. Fake Alpha Vantage over HTTP with "
        f"a {s['rate_limit_per_min']}/min sliding-window limit and "
        f"{s['latency_seconds'] * 1000:.0f} ms latency; {s['http_concurrency']} concurrent "
        "requests; local store.",
        "",
        "| figure | value | reference | ratio | goal |",
        "|---|---|---|---|---|",
        f"| calls | {o['calls']} | minimum {r['minimum_calls']} | "
        f"{_x(rr['calls_vs_minimum'])} | = 1.00x: {_ok(g['calls_equal_minimum'])} |",
        f"| calls | {o['calls']} | naive full refetch {n['calls_extrapolated']} | "
        f"{_x(rr['calls_vs_reference'])} | |",
        f"| achieved rate (calls / job wall time) | {o['rate_per_min_over_wall']}/min | "
        f"limit {s['rate_limit_per_min']}/min | {_pct(rr['rate_vs_limit'])} | >= 90 %: "
        f"{_ok(g['rate_ge_90pct'])} |",
        f"| paced rate (first to last call) | {o['rate_per_min_between_first_and_last_call']}/min"
        f" | limit {s['rate_limit_per_min']}/min | {_pct(o['rate_vs_limit_between_calls'])} | |",
        f"| throttle answers | {o['throttled']} (naive: {n['throttled']}) | 0 | | 0: "
        f"{_ok(g['zero_throttles'])} |",
        f"| wall time | {o['wall_seconds']:.1f} s | naive {n['wall_seconds_extrapolated']:.1f} s"
        f" | {_x(rr['wall_vs_reference'])} | |",
        f"| wall time | {o['wall_seconds']:.1f} s | rate-limit bound "
        f"{o['rate_limit_bound_seconds']:.1f} s | "
        f"{_x(o['wall_seconds'] / o['rate_limit_bound_seconds'])} | |",
        f"| rerun calls | {r['rerun']['calls']} | first run {o['calls']} | "
        f"{_x(r['rerun']['calls'] / o['calls'])} | 0: {_ok(g['rerun_free'])} |",
        *_split_rows(r, g),
        "",
        f"The naive reference ran on {n['symbols_run']} symbols (every 4th) and is extrapolated"
        " linearly (calls and time of a per-symbol refetch scale with the symbol count).",
        "",
    ]


def _split_rows(r: dict, g: dict) -> list[str]:
    """Issue 13: the calls split detection adds (none on a day without a candidate)."""
    splits = r.get("splits")
    if not splits:
        return []
    day = splits["split_day"]
    return [
        f"| SPLITS calls, day without a split-like move | "
        f"{splits['no_candidate_day_splits_calls']} | 0 | | 0: "
        f"{_ok(g.get('no_split_call_without_candidates', False))} |",
        f"| calls, day with one split ({day['symbols']} symbols) | {day['daily_calls']} daily +"
        f" {day['splits_calls']} SPLITS | {day['daily_calls']} daily | "
        f"+{day['added_calls']} call | |",
    ]


def _screeners(r: dict) -> list[str]:
    u, o, ref, g = r["universe"], r["ours"], r["reference"], r["goals"]
    rows = [
        "## 2. Anchors + daily screeners over the universe (issue 4) - `bench/screeners.py`",
        "",
        f"{u['symbols']} symbols x {u['daily_bars']} daily bars (deterministic synthetic market,"
        " `bench/synth.py`): `find_anchors` on the bars before the evaluated session, then "
        "avwap_reclaim, breakout, ema_pullback, exhaustion_reversal. Reference: a loop over "
        "symbols calling pandas-ta per symbol and evaluating the same conditions "
        "(`bench/reference.py`).",
        "",
        "| figure | ours | reference | ratio | goal |",
        "|---|---|---|---|---|",
        f"| time, {u['symbols']} symbols | {o['seconds']:.2f} s (anchors {o['anchor_seconds']:.2f}"
        f" s, screens {o['screen_seconds']:.2f} s) | {ref['seconds_extrapolated_to_universe']:.1f}"
        f" s (extrapolated from {ref['symbols_run']} symbols: {ref['seconds_on_subset']:.1f} s)"
        f" | {r['speedup_vs_reference']:.1f}x faster | >= 30x: {_ok(g['speedup_ge_30x'])} |",
        f"| identical signals on the {ref['symbols_run']} reference symbols | "
        f"{r['signals_compared']} signals compared | | "
        f"{'identical' if r['identical_signals_on_subset'] else 'DIFFERENT'} | "
        f"{_ok(g['identical_signals'])} |",
        f"| peak memory (process) | {o['peak_rss_mb']:.0f} MiB | {ref['peak_rss_mb']:.0f} MiB "
        f"| {_x(o['peak_rss_mb'] / ref['peak_rss_mb'])} | <= 2 GiB ({_x(o['peak_rss_mb'] / 2048)}"
        f" of it): {_ok(g['peak_memory_le_2gb'])} |",
        "",
        "| screener | ours (reference symbols) | reference | only ours | only reference "
        "| ours, whole universe |",
        "|---|---|---|---|---|---|",
    ]
    for name, c in r["per_screener"].items():
        rows.append(f"| {name} | {c['ours']} | {c['reference']} | {len(c['only_ours'])} | "
                    f"{len(c['only_reference'])} | {c['ours_full_universe']} |")
    rows += [
        "",
        f"Each side is timed {o.get('repeats', 1)} times in its own process and the best run "
        "counts (as `timeit` advises); the first runs took "
        f"{o.get('first_run_seconds', o['seconds']):.2f} s (ours) and "
        f"{ref.get('first_run_seconds_on_subset', ref['seconds_on_subset']):.1f} s (reference "
        "subset): on this VM a process's first touch of fresh memory costs about 10 ms per MB, "
        "which ours (one wide panel) pays far more than the per-symbol loop does.",
        "",
        "The reference takes minutes for the whole universe, so it runs on every 10th symbol and"
        " its time is extrapolated linearly (it is a per-symbol loop); signals are compared on "
        "exactly those symbols as the set of (screener, symbol, direction). Each side runs in its"
        " own process; peak memory is that process's ru_maxrss (Python + pandas included).",
        "",
    ]
    return rows


def _cycle_calls(s: dict, mk: dict) -> list[str]:
    """The market cycle's calls against its minimum (issue 18 #4), when the run recorded it."""
    if "minimum_calls" not in mk:
        return []
    m = mk["minute_symbols"]
    calls = ", ".join(f"{n} {k}" for k, n in sorted(mk["by_function"].items()))
    return [
        f"| market cycle: API calls | {mk['calls']} ({calls}) | minimum "
        f"{mk['minimum_calls']} = ceil({s['watchlist']}/100) session quotes + 1-min bars of "
        f"{m['total']} symbols ({m['orb']} ORB candidates, {m['avwap_reclaim']} AVWAP reclaims "
        f"to confirm) | {_x(mk['calls'] / mk['minimum_calls'])} | = 1.00x: "
        f"{_ok(mk['calls'] == mk['minimum_calls'])} |",
        f"| market cycle: API calls | {mk['calls']} | before (1-min bars of the whole watchlist)"
        f" {mk['calls_before']} | {_pct(mk['calls'] / mk['calls_before'])} | |",
    ]


def _session(r: dict) -> list[str]:
    s, p, re, mk, nv, ld = (r[k] for k in ("scenario", "premarket", "rerun", "market_cycle",
                                          "naive_reference", "daily_load"))
    tr = p["task_runs"]["total"]
    st = p["storage"]
    rows = [
        "## 3. Premarket session end to end (issue 9) - `bench/session.py`",
        "",
        f"The `premarket` flow (flows/premarket.py, real Prefect with a temporary server) for "
        f"{s['symbols']} symbols as of {s['premarket_as_of']}, daily history stored through the "
        "previous session (with its coverage ledger and the daily panel snapshot its last load "
        "left), yesterday's universe snapshot, nothing of "
        f"today. Fake Alpha Vantage at {s['rate_limit_per_min']}/min with "
        f"{s['latency_seconds'] * 1000:.0f} ms latency; storage: S3Store on moto's server "
        "(its own process). "
        f"Minimum calls = 1 listing + ceil({s['symbols']}/100) bulk quotes + 1 full 1-min call "
        f"per watchlist symbol ({s['watchlist']}) + 0 daily = {p['minimum_calls']}.",
        "",
        "| figure | value | reference | ratio | goal |",
        "|---|---|---|---|---|",
        f"| API calls | {p['calls']} | minimum {p['minimum_calls']} | "
        f"{_x(p['calls'] / p['minimum_calls'])} | = 1.00x: "
        f"{_ok(p['calls'] == p['minimum_calls'])} |",
        f"| API calls | {p['calls']} | naive {nv['extrapolated']['calls']} (extrapolated) | "
        f"{_x(p['calls'] / nv['extrapolated']['calls'], 3)} | |",
        f"| call rate while fetching (first to last call of each stage) | "
        f"{p['paced_rate_per_min']}/min | limit {s['rate_limit_per_min']}/min | "
        f"{_pct(p['paced_rate_vs_limit'])} | >= 95 %: "
        f"{_ok((p['paced_rate_vs_limit'] or 0) >= 0.95)} |",
        f"| throttle answers | {p['throttled']} | 0 | | 0: {_ok(p['throttled'] == 0)} |",
        f"| wall time | {p['wall_seconds']:.1f} s | bound {p['rate_limit_bound_seconds']:.1f} s "
        f"+ compute {p['compute_seconds']:.1f} s | "
        f"{_x(p['wall_vs_bound_plus_compute'])} | <= 1.10x: "
        f"{_ok((p['wall_vs_bound_plus_compute'] or 9) <= 1.10)} |",
        f"| wall time | {p['wall_seconds']:.1f} s | naive {nv['extrapolated']['wall_seconds']:.0f}"
        f" s (extrapolated) | {_x(p['wall_seconds'] / nv['extrapolated']['wall_seconds'], 3)} | |",
        f"| Prefect task runs | {tr} | naive {nv['extrapolated']['task_runs']} (one per symbol)"
        f" | {_x(tr / nv['extrapolated']['task_runs'], 4)} | <= 200: {_ok(tr <= 200)} |",
        f"| wall time outside our code (Prefect) | {p['wall_seconds'] - p['our_code_seconds']:.1f}"
        f" s | wall {p['wall_seconds']:.1f} s | {_pct(p['prefect_share'])} | <= 10 %: "
        f"{_ok((p['prefect_share'] or 1) <= 0.10)} |",
        f"| objects read / written | {st['objects_read']} / {st['objects_written']} | universe "
        f"{s['symbols']} | {_x(st['objects_read'] / s['symbols'])} / "
        f"{_x(st['objects_written'] / s['symbols'])} | |",
        f"| bytes read / written | {st['bytes_read'] / 1e6:.1f} MB / "
        f"{st['bytes_written'] / 1e6:.1f} MB | | | |",
        f"| load the universe's daily bars (listing + snapshot, as in a session) | S3 (moto) "
        f"{ld['s3_seconds']:.2f} s | local disk {ld['local_seconds']:.2f} s | "
        f"{_x(ld['s3_vs_local'])} | <= 3x: {_ok((ld['s3_vs_local'] or 9) <= 3)} |",
        f"| load daily bars cold (every object read, no snapshot; {ld['cold_symbols']} of the "
        f"{ld['symbols']} symbols) | S3 "
        f"(moto) {ld['s3_cold_seconds']:.2f} s | local disk {ld['local_cold_seconds']:.2f} s | "
        f"{_x(ld['s3_vs_local_cold'])} | |",
        "| peak memory (the benchmark process: flows, tasks, Prefect client; moto, the fake "
        "provider and the Prefect server run in their own processes) | "
        f"{r['peak_rss_mb']:.0f} MiB | 2 GiB | {_x(r['peak_rss_mb'] / 2048)} | <= 1.00x: "
        f"{_ok(r['peak_rss_mb'] <= 2048)} |",
        f"| rerun: API calls | {re['calls']} | first run {p['calls']} | "
        f"{_pct(re['calls'] / p['calls'])} | <= 1 %: {_ok(re['calls'] <= 0.01 * p['calls'])} |",
        f"| rerun: objects written | {re['storage']['objects_written']} "
        f"({', '.join(re['rewritten_keys'][:6]) or 'none'}) | first run "
        f"{st['objects_written']} | {_x(re['storage']['objects_written'] / st['objects_written'])}"
        f" | no rewrite of unchanged objects |",
        *_cycle_calls(s, mk),
        f"| market cycle ({s['market_as_of']}): wall time | {mk['wall_seconds']:.1f} s | "
        f"rate-limit bound {mk['rate_limit_bound_seconds']:.1f} s ({mk['calls']} calls) | "
        f"{_x(mk['wall_vs_bound'])} | |",
        f"| market cycle: wall time | {mk['wall_seconds']:.1f} s | bound + compute "
        f"{mk['rate_limit_bound_seconds'] + mk['compute_seconds']:.1f} s | "
        f"{_x(mk['wall_vs_bound_plus_compute'])} | |",
        "",
        "Where the premarket's time goes (seconds inside each task body, summed over concurrent "
        "runs): " + ", ".join(f"{k} {v:.1f}" for k, v in p["task_seconds"].items()) + ".",
        "",
        f"Naive reference (`bench/naive.py`: one Prefect task per symbol, full daily refetch, a "
        f"quote call per symbol, per-symbol pandas-ta screens, full 1-min refetch for watchlist "
        f"symbols) ran on {nv['symbols_run']} symbols (every {round(nv['scale'])}th; "
        f"{nv['calls']} calls, {nv['wall_seconds']:.1f} s, {nv['task_runs']['total']} task runs)"
        f" and is extrapolated linearly to {s['symbols']} symbols: the full naive run would take "
        f"{nv['extrapolated']['wall_seconds'] / 60:.0f} minutes at this scaled rate limit.",
        "",
    ]
    return rows


def _backtest(r: dict) -> list[str]:
    u, o, ref, g = r["universe"], r["ours"], r["reference"], r["goals"]
    extrapolated = o["sessions_measured"] < u["sessions"]
    agree = r.get("agree_on_sample")
    cpu = (f"; CPU {o['cpu_seconds']:.1f} s, load average {o['loadavg_1min'][0]:.1f} at start"
           if "cpu_seconds" in o else "")
    return [
        "## 4. Walk-forward backtest of the four daily screeners (issue 17) - "
        "`bench/backtest.py`",
        "",
        f"{u['symbols']} symbols, {u['sessions']} sessions replayed after 60 sessions of "
        "warm-up (`bench/synth.py`): `run_backtest`'s daily replay (each screener evaluated on "
        "every (session, symbol) of the panel at once, `tradingstation/track/sweep*.py`, "
        "with the screeners' own scoring and signal code) and the outcomes of every signal (one "
        "vectorised pass). Reference: the screening step once per session (anchors from the "
        f"bars before it + the four screeners), on {ref['sessions_run']} sessions, extrapolated "
        "linearly.",
        "",
        "| figure | ours | reference | ratio | goal |",
        "|---|---|---|---|---|",
        f"| wall time, {u['sessions']} sessions | {o['seconds_for_all_sessions']:.1f} s "
        f"(screens {o['screen_seconds']:.1f} s over {o['sessions_measured']} sessions"
        f"{', extrapolated' if extrapolated else ', all measured'}; outcomes "
        f"{o['outcome_seconds']:.2f} s{cpu}) | "
        f"{ref['seconds_extrapolated']:.1f} s ({ref['seconds_on_sample']:.1f} s on "
        f"{ref['sessions_run']} sessions) | {_x(r['speedup_vs_reference'])} faster | "
        f"<= 60 s: {_ok(g['wall_le_60s'])}; >= 20x: {_ok(g['speedup_ge_20x'])} |",
        f"| peak memory (process) | {o['peak_rss_mb']:.0f} MiB | {ref['peak_rss_mb']:.0f} MiB "
        f"| | <= 2 GiB: {_ok(g['peak_memory_le_2gb'])} |",
        f"| signals (decided) | {o['signals']} ({o['decided']}) | "
        f"{ref.get('signals_on_sample', '')} on its sessions | | |",
        "",
        *([f"Same signal rows as the reference on its {ref['sessions_run']} sessions (id, "
           "screener, symbol, session, time, direction, status, score, entry, stop, targets, "
           f"risk: what an outcome needs): {'yes' if agree else '**no**'}.", ""]
          if agree is not None else []),
        "The fast replay computes each screener's inputs for every session from the whole "
        "panel (causal indicators once; windows summed in the order the per-session code sums "
        "them; anchors found once and each anchor's AVWAP accumulated once) and is checked "
        "against the per-session replay field by field in tests/track/test_sweep.py. A "
        "backtest keeps only the signal rows, so it builds those for all of a session's setups "
        "at once, without the reasons and metrics text (`replay_daily` builds whole signals, "
        "checked the same way). Of what remains, about half is AVWAP Reclaim (anchors, their "
        "AVWAPs and scores), a fifth Breakout's base walk, the rest indicators and outcomes.",
        "",
    ]


def _track_update(r: dict) -> list[str]:
    u, d = r["universe"], r["daily_steps_seconds"]
    steady = r["steady"]
    return [
        "## 5. Live track-record update in the daily flow (issue 17) - `bench/track_update.py`",
        "",
        f"A local store with {u['symbols']} symbols of daily bars and {u['signals']} published "
        f"signals over {u['signal_sessions']} sessions. The daily flow's storage-bound steps: "
        f"verify {d['verify']:.1f} s + cleanup {d['cleanup']:.1f} s. The update: first run "
        f"(every signal new) {r['update_first_seconds']:.2f} s; the next evening "
        f"{r['update_steady_seconds']:.2f} s ({steady['added']} added, {steady['resolved']} "
        f"resolved, {steady['pending']} still open) = "
        f"**{r['steady_share_of_daily_steps']:.1%}** of those steps (goal <= 5 %: "
        f"{_ok(r['goals']['steady_le_5pct'])}; the health checks, also in the flow, are not "
        "counted, so the true share is lower).",
        "",
    ]


def _watch(r: dict) -> list[str]:
    first = r["runs"][0]
    lines = [
        "## 6. Live triggers: calls and alert delay (issue 18) - `bench/watch_triggers.py`",
        "",
        f"{first['ideas']} watched ideas on a planted 1-min tape ({first['window_minutes']} "
        f"session minutes at {first['scale']:.0f}x real time; delays in session time), the "
        "real watcher, provider, rate limiter and notification block, the fake Alpha Vantage "
        "in its own process, alerts to a webhook on 127.0.0.1. Delay = arrival - end of the "
        "minute that crossed the entry. Reference: the 15-minute market cycle (1-min bars of "
        "300 watchlist symbols per cycle, fetch time at the rate-limit bound).",
        "",
        "| rate | calls/hour (share of plan) | alerts (missed, duplicated, unexpected) | "
        "delay median / p95 | market cycle calls/hour | market cycle median / p95 |",
        "|---|---|---|---|---|---|",
    ]
    for run in r["runs"]:
        w, m = run["watcher"], run["market_cycle_reference"]
        lines.append(
            f"| {run['rate_per_min']}/min | {w['calls_per_hour']:.0f} "
            f"({w['share_of_plan_budget'] * 100:.1f} %) | {w['alerts_received']} of "
            f"{w['alerts_expected']} ({len(w['missed'])}, {len(w['duplicates'])}, "
            f"{len(w['unexpected'])}) | {w['delay_median_s']:.0f} s / {w['delay_p95_s']:.0f} s "
            f"| {m['calls_per_hour']} | {m['delay_median_s']:.0f} s / {m['delay_p95_s']:.0f} s |")
    g = r["goals"]
    lines += ["", f"Goals: p95 <= 60 s at 75/min: {_ok(g['p95_le_60s_at_75'])}; "
              f"<= 10 % of the plan's calls: {_ok(g['calls_le_10pct_of_budget'])}; "
              f"0 missed / 0 duplicate alerts: {_ok(g['none_missed_or_duplicated'])}.", ""]
    return lines


def write_results(command: str, info: dict, out: Path) -> Path:
    """Write bench/RESULTS.md from the JSON results in ``out``."""
    partial = info.get("rerun_only")
    lines = [
        "# Benchmark results",
        "",
        *([f"(Last step: `python -m bench.run_all --only {' --only '.join(partial)}` reran "
           f"{', '.join(partial)} after the full run; the other figures are from the full run.)",
           ""] if partial else []),
        f"Command: `{command}` (from the repository root). Time taken: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in info["bench_seconds"].items())
        + ". Every benchmark also writes its raw figures to `bench/out/<name>.json`.",
        "",
        f"Machine: {info['nproc']} CPUs ({info['affinity']} usable), Python {info['python']}, "
        f"{info['platform']}; run {info['date']}; load average at start "
        f"{info['loadavg_at_start']} (the CPUs are shared with other work, so absolute times "
        "are noisy; the ratios are what to compare).",
        "",
        "Time is scaled, not work: the fake Alpha Vantage server enforces a per-minute limit "
        "higher than a real plan's and answers after a shorter latency, so a session of 6,000 "
        "symbols finishes in minutes; call counts, rates relative to the limit, and storage "
        "figures do not depend on that scaling. Compute (parsing, merging, screening) is not "
        "scaled, so at these compressed limits it weighs more than it would at 75-1,200/min.",
        "",
    ]
    for name, render in (("fetch_rate", _fetch), ("screeners", _screeners),
                         ("session", _session), ("backtest", _backtest),
                         ("track_update", _track_update), ("watch_triggers", _watch)):
        result = _load(out, name)
        lines += render(result) if result else [f"## {name}: not run", ""]
    notes = Path(__file__).resolve().parent / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text()]
    RESULTS.write_text("\n".join(lines) + "\n")
    return RESULTS
