"""Track-record statistics: per screener, score band and direction, in R.

Definitions (rows of :func:`summarize`):

* ``signals``: signals whose outcome is decided (``open`` ones are still running: left out).
* ``fill_rate``: filled / signals. ``trades``: filled signals that exited.
* ``win_rate``: trades with R > 0 / trades. ``avg_r``: mean R per trade.
* ``expectancy``: mean R per *signal*, a signal never filled counting 0 R (what acting on every
  signal of the group earned), with a seeded bootstrap 90 % interval (``exp_low``..``exp_high``).
* ``worst_losing_run``: most consecutive losing trades (R < 0) in the order they were taken.
* ``avg_held``: mean sessions held (fill session through exit session).

Fewer than :data:`MIN_OUTCOMES` decided signals: the numbers are computed but the group is
``enough = False`` and everything shown to a trader says "not enough history" instead.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradingstation.track.outcome import CLOSED, NOT_FILLED

MIN_OUTCOMES = 30
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 17
BANDS = ("<7", "7-8", "8-9", ">=9")
NOT_ENOUGH = "not enough history"
STAT_COLUMNS = ("signals", "fill_rate", "trades", "win_rate", "avg_r", "expectancy", "exp_low",
                "exp_high", "worst_losing_run", "avg_held", "enough")


def score_band(score: float | np.ndarray | pd.Series) -> np.ndarray:
    """Band label of each score: ``<7``, ``7-8``, ``8-9`` or ``>=9`` (lower bound included)."""
    values = np.asarray(score, dtype="float64")
    index = np.digitize(values, [7.0, 8.0, 9.0])
    return np.asarray(BANDS, dtype=object)[index]


def bootstrap_interval(values: np.ndarray, samples: int = BOOTSTRAP_SAMPLES,
                       seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """5th and 95th percentile of the mean over ``samples`` resamples (seeded: repeatable)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = np.empty(samples)
    step = max(1, 2_000_000 // n)  # resamples per chunk: bounded memory for large groups
    for start in range(0, samples, step):
        count = min(step, samples - start)
        means[start:start + count] = values[rng.integers(0, n, (count, n))].mean(axis=1)
    low, high = np.percentile(means, [5.0, 95.0])
    return float(low), float(high)


def worst_losing_run(r: np.ndarray) -> int:
    """Most consecutive values below zero."""
    worst = run = 0
    for value in r:
        run = run + 1 if value < 0 else 0
        worst = max(worst, run)
    return worst


def group_stats(rows: pd.DataFrame) -> dict[str, float | int | bool]:
    """The :data:`STAT_COLUMNS` of one group of outcome rows (any exit reason)."""
    decided = rows[rows["exit_reason"].isin([*CLOSED, NOT_FILLED])]
    decided = decided.sort_values(["timestamp", "id"], kind="stable")
    trades = decided[decided["exit_reason"].isin(CLOSED)]
    r = trades["r"].to_numpy("float64")
    per_signal = np.where(decided["exit_reason"].isin(CLOSED), decided["r"].fillna(0.0), 0.0)
    low, high = bootstrap_interval(per_signal.astype("float64"))
    n = len(decided)
    return {
        "signals": n,
        "fill_rate": float(decided["filled"].astype(bool).mean()) if n else math.nan,
        "trades": len(trades),
        "win_rate": float((r > 0).mean()) if len(r) else math.nan,
        "avg_r": float(r.mean()) if len(r) else math.nan,
        "expectancy": float(per_signal.mean()) if n else math.nan,
        "exp_low": low,
        "exp_high": high,
        "worst_losing_run": worst_losing_run(r),
        "avg_held": float(trades["held_sessions"].mean()) if len(trades) else math.nan,
        "enough": n >= MIN_OUTCOMES,
    }


def summarize(outcomes: pd.DataFrame, by: tuple[str, ...] = ("screener", "band", "direction"),
              ) -> pd.DataFrame:
    """One row of :data:`STAT_COLUMNS` per group of ``by`` (``band`` is derived from score)."""
    frame = outcomes.assign(band=score_band(outcomes["score"])) if len(outcomes) else outcomes
    if frame.empty:
        return pd.DataFrame(columns=[*by, *STAT_COLUMNS])
    records = [{**dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                **group_stats(group)}
               for key, group in frame.groupby(list(by), sort=True)]
    return pd.DataFrame.from_records(records, columns=[*by, *STAT_COLUMNS])


def calibration(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Does a higher score earn more R? Per screener.

    Expectancy per band and the rank correlation (Spearman) of score with R over its trades.
    """
    table = summarize(outcomes, ("screener", "band"))
    if table.empty:
        return pd.DataFrame(columns=["screener", *BANDS, "spearman", "trades"])
    wide = table.pivot(index="screener", columns="band", values="expectancy")
    wide = wide.reindex(columns=list(BANDS))
    trades = outcomes[outcomes["exit_reason"].isin(CLOSED)]
    rho = {name: (g["score"].rank().corr(g["r"].rank()) if len(g) > 2 else math.nan)
           for name, g in trades.groupby("screener")}
    wide["spearman"] = [rho.get(name, math.nan) for name in wide.index]
    wide["trades"] = trades.groupby("screener").size().reindex(wide.index).fillna(0).astype(int)
    return wide.reset_index().rename_axis(None, axis=1)


def side_by_side(backtest: pd.DataFrame, live: pd.DataFrame) -> pd.DataFrame:
    """Backtest and live statistics per screener next to each other, with sample sizes."""
    cols = ["signals", "win_rate", "expectancy", "enough"]
    left = summarize(backtest, ("screener",))[["screener", *cols]]
    right = summarize(live, ("screener",))[["screener", *cols]]
    merged = left.merge(right, on="screener", how="outer", suffixes=("_backtest", "_live"))
    for name in ("signals_backtest", "signals_live"):
        merged[name] = merged[name].fillna(0).astype(int)
    return merged.sort_values("screener").reset_index(drop=True)


def lookup(table: pd.DataFrame, screener: str, score: float,
           direction: str) -> dict[str, object]:
    """The track record a trader sees beside one idea.

    Its screener, band and direction's ``expectancy`` (R per signal) and sample size, or ``note =
    "not enough history"``.
    """
    band = str(score_band([score])[0])
    hit = table[(table["screener"] == screener) & (table["band"] == band)
                & (table["direction"] == direction)] if len(table) else table
    n = int(hit["signals"].iloc[0]) if len(hit) else 0
    enough = bool(len(hit) and hit["enough"].iloc[0])
    return {
        "screener": screener, "band": band, "direction": direction, "sample": n,
        "expectancy_r": round(float(hit["expectancy"].iloc[0]), 3) if enough else None,
        "win_rate": round(float(hit["win_rate"].iloc[0]), 3) if enough else None,
        "note": "" if enough else NOT_ENOUGH,
    }


def equity_curves(outcomes: pd.DataFrame) -> dict[str, pd.Series]:
    """Cumulative R of each screener's closed trades, by exit session (one point a session)."""
    closed = outcomes[outcomes["exit_reason"].isin(CLOSED)] if len(outcomes) else outcomes
    curves = {}
    for name, group in closed.groupby("screener") if len(closed) else ():
        daily = group.groupby(pd.to_datetime(group["exit_session"]))["r"].sum().sort_index()
        curves[str(name)] = daily.cumsum()
    return curves
