"""Pieces of the Prefect layer that need no server: retry policy, as-of parsing, closed-day
messages, notification block choice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prefect.states import Failed

from blocks.register import notification_block
from flows.session import SessionRun, closed_message
from tasks.policy import retry_options, retry_transient
from tradingstation.calendar import NY, parse_as_of
from tradingstation.config import get_settings
from tradingstation.errors import InputError, InvalidApiKeyError, ProviderError, ThrottledError


@pytest.mark.parametrize(
    ("exc", "retry"),
    [(ThrottledError("slow down"), True), (ProviderError("503"), True),
     (InvalidApiKeyError("bad key"), False), (ValueError("bug"), False)],
)
def test_only_transient_errors_are_retried(exc: Exception, retry: bool) -> None:
    assert retry_transient(None, None, Failed(data=exc)) is retry


def test_retry_options_back_off_exponentially() -> None:
    options = retry_options(retries=3)
    assert options["retries"] == 3
    delays = options["retry_delay_seconds"]
    assert len(delays) == 3 and delays[1] == 2 * delays[0] and delays[2] == 4 * delays[0]
    assert options["retry_jitter_factor"] > 0


def test_parse_as_of_reads_new_york_wall_time_and_rejects_garbage() -> None:
    assert parse_as_of("2025-11-24T08:45") == datetime(2025, 11, 24, 13, 45, tzinfo=UTC)
    assert parse_as_of("2025-11-24T08:45-05:00") == datetime(2025, 11, 24, 13, 45, tzinfo=UTC)
    with pytest.raises(InputError, match="not an ISO-8601 time"):
        parse_as_of("next tuesday")


def test_closed_message_names_next_session_and_how_to_run_the_last() -> None:
    run = SessionRun("market", datetime(2025, 11, 29, 12, tzinfo=NY), None, get_settings())
    message = closed_message(run)
    assert "market closed on 2025-11-29 (Saturday)" in message
    assert "Next session: 2025-12-01" in message
    # Friday 2025-11-28 was a half day but still a session.
    assert "--as-of 2025-11-28T10:30-05:00" in message


def test_slack_hooks_use_the_slack_block_others_keep_the_url_secret() -> None:
    slack = notification_block("https://hooks.slack.com/services/T000/B000/XXXX")
    assert slack.get_block_type_slug() == "slack-webhook"
    generic = notification_block("https://example.invalid/hook?token=s3cr3t")
    assert generic.get_block_type_slug() == "custom-webhook"
    assert "s3cr3t" not in generic.url and "s3cr3t" not in repr(generic)
    request = generic._build_request_args("body text", "subject line")
    assert request["url"].endswith("token=s3cr3t")
    assert request["json"] == {"subject": "subject line", "text": "body text"}


def test_retry_options_read_the_settings_get_settings_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TS_TASK_RETRIES", "2")
    monkeypatch.setenv("TS_TASK_BACKOFF_SECONDS", "7")
    get_settings.cache_clear()
    try:
        options = retry_options()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert options["retries"] == 2
    assert options["retry_delay_seconds"] == [7, 14]
