"""Splits through the fake Alpha Vantage server: a 4:1 forward and a 1:10 reverse split inside
the anchor lookback, served as-traded. After the fetch the stored history is the adjusted one:
continuous, with the indicators, anchors and signals of the adjusted series, and the splits are
confirmed with one SPLITS call per symbol that shows one (none on a day without candidates)."""

from __future__ import annotations

from datetime import datetime, time

import numpy as np
import pandas as pd
import pytest

from tests.data.split_world import (
    AS_OF,
    CAL,
    FORWARD,
    NEXT_AS_OF,
    PLAIN,
    REVERSE,
    SESSIONS,
    SPLITS,
    split_world,
)
from tests.support.fake_alphavantage import FakeAlphaVantage
from tests.support.fake_av_data import as_traded
from tests.support.fetching import fetch_job
from tests.support.frame_provider import FrameProvider
from tradingstation import indicators as ind
from tradingstation.anchors import find_anchors
from tradingstation.calendar import NY
from tradingstation.config import Settings
from tradingstation.data.corporate_actions import reconcile_splits, resolve_split
from tradingstation.data.panel import Panel
from tradingstation.data.panel_store import load_panel
from tradingstation.data.provenance import frame_source, with_source
from tradingstation.data.split_ledger import drop_unresolved, load_split_ledger
from tradingstation.errors import InputError, StorageError
from tradingstation.providers.alphavantage import AlphaVantageProvider
from tradingstation.providers.ratelimit import RateLimiter
from tradingstation.screeners import ScreenInput, run_screeners
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore
from tradingstation.upkeep.health import check_data
from tradingstation.upkeep.rebuild import rebuild_symbols
from tradingstation.upkeep.verify import verify_store

pytestmark = pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition

SYMBOLS = [FORWARD, PLAIN, REVERSE]
DAILY_SCREENERS = ("avwap_reclaim", "breakout", "ema_pullback", "exhaustion_reversal")


@pytest.fixture
def world():
    return split_world()


@pytest.fixture
def fake(world):
    with FakeAlphaVantage(api_key="K", now=lambda: AS_OF) as server:
        world.serve(server, AS_OF.date())
        yield server


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


def _provider(fake: FakeAlphaVantage) -> AlphaVantageProvider:
    return AlphaVantageProvider("K", fake.url, RateLimiter(6000))


def _fetch_all(store, fake, now=AS_OF, jobs=("intraday_1min", "intraday_30min", "daily")):
    settings = Settings()
    reports = {}
    for job in jobs:
        reports[job] = fetch_job(job, store, _provider(fake), now, settings, tickers=SYMBOLS)
    return reports


def _stored(store, dataset: str, symbol: str) -> pd.DataFrame:
    frame = store.get_frame(keys.bars_key(dataset, symbol))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def _panel(frames: dict[str, pd.DataFrame]) -> Panel:
    return Panel.from_bars(frames)


def _assert_same_bars(stored: pd.DataFrame, reference: pd.DataFrame) -> None:
    ref = reference[reference["timestamp"].isin(stored["timestamp"])].reset_index(drop=True)
    assert len(ref) == len(stored) > 0
    for column in ("open", "high", "low", "close"):
        np.testing.assert_allclose(stored[column], ref[column], rtol=2e-4)
    np.testing.assert_allclose(stored["volume"], ref["volume"], rtol=1e-3, atol=10)


def test_unadjusted_history_shows_the_measured_defects(world) -> None:
    """The defects the issue measured, on the as-traded series (what was stored before)."""
    daily = {s: world.upto(world.daily[s], AS_OF.date()).tail(200) for s in SYMBOLS}
    raw = {s: as_traded(daily[s], SPLITS[s]) for s in SYMBOLS}
    anchors = find_anchors(_panel(raw))
    split_day = SPLITS[FORWARD][0][0]
    at_split = anchors[(anchors["symbol"] == FORWARD) & (anchors["anchor_date"] == split_day)]
    assert "gap_down" in set(at_split["anchor_type"])
    assert at_split[at_split["anchor_type"] == "gap_down"]["strength"].iloc[0] > 0.7
    panel = _panel(raw)
    atr = ind.atr(panel.high, panel.low, panel.close, 14)[FORWARD].iloc[-1]
    ref = _panel(daily)
    true_atr = ind.atr(ref.high, ref.low, ref.close, 14)[FORWARD].iloc[-1]
    assert atr > 5 * true_atr  # the 50.69 vs 2.75 blow-up


