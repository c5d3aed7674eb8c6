"""End to end on a real Prefect server: blocks, alerts, `prefect deploy --all`, a process worker,
a premarket deployment run into moto S3 (as Spaces) from the fake Alpha Vantage, a failed run
alerting a local webhook, the scheduler's upcoming runs at the right New York times, and the
watcher deployment alerting a planted idea that reached its entry."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.fake_alphavantage import FakeAlphaVantage
from tests.support.moto_server import (
    create_bucket,
    moto_client,
    moto_s3_config,
    running_moto_server,
)
from tests.support.webhook import WebhookReceiver
from tradingstation.calendar import NY
from tradingstation.screeners.store import save_signals
from tradingstation.signals import Signal, make_signal_id
from tradingstation.storage.s3 import S3Store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AS_OF = datetime(2025, 11, 24, 8, 45, tzinfo=NY)
SESSION = "2025-11-24"
API_KEY = "E2E-AV-KEY-81723"
S3_KEY_ID = "E2EACCESSKEYID42"
S3_SECRET = "E2E-s3-secret-value-9911"
HOOK_TOKEN = "hook-token-55122"
SECRETS = (API_KEY, S3_KEY_ID, S3_SECRET, HOOK_TOKEN)


def wait_for(what: str, check: Callable[[], Any], deadline_s: float, every: float = 1.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` at the deadline."""
    end = time.monotonic() + deadline_s
    last_error: Exception | None = None
    while time.monotonic() < end:
        try:
            value = check()
            if value:
                return value
        except (httpx.HTTPError, OSError) as exc:
            last_error = exc
        threading.Event().wait(every)
    pytest.fail(f"timed out after {deadline_s}s waiting for {what} (last error: {last_error})")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session, with its children, by its PID (= group id)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict]:
    """Prefect server + moto S3 + fake Alpha Vantage + webhook receiver, all on 127.0.0.1."""
    procs: list[subprocess.Popen] = []
    hook = WebhookReceiver(f"/hook?token={HOOK_TOKEN}")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("TS_", "PREFECT_"))}
    base_env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_API_URL=api,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="5",
        PREFECT_WORKER_QUERY_SECONDS="2",
        PREFECT_UI_URL=f"http://127.0.0.1:{port}",
        PYTHONUNBUFFERED="1",
    )
    server_log = (tmp_path / "server.log").open("w")
    try:
        with running_moto_server() as endpoint, FakeAlphaVantage(
            api_key=API_KEY, now=lambda: AS_OF, listing_size=12
        ) as fake:
            bucket = create_bucket(endpoint)
            procs.append(subprocess.Popen(
                [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                 "--port", str(port)],
                env=base_env, stdout=server_log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=tmp_path,
            ))
            wait_for("the Prefect API", lambda: httpx.get(f"{api}/health", timeout=5)
                     .status_code == 200, 120)
            # What a worker host has: the Prefect API, the app dir, and non-secret tuning.
            worker_env = dict(base_env, TS_STORAGE_BACKEND="s3", TS_APP_DIR=str(REPO),
                              TS_ALPHAVANTAGE_BASE_URL=fake.url, TS_RATE_LIMIT_PER_MINUTE="6000",
                              TS_DATA_DIR=str(tmp_path / "data"), TS_LOG_FORMAT="json",
                              PREFECT_LOGGING_SETTINGS_PATH=str(REPO / "prefect-logging.yml"))
            # What the operator's shell has when registering blocks (secrets included).
            admin_env = dict(worker_env, TS_S3_BUCKET=bucket, TS_S3_ENDPOINT_URL=endpoint,
                             TS_S3_REGION="us-east-1", TS_S3_ACCESS_KEY_ID=S3_KEY_ID,
                             TS_S3_SECRET_ACCESS_KEY=S3_SECRET, TS_ALPHAVANTAGE_API_KEY=API_KEY,
                             TS_WEBHOOK_URL=hook.url)
            # What the README's operator shell has: the Prefect API only (and the fake's URL).
            operator_env = dict(base_env, TS_DATA_DIR=str(tmp_path / "operator-data"),
                                TS_ALPHAVANTAGE_BASE_URL=fake.url)
            yield {"api": api, "bucket": bucket, "endpoint": endpoint, "fake": fake,
                   "hook": hook, "worker_env": worker_env, "admin_env": admin_env,
                   "operator_env": operator_env, "procs": procs, "tmp": tmp_path}
    finally:
        for proc in reversed(procs):
            _stop(proc)
        server_log.close()
        hook.stop()
        shutil.rmtree(tmp_path / "prefect-home", ignore_errors=True)


