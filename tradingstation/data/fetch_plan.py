"""Fetch planning: decide per symbol whether to skip, make one compact call, or backfill.

Pure functions of (ledger, stored coverage, now, calendar, settings): no I/O, no provider.

Vocabulary: the *expected bar* is the newest bar that should exist at ``now`` — for daily
bars the last completed session (``calendar.last_completed_session``), for intraday bars the
last bar of the extended-hours session (04:00-20:00 New York) that has fully ended. A symbol is
*behind* by the number of expected bars after its stored last bar, counted on the calendar and
only inside the retention window (older bars would be trimmed anyway).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

import pandas as pd

from tradingstation.calendar import NY, MarketCalendar, utc_midnight
from tradingstation.data.provenance import foreign_reason, is_foreign
from tradingstation.errors import InputError
from tradingstation.storage import keys

Action = Literal["fresh", "known_no_data", "compact", "full", "needs_full_but_compact_forced"]
CALL_ACTIONS = ("compact", "full", "needs_full_but_compact_forced")
STEP = {"1min": pd.Timedelta(minutes=1), "30min": pd.Timedelta(minutes=30)}
# Intraday "full" without a month returns about the trailing 30 days (Alpha Vantage);
# anything older needs one `month=YYYY-MM` request per month.
TRAILING_WINDOW = pd.Timedelta(days=30)
# A "no data" answer only counts as known once the provider had time to publish the bar:
# daily bars some hours after the close, intraday bars some minutes after the bar ended.
NO_DATA_SETTLE = {"daily": pd.Timedelta(hours=4), "intraday": pd.Timedelta(minutes=15)}


class PlanSettings(Protocol):
    """What planning needs from :class:`tradingstation.config.Settings`."""

    retention_1min_days: int
    retention_30min_bars: int
    retention_daily_sessions: int


@dataclass(frozen=True)
class FetchRequest:
    """The plan for one symbol of one dataset.

    Attributes:
        symbol: Ticker.
        dataset: ``daily``, ``1min`` or ``30min``.
        action: ``fresh`` / ``known_no_data`` (no call), ``compact`` (one cheap call), ``full``
            (full history, plus ``months`` for intraday history beyond the trailing window) or
            ``needs_full_but_compact_forced`` (one compact call; the deeper hole is reported).
        expected_bar: Newest bar that should exist at planning time (UTC).
        behind: Expected bars missing inside the retention window (None: nothing stored).
        months: ``YYYY-MM`` months to request in addition to the full call, oldest first.
        reason: One line explaining the decision.
    """

    symbol: str
    dataset: str
    action: Action
    expected_bar: pd.Timestamp
    behind: int | None
    months: tuple[str, ...] = ()
    reason: str = ""

    @property
    def needs_call(self) -> bool:
        """Whether this request costs provider calls."""
        return self.action in CALL_ACTIONS

    @property
    def full(self) -> bool:
        """Whether the full-history endpoint is asked for."""
        return self.action == "full"

    @property
    def calls(self) -> int:
        """Provider calls this request will make."""
        return (1 + len(self.months)) if self.needs_call else 0

    @property
    def hole(self) -> bool:
        """Whether a hole deeper than compact will remain (compact was forced)."""
        return self.action == "needs_full_but_compact_forced"


def to_utc(instant: datetime) -> pd.Timestamp:
    """``instant`` as a UTC Timestamp; ``InputError`` if it is naive."""
    stamp = pd.Timestamp(instant)
    if stamp.tzinfo is None:
        raise InputError(f"expected a timezone-aware time, got {instant!r}"[:120])
    return stamp.tz_convert("UTC")


def expected_bar(dataset: str, now: datetime, calendar: MarketCalendar) -> pd.Timestamp:
    """Newest bar of ``dataset`` that should exist at ``now`` (UTC, bar start)."""
    keys.validate_dataset(dataset)
    now_ts = to_utc(now)
    if dataset == "daily":
        return pd.Timestamp(utc_midnight(calendar.last_completed_session(now_ts.to_pydatetime())))
    step = STEP[dataset]
    day = now_ts.tz_convert(NY).date()
    if calendar.is_session(day):
        times = calendar.session_times(day)
        start = pd.Timestamp(times.premarket_open)
        end = min(now_ts, pd.Timestamp(times.postmarket_close))
        if end - start >= step:
            return start + ((end - start) // step) * step - step
    times = calendar.session_times(calendar.previous_session(day))
    return pd.Timestamp(times.postmarket_close) - step


def _session_bars(
    calendar: MarketCalendar, day: date, step: pd.Timedelta
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last bar start of the extended-hours session on ``day``."""
    times = calendar.session_times(day)
    first = pd.Timestamp(times.premarket_open)
    last = pd.Timestamp(times.postmarket_close) - step
    return first, last


