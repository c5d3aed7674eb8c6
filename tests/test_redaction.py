"""One mask for every secret, whichever path a text takes out of the process.

Each test drives one of the places that used to mask secrets on its own (the log redactor, the
Alpha Vantage message cleaner, its urllib3 URL filter, ledger reasons, the CLI's JSON output and
its fallback when settings fail to load) and checks the secret comes out as ``REDACTED``, never
as another mask.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from pydantic import SecretStr

import cli
from cli.common import print_error, to_json
from tradingstation import redaction
from tradingstation.data.ledger import ledger_row
from tradingstation.logs import configure_logging
from tradingstation.providers.avformat import classify_message
from tradingstation.redaction import REDACTED, one_line

KEY = "AVKEY0123456789X"


@pytest.fixture(autouse=True)
def _restore_logging(restored_logging: None) -> None:
    """Most tests here configure logging."""


def masked_once(text: str, secret: str = KEY) -> bool:
    """The secret is gone, the one mask is there, and no other run of asterisks is."""
    return secret not in text and REDACTED in text and "*" not in text.replace(REDACTED, "")


def test_log_records_are_masked_with_the_one_mask() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, secrets=[KEY])
    logging.getLogger("tradingstation.x").warning("key %s in a message", KEY)
    assert masked_once(json.loads(stream.getvalue())["message"])


def test_alpha_vantage_messages_are_masked_with_the_one_mask() -> None:
    document = {"Information": f"We have detected your API key as {KEY} and our standard API "
                               "rate limit is 25 requests per day."}
    error = classify_message(document, "TIME_SERIES_DAILY NVDA", KEY, symbol_scoped=True)
    assert masked_once(str(error))
    echoed_elsewhere = classify_message(document, "LISTING_STATUS", None, symbol_scoped=False)
    assert masked_once(str(echoed_elsewhere))


def test_request_urls_in_urllib3_lines_are_masked_once_logging_is_configured() -> None:
    stream = io.StringIO()
    configure_logging(level="DEBUG", fmt="json", stream=stream)
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "www.alphavantage.co", 443, "GET",
        f"/query?function=TIME_SERIES_DAILY&symbol=NVDA&apikey={KEY}", "HTTP/1.1", 200, None)
    assert masked_once(json.loads(stream.getvalue())["message"])


def test_ledger_reasons_are_masked_with_the_one_mask() -> None:
    assert masked_once(one_line(f"a\n b {KEY}", [KEY], max_length=300))
    redaction.add_secrets([KEY])  # as loading the settings does
    row = ledger_row("NVDA", "daily", None, None, "failed", f"refused\nfor key {KEY}")
    assert masked_once(row["reason"]) and "\n" not in row["reason"]


def test_cli_json_and_error_lines_use_the_one_mask(capsys: pytest.CaptureFixture[str]) -> None:
    assert masked_once(to_json({"api_key": SecretStr(KEY)}), secret=KEY)
    redaction.add_secrets([KEY])
    print_error(f"bad key {KEY}")
    assert masked_once(capsys.readouterr().err)


def test_secrets_in_the_environment_are_masked_when_settings_fail_to_load(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tradingstation.config import get_settings

    monkeypatch.setenv("TS_S3_SECRET_ACCESS_KEY", KEY)
    monkeypatch.setenv("TS_RATE_LIMIT_PER_MINUTE", "not-a-number")
    get_settings.cache_clear()
    cli._configure_logging_from_env()
    logging.getLogger("tradingstation.x").error("secret %s", KEY)
    assert masked_once(capsys.readouterr().err)


def test_one_line_joins_masks_and_bounds() -> None:
    assert one_line("a\n b  key=SECRET1", ["SECRET1"]) == f"a b key={REDACTED}"
    assert one_line("x" * 1000) == "x" * 1000
    assert one_line("x" * 1000, max_length=300) == "x" * 297 + "..."
