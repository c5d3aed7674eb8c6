"""Storage chaos: store operations and fetch jobs through a fault-injecting proxy in front of
moto's S3 server (drops, delays, 500/503, uploads cut mid-way). The fetch jobs run as the flows
run them, their tasks retried by Prefect (a larger budget than configured: 1 request in 5 fails);
the store operations are retried by the test, as a task would.

Afterwards the bucket is read directly from moto, not through the proxy: every object is
readable, matches the sha256 recorded at write time, and equals what a fault-free run stored.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest

import tasks.data as data_tasks
from tests.reliability.retrying import RETRIES, Attempts, retry
from tests.support.chaos_proxy import CHAOS_KINDS, ChaosProxy
from tests.support.fetching import fetch_job
from tests.support.moto_server import (
    create_bucket,
    moto_client,
    moto_s3_config,
    running_moto_server,
)
from tradingstation.calendar import NY
from tradingstation.config import Settings
from tradingstation.errors import StorageError
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.storage import keys
from tradingstation.storage.base import sha256_hex
from tradingstation.storage.s3 import S3Store
from tradingstation.upkeep.verify import verify_store

NOW = datetime(2025, 11, 24, 20, 30, tzinfo=NY)
P = 0.2


@pytest.fixture(scope="module")
def endpoint() -> str:
    with running_moto_server() as url:
        yield url


@pytest.fixture
def patient_fetch_tasks(flow_runs: str) -> Iterator[None]:
    """The fetch stage's tasks keep their retry policy with a budget of ``RETRIES`` attempts."""
    fetch_tasks = (data_tasks.refresh_universe, data_tasks.plan_job, data_tasks.fetch_bars_batch,
                   data_tasks.summarize, data_tasks.reconcile_splits)
    with pytest.MonkeyPatch.context() as patch:
        for task in fetch_tasks:
            patch.setattr(task, "retries", RETRIES)
            patch.setattr(task, "retry_delay_seconds", [0.0] * RETRIES)
        yield


def _task_retries(since: datetime) -> int:
    """Retries of the task runs started since ``since`` on this session's Prefect server."""
    from prefect import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterStartTime

    runs_since = TaskRunFilter(start_time=TaskRunFilterStartTime(after_=since))
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(task_run_filter=runs_since, limit=200)
    return sum(max(0, run.run_count - 1) for run in runs)


def _settings() -> Settings:
    return Settings(batch_size=15, http_concurrency=4, demo_symbols=45)


def _session_jobs(store: S3Store, settings: Settings, attempts: Attempts | None = None) -> None:
    provider = DemoMarket(seed=settings.demo_seed, n_symbols=settings.demo_symbols, now=NOW)
    for job, force in (("universe", False), ("daily", False), ("intraday_30min", False),
                       ("daily", True)):  # the forced rerun rewrites nothing
        tickers = None
        if job == "intraday_30min":
            tickers = retry(lambda: store.get_frame(keys.universe_key()), attempts=attempts
                            )["symbol"].tolist()[:12]
        report = fetch_job(job, store, provider, NOW, settings, tickers, refetch=force)
        assert not report.failed, report.summary()


def _documents(store: S3Store, attempts: Attempts | None = None) -> dict[str, object]:
    """Store operations beyond the fetch jobs: JSON documents, frames, a copy, a delete."""
    written: dict[str, object] = {}
    for i in range(12):
        session = datetime(2025, 11, 3 + i).date()
        key = keys.signals_key(session, "breakout")
        document = {"signals": [{"symbol": "AAA", "score": i}], "n": i}
        retry(lambda k=key, d=document: store.put_json(k, d), attempts=attempts)
        written[key] = document
    frame = pd.DataFrame({"symbol": ["AAA", "BBB"], "price": [1.5, 2.5]})
    key = keys.anchors_key(NOW.date())
    retry(lambda: store.put_frame(key, frame), attempts=attempts)
    written[key] = frame
    copy = keys.signals_key(datetime(2025, 12, 1).date(), "breakout")
    retry(lambda: store.copy(keys.signals_key(datetime(2025, 11, 3).date(), "breakout"), copy),
          attempts=attempts)
    written[copy] = written[keys.signals_key(datetime(2025, 11, 3).date(), "breakout")]
    gone = keys.signals_key(datetime(2025, 11, 14).date(), "breakout")
    retry(lambda: store.delete(gone), attempts=attempts)
    written.pop(gone)
    for key, expected in written.items():  # read back through the chaos as well
        if isinstance(expected, pd.DataFrame):
            got = retry(lambda k=key: store.get_frame(k), attempts=attempts)
            pd.testing.assert_frame_equal(got, expected)
        else:
            assert retry(lambda k=key: store.get_json(k), attempts=attempts) == expected
    return written


