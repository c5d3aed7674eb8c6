"""A retried fetch batch re-plans from the coverage ledger, not from state kept in the process.

Prefect may run a task's retry in another worker process, and a run cancelled between two
attempts never comes back for what it left: the ledger (what this run's earlier attempts
fetched, at this run's instant) is the only memory a retry may rely on.
"""

from __future__ import annotations

from prefect import flow

import tasks.data as data_tasks
from tasks.policy import retry_transient
from tests.data.split_world import AS_OF, FORWARD, PLAIN, REVERSE, split_world
from tests.support.fake_alphavantage import FakeAlphaVantage
from tradingstation.config import Settings
from tradingstation.data.fetch import prepare_job, split_batches
from tradingstation.errors import StorageError
from tradingstation.providers.alphavantage import AlphaVantageProvider
from tradingstation.providers.ratelimit import RateLimiter
from tradingstation.storage.local import LocalStore

SYMBOLS = [FORWARD, PLAIN, REVERSE]
DAILY = "TIME_SERIES_DAILY"


def process_state() -> dict[str, object]:
    """What ``tasks.data`` keeps in module-level containers (a new process starts without)."""
    return {name: value for name, value in vars(data_tasks).items()
            if not name.startswith("__") and isinstance(value, dict | list | set) and value}


def run_batch(fake: FakeAlphaVantage, store: LocalStore, between_attempts,
              refetch: bool = False) -> object:
    """The daily batch of SYMBOLS as the session flow submits it, with one retry allowed;
    ``between_attempts(...)`` decides whether the retry happens (Prefect's retry condition)."""
    provider = AlphaVantageProvider("K", fake.url, RateLimiter(6000))
    settings = Settings()
    plan = prepare_job("daily", store, provider, AS_OF, settings, tickers=SYMBOLS,
                       force=refetch)
    [batch] = split_batches(plan.requests, 10)
    task = data_tasks.fetch_bars_batch.with_options(
        retries=1, retry_delay_seconds=0, retry_condition_fn=between_attempts)

    @flow
    def one_batch():
        return task(store, provider, "daily", batch, AS_OF, settings)

    return one_batch(return_state=True)


def test_a_retry_in_a_new_process_fetches_only_what_is_still_missing(tmp_path) -> None:
    world = split_world()
    with FakeAlphaVantage(api_key="K", now=lambda: AS_OF) as fake:
        world.serve(fake, AS_OF.date())
        fake.fail_symbol(PLAIN, "http_503")  # transient: the retry fetches it
        fake.fail_symbol(REVERSE, "error_message")  # permanent: reported, never retried

        def in_a_new_process(task, task_run, state) -> bool:
            for value in process_state().values():
                value.clear()  # a new worker process has none of it
            fake.clear_faults()
            return retry_transient(task, task_run, state)

        state = run_batch(fake, LocalStore(tmp_path), in_a_new_process)
        result = state.result()
        assert [fake.count(function=DAILY, symbol=s) for s in SYMBOLS] == [1, 2, 1]
    outcomes = {o.symbol: o.outcome for o in result.outcomes}
    assert outcomes == {FORWARD: "ok", PLAIN: "ok", REVERSE: "failed"}
    # the split-like move in the bars the first attempt fetched is still reported
    assert FORWARD in {c.symbol for o in result.outcomes for c in o.split_candidates}
    assert process_state() == {}


def test_a_run_that_ends_between_attempts_leaves_nothing_in_the_process(tmp_path) -> None:
    world = split_world()
    with FakeAlphaVantage(api_key="K", now=lambda: AS_OF) as fake:
        world.serve(fake, AS_OF.date())
        fake.fail_symbol(PLAIN, "http_503")
        state = run_batch(fake, LocalStore(tmp_path), lambda *_: False)  # cancelled
    assert state.is_failed()
    assert process_state() == {}


class LedgerWriteFailsOnce(LocalStore):
    """A store whose next ledger write fails transiently (as on a faulty network), once armed."""

    armed = False

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        if self.armed and key.startswith("ledger/"):
            self.armed = False
            raise StorageError(f"injected: write {key} failed")
        super().put_bytes(key, data, content_type)


def test_a_retry_does_not_take_an_earlier_run_at_the_same_instant_for_its_own(tmp_path) -> None:
    """A refetch at the same as-of whose first attempt wrote no ledger row: the retry must
    fetch every symbol again, not see the earlier run's rows (same ``last_fetch``) as settled."""
    world = split_world()
    store = LedgerWriteFailsOnce(tmp_path)
    with FakeAlphaVantage(api_key="K", now=lambda: AS_OF) as fake:
        world.serve(fake, AS_OF.date())
        assert run_batch(fake, store, lambda *_: False).is_completed()
        store.armed = True
        state = run_batch(fake, store, retry_transient, refetch=True)
        assert state.is_completed()
        # the earlier run 1 + the refetch's failed attempt 1 + its retry
        assert [fake.count(function=DAILY, symbol=s) for s in SYMBOLS] == [3, 3, 3]
