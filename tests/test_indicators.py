"""Indicators: oracle tests against pandas-ta on real daily history, hand-computed VWAP tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas_ta as ta
import pytest
from bokeh_sampledata import stocks

from tradingstation import indicators as ind
from tradingstation.errors import InputError

SYMBOLS = ("AAPL", "IBM", "MSFT", "GOOG")  # GOOG starts in 2004: leading NaNs in the panel
FIELDS = ("open", "high", "low", "close", "volume")
NY = "America/New_York"


def _history(symbol: str) -> pd.DataFrame:
    frame = pd.DataFrame(getattr(stocks, symbol))
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame["date"], utc=True), name=None)
    return frame[list(FIELDS)].astype("float64").sort_index()


def _wide(bars: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {f: pd.DataFrame({s: b[f] for s, b in bars.items()}).sort_index() for f in FIELDS}


@pytest.fixture(scope="module")
def daily() -> dict[str, pd.DataFrame]:
    return {s: _history(s) for s in SYMBOLS}


@pytest.fixture(scope="module")
def holey(daily: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """IBM loses 300 random bars: each symbol must still be computed on its own bars only."""
    rng = np.random.default_rng(7)
    out = dict(daily)
    ibm = daily["IBM"]
    out["IBM"] = ibm.drop(ibm.index[rng.choice(len(ibm), 300, replace=False)])
    return out


def _assert_matches(ours: pd.DataFrame, bars: dict[str, pd.DataFrame], reference) -> None:
    for symbol, b in bars.items():
        ref = reference(b)
        got = ours[symbol].loc[b.index]
        assert ref is not None, symbol
        np.testing.assert_array_equal(got.isna().to_numpy(), ref.isna().to_numpy(), err_msg=symbol)
        assert ref.notna().sum() > 0
        np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-9, err_msg=symbol)


CASES = {
    **{f"sma{n}": (lambda w, n=n: ind.sma(w["close"], n), lambda b, n=n: ta.sma(b.close, n))
       for n in (5, 9, 21, 50, 200)},
    **{f"ema{n}": (lambda w, n=n: ind.ema(w["close"], n), lambda b, n=n: ta.ema(b.close, n))
       for n in (2, 9, 21, 50, 200)},
    **{f"rma{n}": (lambda w, n=n: ind.rma(w["close"], n), lambda b, n=n: ta.rma(b.close, n))
       for n in (10, 14)},
    "true_range": (
        lambda w: ind.true_range(w["high"], w["low"], w["close"]),
        lambda b: ta.true_range(b.high, b.low, b.close),
    ),
    "atr14": (
        lambda w: ind.atr(w["high"], w["low"], w["close"]),
        lambda b: ta.atr(b.high, b.low, b.close),
    ),
    "atr5": (
        lambda w: ind.atr(w["high"], w["low"], w["close"], 5),
        lambda b: ta.atr(b.high, b.low, b.close, length=5),
    ),
    "rsi14": (lambda w: ind.rsi(w["close"]), lambda b: ta.rsi(b.close)),
    "rsi2": (lambda w: ind.rsi(w["close"], 2), lambda b: ta.rsi(b.close, length=2)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pandas_ta_on_real_history(name: str, daily, holey) -> None:
    ours_fn, ref_fn = CASES[name]
    for bars in (daily, holey):
        wide = _wide(bars)
        ours = ours_fn(wide)  # one call for the whole universe
        assert isinstance(ours, pd.DataFrame) and ours.shape == wide["close"].shape
        _assert_matches(ours, bars, ref_fn)
        # cells where a symbol has no bar stay NaN
        assert ours["GOOG"].loc[:"2004-08-18"].isna().all()


def test_series_in_series_out(daily) -> None:
    close = daily["AAPL"]["close"].rename("AAPL")
    out = ind.ema(close, 21)
    assert isinstance(out, pd.Series) and out.name == "AAPL" and out.index.equals(close.index)
    np.testing.assert_allclose(out.to_numpy(), ta.ema(close, 21).to_numpy(), rtol=1e-9)


def test_ema_is_sma_seeded() -> None:
    x = pd.Series([1.0, 2.0, 3.0, 4.0, 10.0])
    out = ind.ema(x, 3)
    assert out.iloc[:2].isna().all()
    assert out.iloc[2] == pytest.approx(2.0)  # mean(1, 2, 3), not an EWM of the first values
    assert out.iloc[3] == pytest.approx(2.0 + 0.5 * (4.0 - 2.0))
    assert out.iloc[4] == pytest.approx(3.0 + 0.5 * (10.0 - 3.0))
    assert ind.ema(pd.Series([1.0, 2.0]), 3).isna().all()  # fewer bars than length


def test_true_range_does_not_add_epsilon_on_flat_bars() -> None:
    # intentional difference: pandas-ta adds machine epsilon to every range once one is 0
    flat = pd.Series([10.0, 10.0, 10.0, 11.0])
    high = flat.copy()
    high.iloc[3] = 12.0
    ours = ind.true_range(high, flat, flat)
    ref = ta.true_range(high, flat, flat)
    assert ours.tolist() == [0.0, 0.0, 0.0, 2.0]
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-15)
    assert ref.iloc[0] > 0  # pandas-ta's epsilon really is there


def _intraday(seed: int) -> dict[str, pd.DataFrame]:
    """Extended-hours 1-min bars over 4 sessions crossing the 2024 DST change, NY-local index."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2024-03-07", "2024-03-12")
    parts = [
        pd.date_range(d + pd.Timedelta(hours=4), d + pd.Timedelta(hours=20), freq="1min",
                      inclusive="left", tz=NY)
        for d in days
    ]  # fmt: skip
    index = parts[0].append(parts[1:])
    n = len(index)
    out = {}
    for j, symbol in enumerate(("AAA", "BBB", "CCC")):
        close = 50.0 * (j + 1) * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
        frame = pd.DataFrame(
            {
                "open": close,
                "high": close * (1 + rng.uniform(0, 2e-3, n)),
                "low": close * (1 - rng.uniform(0, 2e-3, n)),
                "close": close,
                "volume": rng.integers(0, 5_000, n).astype("float64"),
            },
            index=index,
        )
        if symbol == "BBB":  # a thin name: only some minutes trade
            frame = frame.iloc[np.sort(rng.choice(n, n // 3, replace=False))]
        out[symbol] = frame
    return out


def test_vwap_session_matches_pandas_ta_per_new_york_day() -> None:
    bars = _intraday(3)
    wide = {f: w.tz_convert("UTC") for f, w in _wide(bars).items()}
    ours = ind.vwap_session(wide["high"], wide["low"], wide["close"], wide["volume"])
    for symbol, b in bars.items():
        ref = ta.vwap(b.high, b.low, b.close, b.volume, anchor="D")
        got = ours[symbol].tz_convert(NY).loc[b.index]
        np.testing.assert_array_equal(got.isna().to_numpy(), ref.isna().to_numpy())
        np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-9)
    # 19:59 NY is already the next UTC date, yet it belongs to the same session as 04:00
    b = bars["AAA"]
    day = b.loc["2024-03-08"]
    tp = (day.high + day.low + day.close) / 3
    expected = (tp * day.volume).sum() / day.volume.sum()
    assert ours["AAA"].loc[pd.Timestamp("2024-03-08 19:59", tz=NY)] == pytest.approx(expected)


def _hand_table() -> dict[str, pd.DataFrame]:
    index = pd.date_range("2024-01-02", periods=4, freq="D", tz="UTC")
    hlcv = {  # typical prices 10, 11, 13, 11
        "high": [11.0, 12.0, 14.0, 13.0],
        "low": [9.0, 10.0, 11.0, 10.0],
        "close": [10.0, 11.0, 14.0, 10.0],
        "volume": [100.0, 200.0, 100.0, 300.0],
    }
    return {f: pd.DataFrame({"X": v, "Y": v, "Z": v}, index=index) for f, v in hlcv.items()}


def test_anchored_vwap_hand_computation() -> None:
    w = _hand_table()
    anchors = pd.Series(
        {"X": pd.Timestamp("2024-01-03", tz="UTC"), "Y": pd.Timestamp("2024-01-04")}
    )
    out = ind.anchored_vwap(w["high"], w["low"], w["close"], w["volume"], anchors)
    x = out["X"].tolist()
    assert np.isnan(x[0])
    assert x[1:] == pytest.approx([11.0, 3500 / 300, 6800 / 600])
    assert np.isnan(out["Y"].iloc[:2]).all()  # a naive date is read in the index's zone (UTC)
    assert out["Y"].iloc[2:].tolist() == pytest.approx([13.0, (1300 + 3300) / 400])
    assert out["Z"].isna().all()  # no anchor → NaN
    one = ind.anchored_vwap_from(
        w["high"]["X"], w["low"]["X"], w["close"]["X"], w["volume"]["X"], "2024-01-03"
    )
    assert one.iloc[1:].tolist() == pytest.approx(x[1:]) and np.isnan(one.iloc[0])


def test_anchored_vwap_matches_pandas_ta_vwap_on_slice(daily) -> None:
    wide = _wide(daily)
    start = pd.Timestamp("2010-03-15", tz="UTC")
    anchors = pd.Series({"AAPL": start, "GOOG": start, "MSFT": pd.Timestamp("2012-06-01")})
    ours = ind.anchored_vwap(wide["high"], wide["low"], wide["close"], wide["volume"], anchors)
    for symbol in ("AAPL", "GOOG"):
        part = daily[symbol].loc[
            start : pd.Timestamp("2010-12-31", tz="UTC")
        ]  # one calendar year = one "Y" period
        ref = ta.vwap(part.high, part.low, part.close, part.volume, anchor="Y")
        np.testing.assert_allclose(ours[symbol].loc[part.index], ref, rtol=1e-9)
        assert ours[symbol].loc[: start - pd.Timedelta(days=1)].isna().all()
    assert ours["MSFT"].loc["2012-06-01":].notna().all()
    assert ours["IBM"].isna().all()


def _rvol_reference(volume: pd.Series, lookback: int) -> pd.Series:
    """Day-by-day relative volume for one symbol (NY-local index), without any grid."""
    local = volume.dropna()
    day_of = local.index.normalize()
    days = sorted(set(day_of))
    tod = {d: (local.index[day_of == d] - d).asi8 for d in days}
    cum = {d: local[day_of == d].cumsum().to_numpy() for d in days}
    out = pd.Series(np.nan, index=volume.index)
    for i, d in enumerate(days):
        prior = days[max(0, i - lookback) : i]
        if not prior:
            continue
        at = []
        for p in prior:  # cumulative volume of day p by each of day d's times (0 before its first)
            pos = np.searchsorted(tod[p], tod[d], side="right") - 1
            at.append(np.where(pos >= 0, cum[p][np.maximum(pos, 0)], 0.0))
        mean = np.mean(at, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[local.index[day_of == d]] = np.where(mean > 0, cum[d] / mean, np.nan)
    return out


def test_relative_volume_by_time_hand_table() -> None:
    stamps = [f"2024-03-{d} 04:0{m}" for d in ("07", "08", "11") for m in (0, 1)]
    index = pd.DatetimeIndex(stamps).tz_localize(NY)
    volume = pd.DataFrame(
        {
            "A": [100, 100, 300, 100, 200, 400],
            "B": [10, 10, np.nan, np.nan, 20, 20],  # no bar on the 8th: that day is skipped
            "C": [np.nan, 50, 60, 60, 30, 30],  # first bar of the 7th at 04:01
        },
        index=index,
    ).tz_convert("UTC")
    out = ind.relative_volume_by_time(volume, lookback_sessions=2)
    assert out["A"].iloc[:2].isna().all()
    assert out["A"].iloc[2:].tolist() == pytest.approx([3.0, 2.0, 1.0, 2.0])
    assert out["B"].iloc[4:].tolist() == pytest.approx([2.0, 2.0])
    assert out["B"].iloc[2:4].isna().all()
    # C at 04:00 on the 8th: the 7th had 0 by 04:00 → mean 0 → NaN; at 04:01: 120 / 50
    assert np.isnan(out["C"].iloc[2]) and out["C"].iloc[3] == pytest.approx(120 / 50)
    assert out["C"].iloc[4] == pytest.approx(30 / 30)  # mean(0, 60) at 04:00
    one = ind.relative_volume_by_time(volume["A"], lookback_sessions=1)
    assert one.iloc[4] == pytest.approx(200 / 300)


def test_relative_volume_by_time_matches_loop_reference() -> None:
    bars = _intraday(11)
    volume = _wide(bars)["volume"]
    ours = ind.relative_volume_by_time(volume.tz_convert("UTC"), lookback_sessions=2)
    for symbol in ("AAA", "BBB"):
        ref = _rvol_reference(volume[symbol], 2)
        got = ours[symbol].tz_convert(NY)
        np.testing.assert_array_equal(got.isna().to_numpy(), ref.isna().to_numpy())
        np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-12)


def test_pivots_tie_rule_and_edges() -> None:
    high = pd.Series([1.0, 2.0, 5.0, 4.0, 5.0, 3.0, 2.0, 6.0, 1.0])
    low = pd.Series([2.0, 1.5, 1.0, 3.0, 1.0, 2.5, 1.5, 5.5, 0.5])
    highs, lows = ind.pivots(high, low, left=2, right=2)
    # bar 2 (5.0) beats its 2 left bars and ties bar 4 on the right → pivot; bar 4 does not
    # strictly beat bar 2 on its left → no pivot. Bar 7 (6.0) lacks 2 bars on its right.
    assert highs.tolist() == [False, False, True, False, False, False, False, False, False]
    # lows mirror it: bar 2 (1.0) is the pivot, its equal at bar 4 is not; bar 6 (1.5) is
    # above bar 4 on its left, and bar 8 (0.5) lacks a full right window.
    assert lows.tolist() == [False, False, True, False, False, False, False, False, False]
    assert highs.dtype == bool


def test_pivots_match_brute_force_on_real_history(daily) -> None:
    wide = _wide(daily)
    highs, lows = ind.pivots(wide["high"], wide["low"], left=5, right=3)
    for symbol in ("AAPL", "GOOG"):
        h = daily[symbol]["high"].to_numpy()
        lo = daily[symbol]["low"].to_numpy()
        exp_h = np.zeros(len(h), dtype=bool)
        exp_l = np.zeros(len(h), dtype=bool)
        for t in range(5, len(h) - 3):
            exp_h[t] = h[t] > h[t - 5 : t].max() and h[t] >= h[t + 1 : t + 4].max()
            exp_l[t] = lo[t] < lo[t - 5 : t].min() and lo[t] <= lo[t + 1 : t + 4].min()
        np.testing.assert_array_equal(highs[symbol].loc[daily[symbol].index].to_numpy(), exp_h)
        np.testing.assert_array_equal(lows[symbol].loc[daily[symbol].index].to_numpy(), exp_l)
        assert exp_h.sum() > 50
    assert not highs["GOOG"].loc[:"2004-08-18"].any()


def test_volume_averages_and_rolling_helpers() -> None:
    vol = pd.DataFrame({"A": [10.0, 20.0, 30.0, 40.0], "B": [np.nan, 1.0, 3.0, 5.0]})
    avg = ind.average_volume(vol, 2)
    assert avg["A"].iloc[:2].isna().all() and avg["A"].iloc[2:].tolist() == [15.0, 25.0]
    assert avg["B"].iloc[:3].isna().all() and avg["B"].iloc[3] == 2.0  # excludes the current bar
    close = pd.DataFrame({"A": [1.0, 2.0, 1.0, 2.0], "B": [np.nan, 2.0, 2.0, 2.0]})
    dollars = ind.adv(close, vol, 2)
    assert dollars["A"].iloc[1:].tolist() == [25.0, 35.0, 55.0]  # includes the current bar
    assert ind.rolling_max(vol, 2)["B"].tolist()[2:] == [3.0, 5.0]
    assert ind.rolling_min(vol, 3)["A"].tolist()[2:] == [10.0, 20.0]
    assert ind.shift_bars(vol, 1)["B"].tolist()[2:] == [1.0, 3.0]
    assert ind.shift_bars(vol, -1)["A"].tolist()[:3] == [20.0, 30.0, 40.0]


def test_bad_input_raises_input_error() -> None:
    x = pd.Series([1.0, 2.0, 3.0])
    for call in (
        lambda: ind.sma(x, 0),
        lambda: ind.ema(x, -3),
        lambda: ind.atr(x, x, x, length=2.5),  # type: ignore[arg-type]
        lambda: ind.rsi([1.0, 2.0]),  # type: ignore[arg-type]
        lambda: ind.true_range(x, x, x.iloc[:2]),
        lambda: ind.pivots(x, x, left=0),
        lambda: ind.relative_volume_by_time(x, lookback_sessions=0),
        lambda: ind.anchored_vwap(x.to_frame(), x.to_frame(), x.to_frame(), x.to_frame(), {}),
    ):
        with pytest.raises(InputError) as info:
            call()
        assert "\n" not in str(info.value)
