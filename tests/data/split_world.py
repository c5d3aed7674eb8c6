"""A small market with a 4:1 forward and a 1:10 reverse split, served as-traded by the fake
Alpha Vantage server; the split-adjusted reference series are what the store must hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from tests.support.fake_alphavantage import FakeAlphaVantage
from tests.support.fake_av_data import as_traded
from tradingstation.calendar import NY, get_calendar

CAL = get_calendar()
AS_OF = datetime(2025, 11, 21, 21, 0, tzinfo=NY)  # Friday night: 2025-11-21 is the last bar
NEXT_AS_OF = datetime(2025, 11, 24, 21, 0, tzinfo=NY)  # the next session, one more bar
SESSIONS = CAL.sessions_back(NEXT_AS_OF.date(), 261)  # the world; the first fetch sees [:-1]
FORWARD, REVERSE, PLAIN = "FWD", "REV", "PLN"
SPLITS = {FORWARD: [(SESSIONS[-4], 4.0)], REVERSE: [(SESSIONS[-21], 0.1)], PLAIN: []}
START_PRICE = {FORWARD: 189.0, REVERSE: 4.5, PLAIN: 60.0}
INTRADAY_DAYS = 5


def daily_reference(symbol: str, sessions: list[date] = SESSIONS, seed: int = 3) -> pd.DataFrame:
    """Continuous (split-adjusted) daily bars: a calm random walk with steady volume."""
    rng = np.random.default_rng([seed, len(symbol), ord(symbol[0])])
    n = len(sessions)
    close = START_PRICE[symbol] * np.exp(np.cumsum(rng.normal(0, 0.012, n)))
    open_ = np.concatenate([[close[0]], close[:-1]]) * (1 + rng.normal(0, 0.003, n))
    spread = np.abs(rng.normal(0, 0.008, n)) + 0.002
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime([d.isoformat() for d in sessions], utc=True),
        "open": np.round(open_, 4), "high": np.round(np.maximum(open_, close) * (1 + spread), 4),
        "low": np.round(np.minimum(open_, close) * (1 - spread), 4), "close": np.round(close, 4),
        "volume": rng.lognormal(15, 0.25, n).astype("int64"),
    })
    return frame


def intraday_reference(daily: pd.DataFrame, interval: str, days: int = INTRADAY_DAYS
                       ) -> pd.DataFrame:
    """Extended-hours bars of the last ``days`` sessions, priced around each day's close."""
    step = {"1min": 1, "30min": 30}[interval]
    rows = []
    for _, bar in daily.tail(days).iterrows():
        day = bar["timestamp"].date()
        start = pd.Timestamp(datetime.combine(day, time(4, 0)), tz=NY)
        count = 16 * 60 // step
        stamps = pd.date_range(start, periods=count, freq=f"{step}min").tz_convert("UTC")
        price = float(bar["close"]) * (1 + 0.001 * np.sin(np.arange(count) / 7))
        rows.append(pd.DataFrame({
            "timestamp": stamps, "open": price, "high": price * 1.0005,
            "low": price * 0.9995, "close": price,
            "volume": np.full(count, max(1, int(bar["volume"]) // count), dtype="int64"),
        }))
    frame = pd.concat(rows, ignore_index=True)
    for column in ("open", "high", "low", "close"):
        frame[column] = frame[column].round(4)
    return frame


@dataclass
class SplitWorld:
    """Reference (adjusted) bars per symbol and dataset; what the fake serves is as-traded."""

    daily: dict[str, pd.DataFrame] = field(default_factory=dict)
    intraday: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)

    def serve(self, fake: FakeAlphaVantage, through: date, report_splits: bool = True) -> None:
        """Serve every series through session ``through`` as-traded; ``SPLITS`` answers with
        the splits if asked to."""
        for symbol, bars in self.daily.items():
            fake.set_daily(symbol, as_traded(self.upto(bars, through), SPLITS[symbol]))
            fake.set_splits(symbol, SPLITS[symbol] if report_splits else [])
        for (symbol, interval), bars in self.intraday.items():
            fake.set_intraday(symbol, interval, as_traded(self.upto(bars, through),
                                                          SPLITS[symbol]))

    @staticmethod
    def upto(bars: pd.DataFrame, through: date) -> pd.DataFrame:
        """The bars of sessions up to ``through`` (New York dates)."""
        days = bars["timestamp"].dt.tz_convert(NY).dt.date
        if (bars["timestamp"] == bars["timestamp"].dt.normalize()).all():
            days = bars["timestamp"].dt.date  # daily bars: the session date at 00:00 UTC
        return bars[(days <= through).to_numpy()].reset_index(drop=True)


def split_world(sessions: list[date] = SESSIONS) -> SplitWorld:
    """The three symbols' reference bars over ``sessions``."""
    world = SplitWorld()
    for symbol in SPLITS:
        world.daily[symbol] = daily_reference(symbol, sessions)
        for interval in ("1min", "30min"):
            world.intraday[(symbol, interval)] = intraday_reference(world.daily[symbol],
                                                                    interval)
    return world
