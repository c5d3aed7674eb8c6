"""Trigger rules on hand-built quote sequences: every branch of ``advance_ideas``."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tradingstation.calendar import ny_time
from tradingstation.live.triggers import (
    EXPIRED,
    INVALIDATED,
    OPEN,
    TRIGGERED,
    advance_ideas,
    expiry_for,
    new_ideas_frame,
)

SESSION = date(2026, 12, 2)
OPEN_AT = ny_time(SESSION, 9, 30)


def idea(idea_id: str, direction: str = "long", entry: float = 10.0, stop: float = 9.0,
         published: tuple[int, int] = (8, 45), expires: tuple[int, int] = (16, 0),
         symbol: str | None = None) -> dict:
    return {"idea_id": idea_id, "symbol": symbol or idea_id.upper(), "direction": direction,
            "entry": entry, "stop": stop,
            "published_at": pd.Timestamp(ny_time(SESSION, *published)),
            "expires_at": pd.Timestamp(ny_time(SESSION, *expires)), "state": OPEN,
            "seen_high": np.nan, "seen_low": np.nan, "base_high": np.nan, "base_low": np.nan,
            "changed_at": pd.NaT, "price": np.nan}


def ideas(*rows: dict) -> pd.DataFrame:
    frame = new_ideas_frame()
    return pd.concat([frame, pd.DataFrame(list(rows))], ignore_index=True)


def quotes(at: tuple[int, int], **by_symbol: tuple[float, float, float]) -> pd.DataFrame:
    """``SYMBOL=(price, session high, session low)`` at New York time ``at``."""
    stamp = pd.Timestamp(ny_time(SESSION, *at))
    return pd.DataFrame([{"symbol": s, "timestamp": stamp, "price": p, "high": h, "low": lo}
                         for s, (p, h, lo) in by_symbol.items()])


def step(frame: pd.DataFrame, q: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    out, moved = advance_ideas(frame, q, OPEN_AT)
    return out, list(zip(moved["idea_id"], moved["state"], strict=True))


def state_of(frame: pd.DataFrame, idea_id: str) -> str:
    return frame.loc[frame["idea_id"] == idea_id, "state"].item()


def test_a_long_triggers_when_price_reaches_entry_and_only_once() -> None:
    frame = ideas(idea("a"))
    frame, moved = step(frame, quotes((9, 31), A=(9.8, 9.9, 9.5)))
    assert moved == [] and state_of(frame, "a") == OPEN
    frame, moved = step(frame, quotes((9, 32), A=(10.05, 10.1, 9.5)))
    assert moved == [("a", TRIGGERED)]
    frame, moved = step(frame, quotes((9, 33), A=(10.5, 10.6, 9.5)))
    assert moved == [] and state_of(frame, "a") == TRIGGERED


def test_a_spike_between_polls_triggers_through_the_session_high() -> None:
    frame = ideas(idea("a"))
    frame, _ = step(frame, quotes((9, 31), A=(9.8, 9.9, 9.5)))
    # at the next poll the last price is back below entry, but the session high went through it
    frame, moved = step(frame, quotes((9, 32), A=(9.7, 10.02, 9.5)))
    assert moved == [("a", TRIGGERED)]


def test_the_stop_trading_first_invalidates_and_a_later_entry_does_not_trigger() -> None:
    frame = ideas(idea("a"))
    frame, moved = step(frame, quotes((9, 31), A=(9.1, 9.5, 8.95)))
    assert moved == [("a", INVALIDATED)]
    frame, moved = step(frame, quotes((9, 40), A=(10.2, 10.3, 8.95)))
    assert moved == [] and state_of(frame, "a") == INVALIDATED


def test_stop_and_entry_first_seen_in_the_same_poll_count_as_invalidated() -> None:
    _, moved = step(ideas(idea("a")), quotes((9, 45), A=(9.5, 10.2, 8.9)))
    assert moved == [("a", INVALIDATED)]


def test_an_idea_that_never_reaches_entry_stays_open() -> None:
    frame = ideas(idea("a"))
    for minute in range(31, 40):
        frame, moved = step(frame, quotes((9, minute), A=(9.6, 9.95, 9.2)))
        assert moved == []
    assert state_of(frame, "a") == OPEN


def test_a_quote_after_expiry_expires_the_idea_even_above_entry() -> None:
    frame = ideas(idea("a", expires=(10, 30)))
    frame, _ = step(frame, quotes((10, 29), A=(9.6, 9.9, 9.4)))
    frame, moved = step(frame, quotes((10, 31), A=(10.4, 10.5, 9.4)))
    assert moved == [("a", EXPIRED)]


def test_a_short_mirrors_the_rules() -> None:
    frame = ideas(idea("s", direction="short", entry=20.0, stop=21.0),
                  idea("t", direction="short", entry=20.0, stop=21.0))
    frame, moved = step(frame, quotes((9, 31), S=(20.3, 20.5, 19.99), T=(20.6, 21.0, 20.2)))
    assert sorted(moved) == [("s", TRIGGERED), ("t", INVALIDATED)]


def test_an_idea_published_during_the_session_ignores_the_earlier_session_high() -> None:
    # the session high 10.5 was printed before the idea existed (published 11:00)
    frame = ideas(idea("a", entry=10.2, stop=9.5, published=(11, 0)))
    frame, moved = step(frame, quotes((11, 1), A=(10.0, 10.5, 9.6)))
    assert moved == []
    frame, moved = step(frame, quotes((11, 2), A=(10.1, 10.5, 9.6)))
    assert moved == []  # no new session high: only the last price counts
    frame, moved = step(frame, quotes((11, 3), A=(10.0, 10.6, 9.6)))
    assert moved == [("a", TRIGGERED)]  # a new session high above entry since the baseline


def test_quotes_stamped_before_publication_say_nothing() -> None:
    frame = ideas(idea("a", published=(10, 0)))
    frame, moved = step(frame, quotes((9, 59), A=(10.5, 10.6, 8.0)))
    assert moved == [] and state_of(frame, "a") == OPEN
    assert np.isnan(frame["seen_high"].item())


def test_ideas_without_a_quote_are_left_alone() -> None:
    frame = ideas(idea("a"), idea("b"))
    frame, moved = step(frame, quotes((9, 31), A=(10.5, 10.5, 9.9)))
    assert moved == [("a", TRIGGERED)] and state_of(frame, "b") == OPEN


@pytest.mark.parametrize(("screeners", "hour"), [
    (["gap_and_go"], (10, 30)), (["orb"], (11, 30)), (["breakout"], (16, 0)),
    (["gap_and_go", "breakout"], (16, 0)),
])
def test_expiry_by_screener(screeners: list[str], hour: tuple[int, int]) -> None:
    assert expiry_for(screeners, SESSION) == ny_time(SESSION, *hour)


def test_expiry_never_after_a_half_day_close() -> None:
    half_day = date(2026, 11, 27)  # day after Thanksgiving: 13:00 close
    assert expiry_for(["breakout"], half_day) == ny_time(half_day, 13, 0)
