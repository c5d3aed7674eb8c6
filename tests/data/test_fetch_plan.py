"""Fetch planning on the real NYSE calendar: expected bars, counting, every decision rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from tradingstation.calendar import get_calendar
from tradingstation.config import Settings
from tradingstation.data.fetch_plan import (
    count_expected,
    expected_bar,
    history_months,
    plan_fetch,
    retention_start,
)
from tradingstation.data.ledger import empty_ledger, ledger_row, normalize_ledger
from tradingstation.errors import InputError

CAL = get_calendar()
# Tuesday 2024-06-18 03:00 UTC = Monday 23:00 New York; 2024-06-19 is a holiday.
NIGHT = datetime(2024, 6, 18, 3, 0, tzinfo=UTC)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.mark.parametrize(
    ("dataset", "now", "expected"),
    [
        ("daily", NIGHT, "2024-06-17"),
        ("daily", datetime(2024, 6, 18, 19, 59, tzinfo=UTC), "2024-06-17"),  # 15:59 NY
        ("daily", datetime(2024, 6, 18, 20, 0, tzinfo=UTC), "2024-06-18"),  # the close
        ("daily", datetime(2024, 6, 20, 12, 0, tzinfo=UTC), "2024-06-18"),  # after the holiday
        ("1min", datetime(2024, 6, 18, 14, 0, 30, tzinfo=UTC), "2024-06-18 13:59"),
        ("30min", datetime(2024, 6, 18, 14, 0, 30, tzinfo=UTC), "2024-06-18 13:30"),
        ("30min", datetime(2024, 6, 18, 13, 59, tzinfo=UTC), "2024-06-18 13:00"),
        ("1min", datetime(2024, 6, 18, 8, 0, 59, tzinfo=UTC), "2024-06-17 23:59"),  # 04:00:59
        ("1min", datetime(2024, 6, 18, 8, 1, tzinfo=UTC), "2024-06-18 08:00"),
        ("1min", NIGHT, "2024-06-17 23:59"),
        ("30min", datetime(2024, 6, 22, 15, 0, tzinfo=UTC), "2024-06-21 23:30"),  # Saturday
        ("1min", datetime(2024, 7, 3, 22, 0, tzinfo=UTC), "2024-07-03 20:59"),  # half day
    ],
)
def test_expected_bar(dataset, now, expected):
    assert expected_bar(dataset, now, CAL) == ts(expected)


def test_expected_bar_rejects_naive_time():
    with pytest.raises(InputError):
        expected_bar("daily", datetime(2024, 6, 18), CAL)


def test_count_expected_follows_the_calendar():
    assert count_expected("daily", ts("2024-06-17"), ts("2024-06-21"), CAL) == 3  # skips 06-19
    assert count_expected("daily", ts("2024-06-21"), ts("2024-06-21"), CAL) == 0
    # 19:51-19:59 New York, then 04:00-04:05 the next morning.
    assert count_expected("1min", ts("2024-06-17 23:50"), ts("2024-06-18 08:05"), CAL) == 15
    assert count_expected("30min", ts("2024-06-14 23:30"), ts("2024-06-17 23:30"), CAL) == 32
    assert count_expected("30min", ts("2024-07-02 23:30"), ts("2024-07-03 20:30"), CAL) == 26


def test_retention_start_spans_exactly_the_retained_bars():
    settings = Settings()
    for dataset, kept in (("30min", 500), ("daily", 252)):
        expected = expected_bar(dataset, NIGHT, CAL)
        start = retention_start(dataset, expected, NIGHT, CAL, settings)
        step = pd.Timedelta(minutes=30) if dataset == "30min" else pd.Timedelta(days=1)
        assert count_expected(dataset, start - step, expected, CAL) == kept
    assert retention_start("1min", ts("2024-06-17 23:59"), NIGHT, CAL, settings) == ts(
        "2024-06-11 03:00")


def ledger_of(*rows):
    return normalize_ledger(pd.DataFrame(rows)) if rows else empty_ledger()


def plan_one(dataset, last, now=NIGHT, ledger=None, **kw):
    stored = {"AAA": last} if last is not None else {}
    return plan_fetch(dataset, ["AAA"], ledger if ledger is not None else empty_ledger(),
                      stored, now, CAL, kw.pop("settings", Settings()), **kw)[0]


def test_fresh_symbol_is_skipped():
    request = plan_one("daily", ts("2024-06-17"))
    assert request.action == "fresh" and request.calls == 0 and not request.needs_call


def test_compact_up_to_compact_bars_behind_then_full():
    oldest_missing = CAL.sessions_back(pd.Timestamp("2024-06-17").date(), 100)[0]
    at_limit = pd.Timestamp(CAL.previous_session(oldest_missing)).tz_localize("UTC")
    request = plan_one("daily", at_limit)
    assert (request.action, request.behind, request.calls) == ("compact", 100, 1)
    one_more = pd.Timestamp(CAL.previous_session(at_limit.date())).tz_localize("UTC")
    request = plan_one("daily", one_more)
    assert (request.action, request.behind) == ("full", 101)
    assert request.full and request.calls == 1 and request.months == ()


def test_nothing_stored_needs_full_history():
    request = plan_one("daily", None)
    assert request.action == "full" and request.behind is None
    small = Settings(retention_daily_sessions=60)
    assert plan_one("daily", None, settings=small).action == "compact"  # 60 bars fit compact


def test_intraday_small_gap_is_compact_and_overnight_gap_full():
    morning = datetime(2024, 6, 18, 9, 0, tzinfo=UTC)  # 05:00 NY: 60 bars since 04:00
    assert plan_one("1min", ts("2024-06-17 23:59"), now=morning).action == "compact"
    late = datetime(2024, 6, 18, 13, 0, tzinfo=UTC)  # 09:00 NY: 300 bars since 04:00
    request = plan_one("1min", ts("2024-06-17 23:59"), now=late)
    assert (request.action, request.behind) == ("full", 300)


def test_force_refetches_fresh_data_with_a_compact_call():
    request = plan_one("daily", ts("2024-06-17"), force=True)
    assert request.action == "compact" and request.reason == "forced refetch"
    assert plan_one("daily", None, force=True).action == "full"


def test_force_compact_never_plans_full_and_reports_the_hole():
    request = plan_one("daily", None, force_compact=True)
    assert request.action == "needs_full_but_compact_forced"
    assert request.hole and not request.full and request.calls == 1 and request.months == ()
    assert "full history not requested" in request.reason


def test_known_no_data_is_not_refetched_once_settled():
    expected = ts("2024-06-17")
    row = ledger_row("AAA", "daily", None, ts("2024-06-18 01:00"), "no_data", "", expected)
    assert plan_one("daily", ts("2024-06-14"), ledger=ledger_of(row)).action == "known_no_data"
    # Asked too soon after the close (17:00 NY): the bar may simply not be published yet.
    early = ledger_row("AAA", "daily", None, ts("2024-06-17 21:00"), "no_data", "", expected)
    assert plan_one("daily", ts("2024-06-14"), ledger=ledger_of(early)).action == "compact"
    # No data for an older expected bar says nothing about the new one.
    older = ledger_row("AAA", "daily", None, ts("2024-06-15"), "no_data", "", ts("2024-06-14"))
    assert plan_one("daily", ts("2024-06-14"), ledger=ledger_of(older)).action == "compact"
    assert plan_one("daily", ts("2024-06-14"), ledger=ledger_of(row), force=True).action == (
        "compact")


def test_ledger_is_used_and_stored_bars_override_it():
    row = ledger_row("AAA", "daily", None, ts("2024-06-18"), "ok", "", ts("2024-06-17"))
    row.update(last_bar=ts("2024-06-17"), first_bar=ts("2024-01-02"), bar_count=100)
    ledger = ledger_of(row)
    assert plan_fetch("daily", ["AAA"], ledger, {}, NIGHT, CAL, Settings())[0].action == "fresh"
    stale = plan_fetch("daily", ["AAA"], ledger, {"AAA": ts("2024-06-13")}, NIGHT, CAL,
                       Settings())[0]
    assert stale.action == "compact" and stale.behind == 2


def test_intraday_history_beyond_the_trailing_window_adds_month_requests():
    deep = Settings(retention_30min_bars=2000)
    request = plan_one("30min", None, settings=deep)
    assert request.action == "full"
    assert request.months == ("2024-03", "2024-04", "2024-05")
    assert request.calls == 4
    assert plan_one("30min", None).months == ()  # 500 bars fit in the trailing window
    assert history_months(ts("2024-06-01"), NIGHT) == ()


def test_bad_symbol_or_dataset_rejected():
    with pytest.raises(InputError):
        plan_fetch("daily", ["ok"], empty_ledger(), {}, NIGHT, CAL, Settings())
    with pytest.raises(InputError):
        plan_fetch("weekly", ["AAA"], empty_ledger(), {}, NIGHT, CAL, Settings())
