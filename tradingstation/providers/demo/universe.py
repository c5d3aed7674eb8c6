"""Demo market universe: deterministic tickers, listing rows and per-symbol price profiles."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradingstation.contracts import UNIVERSE_COLUMNS

# Tickers are drawn in fixed-size chunks, each from its own generator, so the first n symbols
# never depend on how many are asked for (n=300 is a prefix of n=6000).
CHUNK = 512
_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
_SYLLABLES = (
    "al", "ar", "bel", "cor", "dan", "del", "fin", "gen", "hal", "ion", "jet", "kor", "lan",
    "lum", "mar", "mer", "nov", "ner", "or", "pax", "quan", "ra", "sel", "sol", "ter", "tri",
    "ul", "val", "ven", "vor", "west", "xen", "yor", "zen", "lux", "tec", "bio", "cap", "max",
    "ver",
)
_STOCK_SUFFIXES = ("Inc", "Corp", "Holdings", "Group", "Technologies", "Therapeutics", "Energy",
                   "Industries", "Financial", "Systems")
_ETF_SUFFIXES = ("ETF", "Index Fund", "Trust", "Equity ETF", "Bond ETF")
_STOCK_EXCHANGES = ("NASDAQ", "NYSE", "NYSE MKT", "BATS", "NYSE ARCA")
_STOCK_EXCHANGE_P = (0.52, 0.38, 0.06, 0.02, 0.02)
_ETF_EXCHANGES = ("NYSE ARCA", "BATS", "NASDAQ")
_ETF_EXCHANGE_P = (0.7, 0.2, 0.1)
# A few rows a universe filter must drop: unlisted venues and non-active statuses.
_ODD_EXCHANGES = ("OTC", "IEX")
_ODD_STATUSES = ("Delisted",)


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from ``parts`` that is the same in every process (unlike ``hash()``)."""
    text = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


@dataclass(frozen=True)
class Profile:
    """How one symbol's prices and volumes behave.

    Attributes:
        level: Typical price the log-price reverts to.
        sigma: Daily log-return volatility.
        phi: AR(1) persistence of the log-price deviation (closer to 1 = slower reversion).
        trend_amp: Amplitude of the slow trend cycle (log units).
        trend_period: Period of the trend cycle in weekdays.
        trend_phase: Phase of the trend cycle (radians).
        volume: Typical daily volume (shares).
        decimals: Price decimals (4 below $5, else 2).
        liquidity: 0-1, how often extended-hours minutes trade.
    """

    level: float
    sigma: float
    phi: float
    trend_amp: float
    trend_period: float
    trend_phase: float
    volume: float
    decimals: int
    liquidity: float


def make_profile(seed: int, symbol: str, asset_type: str = "Stock",
                 level: float | None = None, sigma: float | None = None,
                 volume: float | None = None) -> Profile:
    """The profile of ``symbol``; explicit ``level``/``sigma``/``volume`` pin a planted name."""
    rng = np.random.default_rng(stable_seed(seed, symbol, "profile"))
    u = rng.random(8)
    pinned = level is not None
    if level is None:
        if u[0] < 0.04:  # penny names for the price-band filters
            level = float(np.exp(np.log(0.3) + u[1] * np.log(5 / 0.3)))
        elif u[0] > 0.98:  # a few very expensive names
            level = float(np.exp(np.log(500) + u[1] * np.log(3000 / 500)))
        else:
            level = float(np.exp(np.log(6) + u[1] * np.log(450 / 6)))
    if sigma is None:
        sigma = 0.008 + 0.012 * u[2] if asset_type == "ETF" else 0.012 + 0.03 * u[2]
        if level < 5:
            sigma += 0.03
    if volume is None:
        volume = float(np.clip(np.exp(np.log(1.5e6) + 1.2 * rng.standard_normal()), 2e5, 5e7))
    return Profile(
        level=level,
        sigma=sigma,
        # Planted names stay close to their pinned level so the planted patterns are predictable.
        phi=0.98 if pinned else 0.990 + 0.008 * u[3],
        trend_amp=0.04 if pinned else 0.25 * u[4],
        trend_period=150 + 550 * u[5],
        trend_phase=2 * np.pi * u[6],
        volume=volume,
        decimals=4 if level < 5 else 2,
        liquidity=float(np.clip((np.log10(volume) - 5.0) / 2.7, 0.15, 1.0)),
    )