def test_fetch_stores_the_adjusted_history_with_one_splits_call_per_split(
    world, fake, store
) -> None:
    reports = _fetch_all(store, fake)
    # The splits were seen in the data and confirmed with one call per symbol showing one:
    # the forward one by the 1-min fetch (its 1-min bars span it), the reverse one by the daily.
    assert fake.count(function="SPLITS") == 2
    assert fake.count(function="SPLITS", symbol=PLAIN) == 0
    assert sum(r.details.get("splits", {}).get("calls", 0) for r in reports.values()) == 2
    ledger = load_split_ledger(store)
    assert {(e["symbol"], e["effective_date"], e["factor"], e["state"])
            for e in ledger.entries.values()} == {
        (FORWARD, SPLITS[FORWARD][0][0].isoformat(), 4.0, "applied"),
        (REVERSE, SPLITS[REVERSE][0][0].isoformat(), 0.1, "applied"),
    }
    for symbol in SYMBOLS:
        _assert_same_bars(_stored(store, "daily", symbol), world.daily[symbol])
        for interval in ("1min", "30min"):
            _assert_same_bars(_stored(store, interval, symbol), world.intraday[(symbol, interval)])
        for dataset in keys.DATASETS:  # adjusting keeps the recorded source
            assert frame_source(store.get_frame(keys.bars_key(dataset, symbol))) == "alphavantage"

    # Everything derived equals what the adjusted series gives: indicators, anchors, signals.
    stored = load_panel(store, "daily")
    reference = _panel({s: world.daily[s][world.daily[s]["timestamp"].isin(stored.index)]
                        for s in SYMBOLS})
    for compute in (lambda p: ind.atr(p.high, p.low, p.close, 14),
                    lambda p: ind.sma(p.close, 50), lambda p: ind.ema(p.close, 21)):
        got, want = compute(stored), compute(reference)
        assert list(got.index) == list(want.index) and list(got.columns) == list(want.columns)
        # atol: the provider quotes 4 decimals, x10 for the pre-split bars of REV
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=2e-4, atol=6e-4)
    found, expected = find_anchors(stored), find_anchors(reference)
    assert list(found["anchor_type"]) == list(expected["anchor_type"])
    assert list(found["anchor_date"]) == list(expected["anchor_date"])
    np.testing.assert_allclose(found["avwap"], expected["avwap"], rtol=2e-4)
    split_days = {day for s in SPLITS.values() for day, _ in s}
    assert not (set(found["anchor_date"]) & split_days) or set(
        found[found["anchor_date"].isin(split_days)]["anchor_type"]) <= {"swing_high", "swing_low"}
    session = SESSIONS[-2]
    screened = {}
    for name, panel in (("stored", stored), ("reference", reference)):
        data = ScreenInput(session=session, as_of=AS_OF, daily=panel, demo=False)
        screened[name] = {k: sorted((s.symbol, s.direction, round(s.entry, 2)) for s in v)
                          for k, v in run_screeners(data, DAILY_SCREENERS).items()}
    assert screened["stored"] == screened["reference"]


def test_a_day_without_candidates_costs_no_splits_call(world, fake, store) -> None:
    _fetch_all(store, fake)
    fake.reset_requests()
    # The next session: one more bar each; the compact refetch overlaps pre-split bars, served
    # as-traded, which the fetch adjusts by the applied splits before merging.
    world.serve(fake, NEXT_AS_OF.date())
    report = fetch_job("daily", store, _provider(fake), NEXT_AS_OF, Settings(),
                           tickers=SYMBOLS)
    assert fake.count(function="TIME_SERIES_DAILY") == 3
    assert fake.count(function="SPLITS") == 0
    assert report.details["splits"]["calls"] == 0
    for symbol in SYMBOLS:
        stored = _stored(store, "daily", symbol)
        assert stored["timestamp"].iloc[-1].date() == NEXT_AS_OF.date()
        _assert_same_bars(stored, world.daily[symbol])


