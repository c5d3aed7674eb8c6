"""Tests of JSON/human logging, run ids, secret redaction and idempotent configuration."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime

import pytest

from tradingstation.errors import InputError
from tradingstation.logs import configure_logging, set_run_context
from tradingstation.redaction import REDACTED, add_secrets, redact

SECRET = "sk-LIVE-8f3b2c1d9e"
SECRET2 = "webhook/T000/B000/XyZ-secret"


@pytest.fixture(autouse=True)
def _restore_logging(restored_logging: None) -> None:
    """Every test here configures logging."""


def lines(stream: io.StringIO) -> list[dict]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def json_stream(**kwargs) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, **kwargs)
    return stream


def test_json_lines_have_the_four_fields() -> None:
    stream = json_stream(level="DEBUG")
    logging.getLogger("tradingstation.data.fetch").info("fetched %d bars for %s", 12, "NVDA")
    logging.getLogger("urllib3.connectionpool").warning("retrying")
    logging.getLogger("tradingstation").debug("multi\nline")
    records = lines(stream)
    assert len(records) == 3
    first = records[0]
    assert first["level"] == "INFO"
    assert first["component"] == "data.fetch"
    assert first["message"] == "fetched 12 bars for NVDA"
    assert first["logger"] == "tradingstation.data.fetch"
    stamp = datetime.fromisoformat(first["timestamp"].replace("Z", "+00:00"))
    assert first["timestamp"].endswith("Z")
    assert stamp.utcoffset().total_seconds() == 0
    assert records[1]["component"] == "urllib3.connectionpool"
    assert records[1]["level"] == "WARNING"
    assert records[2]["message"] == "multi\nline"
    assert records[2]["component"] == "tradingstation"


def test_level_filters_records() -> None:
    stream = json_stream(level="WARNING")
    log = logging.getLogger("tradingstation.x")
    log.info("hidden")
    log.warning("shown")
    assert [r["message"] for r in lines(stream)] == ["shown"]


def test_extras_and_component_override() -> None:
    stream = json_stream()
    logging.getLogger("tradingstation.tasks").info(
        "done", extra={"component": "fetch", "symbol": "AAPL", "count": 3, "tags": ("a", "b")}
    )
    (record,) = lines(stream)
    assert record["component"] == "fetch"
    assert record["symbol"] == "AAPL"
    assert record["count"] == 3
    assert record["tags"] == ["a", "b"]


def test_run_ids_from_extras_and_context() -> None:
    stream = json_stream()
    log = logging.getLogger("tradingstation.core")
    log.info("a", extra={"flow_run_id": "flow-1", "task_run_id": "task-1"})
    with set_run_context(flow_run_id="flow-2"):
        log.info("b")
        with set_run_context(task_run_id="task-2"):
            log.info("c")
        log.info("d")
    log.info("e")
    a, b, c, d, e = lines(stream)
    assert (a["flow_run_id"], a["task_run_id"]) == ("flow-1", "task-1")
    assert b["flow_run_id"] == "flow-2" and "task_run_id" not in b
    assert (c["flow_run_id"], c["task_run_id"]) == ("flow-2", "task-2")
    assert "task_run_id" not in d
    assert "flow_run_id" not in e


def test_secret_in_message_args_and_exception_is_redacted() -> None:
    stream = json_stream(secrets=[SECRET, None, ""])
    log = logging.getLogger("tradingstation.providers")
    log.info(f"key is {SECRET}")
    log.info("key is %s", SECRET)
    log.info("nested %(k)s", {"k": SECRET})
    try:
        raise RuntimeError(f"bad key {SECRET}")
    except RuntimeError:
        log.exception("request failed")
    text = stream.getvalue()
    assert SECRET not in text
    records = lines(stream)
    assert records[0]["message"] == f"key is {REDACTED}"
    assert records[1]["message"] == f"key is {REDACTED}"
    assert records[2]["message"] == f"nested {REDACTED}"
    assert "RuntimeError: bad key " + REDACTED in records[3]["exc_info"]
    assert "Traceback" in records[3]["exc_info"]


def test_secret_in_extra_is_redacted() -> None:
    stream = json_stream(secrets=[SECRET])
    logging.getLogger("tradingstation").info("x", extra={"url": f"https://h/?k={SECRET}"})
    assert SECRET not in stream.getvalue()


def test_apikey_in_url_is_redacted_without_configured_secret() -> None:
    stream = json_stream()
    logging.getLogger("urllib3.connectionpool").debug("noop")
    logging.getLogger("urllib3.connectionpool").warning(
        "GET /query?function=TIME_SERIES_DAILY&symbol=IBM&apikey=ABCDEF123&datatype=csv"
    )
    (record,) = lines(stream)
    assert "ABCDEF123" not in record["message"]
    assert f"apikey={REDACTED}&datatype=csv" in record["message"]
    assert redact("https://x/?api_key=zz9&token=t0k") == (
        f"https://x/?api_key={REDACTED}&token={REDACTED}"
    )


def test_url_encoded_secret_is_redacted() -> None:
    add_secrets(["p@ss/word+1"])
    assert redact("q?x=p%40ss%2Fword%2B1") == f"q?x={REDACTED}"
    assert redact("raw p@ss/word+1 end") == f"raw {REDACTED} end"


def test_add_secrets_at_runtime_covers_every_logger() -> None:
    stream = json_stream()
    add_secrets([SECRET2])
    logging.getLogger("botocore.endpoint").warning("posting to %s", SECRET2)
    assert SECRET2 not in stream.getvalue()
    assert REDACTED in stream.getvalue()


def test_redaction_happens_before_handlers_outside_the_root() -> None:
    """A handler on a non-propagating logger (like Prefect's API handler) never sees a secret."""
    configure_logging(fmt="json", stream=io.StringIO(), secrets=[SECRET])
    seen = io.StringIO()
    handler = logging.StreamHandler(seen)
    handler.setFormatter(logging.Formatter("%(message)s|%(exc_text)s"))
    side = logging.getLogger("prefect.test_side_channel")
    side.addHandler(handler)
    side.propagate = False
    try:
        try:
            raise ValueError(SECRET)
        except ValueError:
            side.error("sent %s", SECRET, exc_info=True)
    finally:
        side.removeHandler(handler)
        side.propagate = True
    assert SECRET not in seen.getvalue()
    assert REDACTED in seen.getvalue()


def test_idempotent_configuration() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    configure_logging(fmt="json", stream=stream)
    configure_logging(fmt="json", stream=stream, secrets=[SECRET])
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_ts_owned", False)]
    assert len(ours) == 1
    logging.getLogger("tradingstation.x").info("once")
    assert len(lines(stream)) == 1


def test_keeps_prefect_handlers_and_replaces_its_console() -> None:
    from prefect.logging.configuration import setup_logging

    setup_logging()
    api_before = list(logging.getLogger("prefect.flow_runs").handlers)
    assert any(type(h).__name__ == "APILogHandler" for h in api_before)
    stream = json_stream()
    assert logging.getLogger("prefect.flow_runs").handlers == api_before
    root_types = [type(h).__name__ for h in logging.getLogger().handlers]
    assert "PrefectConsoleHandler" not in root_types
    # A Prefect run logger's record reaches our JSON output with its run ids.
    flow_logger = logging.getLogger("prefect.flow_runs")
    api = [h for h in flow_logger.handlers if type(h).__name__ == "APILogHandler"]
    for h in api:
        flow_logger.removeHandler(h)  # no API server here; keep the check local
    try:
        flow_logger.info("flow says hi", extra={"flow_run_id": "abc", "flow_run_name": "x"})
    finally:
        for h in api:
            flow_logger.addHandler(h)
    (record,) = lines(stream)
    assert record["component"] == "prefect.flow_runs"
    assert record["flow_run_id"] == "abc"
    assert record["flow_run_name"] == "x"


def test_human_format() -> None:
    stream = io.StringIO()
    configure_logging(fmt="human", stream=stream, secrets=[SECRET])
    with set_run_context(flow_run_id="0123456789abcdef"):
        logging.getLogger("tradingstation.ops").warning("careful %s", SECRET)
    out = stream.getvalue()
    assert "WARNING" in out and "ops: careful " + REDACTED in out
    assert "[run 01234567]" in out
    assert SECRET not in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_auto_format_picks_json_when_not_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(fmt="auto", stream=stream)
    logging.getLogger("tradingstation").info("hi")
    assert json.loads(stream.getvalue())["message"] == "hi"


def test_bad_arguments_rejected() -> None:
    with pytest.raises(InputError, match="log format"):
        configure_logging(fmt="xml")
    with pytest.raises(InputError, match="log level"):
        configure_logging(level="LOUD")


def test_http_client_chatter_is_quiet_unless_debug() -> None:
    configure_logging(level="INFO", fmt="json", stream=io.StringIO())
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("botocore").getEffectiveLevel() == logging.WARNING
    configure_logging(level="DEBUG", fmt="json", stream=io.StringIO())
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.DEBUG
