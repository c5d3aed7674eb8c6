"""Deterministic synthetic market for the benchmarks: a universe of daily bars, quotes, 1-min bars.

Everything is a pure function of ``(seed, size, day)`` and vectorised over symbols, so 6,000
symbols x 250 sessions take well under a second. Prices follow per-symbol random walks with
their own volatility and drift regime, gaps and volume spikes; a small share of symbols gets a
low-volatility base (so Breakout has candidates) and a share gets a stretched run (so Exhaustion
Reversal has candidates). Realism of the setups is not the point; every screener has to have
something to find, and the reference implementation has to agree with ours on what.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from tradingstation.calendar import NY, get_calendar
from tradingstation.data.panel import Panel

BENCH_SESSION = date(2025, 11, 24)  # the session the session benchmarks run premarket for
BENCH_AS_OF = datetime(2025, 11, 24, 8, 45, tzinfo=NY)
EXCHANGES = ("NYSE", "NASDAQ")


def symbols_for(n: int) -> list[str]:
    """``n`` distinct valid tickers, sorted (``AAAA``, ``AAAB`` ...)."""
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    idx = np.arange(n) * 7919 % (26**4)  # a fixed permutation-ish spread over 4-letter names
    idx = np.unique(idx)
    while len(idx) < n:  # only for n beyond 26**4 / 7919 collisions (never in practice)
        idx = np.unique(np.r_[idx, np.arange(26**4)[: n - len(idx)]])
    chars = [letters[(idx // 26**k) % 26] for k in (3, 2, 1, 0)]
    return sorted("".join(t) for t in zip(*chars, strict=True))[:n]


def sessions_until(last: date, count: int) -> list[date]:
    """The ``count`` NYSE sessions ending with ``last`` (included)."""
    cal = get_calendar()
    return cal.sessions_back(last, count)


def daily_arrays(n_symbols: int, n_bars: int, seed: int = 7) -> dict[str, np.ndarray]:
    """OHLCV arrays of shape (n_bars, n_symbols), prices in cents, volume integral."""
    rng = np.random.default_rng(seed)
    shape = (n_bars, n_symbols)
    sigma = rng.uniform(0.008, 0.035, n_symbols)
    calm = rng.random(n_symbols) < 0.06  # a low-volatility base over the last sessions
    runner = rng.random(n_symbols) < 0.04  # a stretched run into the last sessions
    drift = rng.normal(0.0, 0.0015, n_symbols)
    start = np.exp(rng.uniform(np.log(8), np.log(300), n_symbols))
    base_volume = np.exp(rng.uniform(np.log(2e5), np.log(2e7), n_symbols))

    sig = np.broadcast_to(sigma, shape).copy()
    sig[-25:-1, calm] *= 0.3
    mu = np.broadcast_to(drift, shape).copy()
    run_sign = np.where(rng.random(n_symbols) < 0.5, 1.0, -1.0)
    mu[-12:-1, runner] += (run_sign * 2.2 * sigma)[runner]
    gap = rng.normal(0, 1, shape) * sig * 0.35
    jumps = rng.random(shape) < 0.012
    gap[jumps] += rng.choice([-1.0, 1.0], jumps.sum()) * rng.uniform(0.03, 0.09, jumps.sum())
    body = mu + rng.normal(0, 1, shape) * sig
    # the last bar: big reversal candles and breakouts happen on it more often than by chance
    last_push = rng.random(n_symbols) < 0.05
    body[-1, last_push] += rng.choice([-1.0, 1.0], last_push.sum()) * 2.0 * sigma[last_push]
    log_open = np.log(start) + np.cumsum(gap + np.r_[[np.zeros(n_symbols)], body[:-1]], axis=0)
    open_ = np.exp(log_open)
    close = open_ * np.exp(body)
    wick_hi = np.abs(rng.normal(0, 1, shape)) * sig * 0.5
    wick_lo = np.abs(rng.normal(0, 1, shape)) * sig * 0.5
    open_, close = np.round(open_, 2), np.round(close, 2)
    high = np.round(np.maximum(open_, close) * (1 + wick_hi), 2)
    low = np.round(np.minimum(open_, close) * (1 - wick_lo), 2)
    high = np.maximum(high, np.maximum(open_, close))
    low = np.maximum(np.minimum(low, np.minimum(open_, close)), 0.01)
    volume = base_volume * rng.lognormal(0, 0.35, shape)
    spikes = rng.random(shape) < 0.02
    volume[spikes] *= rng.uniform(2.0, 5.0, spikes.sum())
    loud = rng.random(n_symbols) < 0.15
    volume[-1, loud] *= rng.uniform(1.5, 4.0, loud.sum())
    return {"open": open_, "high": high, "low": low, "close": close,
            "volume": np.floor(volume).astype("int64")}


def daily_panel(n_symbols: int, n_bars: int, last: date = BENCH_SESSION,
                seed: int = 7) -> Panel:
    """A wide daily :class:`Panel` of ``n_symbols`` x ``n_bars`` sessions ending with ``last``."""
    arrays = daily_arrays(n_symbols, n_bars, seed)
    index = pd.DatetimeIndex([pd.Timestamp(d.isoformat(), tz="UTC")
                              for d in sessions_until(last, n_bars)])
    cols = pd.Index(symbols_for(n_symbols))
    frames = {f: pd.DataFrame(a.astype("float64"), index=index, columns=cols)
              for f, a in arrays.items()}
    return Panel(**frames)


def bars_of(panel: Panel, symbol: str) -> pd.DataFrame:
    """Canonical bars of one symbol (int volume), as a provider would return them."""
    return panel.bars(symbol)


def per_symbol_bars(panel: Panel) -> dict[str, pd.DataFrame]:
    """Canonical bars of every symbol, built with one reshape instead of per-symbol slicing."""
    stamps = panel.index
    values = {f: getattr(panel, f).to_numpy() for f in ("open", "high", "low", "close", "volume")}
    out = {}
    for j, symbol in enumerate(panel.symbols):
        frame = pd.DataFrame({"timestamp": stamps, **{f: v[:, j] for f, v in values.items()}})
        frame["volume"] = frame["volume"].astype("int64")
        out[symbol] = frame
    return out


def listing_for(symbols: list[str]) -> pd.DataFrame:
    """A listing (``UNIVERSE_COLUMNS``) in which every symbol passes the universe filters."""
    return pd.DataFrame({
        "symbol": symbols,
        "name": [f"Bench {s} Inc" for s in symbols],
        "exchange": [EXCHANGES[i % 2] for i in range(len(symbols))],
        "asset_type": "Stock",
        "ipo_date": "2001-01-02",
        "status": "Active",
    })


def _symbol_rng(seed: int, symbol: str) -> np.random.Generator:
    return np.random.default_rng([seed, *symbol.encode()])


def premarket_quote(symbol: str, prior_close: float, as_of: datetime,
                    seed: int = 11) -> dict:
    """Today's premarket quote: most symbols flat-ish, ~3 % gapping 4-12 %."""
    rng = _symbol_rng(seed, symbol)
    move = rng.normal(0, 0.01)
    if rng.random() < 0.03:
        move = rng.choice([-1.0, 1.0]) * rng.uniform(0.04, 0.12)
    return {"price": round(prior_close * (1 + move), 2),
            "volume": int(rng.lognormal(11.5, 1.0)),
            "timestamp": pd.Timestamp(as_of).tz_convert("UTC") - pd.Timedelta(minutes=1),
            "previous_close": prior_close}