def test_a_split_the_provider_does_not_report_is_caught_by_verify_and_not_screened(
    world, fake, store
) -> None:
    world.serve(fake, AS_OF.date(), report_splits=False)
    reports = _fetch_all(store, fake)
    # FWD: asked by the 1-min scan (no volume evidence: dismissed), asked again once its daily
    # bars showed the move with the volume; REV: asked by the daily scan.
    assert fake.count(function="SPLITS") == 3
    assert sorted(reports["daily"].details["splits"]["unresolved"]) == [FORWARD, REVERSE]
    ledger = load_split_ledger(store)
    assert {e["state"] for e in ledger.entries.values()} == {"unconfirmed"}
    # Nothing was adjusted on the data's word alone.
    raw = as_traded(world.upto(world.daily[FORWARD], AS_OF.date()), SPLITS[FORWARD])
    _assert_same_bars(_stored(store, "daily", FORWARD), raw)

    problems = [p for p in verify_store(store, AS_OF, Settings()).problems if p.kind == "split"]
    assert sorted(p.symbol for p in problems) == [FORWARD, REVERSE]
    forward = next(p for p in problems if p.symbol == FORWARD)
    day = SPLITS[FORWARD][0][0].isoformat()
    assert day in forward.detail and "unconfirmed" in forward.detail
    assert forward.repair.startswith(
        f"tradingstation data splits --symbol {FORWARD} --date {day} --factor 4")
    # Not screened: the panel every session step works on leaves them out; health says so.
    assert drop_unresolved(store, load_panel(store, "daily")).symbols == [PLAIN]
    health = check_data(store, AS_OF, SYMBOLS)
    assert health.level == "warn" and "FWD, REV" in health.detail
    # Asked once: the next day's fetch makes no SPLITS call for them.
    fake.reset_requests()
    world.serve(fake, NEXT_AS_OF.date(), report_splits=False)
    fetch_job("daily", store, _provider(fake), NEXT_AS_OF, Settings(), tickers=SYMBOLS)
    assert fake.count(function="SPLITS") == 0


def test_verify_finds_a_split_in_bars_no_fetch_looked_at(world, store) -> None:
    daily = world.upto(world.daily[FORWARD], AS_OF.date())
    store.put_frame(keys.bars_key("daily", FORWARD), as_traded(daily, SPLITS[FORWARD]))
    store.put_frame(keys.bars_key("daily", PLAIN), world.upto(world.daily[PLAIN], AS_OF.date()))
    problems = [p for p in verify_store(store, AS_OF, Settings()).problems if p.kind == "split"]
    assert [(p.symbol, p.key) for p in problems] == [(FORWARD, keys.bars_key("daily", FORWARD))]
    assert "4-for-1" in problems[0].detail


def test_unconfirmed_moves_are_resolved_by_recheck_operator_or_dismissal(
    world, fake, store
) -> None:
    world.serve(fake, AS_OF.date(), report_splits=False)
    _fetch_all(store, fake, jobs=("daily",))
    provider = _provider(fake)
    forward_day, reverse_day = SPLITS[FORWARD][0][0], SPLITS[REVERSE][0][0]
    # An operator's factor is refused when the stored bars do not show that move.
    with pytest.raises(InputError, match="show no x2 move"):
        resolve_split(store, provider, FORWARD, AS_OF, forward_day, factor=2.0)
    # The provider reports the forward split later: asking again applies it (one call).
    fake.set_splits(FORWARD, SPLITS[FORWARD])
    fake.reset_requests()
    report = resolve_split(store, provider, FORWARD, AS_OF)
    assert fake.count(function="SPLITS") == 1 and report.recomputed == [FORWARD]
    _assert_same_bars(_stored(store, "daily", FORWARD), world.daily[FORWARD])
    # Applied once only: the operator confirming it again is refused, nothing changes.
    with pytest.raises(InputError):
        resolve_split(store, provider, FORWARD, AS_OF, forward_day, factor=4.0)
    # The operator confirms the reverse split the provider never reports.
    report = resolve_split(store, provider, REVERSE, AS_OF, reverse_day, factor=0.1)
    assert report.recomputed == [REVERSE] and report.unresolved == {}
    _assert_same_bars(_stored(store, "daily", REVERSE), world.daily[REVERSE])
    assert not [p for p in verify_store(store, AS_OF, Settings()).problems if p.kind == "split"]
    assert drop_unresolved(store, load_panel(store, "daily")).symbols == SYMBOLS


