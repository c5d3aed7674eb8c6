"""NYSE market calendar: sessions, extended-hours session times and the mode of an instant.

Built over pandas-market-calendars' ``NYSE`` calendar (holidays, special closures such as the
2025-01-09 national day of mourning, half days). Times are tz-aware UTC for storage; the
human-facing wall clock is America/New_York (``NY``).

Modes of an instant, judged on the New York calendar day it falls on:

* on a session day: before premarket open (04:00) -> ``"daily"``; premarket open <= t < regular
  open -> ``"premarket"``; open <= t < close -> ``"market"``; close <= t < post-market end ->
  ``"postmarket"``; from post-market end on -> ``"daily"`` (the overnight maintenance window).
* on a day without a session (weekend, holiday) -> ``"closed"``.

On half days the regular close is 13:00 and, following pandas-market-calendars, the post-market
ends at 17:00 New York.
"""

from __future__ import annotations

import bisect
import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from tradingstation.errors import InputError

NY = ZoneInfo("America/New_York")

MIN_YEAR = 1900
MAX_YEAR = 2199
# How far previous/next session searches look before giving up (no NYSE gap is this long).
_SEARCH_YEARS = 2

MODES = ("premarket", "market", "postmarket", "daily", "closed")
# The SessionTimes field at which each session flow's window opens.
WINDOW_OPENS = {"premarket": "premarket_open", "market": "market_open",
                "postmarket": "market_close", "daily": "postmarket_close"}


@dataclass(frozen=True)
class SessionTimes:
    """Times of one NYSE session, all tz-aware UTC.

    Attributes:
        session: The session date (New York calendar day).
        premarket_open: Start of extended hours (04:00 New York).
        market_open: Regular open (09:30 New York).
        market_close: Regular close (16:00 New York, 13:00 on half days).
        postmarket_close: End of extended hours (20:00 New York, 17:00 on half days).
        is_half_day: Whether the regular session closes early.
    """

    session: date
    premarket_open: datetime
    market_open: datetime
    market_close: datetime
    postmarket_close: datetime
    is_half_day: bool


@dataclass(frozen=True)
class _Year:
    """Precomputed schedule of one calendar year, as plain Python objects for fast lookups."""

    sessions: tuple[date, ...]
    times: dict[date, SessionTimes]


def _check_day(day: object, what: str = "day") -> date:
    # datetime is a date subclass; silently taking its date part would hide timezone mistakes.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise InputError(f"{what} must be a date (YYYY-MM-DD), got {day!r}"[:200])
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InputError(f"{what} {day.isoformat()} is outside the supported years "
                         f"{MIN_YEAR}-{MAX_YEAR}")
    return day


def _check_instant(instant: object) -> datetime:
    if not isinstance(instant, datetime):
        raise InputError(f"expected a timezone-aware datetime, got {instant!r}"[:200])
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InputError(f"naive datetime {instant.isoformat()} rejected: give a timezone")
    if not MIN_YEAR <= instant.astimezone(NY).year <= MAX_YEAR:
        raise InputError(f"instant {instant.isoformat()} is outside the supported years "
                         f"{MIN_YEAR}-{MAX_YEAR}")
    return instant


def check_supported(instant: datetime) -> datetime:
    """Return ``instant`` (tz-aware) if it falls within the calendar's years, New York time.

    Every ``--as-of`` passes here before any flow starts, so an instant such as year 1 or
    9999 is one clear error instead of an ``OverflowError`` deep inside a run.

    Raises:
        InputError: naive, or outside ``MIN_YEAR``-``MAX_YEAR``.
    """
    # The instant's own year first: converting year 1 or 9999 across zones overflows.
    if isinstance(instant, datetime) and not MIN_YEAR <= instant.year <= MAX_YEAR:
        raise InputError(f"as_of {instant.isoformat()} is outside the supported years "
                         f"{MIN_YEAR}-{MAX_YEAR}")
    return _check_instant(instant)