def _direct_contents(endpoint: str, bucket: str) -> dict[str, bytes]:
    """Every object of the bucket read straight from moto, each checked against its hash."""
    client = moto_client(endpoint)
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            response = client.get_object(Bucket=bucket, Key=item["Key"])
            body = response["Body"].read()
            assert response["Metadata"].get("sha256") == sha256_hex(body), item["Key"]
            out[item["Key"]] = body
    return out


def _parse(key: str, body: bytes) -> object:
    if key.endswith(".json"):
        return json.loads(body)
    return pd.read_parquet(io.BytesIO(body))


@pytest.mark.usefixtures("patient_fetch_tasks")
def test_nothing_is_lost_or_duplicated_through_a_faulty_network(
    endpoint: str, record_figures
) -> None:
    settings = _settings()
    clean_bucket = create_bucket(endpoint)
    clean = S3Store(moto_s3_config(endpoint, clean_bucket))
    _session_jobs(clean, settings)
    _documents(clean)
    reference = _direct_contents(endpoint, clean_bucket)

    chaos_bucket = create_bucket(endpoint)
    attempts = Attempts()
    chaos_started = datetime.now(UTC)
    with ChaosProxy(endpoint, p=P, seed=5, delay=0.02) as proxy:
        store = S3Store(moto_s3_config(proxy.url, chaos_bucket))
        _session_jobs(store, settings, attempts)
        task_retries = _task_retries(chaos_started)
        _documents(store, attempts)
        faults = proxy.faults()
        requests = proxy.count()
    stored = _direct_contents(endpoint, chaos_bucket)

    assert set(faults) == set(CHAOS_KINDS)
    assert task_retries > 0  # faults reached the fetch tasks, and their retries got past them
    # Deterministic keys: a retried write lands on the same key, nothing extra appears.
    assert sorted(stored) == sorted(reference)
    for key, body in stored.items():
        got, want = _parse(key, body), _parse(key, reference[key])
        if isinstance(want, pd.DataFrame):
            if key.startswith("bars/"):
                assert got["timestamp"].is_unique and got["timestamp"].is_monotonic_increasing
            if key.startswith("ledger/"):  # when a fetch ran is not content
                when = ["last_fetch", "fetched_at"]
                got, want = got.drop(columns=when), want.drop(columns=when)
            pd.testing.assert_frame_equal(got, want, obj=key)
        else:
            assert got == want, key
    direct = S3Store(moto_s3_config(endpoint, chaos_bucket))
    report = verify_store(direct, NOW, settings)
    assert report.ok, report.problems[:3]
    bars = sum(len(_parse(k, b)) for k, b in stored.items() if k.startswith("bars/"))
    record_figures("storage_chaos", {
        "requests": requests, "faults_injected": sum(faults.values()), "fault_kinds": faults,
        "task_retries": task_retries, "store_calls_retried": attempts.transient,
        "objects": len(stored),
        "bars_checked": bars, "objects_lost_or_unreadable": 0, "duplicates": 0,
    })


def test_an_upload_cut_midway_never_leaves_a_partial_object(endpoint: str) -> None:
    bucket = create_bucket(endpoint)
    with ChaosProxy(endpoint, p=1.0, kinds=("cut_upload",), methods=("PUT",)) as proxy:
        store = S3Store(moto_s3_config(proxy.url, bucket))
        key = keys.anchors_key(NOW.date())
        frame = pd.DataFrame({"symbol": ["AAA"] * 5000, "price": range(5000)})
        with pytest.raises(StorageError):
            store.put_frame(key, frame)
        assert proxy.count("cut_upload") >= 1  # botocore may try once more itself
    assert moto_client(endpoint).list_objects_v2(Bucket=bucket).get("KeyCount") == 0
