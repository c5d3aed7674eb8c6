"""Minute-level shapes of the demo market's planted Gap & Go and Opening Range Breakout days."""

from __future__ import annotations

import numpy as np

OR_MINUTES = 15
TRIGGER_MINUTE = 17  # 09:47 New York


def _reflect(x: np.ndarray) -> np.ndarray:
    """Fold any real numbers into [0, 1] (a random walk reflected at both ends)."""
    return np.arccos(np.cos(np.pi * x)) / np.pi


def _floor(x: np.ndarray, decimals: int) -> np.ndarray:
    scale = 10.0**decimals
    return np.floor(x * scale + 1e-9) / scale


def gap_premarket(rng: np.random.Generator, n: int, prev_close: float,
                  band: tuple[float, float], volume: int, first: int,
                  decimals: int) -> dict[str, np.ndarray]:
    """A premarket that gaps at 04:00 and trades every minute with its gap inside ``band``.

    Prices are floored to the tick so no close or high ever exceeds ``band``'s upper end
    (a 3.9 % near-miss stays under 4 % after rounding).

    Args:
        rng: Generator of the session.
        n: Premarket minutes (04:00-09:30 = 330).
        prev_close: Prior session's close.
        band: Lowest and highest gap (fractions) of every close.
        volume: Total premarket shares.
        first: Shares of the first (04:00) minute: the news reaction.
        decimals: Price decimals.
    """
    lo, hi = band
    u = _reflect(0.5 + np.cumsum(rng.standard_normal(n) * 0.08))
    closes = _floor(prev_close * (1 + lo + (hi - lo) * u), decimals)
    opens = np.concatenate((_floor(np.array([prev_close * (1 + lo)]), decimals), closes[:-1]))
    top = _floor(np.array(prev_close * (1 + hi + 0.0005)), decimals)
    bottom = prev_close * (1 + lo - 0.004)
    wick = np.abs(rng.standard_normal((2, n))) * prev_close * (hi - lo + 0.002) * 0.15
    highs = np.maximum(np.minimum(np.maximum(opens, closes) + wick[0], top),
                       np.maximum(opens, closes))
    lows = np.minimum(np.maximum(np.minimum(opens, closes) - wick[1], bottom),
                      np.minimum(opens, closes))
    weights = 0.5 + np.arange(n - 1) / n
    rest = rng.multinomial(max(volume - first, 0), weights / weights.sum())
    return {"minute": np.arange(n), "open": opens, "high": _floor(highs, decimals),
            "low": np.round(lows, decimals), "close": closes,
            "volume": np.concatenate(([first], rest))}


def orb_regular(seed_key: int, o: float, volume: float, n: int, mode: str,
                decimals: int, width: float = 0.006) -> dict[str, np.ndarray]:
    """A regular session with a tight 15-minute range and a 09:47 close above it.

    ``mode="go"``: the 09:47 close clears the range on 3x the range's average minute volume and
    the day trends up. ``mode="weak"``: the 09:47 close pokes above on 1.1x volume, then every
    later close stays inside the range.

    Args:
        seed_key: Seed of this planted day (the daily bar is built from the same minutes).
        o: Regular open.
        volume: Approximate regular-session shares.
        n: Regular minutes (390, or 210 on half days).
        mode: ``go`` or ``weak``.
        decimals: Price decimals.
        width: Half the range's height as a fraction of the open.
    """
    rng = np.random.default_rng(seed_key)
    or_high, or_low = o * (1 + width), o * (1 - width)
    inside = or_low + (or_high - or_low) * (0.15 + 0.7 * rng.random(n))
    closes = inside.copy()
    trigger = or_high * (1.004 if mode == "go" else 1.002)
    closes[TRIGGER_MINUTE] = trigger
    if mode == "go":
        steps = rng.standard_normal(n - TRIGGER_MINUTE - 1) * o * 0.0015
        k = np.arange(1, len(steps) + 1) / len(steps)
        drift = trigger + (or_high * 1.025 - trigger) * k
        closes[TRIGGER_MINUTE + 1:] = np.maximum(drift + np.cumsum(steps) - k * steps.sum(),
                                                 or_low * 1.002)
    opens = np.concatenate(([o], closes[:-1]))
    wick = np.abs(rng.standard_normal((2, n))) * o * 0.0006
    highs = np.maximum(opens, closes) + wick[0]
    lows = np.minimum(opens, closes) - wick[1]
    # The range's extremes are exact and no range minute reaches past them.
    highs[:OR_MINUTES] = np.minimum(highs[:OR_MINUTES], or_high)
    lows[:OR_MINUTES] = np.maximum(lows[:OR_MINUTES], or_low)
    highs[6], lows[11] = or_high, or_low
    t = np.arange(n, dtype="float64")
    weights = 1.0 + 3.0 * np.exp(-t / 20.0) + 1.6 * np.exp(-(n - 1 - t) / 25.0)
    weights[:OR_MINUTES] *= 2.5
    weights *= np.exp(0.3 * rng.standard_normal(n))
    vols = rng.multinomial(int(volume), weights / weights.sum()).astype("float64")
    vols[OR_MINUTES:TRIGGER_MINUTE] = np.minimum(vols[OR_MINUTES:TRIGGER_MINUTE],
                                                 vols[:OR_MINUTES].mean())
    vols[TRIGGER_MINUTE] = vols[:OR_MINUTES].mean() * (3.0 if mode == "go" else 1.1)
    bars = {name: np.round(a, decimals) for name, a in
            (("open", opens), ("high", highs), ("low", lows), ("close", closes))}
    bars["volume"] = np.round(vols).astype("int64")
    return bars
