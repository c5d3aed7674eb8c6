"""The watcher over a planted session tape: every alert once, none other, across restarts."""

from __future__ import annotations

import pytest

from tests.live.watch_support import Outbox, make_watcher, run
from tests.support import tape
from tradingstation.calendar import ny_time
from tradingstation.live.alerts import AlertPolicy
from tradingstation.live.journal import CAPPED, QUIET, SENT, load_journal
from tradingstation.live.watcher import load_watch


def test_every_planted_fate_alerts_once_and_nothing_else(store) -> None:
    provider, outbox = tape.TapeProvider(tape.tapes(), ny_time(tape.SESSION, 9, 30)), Outbox()
    # polls every 3 minutes: the one-minute SPIKE falls between two of them
    run(make_watcher(store, provider, outbox), provider, (9, 31), (12, 0), every=3)
    assert sorted(outbox.fates()) == sorted(tape.EXPECTED_ALERTS)
    journal = load_journal(store, tape.SESSION)
    assert {(e["symbol"], e["state"]) for e in journal.events.values()} == tape.EXPECTED_EVENTS
    state = load_watch(store, tape.SESSION).set_index("symbol")["state"]
    assert state["NEVER"] == "watch" and state["LATE"] == "expired"


def test_an_alert_names_what_a_trader_needs(store) -> None:
    provider, outbox = tape.TapeProvider(tape.tapes(), ny_time(tape.SESSION, 9, 30)), Outbox()
    run(make_watcher(store, provider, outbox), provider, (9, 49), (9, 52))
    (subject, body), = [(s, b) for s, b in outbox.sent if b.startswith("HOLD")]
    assert subject.startswith("TradingStation: HOLD long TRIGGERED at 10.20")
    for fragment in ("screeners: breakout", "entry 10.00", "stop 9.00",
                     "targets 11.00, 12.00, 13.00", "shares (plan): 1000", "09:50:00 New York",
                     "dashboard: https://dash.example/index.html"):
        assert fragment in body


def test_a_restarted_watcher_neither_repeats_nor_loses_an_alert(store) -> None:
    provider, outbox = tape.TapeProvider(tape.tapes(), ny_time(tape.SESSION, 9, 30)), Outbox()
    run(make_watcher(store, provider, outbox), provider, (9, 31), (9, 55))
    assert sorted(outbox.fates()) == [("HOLD", "triggered"), ("STOPX", "invalidated")]
    # a new process: nothing in memory, everything from the store
    restarted = make_watcher(store, provider, outbox)
    run(restarted, provider, (9, 55), (12, 0), every=2)
    assert sorted(outbox.fates()) == sorted(tape.EXPECTED_ALERTS)


def test_a_failed_delivery_is_retried_at_the_next_poll_and_sent_once(store) -> None:
    provider, outbox = tape.TapeProvider(tape.tapes(), ny_time(tape.SESSION, 9, 30)), Outbox()
    watcher = make_watcher(store, provider, outbox)
    outbox.fail_next = 1
    provider.now = ny_time(tape.SESSION, 9, 51)
    with pytest.raises(ConnectionError):
        watcher.poll(provider.now)
    assert outbox.sent == []
    run(watcher, provider, (9, 52), (9, 54))
    assert sorted(outbox.fates()) == [("HOLD", "triggered"), ("STOPX", "invalidated")]


def test_quiet_hours_and_the_cap_journal_instead_of_sending(store) -> None:
    provider, outbox = tape.TapeProvider(tape.tapes(), ny_time(tape.SESSION, 9, 30)), Outbox()
    policy = AlertPolicy.parse("09:30-09:45", session_cap=2)
    run(make_watcher(store, provider, outbox, policy), provider, (9, 31), (12, 0))
    outcomes = {(d["idea_id"], d["state"]): d["outcome"]
                for d in load_journal(store, tape.SESSION).deliveries.values()}
    assert sorted(outcomes.values()).count(SENT) == 2 and len(outbox.sent) == 2
    assert QUIET in outcomes.values()  # STOPX at 09:40
    assert CAPPED in outcomes.values()  # the fourth alert


def test_signals_stamped_after_now_are_not_watched_yet(store) -> None:
    provider, outbox = tape.TapeProvider(tape.tapes(), ny_time(tape.SESSION, 8, 0)), Outbox()
    report = make_watcher(store, provider, outbox).poll(ny_time(tape.SESSION, 8, 0))
    assert report.watched == 0 and provider.total_calls == 0


def test_a_poll_quotes_only_the_ideas_still_open(store) -> None:
    provider, outbox = tape.TapeProvider(tape.tapes(), ny_time(tape.SESSION, 9, 30)), Outbox()
    watcher = make_watcher(store, provider, outbox)
    run(watcher, provider, (9, 31), (12, 0), every=5)
    provider.calls.clear()
    provider.now = ny_time(tape.SESSION, 12, 5)
    watcher.poll(provider.now)
    assert list(provider.calls) == [("session_quotes", "NEVER", False)]