def _run(args: list[str], env: dict, timeout: float, code: int) -> subprocess.CompletedProcess:
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == code, (
        f"{' '.join(args[:4])} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def _cli(args: list[str], env: dict, timeout: float = 180, code: int = 0) -> str:
    done = _run(args, env, timeout, code)
    return done.stdout + done.stderr


def _cli_json(args: list[str], env: dict, code: int = 0) -> dict:
    """A command's ``--json`` document (stdout; its logs are on stderr)."""
    return json.loads(_run([*args, "--json"], env, 180, code).stdout)


def _run_deployment(name: str, params: dict, env: dict, *job_variables: str) -> str:
    extra = [arg for jv in job_variables for arg in ("--job-variable", jv)]
    out = _cli([str(BIN / "prefect"), "deployment", "run", name, "--params", json.dumps(params),
                *extra], env)
    match = re.search(r"UUID:\s*([0-9a-f-]{36})", out)
    assert match, out
    return match.group(1)


def _final_state(api: str, run_id: str, deadline_s: float) -> dict:
    def terminal() -> dict | None:
        state = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"]
        final = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
        return state if state["type"] in final else None

    return wait_for(f"flow run {run_id} to finish", terminal, deadline_s, every=2)


def _scheduled_runs(api: str) -> dict[str, list[datetime]]:
    deployments = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    flows = {f["id"]: f["name"] for f in
             httpx.post(f"{api}/flows/filter", json={}, timeout=10).json()}
    out: dict[str, list[datetime]] = {}
    for dep in deployments:
        runs = httpx.post(f"{api}/flow_runs/filter", timeout=10, json={
            "flow_runs": {"deployment_id": {"any_": [dep["id"]]},
                          "state": {"type": {"any_": ["SCHEDULED"]}}},
        }).json()
        starts = [datetime.fromisoformat(r["expected_start_time"]) for r in runs
                  if r.get("auto_scheduled")]
        out[flows[dep["flow_id"]]] = starts
    return out


def _on_schedule(mode: str, instant: datetime) -> bool:
    ny = instant.astimezone(NY)
    if ny.weekday() >= 5:
        return False
    hm = (ny.hour, ny.minute)
    return {
        "premarket": hm in {(7, 0), (8, 45)},
        "market": (9, 30) <= hm <= (15, 45) and ny.minute % 15 == 0,
        "postmarket": hm == (16, 30),
        "daily": hm == (21, 0),
        "watch": hm == (9, 30),
    }[mode]


def _verify(env: dict, code: int) -> dict[str, dict]:
    """``tradingstation verify-deployment --json`` findings by check name."""
    document = _cli_json([str(BIN / "tradingstation"), "verify-deployment"], env, code=code)
    return {f["name"]: f for f in document["checks"]}


def _run_logs(api: str, run_id: str) -> list[dict]:
    return httpx.post(f"{api}/logs/filter", timeout=10, json={
        "logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200}).json()


def _our_records(api: str, run_id: str, logger: str) -> list[str]:
    """Messages of ``logger``'s INFO records in the run's logs (what the UI shows); they are
    shipped in batches, the last ones as the run's process exits, after its final state."""

    def shipped() -> list[str]:
        return [r["message"] for r in _run_logs(api, run_id)
                if r["name"] == logger and r["level"] == 20]

    return wait_for(f"{logger} records in the logs of run {run_id}", shipped, 30)


def _run_name(api: str, run_id: str) -> str:
    return httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["name"]


def _readme_logging_commands() -> list[str]:
    """The bash lines of the README's Logging section."""
    section = (REPO / "README.md").read_text().split("### Logging", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


@pytest.mark.timeout(900)  # one server for the whole operator path; ~4 min on an idle CI box
def test_deploy_run_alert_and_schedule(stack: dict) -> None:
    api, admin_env, worker_env = stack["api"], stack["admin_env"], stack["worker_env"]
    operator_env, operator_data = stack["operator_env"], stack["tmp"] / "operator-data"
    ts = str(BIN / "tradingstation")
    # Before any block exists, an operator's health check has no store to look at: one line,
    # exit 2, and no empty local store created to report on.
    refused = _cli([ts, "health", "--check-storage"], operator_env, code=2)
    assert refused.strip().splitlines() == [next(
        line for line in refused.splitlines() if line.startswith("error: no data to check"))]
    assert "blocks register" in refused
    assert not operator_data.exists()
    out = _cli([ts, "blocks", "register"], admin_env)
    _cli([ts, "blocks", "register"], admin_env)  # idempotent: a second run just updates
    assert not any(secret in out for secret in SECRETS)
    prefect = str(BIN / "prefect")
    _cli([prefect, "work-pool", "create", "tradingstation", "--type", "process"], worker_env)
    _cli([prefect, "--no-prompt", "deploy", "--all"], worker_env)

    # No worker yet and no alert automations: verify-deployment fails and says what to do. On
    # the operator's shell (API only) it checks the bucket the flows use, not a local dir.
    found = _verify(operator_env, code=1)
    assert found["worker tradingstation"]["status"] == "fail"
    assert "prefect worker start --pool tradingstation" in found["worker tradingstation"]["fix"]
    for name in ("tradingstation-run-failed", "tradingstation-run-overdue"):
        assert found[f"automation {name}"]["status"] == "fail"
        assert "missing" in found[f"automation {name}"]["detail"]
        assert found[f"automation {name}"]["fix"].startswith("tradingstation alerts create")
    assert found["storage"]["status"] == "pass" and stack["bucket"] in found["storage"]["detail"]
    assert found["block S3Bucket tradingstation-spaces"]["status"] == "pass"
    assert not operator_data.exists()

    _cli([ts, "alerts", "create", "--deadline-minutes", "30"], admin_env)
    automations = httpx.post(f"{api}/automations/filter", json={}, timeout=10).json()
    assert sorted(a["name"] for a in automations) == [
        "tradingstation-run-failed", "tradingstation-run-overdue"]
    failed_rule = next(a for a in automations if a["name"] == "tradingstation-run-failed")
    httpx.patch(f"{api}/automations/{failed_rule['id']}", json={"enabled": False},
                timeout=10).raise_for_status()
    found = _verify(operator_env, code=1)
    assert found["automation tradingstation-run-failed"]["status"] == "fail"
    assert "disabled" in found["automation tradingstation-run-failed"]["detail"]
    assert found["automation tradingstation-run-overdue"]["status"] == "pass"
    _cli([ts, "alerts", "create", "--deadline-minutes", "30"], admin_env)  # re-enables

    # The README's JSON worker: records on stderr, the banner on stdout.
    worker_log = stack["tmp"] / "worker.log"
    with worker_log.open("w") as err, (stack["tmp"] / "worker.out").open("w") as std:
        stack["procs"].append(subprocess.Popen(
            [prefect, "worker", "start", "--pool", "tradingstation", "--type", "process"],
            env=worker_env, cwd=REPO, stdout=std, stderr=err, start_new_session=True,
        ))

    # 1. premarket/default completes; its data and signals are in the bucket.
    run_id = _run_deployment("premarket/default", {"as_of": AS_OF.isoformat()}, worker_env)
    state = _final_state(api, run_id, 240)
    assert state["type"] == "COMPLETED", (state, worker_log.read_text()[-4000:])
    client = moto_client(stack["endpoint"])
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2")
            .paginate(Bucket=stack["bucket"]) for o in page.get("Contents", [])]
    assert any(k.startswith("bars/daily/") for k in keys)
    assert any(k.startswith("bars/1min/") for k in keys)
    assert f"signals/{SESSION}/gap_and_go.json" in keys and f"signals/{SESSION}/orb.json" in keys
    assert f"anchors/{SESSION}.parquet" in keys and "universe/latest.parquet" in keys
    assert stack["fake"].count(function="TIME_SERIES_DAILY") > 0  # the key came from its block
    assert any(k.startswith("usage/api/") for k in keys)  # calls counted for health
    assert _run_name(api, run_id) == "premarket 2025-11-24 08:45"

    # Our INFO records are in the run's logs (the UI), named after where they came from, and
    # the worker's stderr is one JSON stream (its own lines and its runs' lines).
    assert any(m.startswith("daily:") for m in _our_records(api, run_id,
                                                             "tradingstation.data.fetch"))
    assert _our_records(api, run_id, "tradingstation.screeners")
    lines = [json.loads(line) for line in worker_log.read_text().splitlines()]
    ours = [r for r in lines if r.get("flow_run_id") == run_id]
    assert any(r["component"] == "data.fetch" for r in ours)
    assert any(r["component"].startswith("prefect") for r in lines)
    assert not any(secret in worker_log.read_text() for secret in SECRETS)

    # The operator's commands use the flows' bucket; everything checks out with a worker.
    found = _verify(operator_env, code=0)
    assert found["worker tradingstation"]["status"] == "pass"
    report = _cli_json([ts, "health", "--check-storage"], operator_env)
    storage = next(c for c in report["checks"] if c["name"] == "storage")
    assert storage["level"] == "ok" and stack["bucket"] in storage["detail"]
    assert not operator_data.exists()

    # The README's jq examples run as written on this worker's log and a command's log.
    assert shutil.which("jq"), "the README's examples need jq: apt-get install jq (.ci/run does)"
    logs_dir = stack["tmp"] / "logs"
    logs_dir.mkdir()
    shutil.copy(worker_log, logs_dir / "worker.log")
    outputs = {}
    shell_env = dict(operator_env, PATH=f"{BIN}:{operator_env.get('PATH', '')}")
    for command in _readme_logging_commands():
        if "prefect worker start" in command:
            continue  # the worker above was started exactly so
        runnable = command.replace("<id>", run_id).replace("tail -f", "cat")
        done = subprocess.run(["bash", "-c", runnable], cwd=logs_dir, env=shell_env,
                              capture_output=True, text=True, timeout=180, check=False)
        if command.startswith("tradingstation"):
            continue  # its exit code is its verdict on the data; its log is what jq reads
        assert done.returncode == 0, (command, done.stderr[-2000:])
        outputs[command] = done.stdout
    assert (logs_dir / "verify.log").stat().st_size > 0
    assert any('"data.fetch"' in out for cmd, out in outputs.items() if "data.fetch" in cmd)
    assert any(out.strip() for cmd, out in outputs.items() if "flow_run_id" in cmd)

    # With TS_LOG_FORMAT unset (the README's plain worker) our records reach the UI too; the
    # env replaces prefect.yaml's, which named our logger for Prefect. (human and json:
    # tests/flows/test_run_logging.py.)
    health_id = _run_deployment("health/default", {"checks": ["storage"]}, worker_env,
                                'env={"TS_LOG_FORMAT": "auto"}')
    assert _final_state(api, health_id, 120)["type"] == "COMPLETED"
    assert _our_records(api, health_id, "tradingstation.ops")
    assert _run_name(api, health_id).startswith("health storage ")

    # 2. A run made to fail (the provider now rejects the key) alerts the webhook, no secret.
    stack["fake"].api_key = "ROTATED-KEY"
    failed_id = _run_deployment(
        "fetch/default", {"job": "daily", "tickers": "AAPL,MSFT", "refetch": True}, worker_env)
    assert _final_state(api, failed_id, 180)["type"] == "FAILED"
    bodies = wait_for("the failure alert", lambda: [b for b in stack["hook"].received()
                                                    if failed_id in b], 90)
    alert = bodies[0]
    assert "fetch/default" in alert and "Failed" in alert and "fetch-daily" in alert
    assert f"/runs/flow-run/{failed_id}" in alert
    assert not any(secret in alert for secret in SECRETS)

    # A failing task is named in the alert with its error's first line.
    failed_id = _run_deployment("screen/default", {
        "name": "breakout", "tickers": "AAPL,MSFT", "params": {"no_such_parameter": 1},
        "as_of": AS_OF.isoformat()}, worker_env)
    assert _final_state(api, failed_id, 120)["type"] == "FAILED"
    alert = wait_for("the task failure alert", lambda: [b for b in stack["hook"].bodies
                                                        if failed_id in b], 90)[0]
    name = _run_name(api, failed_id)
    assert name == "screen breakout AAPL,MSFT 2025-11-24 08:45" and name in alert
    assert "deployment: screen/default" in alert
    assert re.search(r"task screen-\S+ failed: InputError: \S", alert), alert
    assert not any(secret in alert for secret in SECRETS)

    # A crash (the process dies without a word) is explained.
    crashed_id = _run_deployment("health/default", {}, worker_env,
                                 "command=python -c 'raise SystemExit(1)'")
    assert _final_state(api, crashed_id, 120)["type"] == "CRASHED"
    alert = wait_for("the crash alert", lambda: [b for b in stack["hook"].bodies
                                                 if crashed_id in b], 90)[0]
    assert "Crashed" in alert and "process stopped before it could report an error" in alert

    # 8. `tradingstation pause` stops every session schedule (its scheduled runs go), resume
    # brings them back (the scheduler then fills them in, checked below).
    session_modes = ("premarket", "market", "postmarket", "daily", "watch")
    out = _cli([ts, "pause"], operator_env)
    assert "premarket/default: paused" in out
    for mode in session_modes:
        dep = httpx.get(f"{api}/deployments/name/{mode}/default", timeout=10).json()
        assert dep["paused"] is True, mode
    assert not any(_scheduled_runs(api)[m] for m in session_modes)
    assert "already paused" in _cli([ts, "pause", "--deployment", "market"], operator_env)
    out = _cli([ts, "resume"], operator_env)
    assert "daily/default: resumed" in out
    for mode in session_modes:
        dep = httpx.get(f"{api}/deployments/name/{mode}/default", timeout=10).json()
        assert dep["paused"] is False, mode

    # 3. The scheduler created upcoming runs of every session deployment at New York times.
    def all_scheduled() -> dict[str, list[datetime]] | None:
        runs = _scheduled_runs(api)
        return runs if all(runs.get(m) for m in session_modes) else None

    scheduled = wait_for("scheduled session runs", all_scheduled, 90, every=2)
    for mode in session_modes:
        wrong = [t.isoformat() for t in scheduled[mode] if not _on_schedule(mode, t)]
        assert not wrong, f"{mode} runs off schedule: {wrong[:5]}"
    ops = set(scheduled) - set(session_modes)
    assert ops >= {"fetch", "anchors", "screen", "dashboard", "data-restore", "data-verify",
                   "health"}
    for mode in ops:
        assert not scheduled[mode], f"ops deployment {mode} must not be scheduled"
    # 4. The watcher deployment turns a planted watch idea that has reached its entry into
    # one alert through the registered notification block.
    _watch_alerts_once(stack, worker_env)


def _watch_alerts_once(stack: dict, worker_env: dict) -> None:
    fake = stack["fake"]
    fake.api_key = API_KEY  # step 2 rotated it
    quote = fake._quote("WTCH")  # what the fake will quote: the planted entry is just below
    entry = round(quote["price"] - 0.01, 2)
    stop = round(min(quote["price"], quote["previous_close"]) * 0.9, 2)
    published = datetime(2025, 11, 24, 8, 0, tzinfo=NY)
    planted = Signal(
        id=make_signal_id("breakout", "WTCH", published.date(), "e2e"), screener="breakout",
        symbol="WTCH", session=published.date(), timestamp=published, direction="long",
        status="watch", score=8.0, entry=entry, stop=stop,
        targets=[round(entry + k * (entry - stop), 2) for k in (1, 2, 3)],
        risk_per_share=round(entry - stop, 4), reasons=["planted"], data_as_of=published)
    store = S3Store(moto_s3_config(stack["endpoint"], stack["bucket"], ""))
    save_signals(store, published.date(), "breakout", [planted])
    before = len(stack["hook"].received())
    run_id = _run_deployment("watch/default", {
        "as_of": datetime(2025, 11, 24, 9, 35, tzinfo=NY).isoformat(), "until": "09:40",
        "speed": 300}, worker_env)
    state = _final_state(stack["api"], run_id, 180)
    assert state["type"] == "COMPLETED", (state, (stack["tmp"] / "worker.log").read_text()[-3000:])
    bodies = wait_for("the trigger alert", lambda: [
        b for b in stack["hook"].received()[before:] if "WTCH long TRIGGERED" in b], 60)
    assert len(bodies) == 1
    assert f"entry {entry:.2f}" in json.loads(bodies[0])["text"]
    assert not any(secret in bodies[0] for secret in SECRETS)
    journal = store.list_objects(f"live/{SESSION}/")
    assert any("/events/" in i.key for i in journal) and any("/alerts/" in i.key for i in journal)
