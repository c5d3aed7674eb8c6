"""``tradingstation verify-deployment``.

Settings, Prefect API, blocks, bucket, API key, deployments with their schedules, work pool. Each
check is a :class:`Finding` with its fix.

Without a Prefect API (``PREFECT_API_URL`` unset: local, ephemeral mode) the block,
deployment and work-pool checks are reported as ``skip``, not failures: there is nothing
deployed to check, and local runs work without them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from blocks.register import NOTIFICATION_BLOCK, NOTIFICATION_TYPES
from blocks.resolve import api_configured, missing_operator_store, resolve_provider, resolve_store
from deploy.alerts import FAILED_AUTOMATION, OVERDUE_AUTOMATION
from deploy.deployments import (
    Finding,
    _client,
    check_deployments,
    check_work_pool,
    expected_deployments,
)
from tradingstation.config import Settings
from tradingstation.errors import ConfigError, TradingStationError

NO_API = "no Prefect API configured (PREFECT_API_URL unset)"
SET_API = "export PREFECT_API_URL=http://<server>:4200/api, then rerun"
# A worker heartbeats every 30 s (PREFECT_WORKER_HEARTBEAT_SECONDS): silent for longer than a
# few beats means nothing would pick up a scheduled run.
WORKER_SILENCE = timedelta(minutes=2)
START_WORKER = ("on the worker host: TS_APP_DIR=$PWD prefect worker start --pool {pool} "
                "(or the Docker image)")


def _block_exists(block_cls, name: str) -> tuple[bool, str]:
    try:
        block_cls.load(name)
    except ValueError:
        return False, "missing"
    except Exception as exc:  # a block that exists but cannot be loaded is a finding too
        return False, f"cannot be loaded: {type(exc).__name__}: {exc}"
    return True, "loadable"


def check_prefect_api() -> Finding:
    """The configured Prefect API answers its health check."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    if not api_configured():
        return Finding("prefect api", "skip", NO_API + ": blocks, deployments and work pool "
                       "are not checked", SET_API)
    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    if error is not None:
        return Finding("prefect api", "fail", f"{PREFECT_API_URL.value()} does not answer: "
                       f"{type(error).__name__}", "start the server or fix PREFECT_API_URL")
    return Finding("prefect api", "pass", f"{PREFECT_API_URL.value()} answers")


def check_storage_block(settings: Settings) -> Finding:
    """The S3Bucket block (with its AwsCredentials) exists and loads, for the s3 backend."""
    if settings.storage_backend != "s3" and "storage_backend" in settings.model_fields_set:
        return Finding("block S3Bucket", "skip", "TS_STORAGE_BACKEND=local: no bucket block used")
    from prefect_aws import S3Bucket

    ok, detail = _block_exists(S3Bucket, settings.s3_block)
    if ok:
        return Finding(f"block S3Bucket {settings.s3_block}", "pass", detail)
    if settings.storage_backend != "s3" and detail == "missing":
        return Finding(f"block S3Bucket {settings.s3_block}", "warn",
                       f"missing: storage is the local directory {settings.data_dir}",
                       "set TS_S3_* and run `tradingstation blocks register` (or "
                       "TS_STORAGE_BACKEND=local to keep a local store on purpose)")
    fix = "set TS_S3_* and run `tradingstation blocks register`"
    if settings.s3_bucket and detail == "missing":
        return Finding(f"block S3Bucket {settings.s3_block}", "warn",
                       "missing: flows use TS_S3_* settings, which the worker must also have", fix)
    return Finding(f"block S3Bucket {settings.s3_block}", "fail", detail, fix)


def check_secret_block(settings: Settings) -> Finding:
    """The Alpha Vantage key's Secret block exists and loads (unless the demo market is used)."""
    name = f"block Secret {settings.alphavantage_secret_block}"
    if settings.provider == "demo":
        return Finding(name, "skip", "TS_PROVIDER=demo: no API key used")
    from prefect.blocks.system import Secret

    ok, detail = _block_exists(Secret, settings.alphavantage_secret_block)
    if ok:
        return Finding(name, "pass", detail)
    fix = "TS_ALPHAVANTAGE_API_KEY=... tradingstation blocks register"
    if detail != "missing":
        return Finding(name, "fail", detail, fix)
    if settings.alphavantage_api_key:
        return Finding(name, "warn", "missing: the key comes from TS_ALPHAVANTAGE_API_KEY, "
                       "which the worker must also have", fix)
    if settings.provider == "alphavantage":
        return Finding(name, "fail", "missing and no TS_ALPHAVANTAGE_API_KEY", fix)
    return Finding(name, "warn", "missing: flows will use the demo market", fix)


def check_notification_block() -> Finding:
    """The alert notification block exists and loads."""
    from prefect.blocks.core import Block

    name = f"block {NOTIFICATION_BLOCK}"
    details = []
    for slug in NOTIFICATION_TYPES:
        ok, detail = _block_exists(Block, f"{slug}/{NOTIFICATION_BLOCK}")
        if ok:
            return Finding(name, "pass", f"{slug} {detail}")
        details.append(detail)
    broken = [d for d in details if d != "missing"]
    return Finding(name, "fail" if broken else "warn",
                   broken[0] if broken else "missing: failed runs will not alert anyone",
                   "TS_WEBHOOK_URL=... tradingstation blocks register && "
                   "tradingstation alerts create")


