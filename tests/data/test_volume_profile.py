"""Gap & Go's premarket relative volume averages the sessions it documents (10), not the 4
that 1-min retention keeps: a per-symbol premarket volume profile is kept as sessions arrive."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.data.memory_store import MemoryStore
from tests.screeners.helpers import SESSION, at, concat, flat_daily, prior_sessions, screen_input
from tests.screeners.test_gap_and_go import premarket
from tradingstation.data.provenance import frame_source
from tradingstation.data.volume_profile import (
    PROFILE_SESSIONS,
    load_volume_profiles,
    record_before_trim,
    update_volume_profile,
)
from tradingstation.screeners import get_screener
from tradingstation.storage import keys

DAYS = prior_sessions(10)
# the six older sessions were busy (20k a minute), the four that 1-min retention still holds
# were quiet (3k a minute); today trades 10k a minute
HISTORY = {d: premarket(d, 100.0, 20_000 if i < 6 else 3_000) for i, d in enumerate(DAYS)}


def _arrive(store: MemoryStore) -> None:
    """Sessions arrive one by one; 1-min retention keeps only the last four of them, and the
    profile records each session's premarket before retention trims it."""
    for i, day in enumerate(DAYS):
        retained = concat(*(HISTORY[d] for d in DAYS[max(0, i - 4): i + 1]))
        kept = concat(*(HISTORY[d] for d in DAYS[max(0, i - 3): i + 1]))
        evening = at("20:00", day) + timedelta(hours=1)
        record_before_trim(store, "GAPR", retained, kept, evening, "alphavantage")


def _screen(profiles, **params):
    today = premarket(SESSION, 106.20, 10_000)
    intraday = concat(*(HISTORY[d] for d in DAYS[-4:]), today)
    data = screen_input({"GAPR": flat_daily(price=100.0)}, intraday={"GAPR": intraday},
                        as_of=at("08:45"), volume_profiles=profiles)
    return get_screener("gap_and_go").screen(data, **params)


def test_relative_volume_uses_the_ten_documented_sessions() -> None:
    store = MemoryStore()
    _arrive(store)
    profiles = load_volume_profiles(store, ["GAPR", "NONE"])
    assert set(profiles) == {"GAPR"}
    # every session that left retention is recorded; the panel holds the rest
    assert set(DAYS[:6]) <= set(profiles["GAPR"]["session"]) <= set(DAYS)
    assert frame_source(store.get_frame(keys.volume_profile_key("GAPR"))) == "alphavantage"
    # 450k today vs the mean over 10 sessions (6 x 900k + 4 x 135k) / 10 = 594k: 0.76x usual
    assert _screen(profiles) == []
    signal = _screen(profiles, min_premarket_rvol=0.5)[0]
    assert signal.metrics["premarket_rvol"] == pytest.approx(450_000 / 594_000, rel=1e-6)
    assert "= 0.8x usual" in " ".join(signal.reasons)
    # without the profile only the four retained quiet sessions would count: 3.3x, a false hit
    assert _screen(None)[0].metrics["premarket_rvol"] == pytest.approx(10 / 3, rel=1e-6)


def test_profile_keeps_the_most_sessions_any_setting_can_ask_for() -> None:
    store = MemoryStore()
    days = prior_sessions(PROFILE_SESSIONS + 5)
    for day in days:
        bars = premarket(day, 100.0, 1_000)
        assert update_volume_profile(store, "GAPR", bars, at("21:00", day), "alphavantage")
    kept = load_volume_profiles(store, ["GAPR"])["GAPR"]
    assert sorted(kept["session"].unique()) == days[-PROFILE_SESSIONS:]
    # a session still in progress is not recorded; an unchanged one is not rewritten
    today = premarket(SESSION, 100.0, 1_000)
    assert not update_volume_profile(store, "GAPR", today, at("08:45"), "alphavantage")
    assert not update_volume_profile(store, "GAPR", premarket(days[-1], 100.0, 1_000),
                                     at("09:00"), "alphavantage")
    # a profile from another provider is replaced, never extended
    quiet = premarket(days[-1], 100.0, 5)
    assert update_volume_profile(store, "GAPR", quiet, at("21:00", days[-1]), "demo")
    replaced = load_volume_profiles(store, ["GAPR"])["GAPR"]
    assert sorted(replaced["session"].unique()) == [days[-1]]


@pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition
def test_a_1min_fetch_records_the_sessions_retention_trims() -> None:
    from tests.data.counting_provider import CountingProvider
    from tests.data.test_fetch import MON_NIGHT
    from tests.support.fetching import fetch_job
    from tradingstation.config import Settings

    store = MemoryStore()
    provider = CountingProvider(["AAA"], MON_NIGHT)
    report = fetch_job("intraday_1min", store, provider, MON_NIGHT, Settings(), tickers=["AAA"])
    assert report.counts == {"ok": 1}
    retained = store.get_frame(keys.bars_key("1min", "AAA"))["timestamp"]
    retained_days = set(retained.dt.tz_convert("America/New_York").dt.date)
    profile = load_volume_profiles(store, ["AAA"])["AAA"]
    recorded = set(profile["session"])
    assert len(retained_days) <= 6 and len(recorded) >= 10  # the full month, not the week
    assert frame_source(store.get_frame(keys.volume_profile_key("AAA"))) == "counting"
