"""A planted session tape for live-trigger tests: 1-min bars, the quotes they imply, ideas.

Five long ideas and one short, published at 08:45 New York, each with a known fate:

======  ========================================================  ======================
symbol  tape                                                      expected
======  ========================================================  ======================
HOLD    rises through entry 10.00 at 09:50 and stays above        triggered (alert)
SPIKE   one minute at 10:05 trades 10.10, closes back at 9.60     triggered (alert)
STOPX   trades 8.90 at 09:40 (stop 9.00), later 10.50             invalidated (alert)
NEVER   stays between 9.30 and 9.80                               nothing
LATE    gap_and_go (expires 10:30); crosses entry at 10:45        expired (journal only)
SHRT    short, entry 20.00, stop 21.00; trades 19.80 at 10:15     triggered (alert)
======  ========================================================  ======================
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd

from tests.support.frame_provider import FrameProvider
from tradingstation.calendar import ny_time
from tradingstation.contracts import SESSION_QUOTE_COLUMNS
from tradingstation.signals import Signal, make_signal_id

SESSION = date(2026, 12, 2)
PUBLISHED = (8, 45)
EXPECTED_ALERTS = {("HOLD", "triggered"), ("SPIKE", "triggered"), ("STOPX", "invalidated"),
                   ("SHRT", "triggered")}
EXPECTED_EVENTS = EXPECTED_ALERTS | {("LATE", "expired")}

# (symbol, screener, direction, entry, stop, base price, {(h, m): (high, low, close)})
PLANTS = [
    ("HOLD", "breakout", "long", 10.0, 9.0, 9.5,
     {(h, m): (10.25, 10.05, 10.2) for h in range(9, 16) for m in range(60)
      if (h, m) >= (9, 50)}),
    ("SPIKE", "breakout", "long", 10.0, 9.0, 9.5, {(10, 5): (10.10, 9.55, 9.60)}),
    ("STOPX", "ema_pullback", "long", 10.0, 9.0, 9.5,
     {(9, 40): (9.5, 8.90, 9.2), (11, 0): (10.5, 9.9, 10.4)}),
    ("NEVER", "avwap_reclaim", "long", 10.0, 9.0, 9.5, {(10, 0): (9.8, 9.3, 9.6)}),
    ("LATE", "gap_and_go", "long", 10.0, 9.0, 9.5, {(10, 45): (10.1, 9.6, 10.05)}),
    ("SHRT", "exhaustion_reversal", "short", 20.0, 21.0, 20.5, {(10, 15): (20.5, 19.80, 19.9)}),
]


def minute_bars(base: float, overrides: dict[tuple[int, int], tuple[float, float, float]],
                session: date = SESSION) -> pd.DataFrame:
    """Regular-session 1-min bars: flat around ``base`` except the overridden minutes."""
    start = pd.Timestamp(ny_time(session, 9, 30))
    stamps = pd.date_range(start, periods=390, freq="1min")
    local = stamps.tz_convert("America/New_York")
    rows = []
    for stamp, t in zip(stamps, local, strict=True):
        high, low, close = overrides.get((t.hour, t.minute), (base + 0.05, base - 0.05, base))
        rows.append((stamp, close, high, low, close, 1000))
    return pd.DataFrame(rows, columns=["timestamp", "open", "high", "low", "close", "volume"])


def tapes(session: date = SESSION) -> dict[str, pd.DataFrame]:
    """The planted 1-min bars of every symbol."""
    return {s: minute_bars(base, moves, session) for s, _, _, _, _, base, moves in PLANTS}


class MinuteTape:
    """One symbol's 1-min bars, indexed so a quote at any moment is a binary search."""

    def __init__(self, bars: pd.DataFrame) -> None:
        self.ends = (pd.to_datetime(bars["timestamp"], utc=True)
                     + pd.Timedelta(minutes=1)).to_numpy("datetime64[ns]").astype("int64")
        self.starts = self.ends - 60_000_000_000
        self.close = bars["close"].to_numpy("float64")
        self.open = float(bars["open"].iloc[0]) if len(bars) else float("nan")
        self.high = np.maximum.accumulate(bars["high"].to_numpy("float64"))
        self.low = np.minimum.accumulate(bars["low"].to_numpy("float64"))
        self.volume = np.cumsum(bars["volume"].to_numpy("int64"))

    def quote(self, now: datetime) -> dict | None:
        """The quote at ``now``: last completed minute's close, running session high/low."""
        done = int(np.searchsorted(self.ends, pd.Timestamp(now).value, side="right"))
        if done == 0:
            return None
        i = done - 1
        return {"timestamp": pd.Timestamp(self.starts[i], tz="UTC"),
                "price": float(self.close[i]), "high": float(self.high[i]),
                "low": float(self.low[i]), "volume": int(self.volume[i]), "open": self.open}


def quote_at(bars: pd.DataFrame | MinuteTape, now: datetime) -> dict | None:
    """The quote at ``now`` of a tape (bars are indexed on the fly)."""
    tape = bars if isinstance(bars, MinuteTape) else MinuteTape(bars)
    return tape.quote(now)


def signals(session: date = SESSION) -> list[Signal]:
    """One ``watch`` signal per plant, published at 08:45 New York."""
    at = ny_time(session, *PUBLISHED)
    out = []
    for symbol, screener, direction, entry, stop, _, _ in PLANTS:
        risk = abs(entry - stop)
        sign = 1 if direction == "long" else -1
        out.append(Signal(
            id=make_signal_id(screener, symbol, session, "planted"), screener=screener,
            symbol=symbol, session=session, timestamp=at, direction=direction, status="watch",
            score=7.5, entry=entry, stop=stop,
            targets=[round(entry + sign * k * risk, 2) for k in (1, 2, 3)],
            risk_per_share=risk, reasons=["planted"], data_as_of=at))
    return out


def session_quotes_frame(tape: dict[str, MinuteTape], symbols: list[str],
                         now: datetime) -> pd.DataFrame:
    """``SESSION_QUOTE_COLUMNS`` for ``symbols`` at ``now``."""
    rows = []
    for symbol in symbols:
        quote = quote_at(tape[symbol], now) if symbol in tape else None
        if quote is not None:
            rows.append({"symbol": symbol, **{k: quote[k] for k in SESSION_QUOTE_COLUMNS[1:]}})
    frame = pd.DataFrame(rows, columns=SESSION_QUOTE_COLUMNS)
    frame["price"] = frame["price"].astype(np.float64)
    return frame


class TapeProvider(FrameProvider):
    """A provider whose session quotes follow the planted tape at ``now`` (settable)."""

    name = "tape"

    def __init__(self, tape: dict[str, pd.DataFrame], now: datetime) -> None:
        super().__init__()
        self.tape = {symbol: MinuteTape(bars) for symbol, bars in tape.items()}
        self.now = now

    def session_quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        self.calls["session_quotes", ",".join(symbols), False] += 1
        return session_quotes_frame(self.tape, list(symbols), self.now)