def count_expected(
    dataset: str, after: pd.Timestamp, through: pd.Timestamp, calendar: MarketCalendar
) -> int:
    """Expected bars with ``after < timestamp <= through`` on the calendar."""
    if through <= after:
        return 0
    if dataset == "daily":
        start = (after + pd.Timedelta(days=1)).date()
        return len(calendar.sessions(start, through.date())) if start <= through.date() else 0
    step = STEP[dataset]
    total = 0
    first_day = after.tz_convert(NY).date()
    for day in calendar.sessions(first_day, through.tz_convert(NY).date()):
        first, last = _session_bars(calendar, day, step)
        lo = max(first, after + step)
        if lo > first:  # align to the bar grid of the session
            lo = first + math.ceil((lo - first) / step) * step
        hi = min(last, through)
        if hi >= lo:
            total += (hi - lo) // step + 1
    return total


def retention_start(
    dataset: str, expected: pd.Timestamp, now: datetime, calendar: MarketCalendar,
    settings: PlanSettings,
) -> pd.Timestamp:
    """Oldest bar the retention window keeps, on the expected-bar grid (UTC)."""
    if dataset == "1min":
        return to_utc(now) - timedelta(days=settings.retention_1min_days)
    if dataset == "daily":
        sessions = calendar.sessions_back(expected.date(), settings.retention_daily_sessions)
        return pd.Timestamp(utc_midnight(sessions[0]))
    step = STEP[dataset]
    wanted = settings.retention_30min_bars
    day = expected.tz_convert(NY).date()
    first, _ = _session_bars(calendar, day, step)
    have = (expected - first) // step + 1
    if have >= wanted:
        return expected - (wanted - 1) * step
    while True:
        day = calendar.previous_session(day)
        first, last = _session_bars(calendar, day, step)
        per_day = (last - first) // step + 1
        if have + per_day >= wanted:
            return last - (wanted - have - 1) * step
        have += per_day


def history_months(start: pd.Timestamp, now: datetime) -> tuple[str, ...]:
    """``YYYY-MM`` months an intraday full request needs beyond its trailing window.

    ``YYYY-MM`` months from ``start`` up to the month where the trailing window begins, when
    ``start`` is older than the trailing window of an intraday full request.
    """
    window_start = to_utc(now) - TRAILING_WINDOW
    if start >= window_start:
        return ()
    months = pd.period_range(
        start.tz_convert(NY).tz_localize(None).to_period("M"),
        window_start.tz_convert(NY).tz_localize(None).to_period("M"),
        freq="M",
    )
    return tuple(str(m) for m in months)


def _known_no_data(row: Mapping | None, dataset: str, expected: pd.Timestamp,
                   calendar: MarketCalendar) -> bool:
    if row is None or row.get("outcome") != "no_data":
        return False
    asked_for, fetched = row.get("expected_bar"), row.get("last_fetch")
    if asked_for is None or pd.isna(asked_for) or fetched is None or pd.isna(fetched):
        return False
    if pd.Timestamp(asked_for) < expected:
        return False
    if dataset == "daily":
        ready = pd.Timestamp(calendar.session_times(expected.date()).market_close)
        ready += NO_DATA_SETTLE["daily"]
    else:
        ready = expected + STEP[dataset] + NO_DATA_SETTLE["intraday"]
    return pd.Timestamp(fetched) >= ready


