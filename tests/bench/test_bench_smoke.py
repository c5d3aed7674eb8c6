"""Smoke runs of every benchmark at toy scale, so bench/ cannot rot (no timing is asserted)."""

from __future__ import annotations

import json

import pytest

from bench import backtest, fetch_rate, screeners, track_update, watch_triggers
from bench.common import run_child


@pytest.fixture(autouse=True)
def bench_out(tmp_path, monkeypatch):
    """Results of smoke runs go to a temporary directory, never over bench/out."""
    monkeypatch.setenv("BENCH_OUT_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.usefixtures("flow_runs")  # the bench fetches as the flows do
def test_fetch_rate_makes_exactly_the_minimum_calls(bench_out):
    result = fetch_rate.run(fresh=6, stale=4, deep=2, rate=6000, latency=0.0)
    assert result["ours"]["calls"] == result["minimum_calls"] == 6
    # split detection: no call on a day without a split-like move, one on a day with a split
    assert result["splits"]["no_candidate_day_splits_calls"] == 0
    split_day = result["splits"]["split_day"]
    assert (split_day["daily_calls"], split_day["added_calls"]) == (4, 1)
    assert len(split_day["applied"]) == 1
    assert result["ours"]["throttled"] == 0
    assert result["rerun"]["calls"] == 0
    assert result["reference_full_refetch"]["calls"] == 3  # every 4th of 12 symbols, 1 each
    assert json.loads((bench_out / "fetch_rate.json").read_text())["minimum_calls"] == 6


def test_backtest_replays_and_resolves_outcomes(bench_out):
    result = backtest.run(symbols=30, sessions=3, measured=3, sample=2)
    assert result["ours"]["sessions_measured"] == 3 and result["reference"]["sessions_run"] == 2
    assert result["reference"]["signals_on_sample"] > 0
    assert result["agree_on_sample"] is True  # the same signals as the once-per-session step
    assert result["ours"]["signals"] >= result["ours"]["decided"] >= 0
    assert json.loads((bench_out / "backtest.json").read_text())["universe"]["sessions"] == 3


def test_track_update_adds_every_published_signal(bench_out):
    result = track_update.run(symbols=30, signal_sessions=3, per_session=4)
    assert result["first"]["added"] == 8 and result["steady"]["added"] == 4
    assert result["steady"]["total"] == 12


def test_screeners_match_the_pandas_ta_reference(bench_out):
    result = screeners.run(symbols=40, bars=120, every=2)
    assert result["identical_signals_on_subset"] is True
    assert result["reference"]["symbols_run"] == 20
    assert result["ours"]["anchors"] > 0


@pytest.mark.slow
def test_session_flow_makes_the_minimum_calls(bench_out):
    run_child("bench.session", "--symbols", "30", "--rate", "6000", "--naive-every", "10")
    result = json.loads((bench_out / "session.json").read_text())
    first = result["premarket"]
    assert first["calls"] == first["minimum_calls"]
    assert first["throttled"] == 0
    assert first["task_runs"]["total"] <= 200
    assert result["rerun"]["calls"] < first["calls"]
    assert result["naive_reference"]["task_runs"]["total"] == 3
    cycle = result["market_cycle"]  # session quotes + 1-min bars of the candidates only
    assert cycle["calls"] == cycle["minimum_calls"] < cycle["calls_before"]


def test_watch_triggers_alerts_every_planted_idea_once(bench_out):
    result = watch_triggers.run(ideas=12, rates=[600], scale=60.0, window=12, poll=30.0)
    watcher = result["runs"][0]["watcher"]
    assert watcher["alerts_received"] == watcher["alerts_expected"] > 0
    assert (watcher["missed"], watcher["duplicates"], watcher["unexpected"]) == ([], [], [])
    assert watcher["throttled"] == 0 and watcher["calls"] > 0
