"""Tests of the NYSE calendar against known 2025-2026 facts (closures, half days, DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tradingstation.calendar import NY, MarketCalendar, SessionTimes, get_calendar
from tradingstation.errors import InputError


@pytest.fixture(scope="module")
def cal() -> MarketCalendar:
    return get_calendar()


def ny(y: int, m: int, d: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=NY)


def test_get_calendar_is_cached() -> None:
    assert get_calendar() is get_calendar()


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 9),  # national day of mourning for President Carter
        date(2025, 12, 25),  # Christmas
        date(2026, 6, 19),  # Juneteenth
        date(2025, 7, 4),  # Independence Day
        date(2025, 4, 18),  # Good Friday
        date(2025, 1, 11),  # Saturday
    ],
)
def test_closed_days(cal: MarketCalendar, day: date) -> None:
    assert not cal.is_session(day)
    with pytest.raises(InputError, match="not an NYSE session"):
        cal.session_times(day)


def test_sessions_inclusive_skip_closures(cal: MarketCalendar) -> None:
    assert cal.sessions(date(2025, 1, 6), date(2025, 1, 10)) == [
        date(2025, 1, 6),
        date(2025, 1, 7),
        date(2025, 1, 8),
        date(2025, 1, 10),
    ]
    # Spans a year boundary; 2025-12-25 and 2026-01-01 are holidays.
    assert cal.sessions(date(2025, 12, 24), date(2026, 1, 2)) == [
        date(2025, 12, 24),
        date(2025, 12, 26),
        date(2025, 12, 29),
        date(2025, 12, 30),
        date(2025, 12, 31),
        date(2026, 1, 2),
    ]
    assert len(cal.sessions(date(2025, 1, 1), date(2025, 12, 31))) == 250
    assert cal.sessions(date(2025, 1, 11), date(2025, 1, 12)) == []


def test_sessions_rejects_reversed_range(cal: MarketCalendar) -> None:
    with pytest.raises(InputError, match="after end"):
        cal.sessions(date(2025, 2, 1), date(2025, 1, 1))


@pytest.mark.parametrize("day", [date(2025, 7, 3), date(2025, 11, 28), date(2025, 12, 24)])
def test_half_days_close_at_13(cal: MarketCalendar, day: date) -> None:
    times = cal.session_times(day)
    assert times.is_half_day
    assert times.market_close.astimezone(NY).time().isoformat() == "13:00:00"
    assert times.market_open.astimezone(NY).time().isoformat() == "09:30:00"
    assert times.premarket_open.astimezone(NY).time().isoformat() == "04:00:00"
    # pandas-market-calendars ends the post-market at 17:00 on half days.
    assert times.postmarket_close.astimezone(NY).time().isoformat() == "17:00:00"


def test_full_day_times_are_utc(cal: MarketCalendar) -> None:
    times = cal.session_times(date(2025, 7, 2))
    assert isinstance(times, SessionTimes)
    assert not times.is_half_day
    for value in (times.premarket_open, times.market_open, times.market_close,
                  times.postmarket_close):
        assert value.utcoffset() == timedelta(0)
    # July is EDT (UTC-4).
    assert times.premarket_open == datetime(2025, 7, 2, 8, 0, tzinfo=UTC)
    assert times.market_open == datetime(2025, 7, 2, 13, 30, tzinfo=UTC)
    assert times.market_close == datetime(2025, 7, 2, 20, 0, tzinfo=UTC)
    assert times.postmarket_close == datetime(2025, 7, 3, 0, 0, tzinfo=UTC)
    with pytest.raises(AttributeError):
        times.is_half_day = True  # type: ignore[misc]


def test_dst_switch_days(cal: MarketCalendar) -> None:
    # DST began 2025-03-09: Friday before is EST, Monday after is EDT.
    assert cal.session_times(date(2025, 3, 7)).market_open == datetime(
        2025, 3, 7, 14, 30, tzinfo=UTC
    )
    assert cal.session_times(date(2025, 3, 10)).market_open == datetime(
        2025, 3, 10, 13, 30, tzinfo=UTC
    )
    # DST ended 2025-11-02.
    assert cal.session_times(date(2025, 10, 31)).market_open == datetime(
        2025, 10, 31, 13, 30, tzinfo=UTC
    )
    assert cal.session_times(date(2025, 11, 3)).market_open == datetime(
        2025, 11, 3, 14, 30, tzinfo=UTC
    )
    assert cal.session_times(date(2025, 11, 3)).premarket_open == datetime(
        2025, 11, 3, 9, 0, tzinfo=UTC
    )


def test_previous_and_next_session(cal: MarketCalendar) -> None:
    # Across a weekend.
    assert cal.previous_session(date(2025, 1, 13)) == date(2025, 1, 10)
    assert cal.next_session(date(2025, 1, 10)) == date(2025, 1, 13)
    # Across the Carter closure (Thursday 2025-01-09).
    assert cal.next_session(date(2025, 1, 8)) == date(2025, 1, 10)
    assert cal.previous_session(date(2025, 1, 10)) == date(2025, 1, 8)
    # Strictly before/after even when the day itself is a session.
    assert cal.previous_session(date(2025, 1, 8)) == date(2025, 1, 7)
    # From a holiday, and across Good Friday + weekend.
    assert cal.previous_session(date(2025, 12, 25)) == date(2025, 12, 24)
    assert cal.next_session(date(2025, 4, 17)) == date(2025, 4, 21)
    # Across the year boundary (2026-01-01 holiday).
    assert cal.next_session(date(2025, 12, 31)) == date(2026, 1, 2)
    assert cal.previous_session(date(2026, 1, 2)) == date(2025, 12, 31)
    # Juneteenth 2026 is a Friday.
    assert cal.next_session(date(2026, 6, 18)) == date(2026, 6, 22)


@pytest.mark.parametrize(
    ("instant", "mode"),
    [
        (ny(2025, 7, 2, 3, 59), "daily"),
        (ny(2025, 7, 2, 4, 0), "premarket"),
        (ny(2025, 7, 2, 9, 29, 59), "premarket"),
        (ny(2025, 7, 2, 9, 30), "market"),
        (ny(2025, 7, 2, 15, 59, 59), "market"),
        (ny(2025, 7, 2, 16, 0), "postmarket"),
        (ny(2025, 7, 2, 19, 59, 59), "postmarket"),
        (ny(2025, 7, 2, 20, 0), "daily"),
        (ny(2025, 7, 2, 23, 30), "daily"),
        (ny(2025, 7, 3, 12, 59, 59), "market"),  # half day
        (ny(2025, 7, 3, 13, 0), "postmarket"),
        (ny(2025, 7, 3, 17, 0), "daily"),
        (ny(2025, 7, 4, 10, 0), "closed"),  # holiday
        (ny(2025, 7, 5, 10, 0), "closed"),  # Saturday
        (ny(2025, 1, 9, 10, 0), "closed"),  # Carter closure
        # The same instant written in UTC: 13:30 UTC on a July day is the 09:30 open.
        (datetime(2025, 7, 2, 13, 30, tzinfo=UTC), "market"),
        (datetime(2025, 7, 2, 13, 29, tzinfo=UTC), "premarket"),
        # 01:00 UTC Thursday is Wednesday 21:00 in New York.
        (datetime(2025, 7, 3, 1, 0, tzinfo=UTC), "daily"),
    ],
)
def test_mode_at(cal: MarketCalendar, instant: datetime, mode: str) -> None:
    assert cal.mode_at(instant) == mode


def test_mode_at_other_timezone(cal: MarketCalendar) -> None:
    berlin_like = timezone(timedelta(hours=2))
    assert cal.mode_at(datetime(2025, 7, 2, 15, 30, tzinfo=berlin_like)) == "market"


def test_naive_datetime_rejected(cal: MarketCalendar) -> None:
    naive = datetime(2025, 7, 2, 10, 0)
    for call in (cal.mode_at, cal.session_for, cal.last_completed_session):
        with pytest.raises(InputError, match="naive"):
            call(naive)


def test_datetime_where_date_expected_rejected(cal: MarketCalendar) -> None:
    with pytest.raises(InputError, match="must be a date"):
        cal.is_session(datetime(2025, 7, 2, tzinfo=UTC))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="must be a date"):
        cal.sessions("2025-01-01", date(2025, 2, 1))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="supported years"):
        cal.is_session(date(1800, 1, 2))


def test_session_for(cal: MarketCalendar) -> None:
    assert cal.session_for(ny(2025, 7, 2, 21, 0)) == date(2025, 7, 2)
    # 02:00 UTC on 07-03 is still 07-02 in New York.
    assert cal.session_for(datetime(2025, 7, 3, 2, 0, tzinfo=UTC)) == date(2025, 7, 2)
    assert cal.session_for(ny(2025, 7, 4, 12, 0)) is None


def test_last_completed_session(cal: MarketCalendar) -> None:
    assert cal.last_completed_session(ny(2025, 7, 2, 16, 0)) == date(2025, 7, 2)
    assert cal.last_completed_session(ny(2025, 7, 2, 15, 59)) == date(2025, 7, 1)
    assert cal.last_completed_session(ny(2025, 7, 3, 13, 0)) == date(2025, 7, 3)  # half day
    assert cal.last_completed_session(ny(2025, 7, 5, 12, 0)) == date(2025, 7, 3)
    assert cal.last_completed_session(ny(2025, 1, 10, 9, 0)) == date(2025, 1, 8)


def test_sessions_back(cal: MarketCalendar) -> None:
    assert cal.sessions_back(date(2025, 1, 11), 3) == [
        date(2025, 1, 7),
        date(2025, 1, 8),
        date(2025, 1, 10),
    ]
    assert cal.sessions_back(date(2025, 1, 10), 1) == [date(2025, 1, 10)]
    with pytest.raises(InputError):
        cal.sessions_back(date(2025, 1, 10), 0)
