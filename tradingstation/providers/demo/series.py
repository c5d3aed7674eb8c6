"""Demo market price paths: daily bars on a weekday grid and extended-hours 1-min sessions.

Daily closes follow a mean-reverting log-price walk drawn once per symbol over a fixed weekday
grid (2016-2036), so a session's bar never depends on the moment it is asked for. A session's
1-min bars are drawn from a generator keyed by (seed, symbol, session) and are bent onto that
session's daily bar, so the daily bar is exactly the aggregation of the regular-hours minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from tradingstation.providers.demo.universe import Profile, stable_seed

GRID_START = np.datetime64("2016-01-04")  # a Monday
GRID_END = np.datetime64("2037-01-01")
GRID_DAYS = int(np.busday_count(GRID_START, GRID_END))

MINUTE_FIELDS = ("offset", "open", "high", "low", "close", "volume")


@dataclass
class DailyWindow:
    """Daily values of one symbol over a run of consecutive sessions (oldest first).

    ``after`` is the price the post-market ends at (where the next premarket starts).
    ``specs`` holds per-session intraday overrides of planted setups, by window index.
    """

    sessions: list[date]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    after: np.ndarray
    specs: dict[int, dict[str, Any]] = field(default_factory=dict)


def grid_index(days: list[date]) -> np.ndarray:
    """Weekday-grid positions of session dates."""
    return np.busday_count(GRID_START, np.array(days, dtype="datetime64[D]"))


_STEPS = np.arange(GRID_DAYS, dtype="float64")
# Per-session noise is drawn in blocks of the grid, each from its own generator, so a window
# only draws the blocks it touches and a session's draws never depend on the window.
_BLOCK = 512


def _block_noise(seed: int, symbol: str, g: np.ndarray) -> np.ndarray:
    """Five standard-normal draws per grid position in ``g`` (shape 5 x len(g))."""
    first, last = int(g.min()) // _BLOCK, int(g.max()) // _BLOCK
    blocks = [np.random.default_rng(stable_seed(seed, symbol, "block", b)).standard_normal(
        (5, _BLOCK)) for b in range(first, last + 1)]
    return np.concatenate(blocks, axis=1)[:, g - first * _BLOCK]


def base_window(seed: int, symbol: str, profile: Profile, sessions: list[date],
                g: np.ndarray) -> DailyWindow:
    """Generated (unplanted, unrounded) daily values of ``symbol`` on ``sessions``.

    ``g`` holds the sessions' weekday-grid positions (:func:`grid_index`). The first session
    only anchors the second one's open; callers drop it from output.
    """
    rng = np.random.default_rng(stable_seed(seed, symbol, "daily"))
    s, log_phi = profile.sigma, np.log(profile.phi)
    # AR(1) x_k = phi x_{k-1} + s e_k as phi^k * cumsum(s e_j phi^-j); phi >= 0.98 over the
    # ~5,500-step grid keeps phi^-j far from float64 overflow.
    scaled = np.cumsum(s * rng.standard_normal(GRID_DAYS) * np.exp(-log_phi * _STEPS))
    gp = np.concatenate(([g[0] - 1], g[:-1]))

    def log_close(at: np.ndarray) -> np.ndarray:
        trend = profile.trend_amp * np.sin(2 * np.pi * at / profile.trend_period
                                           + profile.trend_phase)
        return np.log(profile.level) + np.exp(log_phi * at) * scaled[at] + trend

    noise = _block_noise(seed, symbol, np.concatenate((gp[:1], g)))
    after_noise = noise[0]
    close = np.exp(log_close(g))
    prev_close = np.exp(log_close(gp))
    after = close * np.exp(0.25 * s * after_noise[1:])
    prev_after = prev_close * np.exp(0.25 * s * after_noise[:-1])
    n1, n2, n3, n4 = noise[1:, 1:]
    open_ = prev_after * np.exp(0.35 * s * n1)
    high = np.maximum(open_, close) * np.exp(0.5 * s * np.abs(n2))
    low = np.minimum(open_, close) * np.exp(-0.5 * s * np.abs(n3))
    move = np.abs(np.log(close / prev_close)) / s
    volume = profile.volume * np.exp(0.3 * n4 + 0.35 * np.minimum(move, 4.0) - 0.3)
    return DailyWindow(list(sessions), open_, high, low, close, volume, after)


def round_window(window: DailyWindow, decimals: int) -> None:
    """Round prices to the symbol's tick and volumes to whole shares, keeping OHLC valid."""
    tick = 10.0**-decimals
    for name in ("open", "high", "low", "close", "after"):
        setattr(window, name, np.maximum(np.round(getattr(window, name), decimals), tick))
    # Rounding is monotone, so high >= max(open, close) and low <= min(open, close) still hold.
    window.volume = np.maximum(np.round(window.volume), 100).astype("int64")


@dataclass(frozen=True)
class SessionShape:
    """Minute counts of one session's extended-hours segments."""

    premarket: int
    regular: int
    postmarket: int


def _u_shape(n: int) -> np.ndarray:
    t = np.arange(n, dtype="float64")
    return 1.0 + 3.0 * np.exp(-t / 20.0) + 1.6 * np.exp(-(n - 1 - t) / 25.0)


def _bars_from_path(start: float, path: np.ndarray, wick: np.ndarray) -> tuple[np.ndarray, ...]:
    opens = np.concatenate(([start], path[:-1]))
    highs = np.maximum(opens, path) + wick[0]
    lows = np.minimum(opens, path) - wick[1]
    return opens, highs, lows, path


