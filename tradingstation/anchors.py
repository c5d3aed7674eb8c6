"""AVWAP anchor finder: the days worth anchoring a VWAP to, for the whole universe at once.

Anchor types and how each is measured (``price`` is the anchor bar's reference price,
``strength`` says how significant it is):

=================  ==============================================  =============================
anchor_type        found when                                      price / strength
=================  ==============================================  =============================
gap_up / gap_down  open vs the symbol's previous close ≥ threshold  close / |gap| as a fraction
volume_spike       volume ≥ ``volume_spike`` × mean volume of the   close / volume multiple
                   ``volume_avg_days`` bars before it
highest_volume     the largest-volume bar in the lookback window    close / its volume ÷ the
                                                                    window's mean volume
swing_high / low   a pivot (see ``indicators.pivots``)              high (low) / prominence: the
                                                                    pivot's distance to the
                                                                    opposite extreme of its
                                                                    left+right window, as a
                                                                    fraction of the pivot price
high_52w / low_52w the highest high / lowest low of the last 252    high (low) / proximity 0..1:
                   sessions (the latest bar if tied)                last close ÷ high (low ÷
                                                                    last close)
earnings           the first bar on or after an earnings date       close / |close-to-close move|
=================  ==============================================  =============================

All types except the 52-week extremes are limited to the last ``lookback_days`` sessions of the
panel. The 52-week extremes are reported only for a symbol whose history covers the whole 252
sessions (daily retention keeps 252 by default): over a shorter history the value would be the
extreme of fewer sessions under a 52-week name, so none is reported. ``avwap`` is Σ TP·V / Σ V
from the anchor bar (included) to the symbol's last bar, ``bars_since`` the number of the
symbol's bars after the anchor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import numpy as np
import pandas as pd

from tradingstation import indicators as ind
from tradingstation.calendar import NY
from tradingstation.data import point_in_time
from tradingstation.data.panel import Panel
from tradingstation.errors import InputError

ANCHOR_TYPES = (
    "gap_up",
    "gap_down",
    "volume_spike",
    "highest_volume",
    "swing_high",
    "swing_low",
    "high_52w",
    "low_52w",
    "earnings",
)
ANCHOR_COLUMNS = [
    "symbol",
    "anchor_type",
    "anchor_date",
    "price",
    "strength",
    "avwap",
    "bars_since",
]
SESSIONS_52W = 252
GAP_THRESHOLD = 0.03  # the defaults of find_anchors, which the AVWAP Reclaim replay also uses
VOLUME_SPIKE = 2.0
VOLUME_AVG_DAYS = 50
PIVOT_BARS = 5
_HLCV = ("high", "low", "close", "volume")
BLOCK_SYMBOLS = 256


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _positive_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise InputError(f"{name} must be a positive number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def empty_anchors() -> pd.DataFrame:
    """An anchor table without rows."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in ANCHOR_COLUMNS})
    for c in ("symbol", "anchor_type", "anchor_date"):
        frame[c] = pd.Series(dtype="object")
    frame["bars_since"] = pd.Series(dtype="int64")
    return frame[ANCHOR_COLUMNS]


class _Found:
    """Collects (row, column, price, strength) hits per anchor type."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, kind: str, mask: np.ndarray, price: np.ndarray, strength: np.ndarray) -> None:
        rows, cols = np.nonzero(mask)
        self.parts.append((kind, rows, cols, price[rows, cols], strength[rows, cols]))

    def add_one_per_column(
        self, kind: str, rows: np.ndarray, price: np.ndarray, strength: np.ndarray
    ) -> None:
        """``rows[c]`` is the hit of column c, or -1 for none."""
        cols = np.flatnonzero(rows >= 0)
        rows = rows[cols]
        self.parts.append((kind, rows, cols, price[rows, cols], strength[rows, cols]))


def _argextreme(values: np.ndarray, allowed: np.ndarray, largest: bool) -> np.ndarray:
    """Per column, the latest row holding the max (min) of ``values`` where allowed; -1 if none."""
    fill = -np.inf if largest else np.inf
    arr = np.where(allowed, values, fill)[::-1]
    pos = np.argmax(arr, axis=0) if largest else np.argmin(arr, axis=0)
    rows = len(values) - 1 - pos
    return np.where(allowed.any(axis=0), rows, -1)


def _earnings_rows(
    earnings: Mapping[str, list[date]],
    symbols: list[str],
    index: pd.DatetimeIndex,
    valid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the first bar of each symbol on or after each of its earnings dates."""
    position = {s: i for i, s in enumerate(symbols)}
    cols_list: list[int] = []
    days: list[pd.Timestamp] = []
    for symbol, dates in earnings.items():
        if symbol not in position:
            continue
        for day in dates:
            if not isinstance(day, date):
                raise InputError(f"earnings dates of {symbol} must be dates, got {day!r}")
            stamp = day.date() if isinstance(day, datetime) else day
            cols_list.append(position[symbol])
            days.append(pd.Timestamp(stamp))
    n = len(index)
    if not cols_list:
        return np.array([], dtype=int), np.array([], dtype=int)
    first = np.searchsorted(_session_days(index).asi8, pd.DatetimeIndex(days).as_unit("ns").asi8)
    # next_valid[i, c] = first row >= i where symbol c has a bar (n if none)
    next_valid = np.where(valid, np.arange(n)[:, None], n)
    next_valid = np.minimum.accumulate(next_valid[::-1], axis=0)[::-1]
    next_valid = np.vstack([next_valid, np.full((1, valid.shape[1]), n)])
    cols = np.asarray(cols_list)
    rows = next_valid[first, cols]
    keep = rows < n
    return rows[keep], cols[keep]


