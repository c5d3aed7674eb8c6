"""API chaos: the real premarket flow against a fake Alpha Vantage that fails 20 % of requests.

Three runs of ``flows/premarket.py`` over one fake market of 500+ stocks, each into its own data
directory: fault-free (the reference), with a seeded mix of every fault kind on a fifth of the
per-symbol requests (plus the listing and bulk-quote calls failing their first attempts), and
with a few symbols failing every time. The chaos run must store exactly what the reference
stored; the last run must finish and name exactly the symbols that never succeeded.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.support.fake_alphavantage import FakeAlphaVantage
from tradingstation.calendar import NY
from tradingstation.config import get_settings
from tradingstation.data.quotes import FETCHED_AT
from tradingstation.storage import keys

pytestmark = pytest.mark.slow

KEY = "CHAOS-KEY-1"
AS_OF = datetime(2025, 11, 24, 8, 45, tzinfo=NY)
LISTING = 566  # ~8/9 are stocks on kept venues: > 500 symbols in the universe
FAILURE_RATE = 0.20
# Every fault the fake can inject on a bar request; each gets an equal share of the 20 %.
BAR_FAULTS = ("throttle_note", "throttle_information", "http_500", "http_503", "timeout",
              "connection_reset", "malformed_json", "truncated_body", "wrong_symbol")
# The retry budget of the run: task retries of every data task (policy default is 3; a 20 %
# failure rate on ~1,000 chained requests needs a deeper budget to finish with certainty).
RETRIES = 8
FIGURES: dict[str, object] = {}


class BarFaultsFake(FakeAlphaVantage):
    """The fake, plus symbols whose *bar* requests always fail (``fail_symbol`` would also fail
    every bulk quote call naming them, and so the whole quotes step)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.doomed_bars: dict[str, str] = {}

    def _pick_fault(self, record):
        kind = super()._pick_fault(record)
        if record.function.startswith("TIME_SERIES") and record.symbol in self.doomed_bars:
            return self.doomed_bars[record.symbol]
        return kind


@pytest.fixture(scope="module")
def fake() -> FakeAlphaVantage:
    with BarFaultsFake(KEY, listing_size=LISTING, now=lambda: AS_OF, seed=11,
                          timeout_seconds=4.0) as server:
        yield server


@pytest.fixture
def flow_env(monkeypatch: pytest.MonkeyPatch, fake: FakeAlphaVantage, prefect_api: str):
    """Settings for a premarket run against the fake; returns a function making a data dir."""
    import tasks.data as data_tasks
    from tradingstation.providers import ratelimit

    monkeypatch.setenv("TS_ALPHAVANTAGE_API_KEY", KEY)
    monkeypatch.setenv("TS_ALPHAVANTAGE_BASE_URL", fake.url)
    monkeypatch.setenv("TS_RATE_LIMIT_PER_MINUTE", "100000")
    monkeypatch.setenv("TS_HTTP_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("TS_WATCHLIST_CAP", "6")
    monkeypatch.setenv("TS_HTTP_CONCURRENCY", "8")

    class QuickLimiter(ratelimit.RateLimiter):
        """The production limiter with a short pause after a throttle answer (15 s default)."""

        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("throttle_pause", 0.05)
            kwargs.setdefault("recovery_seconds", 1.0)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(ratelimit, "RateLimiter", QuickLimiter)
    for name in ("refresh_universe", "fetch_bars_batch", "fetch_quotes", "plan_job",
                 "select_watchlist"):
        task = getattr(data_tasks, name)
        monkeypatch.setattr(data_tasks, name,
                            task.with_options(retries=RETRIES, retry_delay_seconds=0))

    def use_dir(path: Path) -> Path:
        monkeypatch.setenv("TS_DATA_DIR", str(path))
        get_settings.cache_clear()
        return path

    return use_dir


def _run_premarket() -> dict:
    from flows.premarket import premarket

    state = premarket(as_of=AS_OF, return_state=True)
    assert state.is_completed(), state.message
    return state.result()


def _bars(root: Path, dataset: str) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted((root / "bars" / dataset).glob("*.parquet"))}


def _assert_same_bars(reference: dict[str, pd.DataFrame], got: dict[str, pd.DataFrame]) -> None:
    assert sorted(got) == sorted(reference)
    for symbol, frame in reference.items():
        pd.testing.assert_frame_equal(got[symbol], frame, obj=f"{symbol} bars")


