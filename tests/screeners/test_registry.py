"""Registry, runner, parameter validation and the signal store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.screeners.helpers import SESSION, at, screen_input
from tests.screeners.test_breakout import based, breakout_day
from tradingstation.errors import DataError, InputError
from tradingstation.screeners import (
    SCREENERS,
    get_screener,
    run_screeners,
    screener_names,
)
from tradingstation.screeners.base import fmt_mult, fmt_pct, fmt_volume
from tradingstation.screeners.store import (
    load_signals,
    save_signals,
    signals_from_json,
    signals_to_json,
)
from tradingstation.storage.local import LocalStore

NAMES = ["gap_and_go", "orb", "avwap_reclaim", "breakout", "ema_pullback", "exhaustion_reversal"]


def test_all_six_are_registered() -> None:
    assert screener_names() == NAMES
    for name in NAMES:
        screener = get_screener(name)
        assert screener.name == name and isinstance(screener, SCREENERS[name])
        assert screener.__doc__ and "score" in screener.__doc__.lower()


def test_unknown_screener_lists_valid_names() -> None:
    with pytest.raises(InputError) as err:
        get_screener("gapandgo")
    message = str(err.value)
    assert "\n" not in message and all(name in message for name in NAMES)


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("orb", {"or_window": 7}, "or_window"),
        ("orb", {"or_window": 0}, "or_window"),
        ("orb", {"or_window": -15}, "or_window"),
        ("avwap_reclaim", {"min_score": 11}, "min_score"),
        ("avwap_reclaim", {"min_score": -1}, "min_score"),
        ("breakout", {"min_consolidation_days": -5}, "min_consolidation_days"),
        ("ema_pullback", {"ema_period": -21}, "ema_period"),
        ("exhaustion_reversal", {"volume_spike_threshold": 0}, "volume_spike_threshold"),
        ("breakout", {"min_consolidation_days": "five"}, "min_consolidation_days"),
        ("breakout", {"bogus": 1}, "bogus"),
    ],
)
def test_bad_parameters_are_one_line_input_errors(name: str, params: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        get_screener(name).screen(screen_input({}, as_of=at("16:30")), **params)
    message = str(err.value)
    assert field in message and name in message and "\n" not in message


def test_none_means_default() -> None:
    assert get_screener("orb").parse_params(or_window=None).or_window == 15


def test_run_screeners_validates_everything_first() -> None:
    data = screen_input({"BRKO": breakout_day(based(12))}, as_of=at("16:30"))
    with pytest.raises(InputError, match="or_window"):
        run_screeners(data, ["breakout", "orb"], {"orb": {"or_window": 7}})
    with pytest.raises(InputError, match="not run"):
        run_screeners(data, ["breakout"], {"orb": {"or_window": 5}})
    with pytest.raises(InputError, match="unknown screener"):
        run_screeners(data, ["breakout", "nope"], {})
    out = run_screeners(data, ["breakout", "ema_pullback", "exhaustion_reversal"],
                        {"breakout": {"min_consolidation_days": 5}})
    assert list(out) == ["breakout", "ema_pullback", "exhaustion_reversal"]
    assert [s.symbol for s in out["breakout"]] == ["BRKO"]
    assert out["ema_pullback"] == [] and out["exhaustion_reversal"] == []


def test_demo_flag_is_copied_onto_signals() -> None:
    data = screen_input({"BRKO": breakout_day(based(12))}, as_of=at("16:30"), demo=True)
    assert get_screener("breakout").screen(data)[0].demo is True


def test_naive_as_of_is_rejected() -> None:
    with pytest.raises(InputError, match="timezone-aware"):
        screen_input({}, as_of=datetime(2025, 11, 24, 16, 30))


def test_number_formatting() -> None:
    assert (fmt_volume(412_345), fmt_volume(2_300_000), fmt_volume(950)) == ("412k", "2.3M", "950")
    assert (fmt_pct(0.062), fmt_pct(-0.031)) == ("+6.2%", "-3.1%")
    assert fmt_mult(3.42) == "3.4x"


def test_signals_round_trip_through_the_store(tmp_path) -> None:
    store = LocalStore(tmp_path)
    data = screen_input({"BRKO": breakout_day(based(12))}, as_of=at("16:30"))
    signals = get_screener("breakout").screen(data)
    key = save_signals(store, SESSION, "breakout", signals)
    assert key == "signals/2025-11-24/breakout.json"
    doc = store.get_json(key)
    assert doc["schema"] == 1 and doc["screener"] == "breakout" and doc["session"] == "2025-11-24"
    assert signals_from_json(doc) == signals
    assert load_signals(store, since=at("16:00")) == signals
    assert load_signals(store, since=at("16:31")) == []
    assert load_signals(store, since=at("16:00") + timedelta(days=3)) == []
    assert load_signals(store, since=at("16:00"), screeners=["orb"]) == []
    # Rerunning the same session replaces the document (idempotent).
    save_signals(store, SESSION, "breakout", signals)
    assert load_signals(store, since=at("16:00")) == signals


def test_document_checks() -> None:
    data = screen_input({"BRKO": breakout_day(based(12))}, as_of=at("16:30"))
    signals = get_screener("breakout").screen(data)
    with pytest.raises(InputError):
        signals_to_json(signals, "orb", SESSION)
    with pytest.raises(InputError):
        signals_to_json(signals, "breakout", date(2025, 11, 25))
    stamp = datetime(2025, 1, 1, tzinfo=UTC)
    doc = signals_to_json(signals, "breakout", SESSION, generated_at=stamp)
    assert doc["generated_at"] == "2025-01-01T00:00:00+00:00" and doc["count"] == 1
    with pytest.raises(DataError, match="schema"):
        signals_from_json({**doc, "schema": 2})
    with pytest.raises(DataError):
        signals_from_json({"signals": "nope"})
    broken = {**doc, "signals": [{**doc["signals"][0], "score": 42}]}
    with pytest.raises(DataError, match="score"):
        signals_from_json(broken)


def test_corrupt_stored_document_names_its_key(tmp_path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("signals/2025-11-24/orb.json", b"{not json")
    with pytest.raises(DataError, match=r"orb\.json"):
        load_signals(store, since=at("08:00"))


def test_a_replay_of_an_earlier_instant_never_replaces_a_later_runs_signals(tmp_path) -> None:
    store = LocalStore(tmp_path)
    late = get_screener("breakout").screen(
        screen_input({"BRKO": breakout_day(based(12))}, as_of=at("16:30")))
    save_signals(store, SESSION, "breakout", late, as_of=at("16:30"))
    key = save_signals(store, SESSION, "breakout", [], as_of=at("10:30"))  # a replay
    assert signals_from_json(store.get_json(key)) == late
    assert store.get_json(key)["as_of"] == at("16:30").isoformat()
    save_signals(store, SESSION, "breakout", [], as_of=at("16:30"))  # a rerun: replaces
    assert signals_from_json(store.get_json(key)) == []