def find_anchors(
    daily: Panel,
    lookback_days: int = 30,
    gap_threshold: float = GAP_THRESHOLD,
    volume_spike: float = VOLUME_SPIKE,
    volume_avg_days: int = VOLUME_AVG_DAYS,
    pivot_left: int = PIVOT_BARS,
    pivot_right: int = PIVOT_BARS,
    earnings: Mapping[str, list[date]] | None = None,
) -> pd.DataFrame:
    """Find AVWAP anchors for every symbol of a daily panel (see the module docstring).

    Args:
        daily: Daily bars of the universe.
        lookback_days: Only anchors within the panel's last this many sessions (except the
            52-week extremes).
        gap_threshold: Minimum |open / previous close - 1| for a gap day (0.03 = 3 %).
        volume_spike: Minimum multiple of the prior ``volume_avg_days``-bar mean volume.
        volume_avg_days: Bars in the volume average.
        pivot_left: Bars before a pivot it must exceed.
        pivot_right: Bars after a pivot it must not be exceeded by.
        earnings: Optional ``{symbol: [dates]}`` from the provider.

    Returns:
        One row per anchor, columns ``ANCHOR_COLUMNS``, sorted by symbol, date, type.

    Raises:
        InputError: a parameter out of range.
    """
    if not isinstance(daily, Panel):
        raise InputError(f"find_anchors needs a Panel, got {type(daily).__name__}")
    lookback = _positive_int("lookback_days", lookback_days)
    gap_min = _positive_float("gap_threshold", gap_threshold)
    spike = _positive_float("volume_spike", volume_spike)
    avg_days = _positive_int("volume_avg_days", volume_avg_days)
    left = _positive_int("pivot_left", pivot_left)
    right = _positive_int("pivot_right", pivot_right)
    if earnings is not None and not isinstance(earnings, Mapping):
        raise InputError("earnings must map symbol to a list of dates")
    if daily.close.empty:
        return empty_anchors()
    params = (lookback, gap_min, spike, avg_days, left, right, earnings)
    # Every step is per symbol, so symbols go in blocks: a block's temporaries reuse memory the
    # process already touched (all 6,000 at once: 12 MB each, and fresh pages cost ~10 ms/MB).
    found = [_find_block(block, *params) for block in daily.column_blocks(BLOCK_SYMBOLS)]
    found = [frame for frame in found if len(frame)]  # blocks follow the sorted symbols
    return pd.concat(found, ignore_index=True) if found else empty_anchors()