def test_premarket_survives_twenty_percent_failures(
    fake, flow_env, tmp_path: Path, record_figures
) -> None:
    reference_dir = flow_env(tmp_path / "reference")
    fake.clear_faults()
    reference = _run_premarket()
    assert not reference["failed_symbols"]
    universe = pd.read_parquet(reference_dir / keys.universe_key())
    assert len(universe) >= 500
    ref_daily = _bars(reference_dir, "daily")
    assert len(ref_daily) == len(universe)
    ref_minute = _bars(reference_dir, "1min")
    assert len(ref_minute) == len(reference["watchlist"]) > 0

    chaos_dir = flow_env(tmp_path / "chaos")
    fake.reset_requests()
    share = 1 - (1 - FAILURE_RATE) ** (1 / len(BAR_FAULTS))
    for function in ("TIME_SERIES_DAILY", "TIME_SERIES_INTRADAY"):
        for i, kind in enumerate(BAR_FAULTS):
            fake.fail_randomly(kind, share, seed=100 + i, function=function)
    fake.fail_next("connection_reset", function="LISTING_STATUS")
    fake.fail_next("truncated_body", function="LISTING_STATUS")
    fake.fail_next("wrong_symbol", function="REALTIME_BULK_QUOTES")
    fake.fail_next("http_503", function="REALTIME_BULK_QUOTES")
    # A few symbols fail every time (outside the reference watchlist, so the rest is comparable).
    spare = [s for s in universe["symbol"] if s not in reference["watchlist"]]
    doomed = dict(zip(spare[3:200:50], ("http_503", "timeout", "malformed_json", "wrong_symbol"),
                      strict=True))
    fake.doomed_bars = doomed
    try:
        chaos = _run_premarket()
    finally:
        fake.clear_faults()
        fake.doomed_bars = {}

    assert chaos["status"] == "completed"
    assert chaos["failed_symbols"] == {"daily": sorted(doomed)}
    assert chaos["watchlist"] == reference["watchlist"]
    for symbol in doomed:  # asked once per attempt of the retry budget, never more
        assert fake.count(function="TIME_SERIES_DAILY", symbol=symbol) == RETRIES + 1
    healthy = {s: f for s, f in ref_daily.items() if s not in doomed}
    _assert_same_bars(healthy, _bars(chaos_dir, "daily"))
    _assert_same_bars(ref_minute, _bars(chaos_dir, "1min"))
    pd.testing.assert_frame_equal(pd.read_parquet(chaos_dir / keys.universe_key()), universe)
    quotes = keys.quotes_key(AS_OF.date())
    # the quotes themselves; their fetch times naturally differ between the two runs
    pd.testing.assert_frame_equal(pd.read_parquet(chaos_dir / quotes).drop(columns=FETCHED_AT),
                                  pd.read_parquet(reference_dir / quotes).drop(columns=FETCHED_AT))

    bar_requests = [r for r in fake.requests if r.function.startswith("TIME_SERIES")
                    and r.symbol not in doomed]
    bar_faults = [r for r in bar_requests if r.outcome != "ok"]
    rate = len(bar_faults) / len(bar_requests)
    assert 0.12 < rate < 0.25, rate  # the injected rate, as the server saw it
    assert {r.outcome for r in bar_faults} == set(BAR_FAULTS)
    faults = [r for r in fake.requests if r.outcome != "ok"]
    # A retry asks again only for what failed: one more daily request per fault, no more.
    for symbol in set(universe["symbol"]) - set(doomed):
        asked = [r for r in fake.requests
                 if r.function == "TIME_SERIES_DAILY" and r.symbol == symbol]
        assert len(asked) == 1 + sum(r.outcome != "ok" for r in asked), symbol
    record_figures("api_chaos", {
        "symbols": len(universe), "requests": len(fake.requests), "faults_injected": len(faults),
        "fault_kinds": sorted({r.outcome for r in faults}),
        "faults_survived": len(faults) - len(doomed) * (RETRIES + 1),
        "symbols_failing_every_time": len(doomed), "reported_exactly": len(doomed),
        "bars_compared": sum(len(f) for f in healthy.values())
        + sum(len(f) for f in ref_minute.values()),
        "bars_lost": 0, "retries_per_task": RETRIES,
    })