def _company_names(rng: np.random.Generator, etf: np.ndarray) -> list[str]:
    """Made-up company or fund names, one per row (``etf`` marks the funds)."""
    n = len(etf)
    syl = np.array(_SYLLABLES)[rng.integers(0, len(_SYLLABLES), size=(4, n))]
    first = np.char.capitalize(np.char.add(syl[0], syl[1]))
    second = np.char.capitalize(np.char.add(syl[2], syl[3]))
    stock = np.array(_STOCK_SUFFIXES)[rng.integers(0, len(_STOCK_SUFFIXES), size=n)]
    fund = np.array(_ETF_SUFFIXES)[rng.integers(0, len(_ETF_SUFFIXES), size=n)]
    suffix = np.where(etf, fund, stock)
    two = rng.random(n) < 0.5
    return [f"{a} {b} {c}" if t else f"{a} {c}"
            for a, b, c, t in zip(first.tolist(), second.tolist(), suffix.tolist(), two.tolist(),
                                  strict=True)]


def _chunk_rows(seed: int, chunk: int) -> list[tuple[str, str, str, str, str, str]]:
    """Candidate listing rows of one chunk (tickers may repeat across chunks)."""
    rng = np.random.default_rng(stable_seed(seed, "universe", chunk))
    lengths = rng.choice(np.arange(1, 6), size=CHUNK, p=(0.01, 0.09, 0.40, 0.45, 0.05))
    letters = _LETTERS[rng.integers(0, 26, size=(CHUNK, 5))]
    kind = rng.random(CHUNK)
    extra = _LETTERS[rng.integers(0, 2, size=CHUNK)]  # class A/B
    etf = rng.random(CHUNK) < 0.08
    odd = rng.random(CHUNK)
    stock_ex = np.array(_STOCK_EXCHANGES)[
        rng.choice(len(_STOCK_EXCHANGES), size=CHUNK, p=_STOCK_EXCHANGE_P)]
    etf_ex = np.array(_ETF_EXCHANGES)[
        rng.choice(len(_ETF_EXCHANGES), size=CHUNK, p=_ETF_EXCHANGE_P)]
    exchange = np.where(etf, etf_ex, stock_ex)
    exchange = np.where(odd < 0.004, np.where(odd < 0.002, *_ODD_EXCHANGES), exchange)
    status = np.where(odd > 0.997, _ODD_STATUSES[0], "Active")
    ipo = (np.datetime64("1980-01-01") + rng.integers(0, 15_700, size=CHUNK)).astype(str)
    names = _company_names(rng, etf)
    joined = np.array(["".join(row) for row in letters.tolist()])
    base = np.array([j[:3] for j in joined.tolist()])
    plain = [j[:n] for j, n in zip(joined.tolist(), lengths.tolist(), strict=True)]
    tickers = np.where(kind < 0.012, np.char.add(np.char.add(base, "."), extra),  # BRK.B style
                       np.where(kind < 0.02, np.char.add(np.char.add(base, "-"), letters[:, 4]),
                                plain))  # ABR-D style preferreds
    asset = np.where(etf, "ETF", "Stock")
    return list(zip(tickers.tolist(), names, exchange.tolist(), asset.tolist(), ipo.tolist(),
                    status.tolist(), strict=True))


def planted_row(seed: int, symbol: str) -> tuple[str, str, str, str, str, str]:
    """The listing row of a planted symbol: an active NASDAQ/NYSE common stock."""
    rng = np.random.default_rng(stable_seed(seed, symbol, "listing"))
    exchange = "NASDAQ" if rng.random() < 0.6 else "NYSE"
    ipo = (np.datetime64("1995-01-01") + int(rng.integers(0, 9000))).astype(str)
    return (symbol, _company_names(rng, np.array([False]))[0], exchange, "Stock", ipo, "Active")


def build_listing(seed: int, n_symbols: int, planted: list[str]) -> pd.DataFrame:
    """The first ``n_symbols`` listing rows: the planted symbols first, then generated ones."""
    rows = [planted_row(seed, s) for s in planted[:n_symbols]]
    seen = {r[0] for r in rows}
    chunk = 0
    while len(rows) < n_symbols:
        for row in _chunk_rows(seed, chunk):
            if row[0] not in seen:
                seen.add(row[0])
                rows.append(row)
                if len(rows) == n_symbols:
                    break
        chunk += 1
    return pd.DataFrame(rows, columns=UNIVERSE_COLUMNS)