def plan_fetch(
    dataset: str,
    symbols: Iterable[str],
    ledger: pd.DataFrame,
    stored_last_bars: Mapping[str, pd.Timestamp | None],
    now: datetime,
    calendar: MarketCalendar,
    settings: PlanSettings,
    force: bool = False,
    force_compact: bool = False,
    compact_bars: int = 100,
    source: str = "",
) -> list[FetchRequest]:
    """Plan the fetch of ``symbols`` for ``dataset`` at ``now``; one request per symbol.

    Rules, in order:

    1. ``fresh``: the stored last bar is at or after the expected bar.
    2. ``known_no_data``: the ledger says the provider had no data for this same expected bar
       (asked after the bar had time to be published, see ``NO_DATA_SETTLE``).
    3. ``compact``: behind by at most ``compact_bars`` expected bars (inside retention).
    4. ``full``: deeper hole or nothing stored; intraday history older than the trailing
       window adds one ``month=YYYY-MM`` request per month.
    5. With ``force_compact`` a would-be ``full`` becomes ``needs_full_but_compact_forced``.
    6. With ``force`` rules 1-2 do not skip: the symbol gets a compact call (or 4/5 if deeper).
    7. A symbol whose ledger row records another ``source`` than this run's provider counts as
       nothing stored (rules 1-2 never skip it): its data is replaced, never merged.

    Args:
        dataset: ``daily``, ``1min`` or ``30min``.
        symbols: Validated tickers.
        ledger: The dataset's coverage ledger (``load_ledger``).
        stored_last_bars: Last stored bar per symbol read from the bars objects; overrides the
            ledger's ``last_bar`` (the bars are the truth, the ledger a cache of them).
        now: Planning time (tz-aware).
        calendar: The market calendar.
        settings: Retention settings.
        force: Refetch even fresh symbols.
        force_compact: Never ask for full history.
        compact_bars: Bars a compact call returns (``provider.compact_bars``).
        source: The provider's name; "" skips the provenance rule 7.
    """
    keys.validate_dataset(dataset)
    expected = expected_bar(dataset, now, calendar)
    horizon = retention_start(dataset, expected, now, calendar, settings)
    rows = {r["symbol"]: r for r in ledger.to_dict("records")} if len(ledger) else {}
    step = STEP.get(dataset, pd.Timedelta(days=1))
    plan: list[FetchRequest] = []
    for symbol in symbols:
        keys.validate_symbol(symbol)
        row = rows.get(symbol)
        if symbol in stored_last_bars:
            last = stored_last_bars[symbol]
        else:
            last = row.get("last_bar") if row is not None else None
        last = None if last is None or pd.isna(last) else pd.Timestamp(last).tz_convert("UTC")
        recorded = row.get("source") if row is not None else None
        foreign = bool(source) and symbol not in stored_last_bars and is_foreign(recorded, source)
        if foreign:
            last = None

        def make(action: Action, behind: int | None, reason: str, months=(), s=symbol):
            return FetchRequest(s, dataset, action, expected, behind, tuple(months), reason)

        if not force and last is not None and last >= expected:
            plan.append(make("fresh", 0, f"last bar {last.isoformat()} is current"))
            continue
        if not force and not foreign and _known_no_data(row, dataset, expected, calendar):
            plan.append(make("known_no_data", None, f"provider had no bar for {expected}"))
            continue
        if last is None or last < horizon:
            behind = count_expected(dataset, horizon - step, expected, calendar)
        else:
            behind = count_expected(dataset, last, expected, calendar)
        gap = "nothing stored" if last is None else f"behind by {behind} bars"
        if foreign:
            gap = foreign_reason(str(recorded), source)
        if behind <= compact_bars:
            why = "forced refetch" if force and behind == 0 else gap
            plan.append(make("compact", behind if last is not None else None, why))
            continue
        stored_behind = behind if last is not None else None
        if force_compact:
            plan.append(make("needs_full_but_compact_forced", stored_behind,
                             f"{gap} (> {compact_bars}): full history not requested"))
            continue
        months = ()
        if dataset != "daily":
            months = history_months(horizon if last is None else max(last + step, horizon), now)
        plan.append(make("full", stored_behind, f"{gap} (> {compact_bars})", months))
    return plan
