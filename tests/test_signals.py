"""Signal model: deterministic ids, stop side, score range, timezone-aware timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from tradingstation.signals import Signal, make_signal_id

NOW = datetime(2025, 11, 24, 14, 0, tzinfo=UTC)


def signal(**overrides: object) -> Signal:
    fields: dict[str, object] = {
        "id": make_signal_id("breakout", "NVDA", date(2025, 11, 24), "close"),
        "screener": "breakout", "symbol": "NVDA", "session": date(2025, 11, 24),
        "timestamp": NOW, "direction": "long", "status": "triggered", "score": 7.5,
        "entry": 101.0, "stop": 99.0, "targets": [103.0, 105.0], "risk_per_share": 2.0,
        "data_as_of": NOW,
    }
    fields.update(overrides)
    return Signal(**fields)


def test_ids_are_deterministic_and_distinct() -> None:
    a = make_signal_id("orb", "NVDA", date(2025, 11, 24), "15m-long")
    assert a == make_signal_id("orb", "NVDA", date(2025, 11, 24), "15m-long")
    assert a != make_signal_id("orb", "NVDA", date(2025, 11, 25), "15m-long")
    assert a != make_signal_id("orb", "AMD", date(2025, 11, 24), "15m-long")
    assert len(a) == 16


def test_valid_signal_round_trips_through_json() -> None:
    original = signal()
    assert Signal.model_validate_json(original.model_dump_json()) == original


@pytest.mark.parametrize(
    "overrides",
    [
        {"stop": 101.0},
        {"stop": 102.0},
        {"direction": "short"},
        {"score": 10.5},
        {"score": -1},
        {"entry": 0},
        {"timestamp": datetime(2025, 11, 24, 14, 0)},
        {"status": "maybe"},
    ],
)
def test_invalid_signals_are_rejected(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        signal(**overrides)


def test_short_signal_needs_stop_above_entry() -> None:
    assert signal(direction="short", stop=103.0).stop == 103.0
