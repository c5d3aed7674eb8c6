"""The fast daily replay (every session at once) against the per-session replay (the oracle:
one screen of each session's point-in-time cut with the screeners' own code).

The market is the benchmark's synthetic one, roughened where a panel-wide computation could
go wrong: symbols listed mid-way (one with fewer bars than the ATR needs), missing bars, a
delisting, a halted flat stretch (ties), an unadjusted split and a zero-volume day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.synth import daily_panel
from tradingstation.data.panel import FIELDS, Panel
from tradingstation.screeners import DAILY_SCREENERS
from tradingstation.track import replay
from tradingstation.track.paths import signal_rows
from tradingstation.track.replay import (
    ROW_ORDER,
    daily_sessions,
    replay_daily,
    replay_daily_by_session,
    replay_daily_rows,
)

ROWS, SYMBOLS = 100, 60  # 40 sessions replayed after the 60 of warm-up
LOOSE = {  # more setups per screener than the defaults find on 80 symbols
    "avwap_reclaim": {"min_score": 5.0, "reclaim_days": 3},
    "breakout": {"max_depth": 0.3, "volume_multiple": 1.0, "min_consolidation_days": 3},
    "ema_pullback": {"max_below_atr": 1.5},
    "exhaustion_reversal": {"extension_atr": 1.5, "volume_spike_threshold": 1.2},
}


def _fields(panel: Panel) -> dict[str, np.ndarray]:
    return {name: getattr(panel, name).to_numpy(copy=True) for name in FIELDS}


def _panel(f: dict[str, np.ndarray], like: Panel) -> Panel:
    return Panel(**{name: pd.DataFrame(a, index=like.index, columns=like.close.columns)
                    for name, a in f.items()})


def rough_market() -> Panel:
    """The synthetic daily panel with the awkward cases planted in its first columns."""
    panel = daily_panel(SYMBOLS, ROWS, seed=3)
    f = _fields(panel)
    # Listings; each passes the 15 bars the ATR needs during the replay (but the one of 92).
    for col, listed in zip((0, 1, 2, 3, 11, 12, 13, 14, 15, 16),
                           (62, 75, 84, 92, 66, 68, 70, 72, 74, 76), strict=True):
        for a in f.values():
            a[:listed, col] = np.nan
    for col, gone in ((4, [70, 80, 81, 82, 92]), (5, [61, 62]), (6, [99])):  # missing bars
        for a in f.values():
            a[gone, col] = np.nan
    for a in f.values():  # delisted after row 85
        a[86:, 9] = np.nan
    for name in ("open", "high", "low", "close"):  # halted flat: every price equal
        f[name][72:, 7] = 20.0
    f["volume"][72:, 7] = 1_000_000.0
    for name in ("open", "high", "low", "close"):  # an unadjusted 2:1 split
        f[name][80:, 8] = np.round(f[name][80:, 8] / 2, 2)
    f["volume"][80:, 8] *= 2
    f["volume"][[70, 81, 95], 10] = 0.0
    return _panel(f, panel)


def year_market() -> Panel:
    """More than a year of bars, so 52-week anchors exist; one symbol's whole year completes
    during the replay (listed at row 10: from row 262 on), one misses a bar inside the year."""
    panel = daily_panel(16, 275, seed=5)
    f = _fields(panel)
    for a in f.values():
        a[:10, 0] = np.nan
        a[[30, 200], 1] = np.nan
    return _panel(f, panel)


@pytest.fixture(scope="module")
def market() -> Panel:
    return rough_market()


@pytest.mark.parametrize("params", [{}, LOOSE], ids=["defaults", "loose"])
def test_fast_replay_equals_the_per_session_replay(market, params):
    days = daily_sessions(market)
    ticks: list[int] = []
    oracle = replay_daily_by_session(market, days, DAILY_SCREENERS, params=params, demo=True)
    fast = replay_daily(market, days, DAILY_SCREENERS, params=params, demo=True,
                        progress=ticks.append)
    counts = pd.Series([s.screener for s in oracle]).value_counts()
    minimum = 10 if params else 3  # every screener finds something to compare
    assert set(counts.index) == set(DAILY_SCREENERS) and counts.min() >= minimum, counts
    assert len(fast) == len(oracle) and sum(ticks) == len(days)
    for mine, theirs in zip(fast, oracle, strict=True):  # every field, reasons and metrics too
        assert mine.model_dump() == theirs.model_dump(), theirs.id
    # What a backtest keeps, built without the text: the same rows.
    rows = replay_daily_rows(market, days, DAILY_SCREENERS, params=params)
    expected = signal_rows(oracle).sort_values(ROW_ORDER, kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(rows, expected, check_exact=True)


def test_backtest_rows_found_in_blocks_of_symbols_are_the_per_session_rows(market, monkeypatch):
    days = daily_sessions(market)
    oracle = replay_daily_by_session(market, days, DAILY_SCREENERS, params=LOOSE)
    monkeypatch.setattr(replay, "BLOCK_SYMBOLS", 3)
    blocks = -(-len(market.symbols) // 3)
    ticks: list[int] = []
    rows = replay_daily_rows(market, days, DAILY_SCREENERS, params=LOOSE, progress=ticks.append)
    expected = signal_rows(oracle).sort_values(ROW_ORDER, kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(rows, expected, check_exact=True)
    assert len(ticks) == blocks > 1 and sum(ticks) == len(days)  # the bar moves per block


def test_fast_replay_equals_the_per_session_replay_from_the_first_row(market):
    """Sessions from the panel's first row on (no history, short windows), not consecutive,
    other parameters (short lookback, slope longer than a young anchor)."""
    days = list(market.index.date[::3])
    params = {"avwap_reclaim": {"lookback_days": 5, "slope_days": 20, "min_score": 4.0},
              "breakout": {"max_base_days": 10, "min_consolidation_days": 2, "tight_days": 8}}
    oracle = replay_daily_by_session(market, days, DAILY_SCREENERS, params=params)
    fast = replay_daily(market, days, DAILY_SCREENERS, params=params)
    assert len({s.screener for s in oracle}) == 4 and len(oracle) > 100
    assert [s.model_dump() for s in fast] == [s.model_dump() for s in oracle]
    rows = replay_daily_rows(market, days, DAILY_SCREENERS, params=params)
    expected = signal_rows(oracle).sort_values(ROW_ORDER, kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(rows, expected, check_exact=True)


def test_fast_replay_equals_the_per_session_replay_with_52_week_anchors():
    market = year_market()
    days = daily_sessions(market, 20)
    params = {"avwap_reclaim": LOOSE["avwap_reclaim"]}
    oracle = replay_daily_by_session(market, days, ["avwap_reclaim"], params=params)
    fast = replay_daily(market, days, ["avwap_reclaim"], params=params)
    kinds = {s.reasons[0].split("anchored at the ")[1].split(" of ")[0] for s in oracle}
    assert {"high 52w", "low 52w"} <= kinds and len(oracle) > 50
    assert any(s.symbol == market.symbols[0] and "52w" in s.reasons[0] for s in oracle)
    assert [s.model_dump() for s in fast] == [s.model_dump() for s in oracle]
    rows = replay_daily_rows(market, days, ["avwap_reclaim"], params=params)
    expected = signal_rows(oracle).sort_values(ROW_ORDER, kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(rows, expected, check_exact=True)


def test_fast_replay_is_point_in_time(market):
    """The fast replay reads the whole panel: rows after a session must not change its
    signals (a replay of the panel cut after session N agrees on sessions 1..N)."""
    days = daily_sessions(market)
    cut = 25
    rows = market.index <= pd.Timestamp(days[cut].isoformat(), tz="UTC")
    short_panel = Panel(*(getattr(market, name).loc[rows] for name in FIELDS))
    short = replay_daily(short_panel, days[: cut + 1], DAILY_SCREENERS, params=LOOSE)
    long = replay_daily(market, days, DAILY_SCREENERS, params=LOOSE)
    shared = [s for s in long if s.session <= days[cut]]
    assert len(short) > 50 and len(shared) < len(long)
    assert [s.model_dump() for s in short] == [s.model_dump() for s in shared]