def minute_bars(symbol: str, sessions: list[date], price: float, at: pd.Timestamp,
                end: pd.Timestamp, seed: int = 13) -> pd.DataFrame:
    """Extended-hours 1-min bars (04:00-20:00 New York) of ``sessions`` completed by ``end``:
    one fixed random walk per symbol whose close at minute ``at`` is ``price``."""
    rng = _symbol_rng(seed, symbol)
    stamps = [pd.date_range(pd.Timestamp(datetime(d.year, d.month, d.day, 4, 0), tz=NY),
                            periods=960, freq="1min").tz_convert("UTC") for d in sessions]
    index = stamps[0].append(stamps[1:]) if len(stamps) > 1 else stamps[0]
    n = len(index)
    walk = np.exp(np.cumsum(rng.normal(0, 0.0012, n)))
    pin = min(max(int(index.searchsorted(pd.Timestamp(at), side="right")) - 1, 0), n - 1)
    path = price * walk / walk[pin]
    spread = np.abs(rng.normal(0, 0.0008, n))
    volume = rng.lognormal(7.5, 1.0, n).astype("int64")
    keep = index + pd.Timedelta(minutes=1) <= pd.Timestamp(end)
    open_ = np.round(np.r_[path[:1], path[:-1]], 2)
    close = np.round(path, 2)
    top, bottom = np.maximum(open_, close), np.minimum(open_, close)
    high = np.maximum(np.round(top * (1 + spread), 2), top)
    low = np.minimum(np.round(bottom * (1 - spread), 2), bottom)
    return pd.DataFrame({"timestamp": index, "open": open_, "high": high, "low": low,
                         "close": close, "volume": volume})[keep].reset_index(drop=True)