def parse_as_of(as_of: datetime | str | None) -> datetime:
    """The run instant: ``as_of`` made UTC (naive means New York wall time), default now.

    Raises:
        InputError: ``as_of`` is not an ISO-8601 time, or outside the calendar's years.
    """
    if as_of is None:
        return datetime.now(UTC)
    if isinstance(as_of, str):
        try:
            as_of = datetime.fromisoformat(as_of.strip())
        except ValueError:
            raise InputError(f"as_of {as_of[:40]!r} is not an ISO-8601 time") from None
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=NY)
    return check_supported(as_of).astimezone(UTC)


class MarketCalendar:
    """NYSE sessions and session times, computed lazily one calendar year at a time.

    Building a year's schedule takes a fraction of a second, so each year is computed once and
    kept; use :func:`get_calendar` for the process-wide instance.
    """

    def __init__(self) -> None:
        """Create the calendar; the pandas-market-calendars object is built on first use."""
        self._lock = threading.Lock()
        self._years: dict[int, _Year] = {}
        self._pmc = None

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._years.get(year)
            if cached is None:
                cached = self._build_year(year)
                self._years[year] = cached
        return cached

    def _build_year(self, year: int) -> _Year:
        # Imported here: pandas-market-calendars is slow to import and many callers never need it.
        import pandas_market_calendars as mcal

        if self._pmc is None:
            self._pmc = mcal.get_calendar("NYSE")
        with warnings.catch_warnings():
            # pandas-market-calendars 5.5 uses pandas APIs deprecated in pandas 3; not ours to fix.
            warnings.filterwarnings("ignore", message=r".*Series\.dt\.weekday is deprecated")
            schedule = self._pmc.schedule(
                start_date=f"{year}-01-01", end_date=f"{year}-12-31", start="pre", end="post"
            )
            early = {ts.date() for ts in self._pmc.early_closes(schedule).index}
        times: dict[date, SessionTimes] = {}
        for label, row in schedule.iterrows():
            day = label.date()
            times[day] = SessionTimes(
                session=day,
                premarket_open=row["pre"].to_pydatetime().astimezone(UTC),
                market_open=row["market_open"].to_pydatetime().astimezone(UTC),
                market_close=row["market_close"].to_pydatetime().astimezone(UTC),
                postmarket_close=row["post"].to_pydatetime().astimezone(UTC),
                is_half_day=day in early,
            )
        return _Year(sessions=tuple(sorted(times)), times=times)

    def sessions(self, start: date, end: date) -> list[date]:
        """Session dates from ``start`` to ``end``, both inclusive, in order.

        Raises:
            InputError: If a bound is not a date or ``start`` is after ``end``.
        """
        _check_day(start, "start")
        _check_day(end, "end")
        if start > end:
            raise InputError(f"start {start.isoformat()} is after end {end.isoformat()}")
        out: list[date] = []
        for year in range(start.year, end.year + 1):
            out.extend(d for d in self._year(year).sessions if start <= d <= end)
        return out

    def is_session(self, day: date) -> bool:
        """Whether the exchange holds a regular session on ``day``."""
        _check_day(day)
        return day in self._year(day.year).times

    def previous_session(self, day: date) -> date:
        """The last session strictly before ``day``."""
        _check_day(day)
        for year in range(day.year, max(MIN_YEAR, day.year - _SEARCH_YEARS) - 1, -1):
            days = self._year(year).sessions
            i = bisect.bisect_left(days, day)
            if i > 0:
                return days[i - 1]
        raise InputError(f"no session before {day.isoformat()} within the supported years")

    def next_session(self, day: date) -> date:
        """The first session strictly after ``day``."""
        _check_day(day)
        for year in range(day.year, min(MAX_YEAR, day.year + _SEARCH_YEARS) + 1):
            days = self._year(year).sessions
            i = bisect.bisect_right(days, day)
            if i < len(days):
                return days[i]
        raise InputError(f"no session after {day.isoformat()} within the supported years")

    def session_times(self, day: date) -> SessionTimes:
        """Premarket open, regular open/close and post-market end of the session on ``day``.

        Raises:
            InputError: If ``day`` is not a session (weekend, holiday, special closure).
        """
        _check_day(day)
        times = self._year(day.year).times.get(day)
        if times is None:
            raise InputError(f"{day.isoformat()} is not an NYSE session")
        return times

    def mode_at(self, instant: datetime) -> str:
        """The session mode at ``instant``: premarket, market, postmarket, daily or closed.

        See the module docstring for the exact boundaries (start inclusive, end exclusive).

        Raises:
            InputError: If ``instant`` is naive.
        """
        _check_instant(instant)
        day = instant.astimezone(NY).date()
        times = self._year(day.year).times.get(day)
        if times is None:
            return "closed"
        if instant < times.premarket_open:
            return "daily"
        if instant < times.market_open:
            return "premarket"
        if instant < times.market_close:
            return "market"
        if instant < times.postmarket_close:
            return "postmarket"
        return "daily"

    def session_for(self, instant: datetime) -> date | None:
        """The session ``instant`` belongs to: its New York calendar day if that is a session."""
        _check_instant(instant)
        day = instant.astimezone(NY).date()
        return day if day in self._year(day.year).times else None

    def window_opens(self, mode: str, day: date) -> datetime:
        """When the ``mode`` flow's window opens on session ``day`` (UTC).

        Premarket 04:00, market 09:30, postmarket at the close (New York); ``daily`` after the
        post-market.

        Raises:
            InputError: unknown mode, or ``day`` is not a session.
        """
        if mode not in WINDOW_OPENS:
            raise InputError(f"unknown mode {mode!r}: one of {', '.join(WINDOW_OPENS)}")
        return getattr(self.session_times(day), WINDOW_OPENS[mode])

    def before_window(self, mode: str, instant: datetime) -> bool:
        """Whether ``instant`` is on a session day before that day's ``mode`` window opens.

        Whether ``instant`` is on a session day before that day's ``mode`` window opens (premarket
        at 02:13, for example: today's premarket data does not exist yet).
        """
        if mode not in WINDOW_OPENS or mode == "daily":  # daily, watch...: no such window
            return False
        day = self.session_for(instant)
        return day is not None and instant < self.window_opens(mode, day)

    def last_completed_session(self, instant: datetime) -> date:
        """The latest session whose regular close is at or before ``instant``."""
        _check_instant(instant)
        day = instant.astimezone(NY).date()
        times = self._year(day.year).times.get(day)
        if times is not None and times.market_close <= instant:
            return day
        return self.previous_session(day)

    def session_bounds_utc(self, day: date) -> tuple[datetime, datetime]:
        """``(premarket_open, postmarket_close)`` of the session on ``day``, UTC."""
        times = self.session_times(day)
        return times.premarket_open, times.postmarket_close

    def sessions_back(self, day: date, count: int) -> list[date]:
        """The ``count`` sessions ending at ``day`` (included when it is a session), oldest first.

        Raises:
            InputError: If ``count`` is not positive.
        """
        _check_day(day)
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            raise InputError(f"count must be a positive integer, got {count!r}")
        out: list[date] = []
        current = day if self.is_session(day) else self.previous_session(day)
        out.append(current)
        while len(out) < count:
            current = self.previous_session(current)
            out.append(current)
        return out[::-1]


@lru_cache(maxsize=1)
def get_calendar() -> MarketCalendar:
    """The process-wide calendar (schedules are cached inside it)."""
    return MarketCalendar()


def ny_now() -> datetime:
    """The current time in New York (tz-aware)."""
    return datetime.now(UTC).astimezone(NY)


def utc_midnight(day: date) -> datetime:
    """``day`` at 00:00 UTC: the timestamp of a daily bar for session ``day``."""
    _check_day(day)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def ny_time(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of wall-clock ``hour:minute`` in New York on ``day``."""
    _check_day(day)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY).astimezone(UTC)