def test_a_dismissed_move_is_screened_again(world, fake, store) -> None:
    world.serve(fake, AS_OF.date(), report_splits=False)
    _fetch_all(store, fake, jobs=("daily",))
    report = resolve_split(store, _provider(fake), REVERSE, AS_OF, SPLITS[REVERSE][0][0],
                           dismiss=True)
    assert sorted(report.unresolved) == [FORWARD]
    assert drop_unresolved(store, load_panel(store, "daily")).symbols == [PLAIN, REVERSE]
    problems = [p for p in verify_store(store, AS_OF, Settings()).problems if p.kind == "split"]
    assert [p.symbol for p in problems] == [FORWARD]


def test_the_premarket_volume_profile_follows_the_split(world, fake, store) -> None:
    """The profile Gap & Go's relative volume reads is derived from 1-min volumes: the volumes
    of sessions before the split are multiplied by the factor with the bars."""
    split_day = SPLITS[FORWARD][0][0]
    sessions = [SESSIONS[-8].isoformat(), SESSIONS[-7].isoformat(), split_day.isoformat()]
    profile = pd.DataFrame({"session": sessions, "minute": [0, 0, 0],
                            "volume": [1000.0, 2000.0, 4000.0]})
    store.put_frame(keys.volume_profile_key(FORWARD), with_source(profile, "alphavantage"))
    _fetch_all(store, fake)
    adjusted = store.get_frame(keys.volume_profile_key(FORWARD))
    assert adjusted["volume"].tolist() == [4000.0, 8000.0, 4000.0]
    assert frame_source(adjusted) == "alphavantage"
    entry = load_split_ledger(store).get(FORWARD, split_day)
    assert "premarket-volume-profile" in entry["objects"]


def test_a_rebuild_after_a_split_keeps_the_history_adjusted(world, fake, store) -> None:
    _fetch_all(store, fake)
    rebuild_symbols(store, _provider(fake), "daily", [FORWARD, REVERSE], AS_OF, Settings())
    for symbol in (FORWARD, REVERSE):
        _assert_same_bars(_stored(store, "daily", symbol), world.daily[symbol])
    assert not [p for p in verify_store(store, AS_OF, Settings()).problems if p.kind == "split"]


def test_on_the_split_morning_the_premarket_minutes_reveal_it(world, fake, store) -> None:
    """Before the split day's daily bar exists only the 1-min premarket shows the split: the
    1-min fetch confirms it and adjusts the daily history, so no ORB or Gap & Go signal comes
    from a "-75 % vs prior close" that is only the split."""
    split_day = SPLITS[FORWARD][0][0]
    morning = datetime.combine(split_day, time(8, 45), tzinfo=NY)
    symbols = [FORWARD, PLAIN]
    for symbol in symbols:
        before = world.upto(world.daily[symbol], CAL.previous_session(split_day))
        fake.set_daily(symbol, as_traded(before, SPLITS[symbol]))
        minutes = world.upto(world.intraday[(symbol, "1min")], split_day)
        fake.set_intraday(symbol, "1min", as_traded(minutes, SPLITS[symbol]))
    settings = Settings()
    fetch_job("daily", store, _provider(fake), morning, settings, tickers=symbols)
    assert fake.count(function="SPLITS") == 0  # the daily bars do not show it yet
    raw_daily = load_panel(store, "daily")
    report = fetch_job("intraday_1min", store, _provider(fake), morning, settings,
                           tickers=symbols)
    assert fake.count(function="SPLITS") == 1
    assert report.details["splits"]["recomputed"] == [FORWARD]
    daily = load_panel(store, "daily")
    reference = world.upto(world.daily[FORWARD], CAL.previous_session(split_day))
    _assert_same_bars(_stored(store, "daily", FORWARD), reference)

    def signals(panel: Panel) -> dict[str, list[str]]:
        data = ScreenInput(session=split_day, as_of=morning, daily=panel,
                           intraday_1min=load_panel(store, "1min"), demo=False)
        # a small ADV floor: as traded before the split this symbol trades ~0.8 M shares a day
        found = run_screeners(data, ("orb", "gap_and_go"), {"orb": {"min_adv": 100_000}})
        return {k: [s.symbol for s in v] for k, v in found.items()}

    assert FORWARD in signals(raw_daily)["orb"]  # the measured defect, on the unadjusted bars
    assert FORWARD not in {s for v in signals(daily).values() for s in v}


