"""Settings: defaults, TS_ environment variables, validation, provider resolution, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tradingstation.config import REDACTED, Settings, get_settings


def test_defaults_are_local_and_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TS_DATA_DIR")
    settings = Settings()
    assert settings.data_dir == Path("data")
    assert settings.storage_backend == "local"
    assert settings.provider == "auto"
    assert settings.resolved_provider == "demo"
    assert settings.rate_limit_per_day is None
    assert (settings.retention_1min_days, settings.retention_30min_bars) == (7, 500)
    assert (settings.retention_daily_sessions, settings.retention_signals_days) == (252, 30)
    assert settings.retention_dashboards_days == 7
    assert settings.risk_per_trade == 0.01


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TS_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("TS_RATE_LIMIT_PER_MINUTE", "150")
    monkeypatch.setenv("TS_RATE_LIMIT_PER_DAY", "25")
    monkeypatch.setenv("TS_S3_PREFIX", "/prod/")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.storage_backend == "s3"
    assert (settings.rate_limit_per_minute, settings.rate_limit_per_day) == (150, 25)
    assert settings.s3_prefix == "prod"


def test_key_switches_auto_provider_to_alphavantage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_ALPHAVANTAGE_API_KEY", "AVKEY0001")
    assert Settings().resolved_provider == "alphavantage"
    monkeypatch.setenv("TS_PROVIDER", "demo")
    assert Settings().resolved_provider == "demo"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TS_RATE_LIMIT_PER_MINUTE", "-5"),
        ("TS_RATE_LIMIT_PER_MINUTE", "abc"),
        ("TS_STORAGE_BACKEND", "ftp"),
        ("TS_PROVIDER", "yahoo"),
        ("TS_RISK_PER_TRADE", "0.5"),
        ("TS_EQUITY", "0"),
        ("TS_BATCH_SIZE", "0"),
    ],
)
def test_invalid_values_are_rejected(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert name.removeprefix("TS_").lower() in str(info.value)


def test_redacted_hides_every_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    sentinels = {
        "TS_ALPHAVANTAGE_API_KEY": "SENTINEL-AV-KEY",
        "TS_S3_ACCESS_KEY_ID": "SENTINEL-ACCESS",
        "TS_S3_SECRET_ACCESS_KEY": "SENTINEL-SECRET",
        "TS_WEBHOOK_URL": "https://hooks.example/SENTINEL-HOOK",
    }
    for name, value in sentinels.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    shown = str(settings.redacted()) + repr(settings) + str(settings)
    for value in sentinels.values():
        assert value not in shown
    assert settings.redacted()["alphavantage_api_key"] == REDACTED
    assert sorted(settings.secret_values()) == sorted(sentinels.values())


def test_get_settings_is_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    monkeypatch.setenv("TS_BATCH_SIZE", "7")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().batch_size == 7
