"""Fetch jobs end to end over a real store and a deterministic counting provider."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pandas as pd
import pytest

from tests.data.counting_provider import CountingProvider
from tests.data.memory_store import CountingLocalStore, MemoryStore
from tests.support.fetching import fetch_job
from tradingstation.calendar import get_calendar
from tradingstation.config import Settings
from tradingstation.contracts import bar_problems
from tradingstation.data.fetch import (
    Stops,
    fetch_batch,
    prepare_job,
    split_batches,
    summarize_job,
)
from tradingstation.data.ledger import load_ledger
from tradingstation.errors import (
    DataError,
    InputError,
    InvalidApiKeyError,
    ObjectNotFoundError,
    PermanentError,
    PremiumEndpointError,
    ProviderError,
    SymbolNotFoundError,
    ThrottledError,
)
from tradingstation.storage import keys

pytestmark = pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition

CAL = get_calendar()
SYMBOLS = ["AAA", "BBB", "BRK.B", "CCC"]
MON_NIGHT = datetime(2024, 6, 18, 3, 0, tzinfo=UTC)  # expected daily bar: 2024-06-17
FRI_NIGHT = datetime(2024, 6, 22, 3, 0, tzinfo=UTC)  # expected daily bar: 2024-06-21


@pytest.fixture
def store():
    return MemoryStore()


@pytest.fixture(params=["memory", "local"])
def any_store(request, tmp_path):
    """Both real backends, for the scenarios where storage behaviour matters most."""
    return MemoryStore() if request.param == "memory" else CountingLocalStore(tmp_path / "s")


@pytest.fixture
def settings():
    return Settings(batch_size=2, http_concurrency=4)


def bars(store, dataset, symbol):
    return store.get_frame(keys.bars_key(dataset, symbol))


def fresh_start(store, settings, now=MON_NIGHT, symbols=SYMBOLS):
    """Universe + full daily history, then counters reset."""
    provider = CountingProvider(symbols, now)
    assert fetch_job("universe", store, provider, now, settings).exit_code == 0
    report = fetch_job("daily", store, provider, now, settings)
    assert report.counts == {"ok": len(symbols)}
    provider.calls.clear()
    store.reset_counts()
    return provider


def test_first_run_fetches_full_history_and_rerun_is_free(any_store, settings):
    store = any_store
    provider = fresh_start(store, settings)
    for symbol in SYMBOLS:
        stored = bars(store, "daily", symbol)
        assert len(stored) == 252 and bar_problems(stored) == []  # a year: the default
        assert stored["timestamp"].iloc[-1] == pd.Timestamp("2024-06-17", tz="UTC")
    report = fetch_job("daily", store, provider, MON_NIGHT, settings)
    assert provider.total_calls == 0 and report.calls == 0
    assert store.total_puts == 0
    assert report.counts == {"fresh": 4} and report.exit_code == 0


def test_rerun_without_a_ledger_is_still_free(store, settings):
    provider = fresh_start(store, settings)
    store.delete(keys.ledger_key("daily"))
    report = fetch_job("daily", store, provider, MON_NIGHT, settings)
    assert provider.total_calls == 0 and report.counts == {"fresh": 4}


def test_planning_lists_stored_bars_only_when_the_ledger_lacks_symbols(store, settings):
    provider = fresh_start(store, settings)
    fetch_job("daily", store, provider, MON_NIGHT, settings)
    assert store.lists[keys.bars_prefix("daily")] == 0  # the ledger knows every symbol
    assert not [k for k in store.gets if k.startswith("bars/")]
    store.delete(keys.ledger_key("daily"))
    report = fetch_job("daily", store, provider, MON_NIGHT, settings)
    assert report.counts == {"fresh": 4} and store.lists[keys.bars_prefix("daily")] == 1


def test_slightly_stale_symbols_cost_one_compact_call_each(any_store, settings):
    store = any_store
    provider = fresh_start(store, settings)
    provider.now = FRI_NIGHT
    report = fetch_job("daily", store, provider, FRI_NIGHT, settings)
    for symbol in SYMBOLS:
        assert provider.calls_for(symbol) == {"compact": 1}
        stored = bars(store, "daily", symbol)
        days = [t.date() for t in stored["timestamp"].iloc[-4:]]
        assert [d.isoformat() for d in days] == ["2024-06-17", "2024-06-18", "2024-06-20",
                                                 "2024-06-21"]
        assert len(stored) == 252  # retention
    assert report.calls == report.planned_calls == 4
    assert report.counts == {"ok": 4}
    ledger = load_ledger(store, "daily").set_index("symbol")
    assert (ledger["last_bar"] == pd.Timestamp("2024-06-21", tz="UTC")).all()
    assert (ledger["bar_count"] == 252).all() and (ledger["outcome"] == "ok").all()
    provider.calls.clear()
    store.reset_counts()
    assert fetch_job("daily", store, provider, FRI_NIGHT, settings).calls == 0
    assert store.total_puts == 0


def test_deep_gap_is_repaired_with_a_full_call(store, settings):
    provider = fresh_start(store, settings)
    later = datetime(2025, 1, 28, 3, 0, tzinfo=UTC)  # ~150 sessions later
    provider.now = later
    report = fetch_job("daily", store, provider, later, settings, tickers=["AAA"])
    assert provider.calls_for("AAA") == {"full": 1}
    stored = bars(store, "daily", "AAA")
    expected = CAL.sessions_back(CAL.last_completed_session(later), 252)
    assert [t.date() for t in stored["timestamp"]] == expected  # contiguous, no hole
    assert report.outcomes[0].action == "full" and report.outcomes[0].outcome == "ok"


def test_force_refetches_fresh_symbols_and_writes_nothing_unchanged(store, settings):
    provider = fresh_start(store, settings)
    report = fetch_job("daily", store, provider, MON_NIGHT, settings, refetch=True)
    assert all(provider.calls_for(s) == {"compact": 1} for s in SYMBOLS)
    assert report.counts == {"ok": 4}
    # Same content: no bars object is rewritten (the ledger records the new fetch).
    assert not [k for k in store.puts if k.startswith("bars/")]
    assert not any(o.written for o in report.outcomes)


def test_force_compact_never_asks_for_full_and_reports_the_hole(store, settings):
    provider = CountingProvider(SYMBOLS, MON_NIGHT)
    report = fetch_job("daily", store, provider, MON_NIGHT, settings, tickers="aaa,BBB",
                           force_compact=True)
    assert all(mode == "compact" for (_, _, mode) in provider.calls)
    assert provider.total_calls == 2
    assert report.holes == ["AAA", "BBB"]
    assert all("full history not requested" in o.reason for o in report.outcomes)
    assert len(bars(store, "daily", "AAA")) == 100
    assert "deep hole" in report.summary() and report.exit_code == 0


def test_one_failing_symbol_does_not_stop_the_others(store, settings):
    provider = fresh_start(store, settings)
    provider.now = FRI_NIGHT
    provider.failures = {"BBB": ThrottledError("rate limit reached"),
                         "CCC": SymbolNotFoundError("unknown symbol CCC")}
    report = fetch_job("daily", store, provider, FRI_NIGHT, settings)
    outcome = {o.symbol: o for o in report.outcomes}
    assert outcome["AAA"].outcome == outcome["BRK.B"].outcome == "ok"
    assert outcome["BBB"].outcome == "failed" and outcome["BBB"].transient
    assert outcome["CCC"].outcome == "failed" and not outcome["CCC"].transient
    assert outcome["CCC"].reason == "unknown symbol CCC"
    assert report.transient_failures == ["BBB"] and report.exit_code == 0
    ledger = load_ledger(store, "daily").set_index("symbol")
    assert ledger.loc["BBB", "outcome"] == "failed"
    assert ledger.loc["BBB", "last_bar"] == pd.Timestamp("2024-06-17", tz="UTC")  # kept
    assert len(bars(store, "daily", "BBB")) == 252  # stored bars untouched
    # The next run retries the failed symbols only.
    provider.failures = {}
    provider.calls.clear()
    fetch_job("daily", store, provider, FRI_NIGHT, settings)
    assert {s for (_, s, _) in provider.calls} == {"BBB", "CCC"}


def test_batch_exposes_transient_failures_for_the_retry_owner(store, settings):
    provider = fresh_start(store, settings)
    provider.now = FRI_NIGHT
    provider.failures = {"AAA": ProviderError("HTTP 503"), "CCC": SymbolNotFoundError("no")}
    plan = prepare_job("daily", store, provider, FRI_NIGHT, settings)
    result = fetch_batch(store, provider, "daily", plan.requests, FRI_NIGHT, settings)
    assert result.transient_failures == ["AAA"]
    assert [r.symbol for r in result.retry_requests] == ["AAA"]
    provider.failures = {}
    retry = fetch_batch(store, provider, "daily", result.retry_requests, FRI_NIGHT, settings)
    assert retry.transient_failures == [] and retry.calls == 1
    report = summarize_job(plan, [result, retry], provider)
    assert {o.symbol: o.outcome for o in report.outcomes}["AAA"] == "ok"


def test_every_symbol_failing_exits_non_zero(store, settings):
    provider = fresh_start(store, settings)
    provider.now = FRI_NIGHT
    provider.failures = {s: ProviderError("HTTP 500") for s in SYMBOLS}
    report = fetch_job("daily", store, provider, FRI_NIGHT, settings)
    assert report.counts == {"failed": 4} and report.exit_code == 1


def test_bad_api_key_stops_the_job_and_exits_non_zero(store):
    settings = Settings(batch_size=2, http_concurrency=1)
    provider = fresh_start(store, settings)
    provider.now = FRI_NIGHT
    provider.failures = {s: InvalidApiKeyError("the API key was rejected") for s in SYMBOLS}
    with pytest.raises(PermanentError, match="step fetch-daily stopped: the API key was rejected"):
        fetch_job("daily", store, provider, FRI_NIGHT, settings)
    assert provider.total_calls <= 2  # the two batches start at once; none calls after that


def test_bad_api_key_stops_the_batches_queued_behind_the_refusal(store):
    # The fetch stage runs its batches as concurrent tasks (4 at a time): once one is refused,
    # the batches still queued make no call. Found: all 12 batches called with the bad key.
    settings = Settings(batch_size=1, http_concurrency=1)
    symbols = [f"K{i:02d}" for i in range(12)]
    provider = fresh_start(store, settings, symbols=symbols)
    provider.now = FRI_NIGHT
    provider.failures = {s: InvalidApiKeyError("the API key was rejected") for s in symbols}
    with pytest.raises(PermanentError, match="the API key was rejected"):
        fetch_job("daily", store, provider, FRI_NIGHT, settings)
    assert provider.total_calls <= 4  # only the batches already running when it was refused


def test_a_jobs_refusals_can_be_handed_to_a_task_in_another_process():
    stops = pickle.loads(pickle.dumps(Stops(fatal="the API key was rejected")))
    assert (stops.fatal, stops.no_full) == ("the API key was rejected", None)
    with stops.lock:  # a lock of its own process
        stops.no_full = "full output is premium"
    assert pickle.loads(pickle.dumps(stops)).no_full == "full output is premium"


def test_premium_refusal_stops_further_full_requests(store):
    settings = Settings(http_concurrency=1)
    provider = CountingProvider(SYMBOLS, MON_NIGHT)
    provider.failures = {s: PremiumEndpointError("full output is premium") for s in SYMBOLS}
    report = fetch_job("daily", store, provider, MON_NIGHT, settings, tickers=SYMBOLS)
    assert provider.total_calls == 1
    assert all("--force-compact" in o.reason for o in report.outcomes)


def test_bad_tickers_rejected_before_any_call_or_write(any_store, settings):
    store = any_store
    provider = fresh_start(store, settings)
    provider.now = FRI_NIGHT
    for tickers in (["AAA", "bad ticker"], "AAA,../etc", ["AAA", 7]):
        with pytest.raises(InputError):
            fetch_job("daily", store, provider, FRI_NIGHT, settings, tickers=tickers)
    with pytest.raises(InputError, match="unknown fetch job"):
        fetch_job("weekly", store, provider, FRI_NIGHT, settings)
    with pytest.raises(InputError, match="supported years"):
        fetch_job("daily", store, provider, datetime(1850, 6, 22, tzinfo=UTC), settings)
    with pytest.raises(InputError, match="timezone-aware"):  # the core never guesses a zone
        prepare_job("daily", store, provider, datetime(2024, 6, 22), settings)
    with pytest.raises(InputError):
        fetch_job("universe", store, provider, FRI_NIGHT, settings, tickers=["AAA"])
    assert provider.total_calls == 0 and store.total_puts == 0


def test_daily_without_universe_is_a_clear_error(store, settings):
    provider = CountingProvider(SYMBOLS, MON_NIGHT)
    with pytest.raises(ObjectNotFoundError, match="fetch universe"):
        fetch_job("daily", store, provider, MON_NIGHT, settings)
    assert provider.total_calls == 0


def test_invalid_provider_data_is_quarantined_and_nothing_merged(any_store, settings):
    store = any_store
    provider = fresh_start(store, settings)
    before = bars(store, "daily", "AAA")
    provider.now = FRI_NIGHT
    provider.invalid = {"AAA"}
    report = fetch_job("daily", store, provider, FRI_NIGHT, settings)
    outcome = {o.symbol: o for o in report.outcomes}["AAA"]
    assert outcome.outcome == "failed" and "high below" in outcome.reason
    assert bars(store, "daily", "AAA").equals(before)
    [quarantined] = report.quarantined
    assert quarantined.startswith("quarantine/daily/AAA/")
    kept = store.get_frame(quarantined)
    assert len(kept) == 100 and bar_problems(kept)
    assert bars(store, "daily", "BBB")["timestamp"].iloc[-1] == pd.Timestamp("2024-06-21",
                                                                           tz="UTC")


def test_known_no_data_is_not_refetched(store, settings):
    provider = fresh_start(store, settings)
    provider.now = FRI_NIGHT
    provider.halted_after = {"CCC": pd.Timestamp("2024-06-18", tz="UTC")}
    report = fetch_job("daily", store, provider, FRI_NIGHT, settings)
    outcome = {o.symbol: o for o in report.outcomes}["CCC"]
    assert outcome.outcome == "no_data" and "no bar for 2024-06-21" in outcome.reason
    assert bars(store, "daily", "CCC")["timestamp"].iloc[-1] == pd.Timestamp("2024-06-18",
                                                                             tz="UTC")
    provider.calls.clear()
    store.reset_counts()
    report = fetch_job("daily", store, provider, FRI_NIGHT, settings)
    assert provider.total_calls == 0 and store.total_puts == 0
    assert {o.symbol: o.outcome for o in report.outcomes}["CCC"] == "known_no_data"


def test_intraday_30min_full_then_compact_then_free(store, settings):
    provider = CountingProvider(SYMBOLS, MON_NIGHT)
    report = fetch_job("intraday_30min", store, provider, MON_NIGHT, settings,
                           tickers=["AAA", "BBB"])
    assert report.counts == {"ok": 2} and provider.calls_for("AAA") == {"full": 1}
    stored = bars(store, "30min", "AAA")
    assert len(stored) == 500 and bar_problems(stored) == []
    assert stored["timestamp"].iloc[-1] == pd.Timestamp("2024-06-17 23:30", tz="UTC")
    ten_am = datetime(2024, 6, 18, 14, 5, tzinfo=UTC)
    provider.now = ten_am
    provider.calls.clear()
    fetch_job("intraday_30min", store, provider, ten_am, settings, tickers=["AAA", "BBB"])
    assert provider.calls_for("AAA") == {"compact": 1}
    stored = bars(store, "30min", "AAA")
    assert len(stored) == 500
    assert stored["timestamp"].iloc[-1] == pd.Timestamp("2024-06-18 13:30", tz="UTC")
    provider.calls.clear()
    store.reset_counts()
    fetch_job("intraday_30min", store, provider, ten_am, settings, tickers=["AAA", "BBB"])
    assert provider.total_calls == 0 and store.total_puts == 0


def test_intraday_1min_keeps_seven_days_and_deep_history_uses_months(store, settings):
    provider = CountingProvider(SYMBOLS, MON_NIGHT)
    fetch_job("intraday_1min", store, provider, MON_NIGHT, settings, tickers=["AAA"])
    stored = bars(store, "1min", "AAA")
    assert stored["timestamp"].min() >= pd.Timestamp(MON_NIGHT) - pd.Timedelta(days=7)
    assert stored["timestamp"].iloc[-1] == pd.Timestamp("2024-06-17 23:59", tz="UTC")
    deep = Settings(retention_30min_bars=2000)
    fetch_job("intraday_30min", store, provider, MON_NIGHT, deep, tickers=["AAA"])
    assert provider.calls_for("AAA") == {"full": 2, "2024-03": 1, "2024-04": 1, "2024-05": 1}
    assert len(bars(store, "30min", "AAA")) == 2000


def test_batches_cover_every_symbol_and_progress_is_reported(store, settings):
    symbols = [f"S{i:02d}" for i in range(7)]
    provider = CountingProvider(symbols, MON_NIGHT)
    seen = []
    report = fetch_job("daily", store, provider, MON_NIGHT, settings, tickers=symbols,
                       force_compact=True, on_progress=lambda _, d, t: seen.append((d, t)))
    assert len(split_batches(prepare_job("daily", store, provider, FRI_NIGHT, settings,
                                         symbols).requests, 2)) == 4
    assert sorted(load_ledger(store, "daily")["symbol"]) == symbols
    assert seen == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]  # once submitted, then per batch
    assert report.calls == 7


def test_universe_job_snapshots_once_a_day(store, settings):
    provider = CountingProvider([*SYMBOLS, "bad^x"], MON_NIGHT)
    report = fetch_job("universe", store, provider, MON_NIGHT, settings)
    assert report.exit_code == 0 and report.details["kept"] == 4
    assert report.details["dropped"]["symbol"] == 1
    assert store.exists(keys.universe_history_key(datetime(2024, 6, 17).date()))  # NY day
    store.reset_counts()
    again = fetch_job("universe", store, provider, MON_NIGHT, settings)
    assert again.calls == 0 and store.total_puts == 0 and again.counts == {"fresh": 1}
    provider.failures = {}
    forced = fetch_job("universe", store, provider, MON_NIGHT, settings, refetch=True)
    assert forced.calls == 1 and store.total_puts == 0  # same listing: nothing rewritten


def test_bars_still_in_progress_are_not_stored(store, settings):
    provider = fresh_start(store, settings)
    midday = datetime(2024, 6, 18, 17, 10, 30, tzinfo=UTC)  # 13:10:30 New York
    provider.now = midday
    provider.serve_partial = True
    fetch_job("daily", store, provider, midday, settings, tickers=["AAA"])
    assert bars(store, "daily", "AAA")["timestamp"].iloc[-1] == pd.Timestamp("2024-06-17",
                                                                             tz="UTC")
    fetch_job("intraday_1min", store, provider, midday, settings, tickers=["AAA"])
    assert bars(store, "1min", "AAA")["timestamp"].iloc[-1] == pd.Timestamp(
        "2024-06-18 17:09", tz="UTC")


def test_corrupt_stored_bars_are_never_overwritten(store, settings):
    provider = fresh_start(store, settings)
    store.put_bytes(keys.bars_key("daily", "AAA"), b"garbage")
    provider.now = FRI_NIGHT
    provider.calls.clear()
    report = fetch_job("daily", store, provider, FRI_NIGHT, settings, tickers=["AAA", "BBB"])
    outcome = {o.symbol: o for o in report.outcomes}
    assert outcome["AAA"].outcome == "failed" and "not readable parquet" in outcome["AAA"].reason
    assert store.get_bytes(keys.bars_key("daily", "AAA")) == b"garbage"
    assert provider.calls_for("AAA") == {} and outcome["BBB"].outcome == "ok"


def test_provider_data_error_with_the_rejected_frame_is_quarantined(store, settings):
    provider = fresh_start(store, settings)
    provider.now = FRI_NIGHT
    error = DataError("AAA daily bars rejected: 1 duplicate timestamps")
    error.frame = pd.DataFrame({"timestamp": ["2024-06-21", "2024-06-21"], "close": [1.0, 2.0]})
    provider.failures = {"AAA": error}
    report = fetch_job("daily", store, provider, FRI_NIGHT, settings, tickers=["AAA"])
    assert report.outcomes[0].reason == "AAA daily bars rejected: 1 duplicate timestamps"
    [key] = report.quarantined
    assert len(store.get_frame(key)) == 2


def test_intraday_job_without_tickers_fetches_the_watchlist(store, settings):
    provider = fresh_start(store, settings)
    session = datetime(2024, 6, 18).date()
    store.put_frame(keys.anchors_key(session), pd.DataFrame({"symbol": ["CCC", "AAA"]}))
    premarket = datetime(2024, 6, 18, 9, 0, tzinfo=UTC)
    provider.now = premarket
    report = fetch_job("intraday_30min", store, provider, premarket, settings)
    assert sorted(o.symbol for o in report.outcomes) == ["AAA", "CCC"]
    assert store.exists(keys.bars_key("30min", "CCC"))
    assert not store.exists(keys.bars_key("30min", "BBB"))