def test_a_run_dying_mid_adjustment_is_finished_once_never_twice(world, fake, store) -> None:
    """The ledger records the intent (each object's hash before and after) before any bars
    object is written; a run dying after the first write leaves an ``applying`` entry that the
    next run finishes without adjusting the written object again."""
    _fetch_all(store, fake, jobs=("intraday_30min",))  # 30-min bars are not scanned
    writes: list[str] = []
    real_put, real_json = store.put_bytes, store.put_json
    armed, dead = [], []  # once dead, nothing more is written (the task's retries included)

    def arm(key, doc):  # the intent is recorded: the adjustment writes come next
        if dead:
            raise StorageError("the process is dead")
        armed.append(any(e["state"] == "applying" for e in doc.get("splits", [])))
        return real_json(key, doc)

    def dying_put(key, data, content_type=None):
        if dead:
            raise StorageError("the process is dead")
        if armed and armed[-1] and key.startswith("bars/"):
            writes.append(key)
            if len(writes) == 2:
                dead.append(key)
                raise StorageError("the process died here")
        return real_put(key, data, content_type)

    store.put_bytes, store.put_json = dying_put, arm
    with pytest.raises(StorageError):
        _fetch_all(store, fake, jobs=("daily",))
    store.put_bytes, store.put_json = real_put, real_json
    pending = [e for e in load_split_ledger(store).entries.values() if e["state"] == "applying"]
    assert pending and len(writes) == 2
    report = reconcile_splits(store, _provider(fake), [], AS_OF)  # the next run
    assert {e["state"] for e in load_split_ledger(store).entries.values()} == {"applied"}
    assert report.applied
    for symbol in SYMBOLS:
        _assert_same_bars(_stored(store, "daily", symbol), world.daily[symbol])
        _assert_same_bars(_stored(store, "30min", symbol), world.intraday[(symbol, "30min")])


def test_a_provider_that_adjusted_its_history_does_not_move_the_split(world, fake, store) -> None:
    """The stored history no longer matches a compact refetch's overlapping bars: the provider
    back-adjusted them for the split. The stored bars win the overlap, so the move stays on the
    split day, the provider confirms that date, and the history ends up adjusted once."""
    split_day = SPLITS[FORWARD][0][0]
    before = CAL.previous_session(split_day)
    fake.set_daily(FORWARD, as_traded(world.upto(world.daily[FORWARD], before), SPLITS[FORWARD]))
    fetch_job("daily", store, _provider(fake), datetime.combine(before, time(21), NY),
                  Settings(), tickers=[FORWARD])
    fake.set_daily(FORWARD, world.upto(world.daily[FORWARD], AS_OF.date()))  # adjusted by AV
    fake.reset_requests()
    report = fetch_job("daily", store, _provider(fake), AS_OF, Settings(), tickers=[FORWARD])
    assert fake.count(function="SPLITS") == 1
    assert report.details["splits"]["applied"] == [
        f"{FORWARD} {split_day.isoformat()} x4 (daily)"]
    _assert_same_bars(_stored(store, "daily", FORWARD), world.daily[FORWARD])


def test_without_corporate_action_data_a_big_move_never_blocks_a_symbol(world, store) -> None:
    """The demo market has no splits, and its planted moves can look like one (a -33 % day on
    heavy volume is a 3-for-2 ratio): with no one to confirm it, a move is recorded as
    dismissed (no call, still screened), and verify ignores demo-sourced bars."""
    daily = world.upto(world.daily[FORWARD], AS_OF.date())
    provider = FrameProvider(daily={FORWARD: as_traded(daily, SPLITS[FORWARD])})
    report = fetch_job("daily", store, provider, AS_OF, Settings(), tickers=[FORWARD])
    assert report.details["splits"]["calls"] == 0 and report.details["splits"]["unresolved"] == {}
    entry = load_split_ledger(store).get(FORWARD, SPLITS[FORWARD][0][0])
    assert entry["state"] == "dismissed" and "no corporate-action data" in entry["reason"]
    assert drop_unresolved(store, load_panel(store, "daily")).symbols == [FORWARD]
    demo = with_source(as_traded(daily, SPLITS[FORWARD]), "demo")
    store.put_frame(keys.bars_key("daily", REVERSE), demo)  # no ledger entry, demo source
    assert not [p for p in verify_store(store, AS_OF, Settings()).problems if p.kind == "split"]
