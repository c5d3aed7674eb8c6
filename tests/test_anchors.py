"""AVWAP anchor finder: planted gaps, volume spikes and pivots are found; AVWAP by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tradingstation import anchors
from tradingstation.anchor_table import anchors_for_symbol
from tradingstation.anchors import (
    ANCHOR_COLUMNS,
    avwap_with_intraday,
    find_anchors,
)
from tradingstation.data.panel import Panel
from tradingstation.errors import InputError

N = 80
SESSIONS = pd.bdate_range("2024-01-02", periods=N, tz="UTC")


def _rising(start: float = 100.0, volume: int = 1_000_000) -> pd.DataFrame:
    """Closes rising 0.1 % a day, open = previous close: no gaps, spikes or pivots."""
    close = start * 1.001 ** np.arange(1, N + 1)
    open_ = np.r_[start, close[:-1]]
    return pd.DataFrame(
        {
            "timestamp": SESSIONS,
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": np.full(N, volume, dtype="int64"),
        }
    )


def _gap(frame: pd.DataFrame, day: int, size: float) -> pd.DataFrame:
    """Every bar from ``day`` on moves by (1 + size): open[day] gaps ``size`` vs prior close."""
    out = frame.copy()
    for column in ("open", "high", "low", "close"):
        out.loc[day:, column] *= 1 + size
    out.loc[day, "low"] = min(out.loc[day, "low"], out.loc[day, "open"] * 0.998)
    return out


def _planted() -> dict[str, pd.DataFrame]:
    gap = _gap(_gap(_rising(), N - 10, 0.05), N - 5, -0.04)
    vol = _rising(50.0)
    vol.loc[N - 8, "volume"] = 3_000_000
    piv = _rising(20.0)
    piv.loc[N - 12, "high"] *= 1.05  # a wick well above the next 5 and the previous 5 highs
    return {
        "GAP": gap,
        "NEAR": _gap(_rising(30.0), N - 10, 0.029),
        "OLD": _gap(_rising(40.0), N - 40, 0.06),
        "PIV": piv,
        "VOL": vol,
    }


def _of(found: pd.DataFrame, symbol: str, kind: str) -> pd.DataFrame:
    return found[(found.symbol == symbol) & (found.anchor_type == kind)]


def _day(i: int) -> date:
    return SESSIONS[i].date()


def test_planted_gap_volume_and_pivot_days_are_found() -> None:
    found = find_anchors(Panel.from_bars(_planted()))
    assert list(found.columns) == ANCHOR_COLUMNS
    up = _of(found, "GAP", "gap_up")
    assert up.anchor_date.tolist() == [_day(N - 10)]
    assert up.strength.iloc[0] == pytest.approx(0.05)
    down = _of(found, "GAP", "gap_down")
    assert down.anchor_date.tolist() == [_day(N - 5)]
    assert down.strength.iloc[0] == pytest.approx(0.04)
    assert down.price.iloc[0] == pytest.approx(_planted()["GAP"].close.iloc[N - 5])
    assert down.bars_since.iloc[0] == 4

    spike = _of(found, "VOL", "volume_spike")
    assert spike.anchor_date.tolist() == [_day(N - 8)]
    assert spike.strength.iloc[0] == pytest.approx(3.0)
    assert _of(found, "VOL", "highest_volume").anchor_date.tolist() == [_day(N - 8)]

    swing = _of(found, "PIV", "swing_high")
    assert swing.anchor_date.tolist() == [_day(N - 12)]
    assert swing.price.iloc[0] == pytest.approx(_planted()["PIV"].high.iloc[N - 12])
    assert 0.05 < swing.strength.iloc[0] < 0.1  # wick top to the lowest low around it

    # no gap anywhere else, no spike on constant volume, no pivot in a steady rise
    assert set(found.anchor_type[found.symbol == "NEAR"]) == {"highest_volume"}
    assert _of(found, "GAP", "volume_spike").empty and _of(found, "VOL", "swing_high").empty


def test_gap_just_below_threshold_is_not_found() -> None:
    panel = Panel.from_bars(_planted())
    assert _of(find_anchors(panel, gap_threshold=0.03), "NEAR", "gap_up").empty
    near = _of(find_anchors(panel, gap_threshold=0.028), "NEAR", "gap_up")
    assert near.anchor_date.tolist() == [_day(N - 10)]
    assert _of(find_anchors(panel, volume_spike=3.01), "VOL", "volume_spike").empty


def test_lookback_filtering() -> None:
    panel = Panel.from_bars(_planted())
    assert _of(find_anchors(panel, lookback_days=30), "OLD", "gap_up").empty
    old = _of(find_anchors(panel, lookback_days=41), "OLD", "gap_up")
    assert old.anchor_date.tolist() == [_day(N - 40)] and old.bars_since.iloc[0] == 39
    short = find_anchors(panel, lookback_days=6)
    assert _of(short, "GAP", "gap_up").empty and len(_of(short, "GAP", "gap_down")) == 1
    # 80 sessions are not 52 weeks: no extreme is reported under that name
    assert not short["anchor_type"].isin(["high_52w", "low_52w"]).any()


def _tiny() -> dict[str, pd.DataFrame]:
    return {
        "TINY": pd.DataFrame(
            {
                "timestamp": SESSIONS[:4],
                "open": [10.0, 10.1, 11.0, 11.6],
                "high": [10.5, 10.6, 12.0, 12.3],
                "low": [9.5, 9.9, 10.8, 11.5],
                "close": [10.0, 10.4, 11.7, 12.1],
                "volume": [1000, 1000, 3000, 2000],
            }
        )
    }


def test_avwap_and_strengths_equal_a_hand_computation() -> None:
    found = find_anchors(Panel.from_bars(_tiny()), lookback_days=4, earnings={"TINY": [_day(1)]})
    gap = _of(found, "TINY", "gap_up").iloc[0]
    assert gap.anchor_date == _day(2) and gap.bars_since == 1
    assert gap.strength == pytest.approx(11.0 / 10.4 - 1)
    # TP(bar 2) = (12 + 10.8 + 11.7) / 3 = 11.5, TP(bar 3) = (12.3 + 11.5 + 12.1) / 3 = 35.9 / 3
    assert gap.avwap == pytest.approx((11.5 * 3000 + 35.9 / 3 * 2000) / 5000)
    assert gap.avwap == pytest.approx(11.6866667, rel=1e-7)
    top = _of(found, "TINY", "highest_volume").iloc[0]
    assert top.anchor_date == _day(2) and top.strength == pytest.approx(3000 / 1750)
    assert _of(found, "TINY", "high_52w").empty and _of(found, "TINY", "low_52w").empty
    earn = _of(found, "TINY", "earnings").iloc[0]
    assert earn.anchor_date == _day(1) and earn.strength == pytest.approx(0.04)
    tp = np.array([10.3, 11.5, 35.9 / 3])
    assert earn.avwap == pytest.approx((tp * [1000, 3000, 2000]).sum() / 6000)
    assert _of(found, "TINY", "volume_spike").empty  # fewer than 50 prior bars


def test_earnings_on_a_non_session_day_anchors_to_the_next_bar() -> None:
    saturday = date(2023, 12, 30)
    found = find_anchors(
        Panel.from_bars(_tiny()), earnings={"TINY": [saturday], "NOPE": [saturday]}
    )
    assert _of(found, "TINY", "earnings").anchor_date.tolist() == [date(2024, 1, 2)]
    assert _of(found, "NOPE", "earnings").empty
    late = find_anchors(Panel.from_bars(_tiny()), earnings={"TINY": [date(2024, 2, 1)]})
    assert _of(late, "TINY", "earnings").empty  # after the last bar


def test_avwap_continues_through_intraday_bars() -> None:
    daily = Panel.from_bars(_tiny())
    found = find_anchors(daily, lookback_days=4)
    ny = "America/New_York"
    intraday = Panel.from_bars(
        {
            "TINY": pd.DataFrame(
                {
                    "timestamp": pd.DatetimeIndex(
                        ["2024-01-05 15:59", "2024-01-08 09:30", "2024-01-08 09:31"]
                    ).tz_localize(ny),
                    "open": [12.0, 12.3, 12.4],
                    "high": [12.2, 12.4, 12.6],
                    "low": [11.9, 12.2, 12.3],
                    "close": [12.1, 12.3, 12.6],
                    "volume": [99_999, 500, 500],  # the 5th is in the daily bar already
                }
            )
        }
    )
    current = avwap_with_intraday(daily, intraday, found)
    assert current.index.equals(found.index)
    gap_row = found.index[(found.anchor_type == "gap_up")][0]
    expected = (11.5 * 3000 + 35.9 / 3 * 2000 + 12.3 * 500 + 12.5 * 500) / 6000
    assert current[gap_row] == pytest.approx(expected)
    unknown = pd.DataFrame({"symbol": ["ZZZ"], "anchor_date": [_day(2)]})
    assert np.isnan(avwap_with_intraday(daily, intraday, unknown).iloc[0])


def test_ticker_filter() -> None:
    found = find_anchors(Panel.from_bars(_planted()))
    gap = anchors_for_symbol(found, "GAP")
    assert len(gap) > 0 and set(gap.symbol) == {"GAP"}
    assert anchors_for_symbol(found, "ZZZ").empty
    with pytest.raises(InputError):
        anchors_for_symbol(found, "not a ticker!")


def _ragged_bars() -> dict[str, pd.DataFrame]:
    """Twelve symbols with ragged starts and missing bars (none in the last 30 sessions)."""
    rng = np.random.default_rng(5)
    bars = {}
    for k in range(12):
        n = int(rng.integers(40, N + 1))
        close = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, N)))
        open_ = np.r_[50.0, close[:-1]] * (1 + rng.normal(0, 0.02, N))
        frame = pd.DataFrame(
            {
                "timestamp": SESSIONS,
                "open": open_,
                "high": np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, N)),
                "low": np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, N)),
                "close": close,
                "volume": rng.integers(1, 4, N) * 1_000_000 // rng.integers(1, 3, N),
            }
        ).iloc[N - n :]
        holes = rng.choice(n - 30, 5, replace=False)  # inside the window both agree on sessions
        bars[f"S{k:02d}"] = frame.drop(frame.index[holes])
    return bars


RAGGED_OPTIONS = {"volume_avg_days": 10, "pivot_left": 3, "pivot_right": 2}


def test_universe_result_equals_per_symbol_results() -> None:
    """Vectorising over columns must not mix symbols: ragged starts and missing bars."""
    bars, options = _ragged_bars(), RAGGED_OPTIONS
    whole = find_anchors(Panel.from_bars(bars), **options)
    assert set(whole.anchor_type) >= {"gap_up", "gap_down", "volume_spike", "swing_high"}
    for symbol, frame in bars.items():
        alone = find_anchors(Panel.from_bars({symbol: frame}), **options)
        pd.testing.assert_frame_equal(anchors_for_symbol(whole, symbol), alone)


def test_symbols_found_in_blocks_give_the_anchors_of_the_whole_panel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = Panel.from_bars(_ragged_bars())
    earnings = {"S03": [SESSIONS[-5].date()], "S10": [SESSIONS[-2].date()]}
    at_once = find_anchors(panel, earnings=earnings, **RAGGED_OPTIONS)
    assert set(at_once[at_once["anchor_type"] == "earnings"]["symbol"]) == {"S03", "S10"}
    monkeypatch.setattr(anchors, "BLOCK_SYMBOLS", 5)  # blocks of 5, 5 and 2 symbols
    pd.testing.assert_frame_equal(find_anchors(panel, earnings=earnings, **RAGGED_OPTIONS),
                                  at_once)


@pytest.mark.parametrize(
    "bad",
    [
        {"lookback_days": 0},
        {"lookback_days": -5},
        {"lookback_days": 2.5},
        {"gap_threshold": 0},
        {"gap_threshold": -0.03},
        {"volume_spike": float("nan")},
        {"volume_avg_days": 0},
        {"pivot_left": 0},
        {"pivot_right": True},
        {"earnings": ["AAPL"]},
    ],
)
def test_bad_parameters_raise_one_line_input_error(bad: dict) -> None:
    with pytest.raises(InputError) as info:
        find_anchors(Panel.from_bars(_planted()), **bad)
    assert "\n" not in str(info.value)


def test_not_a_panel_and_empty_panel() -> None:
    with pytest.raises(InputError):
        find_anchors(_rising())  # type: ignore[arg-type]
    empty = find_anchors(Panel.from_bars({}))
    assert empty.empty and list(empty.columns) == ANCHOR_COLUMNS


def test_merge_anchors_replaces_only_the_recomputed_symbols() -> None:
    from datetime import date

    from tradingstation.anchor_table import merge_anchors

    def rows(symbol: str, kinds: list[str]) -> pd.DataFrame:
        return pd.DataFrame({
            "symbol": symbol, "anchor_type": kinds, "anchor_date": date(2025, 11, 20),
            "price": 1.0, "strength": 1.0, "avwap": 1.0, "bars_since": 3,
        })

    stored = pd.concat([rows("AAA", ["gap_up"]), rows("NVDA", ["gap_up", "swing_high"])])
    found = rows("NVDA", ["volume_spike"])
    merged = merge_anchors(stored, found, ["NVDA"])
    assert merged[["symbol", "anchor_type"]].values.tolist() == [
        ["AAA", "gap_up"], ["NVDA", "volume_spike"]]
    assert merge_anchors(stored, found, None).equals(found.reset_index(drop=True))
    assert merge_anchors(None, found, ["NVDA"])["symbol"].tolist() == ["NVDA"]


def _year_and_more(sessions: int = 300) -> pd.DataFrame:
    """A steady series whose lowest low is 230 sessions back (between 200 and 252) and whose
    highest high is 100 sessions back."""
    days = pd.bdate_range("2023-01-02", periods=sessions, tz="UTC")
    close = np.full(sessions, 50.0) + np.sin(np.arange(sessions) / 5)
    frame = pd.DataFrame({"timestamp": days, "open": close, "high": close + 0.5,
                          "low": close - 0.5, "close": close,
                          "volume": np.full(sessions, 1_000_000, dtype="int64")})
    frame.loc[sessions - 230, "low"] = 30.0
    frame.loc[sessions - 100, "high"] = 70.0
    return frame


def test_52_week_extremes_are_the_252_session_values_under_default_retention() -> None:
    from tradingstation.config import Settings
    from tradingstation.data.retention import trim_bars

    bars = _year_and_more()
    kept = trim_bars("daily", bars, pd.Timestamp("2024-06-01", tz="UTC"), Settings())
    assert len(kept) == 252  # the default keeps a year of sessions
    found = find_anchors(Panel.from_bars({"YEAR": kept}))
    low = _of(found, "YEAR", "low_52w").iloc[0]
    assert (low.anchor_date, low.price) == (bars["timestamp"].iloc[-230].date(), 30.0)
    high = _of(found, "YEAR", "high_52w").iloc[0]
    assert (high.anchor_date, high.price) == (bars["timestamp"].iloc[-100].date(), 70.0)
    # 200 stored sessions do not hold the 52-week low: nothing is named 52-week then
    short = find_anchors(Panel.from_bars({"YEAR": bars.tail(200)}))
    assert _of(short, "YEAR", "low_52w").empty and _of(short, "YEAR", "high_52w").empty
