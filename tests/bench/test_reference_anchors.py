"""The screener benchmark's reference restates our anchor definitions independently: the two
must agree on what a 52-week anchor is, or the benchmark compares different screens."""

from __future__ import annotations

import pytest

from bench import reference
from bench.synth import daily_panel
from tradingstation.anchors import find_anchors

YEAR_TYPES = ("high_52w", "low_52w")


def _ours(panel) -> set[tuple[str, str]]:
    found = find_anchors(panel)
    year = found[found["anchor_type"].isin(YEAR_TYPES)]
    return {(row.anchor_type, str(row.anchor_date)[:10]) for row in year.itertuples()}


def _reference(panel, symbol: str) -> set[tuple[str, str]]:
    frame = panel.bars(symbol).set_index("timestamp")
    return {(a["type"], frame.index[a["pos"]].isoformat()[:10])
            for a in reference.find_anchors(frame) if a["type"] in YEAR_TYPES}


@pytest.mark.parametrize("bars", [120, 251, 252, 260])
def test_reference_and_ours_agree_on_52_week_anchors(bars):
    panel = daily_panel(1, bars)
    symbol = panel.symbols[0]
    ours = _ours(panel)
    assert ours == _reference(panel, symbol)
    # 52-week extremes exist only over a whole year of history (DESIGN: 252 sessions)
    assert (len(ours) > 0) == (bars >= 252)
