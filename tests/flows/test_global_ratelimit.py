"""Cross-run rate limit: provider slots come from a Prefect global concurrency limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prefect import get_client

from blocks.ratelimit import GlobalRateLimiter, ensure_rate_limit
from blocks.resolve import resolve_provider
from tradingstation.config import Settings
from tradingstation.providers.ratelimit import RateLimiter


def read_limit(name: str):
    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name)


def test_limit_is_created_with_the_plans_rate_and_updated_idempotently() -> None:
    ensure_rate_limit(150, name="ts-test-plan")
    ensure_rate_limit(150, name="ts-test-plan")
    limit = read_limit("ts-test-plan")
    assert (limit.limit, limit.slot_decay_per_second) == (150, 2.5)
    ensure_rate_limit(600, name="ts-test-plan")
    assert read_limit("ts-test-plan").slot_decay_per_second == 10.0


def test_slots_are_drawn_in_chunks_from_the_shared_limit() -> None:
    ensure_rate_limit(60, name="ts-test-draw")  # decays 1 slot/s: the draw stays visible
    limiter = GlobalRateLimiter(RateLimiter(per_minute=6000), per_minute=60,
                                name="ts-test-draw", chunk=10)
    for _ in range(25):
        limiter.acquire()
    assert limiter.drawn == 30  # three chunks, not 25 acquisitions
    assert read_limit("ts-test-draw").active_slots >= 20


def test_provider_uses_the_shared_limit_when_a_server_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TS_ALPHAVANTAGE_API_KEY", "test-key")
    monkeypatch.setenv("TS_RATE_LIMIT_PER_MINUTE", "300")
    provider = resolve_provider(Settings(), datetime(2025, 11, 24, 14, tzinfo=UTC))
    assert isinstance(provider.limiter, GlobalRateLimiter)
    assert read_limit("tradingstation-alphavantage").limit == 300
