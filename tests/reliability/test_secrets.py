"""Secrets: a full day run with sentinel secrets, then every output is scanned for them.

The real console script runs, against one Prefect server: ``blocks register`` and ``alerts
create`` (webhook URL), the premarket and postmarket sessions over a fake Alpha Vantage
(API key; the fake's daily-limit message echoes the key) into moto's S3 (secret key), the
dashboard, and a failing run with a rejected key, all with JSON logs at DEBUG. Scanned: stdout
and stderr of every command, every object in the bucket (dashboard HTML included), the Prefect
artifacts, flow-run logs and automations, and the block documents' public fields.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from urllib.parse import quote, quote_plus

import pytest

from tests.reliability.cli_harness import run_script
from tests.support.fake_alphavantage import FakeAlphaVantage
from tests.support.moto_server import create_bucket, moto_client, running_moto_server
from tradingstation.calendar import NY

pytestmark = pytest.mark.slow

API_KEY = "AVsentinelKEY7f3a9c"
BAD_KEY = "AVsentinelBADKEY55e1"
S3_SECRET = "S3sentinel/Secret+Key=9d2e"
WEBHOOK = "https://hooks.example.invalid/services/T0/B0/sentinelHOOK4b7c"
SENTINELS = (API_KEY, BAD_KEY, S3_SECRET, WEBHOOK, "sentinelHOOK4b7c")
DAY = datetime(2025, 11, 24, tzinfo=NY)


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}


def _leaks(text: str) -> list[str]:
    return sorted({s for secret in SENTINELS for s in _forms(secret) if s in text})


async def _prefect_texts() -> list[str]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        texts: list[str] = []
        for read in (client.read_artifacts, client.read_logs):
            offset = 0
            while page := await read(limit=200, offset=offset):
                texts += [item.model_dump_json() for item in page]
                offset += len(page)
        texts += [a.model_dump_json() for a in await client.read_automations()]
        # Block documents hold secrets by design; what anyone can read must not show them.
        texts += [b.model_dump_json()
                  for b in await client.read_block_documents(include_secrets=False)]
    return texts


def test_no_secret_reaches_logs_outputs_objects_or_prefect(
    prefect_api: str, tmp_path, record_figures
) -> None:
    outputs: list[str] = []
    with running_moto_server() as endpoint, FakeAlphaVantage(
        API_KEY, listing_size=30, now=lambda: DAY.replace(hour=18), seed=3
    ) as fake:
        bucket = create_bucket(endpoint)
        env = {
            "PREFECT_API_URL": prefect_api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "TS_DATA_DIR": str(tmp_path / "data"), "TS_STORAGE_BACKEND": "s3",
            "TS_S3_BLOCK": "ts-secrets-test", "TS_S3_BUCKET": bucket,
            "TS_S3_ENDPOINT_URL": endpoint, "TS_S3_ACCESS_KEY_ID": "testing",
            "TS_S3_SECRET_ACCESS_KEY": S3_SECRET, "TS_ALPHAVANTAGE_API_KEY": API_KEY,
            "TS_ALPHAVANTAGE_BASE_URL": fake.url, "TS_WEBHOOK_URL": WEBHOOK,
            "TS_LOG_FORMAT": "json", "TS_LOG_LEVEL": "DEBUG", "TS_RATE_LIMIT_PER_MINUTE": "6000",
            "TS_HTTP_TIMEOUT_SECONDS": "5", "TS_WATCHLIST_CAP": "5",
        }
        fake.fail_next("throttle_information", n=2, function="TIME_SERIES_DAILY")
        commands = [
            ["blocks", "register"], ["alerts", "create"],
            ["run", "premarket", "--as-of", "2025-11-24T08:45-05:00", "--json"],
            ["run", "postmarket", "--as-of", "2025-11-24T17:00-05:00"],
            ["dashboard", "--as-of", "2025-11-24T17:05-05:00", "--verbose"],
            ["config", "show"], ["data", "verify", "--as-of", "2025-11-24T21:00-05:00"],
        ]
        codes = {}
        for argv in commands:
            result = run_script(argv, env, timeout=300)
            codes[argv[0] + " " + argv[1]] = result.code
            outputs += [result.stdout, result.stderr]
        assert codes["run premarket"] == 0, outputs[-8:]
        assert codes["dashboard --as-of"] == 0, outputs[-4:]
        assert fake.count(outcome="throttle_information") == 2
        failing = run_script(["run", "premarket", "--as-of", "2025-11-25T08:45-05:00"],
                             {**env, "TS_ALPHAVANTAGE_API_KEY": BAD_KEY}, timeout=300)
        assert failing.code != 0
        # At DEBUG, client libraries still log while the process shuts down: the error line
        # need not be the last one here (test_hostile_input checks that at the default level).
        errors = [line for line in failing.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, failing.stderr[-400:]
        outputs += [failing.stdout, failing.stderr]
        client = moto_client(endpoint)
        objects = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                objects[item["Key"]] = body.decode("latin-1")
    assert any(k.endswith(".html") for k in objects), sorted(objects)[:20]
    prefect_texts = asyncio.run(_prefect_texts())
    leaks = {"outputs": _leaks("\n".join(outputs)),
             "objects": [k for k, text in objects.items() if _leaks(text)],
             "prefect": _leaks("\n".join(prefect_texts))}
    assert leaks == {"outputs": [], "objects": [], "prefect": []}
    log_lines = sum(o.count("\n") for o in outputs)
    record_figures("secrets", {"commands": len(commands) + 1, "log_and_output_lines": log_lines,
                               "objects_scanned": len(objects),
                               "prefect_records_scanned": len(prefect_texts),
                               "sentinels": len(SENTINELS), "leaks": 0})
