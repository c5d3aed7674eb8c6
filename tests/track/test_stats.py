"""Track-record statistics on hand-built outcome rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tradingstation.track import stats


def rows(*specs, screener="breakout", direction="long"):
    """specs: (score, exit_reason, r, held) in time order."""
    out = []
    for i, (score, reason, r, held) in enumerate(specs):
        out.append(dict(id=f"s{i}", screener=screener, direction=direction, score=score,
                        timestamp=pd.Timestamp("2025-01-02T21:00Z") + pd.Timedelta(days=i),
                        exit_reason=reason, filled=reason in ("stop", "target", "time", "open"),
                        r=r, held_sessions=held))
    return pd.DataFrame(out)


def test_bands_include_their_lower_bound():
    assert list(stats.score_band([6.9, 7.0, 7.99, 8.0, 9.0, 10.0])) == [
        "<7", "7-8", "7-8", "8-9", ">=9", ">=9"]


def test_group_numbers():
    frame = rows((8, "target", 2.0, 3), (8, "stop", -1.0, 1), (8, "stop", -1.1, 2),
                 (8, "not_filled", math.nan, math.nan), (8, "time", 0.5, 10),
                 (8, "open", math.nan, math.nan))
    got = stats.group_stats(frame)
    assert got["signals"] == 5 and got["trades"] == 4
    assert got["fill_rate"] == pytest.approx(0.8)
    assert got["win_rate"] == pytest.approx(0.5)
    assert got["avg_r"] == pytest.approx(0.4 / 4)
    assert got["expectancy"] == pytest.approx(0.4 / 5)
    assert got["worst_losing_run"] == 2
    assert got["avg_held"] == pytest.approx(4.0)
    assert not got["enough"]
    assert got["exp_low"] <= got["expectancy"] <= got["exp_high"]


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = np.random.default_rng(1).normal(0.2, 1.0, 400)
    first = stats.bootstrap_interval(values)
    assert first == stats.bootstrap_interval(values)
    assert first[0] < values.mean() < first[1]
    # the 90 % interval of a mean: about +-1.645 standard errors
    assert first[1] - first[0] == pytest.approx(2 * 1.645 * values.std() / 20, rel=0.15)


def test_summary_rows_per_screener_band_direction_and_lookup():
    frame = pd.concat([
        rows(*[(9.5, "target", 1.0, 2)] * 20, *[(9.5, "stop", -1.0, 1)] * 10),
        rows(*[(6.0, "stop", -1.0, 1)] * 5),
        rows(*[(7.5, "target", 2.0, 2)] * 3, direction="short"),
    ], ignore_index=True)
    table = stats.summarize(frame)
    assert list(zip(table["band"], table["direction"], table["signals"], strict=True)) == [
        ("7-8", "short", 3), ("<7", "long", 5), (">=9", "long", 30)]
    top = stats.lookup(table, "breakout", 9.2, "long")
    assert top["expectancy_r"] == pytest.approx(1 / 3, abs=1e-3) and top["sample"] == 30
    thin = stats.lookup(table, "breakout", 6.0, "long")
    assert thin["expectancy_r"] is None and thin["note"] == stats.NOT_ENOUGH
    assert stats.lookup(table, "orb", 8.0, "long")["sample"] == 0


def test_calibration_shows_expectancy_by_band_and_rank_correlation():
    frame = rows((6.0, "stop", -1.0, 1), (6.5, "stop", -1.0, 1), (7.5, "time", 0.2, 10),
                 (8.5, "target", 1.0, 2), (9.5, "target", 2.0, 2))
    table = stats.calibration(frame)
    assert table.loc[0, "<7"] == -1.0 and table.loc[0, ">=9"] == 2.0
    assert table.loc[0, "spearman"] == pytest.approx(1.0, abs=0.1)
    assert table.loc[0, "trades"] == 5


def test_side_by_side_keeps_both_sample_sizes():
    back = rows(*[(8, "target", 1.0, 2)] * 4)
    live = rows((8, "stop", -1.0, 1))
    table = stats.side_by_side(back, live)
    assert table.loc[0, "signals_backtest"] == 4 and table.loc[0, "signals_live"] == 1
    assert table.loc[0, "expectancy_live"] == -1.0


def test_calibration_without_closed_trades_has_no_correlation():
    table = stats.calibration(rows((8.0, "not_filled", math.nan, math.nan),
                                   (8.5, "open", math.nan, math.nan)))
    assert table.loc[0, "trades"] == 0 and math.isnan(table.loc[0, "spearman"])