def _find_block(daily: Panel, lookback: int, gap_min: float, spike: float, avg_days: int,
                left: int, right: int, earnings: Mapping[str, list[date]] | None
                ) -> pd.DataFrame:
    """:func:`find_anchors` on one block of symbols (validated parameters)."""
    n, m = daily.close.shape
    o, h, lo, c, v = (getattr(daily, f).to_numpy(dtype="float64") for f in ("open", *_HLCV))
    valid = ~(np.isnan(h) | np.isnan(lo) | np.isnan(c) | np.isnan(v))
    window = (np.arange(n) >= n - lookback)[:, None] & valid
    prev_close = ind.shift_bars(daily.close, 1).to_numpy()
    found = _Found()
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = o / prev_close - 1.0
        found.add("gap_up", window & (gap >= gap_min), c, np.abs(gap))
        found.add("gap_down", window & (gap <= -gap_min), c, np.abs(gap))

        multiple = v / ind.average_volume(daily.volume, avg_days).to_numpy()
        found.add("volume_spike", window & (multiple >= spike), c, multiple)
        # sum/count, not nanmean: no bar in the window is a quiet NaN, not a RuntimeWarning
        window_mean = (np.where(window, v, 0.0).sum(axis=0, keepdims=True)
                       / window.sum(axis=0, keepdims=True))
        highest = _argextreme(v, window, largest=True)
        found.add_one_per_column("highest_volume", highest, c, v / window_mean)

        swing_high, swing_low = (
            p.to_numpy() for p in ind.pivots(daily.high, daily.low, left, right)
        )
        span = left + right + 1
        around_low = ind.shift_bars(ind.rolling_min(daily.low, span), -right).to_numpy()
        around_high = ind.shift_bars(ind.rolling_max(daily.high, span), -right).to_numpy()
        found.add("swing_high", window & swing_high, h, (h - around_low) / h)
        found.add("swing_low", window & swing_low, lo, (around_high - lo) / lo)

        last_close = _last_valid(c, valid)[None, :]
        # Only symbols with a bar at or before the first of the last 252 sessions: anything
        # shorter is not a 52-week value.
        first = np.where(valid.any(axis=0), np.argmax(valid, axis=0), n)
        whole_year = (n >= SESSIONS_52W) & (first <= n - SESSIONS_52W)
        year = (np.arange(n) >= n - SESSIONS_52W)[:, None] & valid & whole_year[None, :]
        found.add_one_per_column("high_52w", _argextreme(h, year, True), h, last_close / h)
        found.add_one_per_column("low_52w", _argextreme(lo, year, False), lo, lo / last_close)

        if earnings:
            rows, cols = _earnings_rows(earnings, daily.symbols, daily.index, valid)
            mask = np.zeros((n, m), dtype=bool)
            mask[rows, cols] = True
            found.add("earnings", mask & window, c, np.abs(c / prev_close - 1.0))
    return _assemble(found, daily, valid)


def anchors_at(daily: Panel, session: date, as_of: datetime, **params: object) -> pd.DataFrame:
    """:func:`find_anchors` on the daily bars up to ``session`` that existed at ``as_of``.

    Later bars in ``daily`` are never looked at, so a replay at ``as_of`` finds the same
    anchors, with the same AVWAPs, as a live run at ``as_of`` did.

    Args:
        daily: Daily bars (may hold later sessions; they are cut away).
        session: The session the anchors are for.
        as_of: The instant (tz-aware).
        **params: :func:`find_anchors` parameters.
    """
    if not isinstance(daily, Panel):
        raise InputError(f"anchors_at needs a Panel, got {type(daily).__name__}")
    known = point_in_time.daily_through(daily, session, as_of)
    return find_anchors(known, **params)  # type: ignore[arg-type]


def _last_valid(arr: np.ndarray, valid: np.ndarray) -> np.ndarray:
    last = np.where(valid.any(axis=0), len(arr) - 1 - np.argmax(valid[::-1], axis=0), 0)
    return np.where(valid.any(axis=0), arr[last, np.arange(arr.shape[1])], np.nan)


