"""Splits in the Prefect flows, over the fake Alpha Vantage server: the daily fetch stage
confirms and applies splits in its own task after releasing the daily lock (holding every
dataset's lock while it writes), and the anchors found afterwards come from adjusted bars."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.analysis import anchors, fetch
from tests.data.split_world import AS_OF, FORWARD, PLAIN, REVERSE, SPLITS, split_world
from tests.support.fake_alphavantage import FakeAlphaVantage
from tradingstation.config import get_settings
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore

pytestmark = pytest.mark.slow

TICKERS = ",".join([FORWARD, PLAIN, REVERSE])


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    with FakeAlphaVantage(api_key="FAKE-KEY", now=lambda: AS_OF) as server:
        monkeypatch.setenv("TS_ALPHAVANTAGE_API_KEY", "FAKE-KEY")
        monkeypatch.setenv("TS_ALPHAVANTAGE_BASE_URL", server.url)
        monkeypatch.setenv("TS_RATE_LIMIT_PER_MINUTE", "6000")
        get_settings.cache_clear()
        yield server


def test_fetch_flow_applies_splits_and_anchors_follow(fake: FakeAlphaVantage) -> None:
    world = split_world()
    world.serve(fake, AS_OF.date())
    store = LocalStore(get_settings().data_dir)
    minutes = fetch(job="intraday_1min", tickers=TICKERS, as_of=AS_OF)["details"]["splits"]
    result = fetch(job="daily", tickers=TICKERS, as_of=AS_OF)
    splits = result["details"]["splits"]
    # FWD's 1-min bars span its split: the 1-min stage applied it; REV's only the daily ones
    assert [a.split()[0] for a in minutes["applied"]] == [FORWARD]
    assert [a.split()[0] for a in splits["applied"]] == [REVERSE]
    assert minutes["calls"] + splits["calls"] == 2 == fake.count(function="SPLITS")
    stored = store.get_frame(keys.bars_key("1min", FORWARD))
    reference = world.intraday[(FORWARD, "1min")]
    reference = reference[reference["timestamp"].isin(pd.to_datetime(stored["timestamp"],
                                                                     utc=True))]
    assert abs(stored["close"].to_numpy() / reference["close"].to_numpy() - 1).max() < 2e-4

    anchors(as_of=AS_OF)
    found = store.get_frame(keys.anchors_key(AS_OF.date()))
    split_days = {day for s in SPLITS.values() for day, _ in s}
    at_splits = found[found["anchor_date"].isin(split_days)]
    assert not set(at_splits["anchor_type"]) & {"gap_up", "gap_down", "volume_spike",
                                                "highest_volume"}


def test_unconfirmed_split_is_reported_by_the_fetch(fake: FakeAlphaVantage) -> None:
    split_world().serve(fake, AS_OF.date(), report_splits=False)
    result = fetch(job="daily", tickers=TICKERS, as_of=AS_OF)
    unresolved = result["details"]["splits"]["unresolved"]
    assert sorted(unresolved) == [FORWARD, REVERSE]
    assert "tradingstation data splits --symbol FWD" in unresolved[FORWARD]


def test_verify_names_the_repair_and_the_repair_command_runs(fake: FakeAlphaVantage,
                                                              invoke) -> None:
    world = split_world()
    world.serve(fake, AS_OF.date(), report_splits=False)
    fetch(job="daily", tickers=TICKERS, as_of=AS_OF)
    day = SPLITS[FORWARD][0][0].isoformat()
    code, out, _ = invoke("data", "verify", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 1
    repair = f"tradingstation data splits --symbol {FORWARD} --date {day} --factor 4"
    assert repair in out
    code, _, err = invoke("data", "splits", "--symbol", FORWARD, "--factor", "4")
    assert code == 2 and "error:" in err and "--date" in err
    code, out, _ = invoke("data", "splits", "--symbol", FORWARD, "--date", day, "--factor", "4",
                          "--as-of", AS_OF.isoformat())
    assert code == 0, out
    store = LocalStore(get_settings().data_dir)
    stored = store.get_frame(keys.bars_key("daily", FORWARD))
    reference = world.daily[FORWARD]
    reference = reference[reference["timestamp"].isin(pd.to_datetime(stored["timestamp"],
                                                                     utc=True))]
    assert abs(stored["close"].to_numpy() / reference["close"].to_numpy() - 1).max() < 2e-4