def check_bucket(settings: Settings) -> Finding:
    """The store the flows use is reachable and writable (write/read/delete probe)."""
    from tradingstation.upkeep.health import check_storage

    store = resolve_store(settings)
    missing = missing_operator_store(settings, store)
    if missing is not None:  # probing would create an empty store here and report on it
        detail, fix = missing.split("; ", 1)
        return Finding("storage", "fail", detail, fix)
    result = check_storage(store)
    if result.level == "ok":
        return Finding("storage", "pass", result.detail)
    fix = ("check the bucket, endpoint and credentials (tradingstation storage check)"
           if settings.storage_backend == "s3" else "make TS_DATA_DIR writable")
    return Finding("storage", "fail", result.detail, fix)


def check_api_key(settings: Settings) -> Finding:
    """The market-data API accepts the configured key (one cheap call)."""
    from datetime import UTC, datetime

    from tradingstation.upkeep.health import check_api, demo_reason

    demo_fix = "set TS_ALPHAVANTAGE_API_KEY (or the Secret block) for real data"
    if settings.provider != "demo" and not settings.alphavantage_api_key and not api_configured():
        # No server can hold a Secret block; asking would start an ephemeral one for nothing.
        if settings.provider == "alphavantage":
            return Finding("api key", "fail", "TS_PROVIDER=alphavantage but no API key", demo_fix)
        return Finding("api key", "warn", "no API key configured: the demo market is used",
                       demo_fix)
    try:
        provider = resolve_provider(settings, datetime.now(UTC))
    except ConfigError as exc:
        return Finding("api key", "fail", str(exc), demo_fix)
    if provider.is_demo:
        level = "pass" if settings.provider == "demo" else "warn"
        return Finding("api key", level, f"the demo market is used ({demo_reason(settings)})",
                       "" if level == "pass" else demo_fix)
    result = check_api(provider)
    status = {"ok": "pass", "warn": "warn", "fail": "fail"}[result.level]
    return Finding("api key", status, result.detail,
                   "" if status == "pass" else "check TS_ALPHAVANTAGE_API_KEY / the Secret block")


def check_workers(pool: str, now: datetime | None = None) -> Finding:
    """A worker polled the pool within the last ``WORKER_SILENCE``: scheduled runs get picked up."""
    now = now or datetime.now(UTC)
    name = f"worker {pool}"
    with _client() as client:
        workers = client.read_workers_for_work_pool(pool)
    beats = sorted((w.last_heartbeat_time for w in workers if w.last_heartbeat_time),
                   reverse=True)
    if not beats:
        return Finding(name, "fail", "no worker has ever polled this pool: scheduled runs "
                       "would wait and go Late", START_WORKER.format(pool=pool))
    silent = now - beats[0]
    if silent > WORKER_SILENCE:
        return Finding(name, "fail", f"no worker polled for {int(silent.total_seconds() // 60)} "
                       "min: scheduled runs would wait and go Late",
                       START_WORKER.format(pool=pool))
    recent = sum(now - beat <= WORKER_SILENCE for beat in beats)
    return Finding(name, "pass", f"{recent} worker(s) polling; last poll "
                   f"{int(silent.total_seconds())} s ago")


def check_automations() -> list[Finding]:
    """The alert automations exist and are enabled (else a failed run alerts nobody)."""
    fix = "tradingstation alerts create  (recreates them, enabled)"
    findings = []
    with _client() as client:
        for wanted in (FAILED_AUTOMATION, OVERDUE_AUTOMATION):
            found = client.read_automations_by_name(wanted)
            name = f"automation {wanted}"
            if not found:
                findings.append(Finding(name, "fail", "missing: no alert is sent", fix))
            elif not any(a.enabled for a in found):
                findings.append(Finding(name, "fail", "disabled: no alert is sent", fix))
            else:
                findings.append(Finding(name, "pass", "enabled"))
    return findings


def _guarded(name: str, fn: Callable[[], Finding | list[Finding]]) -> list[Finding]:
    try:
        found = fn()
    except TradingStationError as exc:
        return [Finding(name, "fail", str(exc), "see the message")]
    except Exception as exc:  # any failure of a probe is a finding, never a crash
        return [Finding(name, "fail", f"{type(exc).__name__}: {exc}", "see the message")]
    return found if isinstance(found, list) else [found]


def verify_deployment(settings: Settings) -> list[Finding]:
    """Run every deployment check for ``settings`` (already loaded)."""
    findings = _guarded("storage", lambda: check_bucket(settings))
    findings += _guarded("api key", lambda: check_api_key(settings))
    api = _guarded("prefect api", check_prefect_api)
    findings += api
    if api[0].status != "pass":
        reason = api[0].detail if api[0].status == "fail" else NO_API
        for name in ("blocks", "deployments", "work pool", "worker", "automations"):
            findings.append(Finding(name, "skip", reason,
                                    SET_API if api[0].status == "skip" else api[0].fix))
        return findings
    findings += _guarded("block S3Bucket", lambda: check_storage_block(settings))
    findings += _guarded("block Secret", lambda: check_secret_block(settings))
    findings += _guarded("block notification", check_notification_block)
    expected = _guarded("prefect.yaml", lambda: [Finding(
        "prefect.yaml", "pass", f"{len(expected_deployments())} deployments declared")])
    findings += expected
    if expected[0].status == "pass":
        wanted = expected_deployments()
        findings += _guarded("deployments", lambda: check_deployments(wanted))
        for pool in sorted({d.work_pool for d in wanted if d.work_pool}):
            pool_check = _guarded(f"work pool {pool}", lambda pool=pool: check_work_pool(pool))
            findings += pool_check
            if pool_check[0].status != "fail":
                findings += _guarded(f"worker {pool}", lambda pool=pool: check_workers(pool))
    findings += _guarded("automations", check_automations)
    return findings