def _suffix_sums(daily: Panel, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bar and symbol: Σ TP·V, Σ V and bar count from that bar to the symbol's last bar."""
    h, lo, c, v = (getattr(daily, f).to_numpy(dtype="float64") for f in _HLCV)
    with np.errstate(invalid="ignore"):
        pv = np.where(valid, (h + lo + c) / 3.0 * v, 0.0)
    vol = np.where(valid, v, 0.0)

    def suffix(a: np.ndarray) -> np.ndarray:
        return np.cumsum(a[::-1], axis=0)[::-1]

    return suffix(pv), suffix(vol), suffix(valid.astype(np.int64))


def _assemble(found: _Found, daily: Panel, valid: np.ndarray) -> pd.DataFrame:
    parts = [p for p in found.parts if len(p[1])]
    if not parts:
        return empty_anchors()
    kinds = np.concatenate([np.full(len(p[1]), p[0], dtype=object) for p in parts])
    rows = np.concatenate([p[1] for p in parts])
    cols = np.concatenate([p[2] for p in parts])
    sum_pv, sum_v, count = _suffix_sums(daily, valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        avwap = np.where(sum_v[rows, cols] > 0, sum_pv[rows, cols] / sum_v[rows, cols], np.nan)
    index = daily.index
    stamps = index.tz_convert("UTC") if index.tz is not None else index
    frame = pd.DataFrame(
        {
            "symbol": np.asarray(daily.symbols, dtype=object)[cols],
            "anchor_type": kinds,
            "anchor_date": np.asarray(stamps.date, dtype=object)[rows],
            "price": np.concatenate([p[3] for p in parts]),
            "strength": np.concatenate([p[4] for p in parts]),
            "avwap": avwap,
            "bars_since": (count[rows, cols] - 1).astype("int64"),
        }
    )
    order = {k: i for i, k in enumerate(ANCHOR_TYPES)}
    frame["_order"] = frame["anchor_type"].map(order)
    frame = frame.sort_values(["symbol", "anchor_date", "_order"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def avwap_with_intraday(daily: Panel, intraday: Panel, anchors: pd.DataFrame) -> pd.Series:
    """Current AVWAP of each anchor, continued through later intraday bars.

    The intraday bars of sessions after the symbol's last daily bar count (a day in both once).

    Args:
        daily: The daily panel the anchors were found in.
        intraday: 1-min (or any intraday) bars, UTC index.
        anchors: Rows of :func:`find_anchors` (``symbol``, ``anchor_date``).

    Returns:
        AVWAP per anchor row (same index as ``anchors``); NaN for a symbol or date not in
        ``daily``.
    """
    if not isinstance(daily, Panel) or not isinstance(intraday, Panel):
        raise InputError("avwap_with_intraday needs daily and intraday Panels")
    if len(anchors) == 0:
        return pd.Series(dtype="float64", index=anchors.index, name="avwap")
    dh, dl, dc, dv = (getattr(daily, f).to_numpy(dtype="float64") for f in _HLCV)
    valid = ~(np.isnan(dh) | np.isnan(dl) | np.isnan(dc) | np.isnan(dv))
    sum_pv, sum_v, _ = _suffix_sums(daily, valid)
    # Intraday volume-weighted sums per daily symbol, after that symbol's last daily session.
    last_day = pd.Series(_last_valid_day(daily, valid), index=daily.symbols)
    ih, il, ic, iv = (
        getattr(intraday, f).reindex(columns=daily.symbols).to_numpy(dtype="float64") for f in _HLCV
    )
    local = intraday.index.tz_convert(NY)
    ny_days = local.normalize().tz_localize(None).as_unit("ns").asi8
    later = ny_days[:, None] > last_day.to_numpy()[None, :]
    with np.errstate(invalid="ignore"):
        ivalid = later & ~(np.isnan(ih) | np.isnan(il) | np.isnan(ic) | np.isnan(iv))
        extra_pv = np.where(ivalid, (ih + il + ic) / 3.0 * iv, 0.0).sum(axis=0)
        extra_v = np.where(ivalid, iv, 0.0).sum(axis=0)

    col_of = {s: i for i, s in enumerate(daily.symbols)}
    cols = anchors["symbol"].map(col_of)
    days = pd.DatetimeIndex(pd.to_datetime(anchors["anchor_date"].astype(object), errors="coerce"))
    rows = _session_days(daily.index).get_indexer(days.as_unit("ns"))
    rows = pd.Series(rows, index=anchors.index)
    ok = (cols.notna() & (rows >= 0)).to_numpy()
    r = rows.to_numpy()[ok]
    k = cols.to_numpy()[ok].astype(int)
    out = np.full(len(anchors), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        total_v = sum_v[r, k] + extra_v[k]
        out[ok] = np.where(total_v > 0, (sum_pv[r, k] + extra_pv[k]) / total_v, np.nan)
    return pd.Series(out, index=anchors.index, name="avwap")


def _last_valid_day(daily: Panel, valid: np.ndarray) -> np.ndarray:
    """Per symbol, its last daily session as int64 ns of the naive date (min int if none)."""
    days = _session_days(daily.index).asi8
    has = valid.any(axis=0)
    last = len(days) - 1 - np.argmax(valid[::-1], axis=0)
    return np.where(has, days[last], np.iinfo(np.int64).min)


def _session_days(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Daily bar timestamps (session date 00:00 UTC) as naive nanosecond dates."""
    stamps = index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index
    return stamps.normalize().as_unit("ns")
