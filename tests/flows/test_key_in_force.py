"""Which market-data source is in force, said truthfully (issue 16 #7).

Measured on a real server: a second ``blocks register`` without the key printed "skipped
Secret ... (flows use the demo market)" while the first run's Secret block still existed and the
flows used it; ``health`` said "demo market (no API key configured)" with the key block present
and ``TS_PROVIDER=demo``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prefect.blocks.system import Secret

from blocks.resolve import resolve_provider
from tradingstation.config import get_settings

BLOCK = "ts-test-key-in-force"
KEY = "AVKEY-IN-FORCE-01"


@pytest.fixture
def secret_block(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TS_ALPHAVANTAGE_SECRET_BLOCK", BLOCK)
    get_settings.cache_clear()
    yield BLOCK
    Secret.delete(BLOCK)


def test_second_register_without_key_says_the_old_key_stays_in_force(
    secret_block: str, monkeypatch: pytest.MonkeyPatch, invoke
) -> None:
    monkeypatch.setenv("TS_ALPHAVANTAGE_API_KEY", KEY)
    get_settings.cache_clear()
    code, out, _ = invoke("blocks", "register")
    assert code == 0 and f"secret {secret_block}" in " ".join(out.split())
    monkeypatch.delenv("TS_ALPHAVANTAGE_API_KEY")
    get_settings.cache_clear()
    code, out, _ = invoke("blocks", "register")
    text = " ".join(out.split())
    assert code == 0 and "demo market)" not in text
    assert f"the existing Secret block '{secret_block}' is kept and flows use its key" in text
    assert f"prefect block delete secret/{secret_block}" in text
    # ...and that is what a flow gets: Alpha Vantage with the stored key.
    get_settings.cache_clear()
    assert not resolve_provider(get_settings(), datetime.now(UTC)).is_demo


def test_health_says_demo_is_chosen_when_a_key_exists(
    secret_block: str, monkeypatch: pytest.MonkeyPatch, invoke
) -> None:
    Secret(value=KEY).save(secret_block, overwrite=True)
    monkeypatch.setenv("TS_PROVIDER", "demo")
    get_settings.cache_clear()
    code, out, err = invoke("health", "--check-api", "--json")
    assert code == 0 and "no API key configured" not in out + err
    assert "demo market (TS_PROVIDER=demo: chosen over any configured API key)" in out