def regular_bars(rng: np.random.Generator, o: float, h: float, low: float, c: float, v: int,
                 n: int) -> dict[str, np.ndarray]:
    """Regular-session minutes whose aggregation is exactly the daily bar ``(o, h, low, c, v)``.

    A Brownian bridge from open to close is drawn, then bent by a monotone piecewise-linear
    map that sends its lowest low to ``low`` and highest high to ``h`` while fixing open and
    close; a monotone map keeps every bar's high >= open/close >= low.
    """
    steps = rng.standard_normal(n) * np.sqrt(_u_shape(n))
    walk = np.cumsum(steps)
    frac = np.arange(1, n + 1) / n
    bridge = walk - frac * walk[-1]
    spread = float(np.ptp(bridge)) or 1.0
    path = o + (c - o) * frac + bridge * (0.8 * (h - low) / spread)
    path[-1] = c
    scale = max(h - low, 1e-6 * max(o, 1e-9)) / np.sqrt(n)
    wick = np.abs(rng.standard_normal((2, n))) * 0.2 * scale + 1e-9 * max(o, 1.0)
    opens, highs, lows, closes = _bars_from_path(o, path, wick)
    lo_oc, hi_oc = min(o, c), max(o, c)
    xp = [float(lows.min()), lo_oc, hi_oc, float(highs.max())]
    fp = [low, lo_oc, hi_oc, h]
    if lo_oc == hi_oc:
        xp, fp = [xp[0], lo_oc, xp[3]], [low, lo_oc, h]
    weights = _u_shape(n) * np.exp(0.4 * rng.standard_normal(n))
    volume = rng.multinomial(int(v), weights / weights.sum())
    bars = {k: np.interp(a, xp, fp) for k, a in
            (("open", opens), ("high", highs), ("low", lows), ("close", closes))}
    bars["volume"] = volume
    return bars


def extended_bars(rng: np.random.Generator, start: float, end: float, n: int, sigma: float,
                  trade_p: np.ndarray, volume: float, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Sparse pre- or post-market minutes drifting from ``start`` to ``end``.

    Only minutes where a trade happens get a bar (``trade_p`` per minute), as real feeds do.
    """
    steps = rng.standard_normal(n) * (0.3 * sigma / np.sqrt(n))
    walk = np.cumsum(steps)
    frac = np.arange(1, n + 1) / n
    log_path = np.log(start) + np.log(end / start) * frac + walk - frac * walk[-1]
    traded = rng.random(n) < trade_p
    wick = np.abs(rng.standard_normal((2, n))) * 0.05 * sigma * start / np.sqrt(30)
    share = rng.multinomial(max(int(volume), 0), weights / weights.sum())
    idx = np.flatnonzero(traded)
    if not len(idx):
        empty = np.zeros(0)
        return {"minute": idx, "open": empty, "high": empty, "low": empty, "close": empty,
                "volume": np.zeros(0, dtype="int64")}
    closes = np.exp(log_path[idx])
    opens, highs, lows, closes = _bars_from_path(start, closes, wick[:, idx])
    # Shares of minutes without a trade are booked on the nearest earlier traded minute.
    carried = np.add.reduceat(share, idx)
    carried[0] += share[: idx[0]].sum()
    return {"minute": idx, "open": opens, "high": highs, "low": lows, "close": closes,
            "volume": carried}


def session_bars(seed: int, symbol: str, profile: Profile, window: DailyWindow, i: int,
                 shape: SessionShape) -> dict[str, np.ndarray]:
    """All extended-hours 1-min bars of window session ``i`` (minute offsets from 04:00)."""
    rng = np.random.default_rng(stable_seed(seed, symbol, "minutes", window.sessions[i]))
    o, h, lo, c = (float(getattr(window, f)[i]) for f in ("open", "high", "low", "close"))
    v = int(window.volume[i])
    spec = window.specs.get(i, {})
    liq, s = profile.liquidity, profile.sigma
    npre, nreg, npost = shape.premarket, shape.regular, shape.postmarket
    if "premarket" in spec:
        pre = spec["premarket"]["build"](rng, n=npre, **spec["premarket"]["args"])
    else:
        t = np.arange(npre) / npre
        end = o * np.exp(0.05 * s * rng.standard_normal())
        shares = v * 0.012 * np.exp(0.4 * rng.standard_normal())
        pre = extended_bars(rng, float(window.after[i - 1]), end, npre, s,
                            np.clip(liq * (0.03 + 0.7 * t**3), 0, 0.95), shares, 0.2 + t**2)
    if "regular" in spec:
        reg = spec["regular"]["build"](**spec["regular"]["args"])
    else:
        reg = regular_bars(rng, o, h, lo, c, v, nreg)
    reg["minute"] = np.arange(nreg) + npre
    t = np.arange(npost, dtype="float64")
    post = extended_bars(
        rng, c, float(window.after[i]), npost, s,
        np.clip(liq * (0.05 + 0.8 * np.exp(-t / 15.0)), 0, 0.95),
        v * 0.01 * np.exp(0.4 * rng.standard_normal()), np.exp(-t / 40.0) + 0.1,
    )
    post["minute"] = post["minute"] + npre + nreg
    out = {}
    tick = 10.0**-profile.decimals
    for name in ("minute", "open", "high", "low", "close", "volume"):
        joined = np.concatenate([pre[name], reg[name], post[name]])
        if name in ("open", "high", "low", "close"):
            joined = np.maximum(np.round(joined, profile.decimals), tick)
        out[name] = joined
    out["volume"] = out["volume"].astype("int64")
    out["minute"] = out["minute"].astype("int64")
    return out
