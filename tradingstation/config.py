"""Settings: one typed object read from TS_* environment variables and an optional .env file."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tradingstation.redaction import MIN_SECRET_LENGTH, REDACTED
from tradingstation.track.outcome import OutcomeRules

# The settings that hold credentials: SecretStr fields, length-checked, masked in every output.
SECRET_FIELDS = ("alphavantage_api_key", "s3_access_key_id", "s3_secret_access_key",
                 "webhook_url")


class Settings(BaseSettings):
    """Every setting of TradingStation.

    Environment variables are the field names, upper-cased, with the prefix ``TS_``
    (``TS_DATA_DIR``, ``TS_RATE_LIMIT_PER_MINUTE`` ...).

    Secrets are ``SecretStr``: they print as ``**********`` and reach code only through
    ``get_secret_value()``.
    """

    model_config = SettingsConfigDict(
        env_prefix="TS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Storage
    data_dir: Path = Field(Path("data"), description="Local data directory (local backend).")
    storage_backend: Literal["local", "s3"] = Field("local", description="local | s3")
    s3_block: str = Field(
        "tradingstation-spaces", description="Name of the prefect-aws S3Bucket block to use."
    )
    s3_bucket: str | None = Field(None, description="Bucket name when no block is used.")
    s3_endpoint_url: str | None = Field(
        None, description="S3 endpoint, e.g. https://nyc3.digitaloceanspaces.com"
    )
    s3_region: str | None = Field(None, description="Region, e.g. nyc3")
    s3_access_key_id: SecretStr | None = Field(None, description="Access key id.")
    s3_secret_access_key: SecretStr | None = Field(None, description="Secret access key.")
    s3_prefix: str = Field("", description="Optional key prefix inside the bucket.")

    # Market data
    provider: Literal["auto", "alphavantage", "demo"] = Field(
        "auto", description="auto = alphavantage when a key is configured, else demo"
    )
    alphavantage_api_key: SecretStr | None = Field(None, description="Alpha Vantage API key.")
    alphavantage_secret_block: str = Field(
        "alphavantage-api-key", description="Name of the Prefect Secret block holding the key."
    )
    alphavantage_base_url: str = Field(
        "https://www.alphavantage.co/query", description="Alpha Vantage endpoint."
    )
    rate_limit_per_minute: int = Field(75, gt=0, description="Provider requests per minute.")
    rate_limit_per_day: int | None = Field(
        None, gt=0, description="Daily request quota (free tier: 25); empty = unlimited."
    )
    http_timeout_seconds: float = Field(30.0, gt=0, description="Per-request HTTP timeout.")
    http_concurrency: int = Field(8, gt=0, le=64, description="Concurrent provider requests.")
    demo_symbols: int = Field(300, gt=0, le=10000, description="Demo market size.")
    demo_seed: int = Field(42, description="Demo market random seed.")

    # Work shaping
    batch_size: int = Field(250, gt=0, le=10000, description="Symbols per Prefect task.")
    watchlist_cap: int = Field(300, gt=0, description="Max symbols in the intraday watchlist.")
    quotes_max_age_seconds: float = Field(
        300.0, ge=0, description="Stored premarket (and market-cycle session) quotes younger "
                                 "than this are reused, not fetched again (0 = always fetch).")

    task_retries: int = Field(3, ge=0, le=10, description="Retries of a task that failed "
                                                         "with a transient error.")
    task_backoff_seconds: float = Field(10.0, ge=0, le=600, description="First retry delay; "
                                                                      "doubles each retry.")

    # Retention
    retention_1min_days: int = Field(7, gt=0, description="1-min bars kept (calendar days).")
    retention_30min_bars: int = Field(500, gt=0, description="30-min bars kept per symbol.")
    retention_daily_sessions: int = Field(
        252, gt=0, description="Daily bars kept per symbol (52-week anchors need 252).")
    retention_signals_days: int = Field(30, gt=0, description="Signals kept (days).")
    retention_dashboards_days: int = Field(7, gt=0, description="Dashboards kept (days).")

    # Risk
    equity: float = Field(100_000.0, gt=0, description="Account equity for position sizing.")
    risk_per_trade: float = Field(
        0.01, gt=0, le=0.1, description="Fraction of equity at risk per idea."
    )
    max_position_pct: float = Field(
        0.25, gt=0, le=1, description="Max position value as a fraction of equity."
    )
    max_open_risk: float = Field(
        0.06, gt=0, le=1, description="Max total open risk across the plan (fraction of equity)."
    )
    min_reward_risk: float = Field(
        1.0, ge=0, le=20,
        description="Lowest reward:risk to the first target that the plan sizes.",
    )

    # Track record: the outcome model's assumptions (backtests and the live record alike)
    track_fill_sessions: int = Field(
        OutcomeRules.fill_sessions, ge=1, le=20,
        description="Sessions a watch signal has to trade through its entry."
    )
    track_time_stop_sessions: int = Field(
        OutcomeRules.time_stop_sessions, ge=1, le=100,
        description="Sessions a filled trade is held at most (time stop)."
    )
    track_slippage_bps: float = Field(
        OutcomeRules.slippage_bps, ge=0, le=500,
        description="Slippage against the trade on each fill (basis points)."
    )
    track_commission_per_share: float = Field(
        OutcomeRules.commission_per_share, ge=0, le=1,
        description="Commission per share on each side (dollars)."
    )
    rank_by_expectancy: bool = Field(
        False, description="Rank the plan by track-record expectancy x score (off: by score)."
    )
    track_scale_out: float = Field(
        OutcomeRules.scale_out, ge=0, lt=1,
        description="Fraction closed at the first target; the rest runs at break-even (0 = off)."
    )

    # Alerts and logging
    webhook_url: SecretStr | None = Field(None, description="Slack or generic webhook for alerts.")
    watch_poll_seconds: float = Field(
        30.0, gt=0, le=3600, description="Live-trigger watcher: seconds between quote polls.")
    watch_rate_share: float = Field(
        0.10, gt=0, le=1, description="Share of the per-minute API budget the watcher may use.")
    watch_quiet_hours: str = Field(
        "", description="New York HH:MM-HH:MM when trigger alerts are journaled, not sent.")
    watch_alert_cap: int = Field(50, ge=0, description="Trigger alerts sent per session at most.")
    dashboard_url: str | None = Field(
        None, description="Where the dashboard is served; alerts link to it.")
    log_format: Literal["auto", "json", "human"] = Field(
        "auto", description="auto = human on a terminal, JSON lines otherwise"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field("INFO")

    @field_validator("watch_quiet_hours")
    @classmethod
    def _check_quiet_hours(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("expected HH:MM-HH:MM (New York), e.g. 12:00-13:00")
        return value

    @field_validator(*SECRET_FIELDS)
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # Too short to mask safely (see MIN_SECRET_LENGTH); the value itself is never echoed.
        if value is not None and 0 < len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"too short (credentials have at least {MIN_SECRET_LENGTH} "
                             "characters; check the value)")
        return value

    @field_validator("s3_prefix")
    @classmethod
    def _strip_prefix(cls, value: str) -> str:
        return value.strip("/")

    @property
    def resolved_provider(self) -> Literal["alphavantage", "demo"]:
        """The provider actually used: ``auto`` becomes demo when no API key is configured."""
        if self.provider == "auto":
            return "alphavantage" if self.alphavantage_api_key else "demo"
        return self.provider

    def secret_values(self) -> list[str]:
        """Every secret value configured, for redaction filters. Empty values are skipped."""
        values = [getattr(self, name) for name in SECRET_FIELDS]
        return [v.get_secret_value() for v in values if v and v.get_secret_value()]

    def redacted(self) -> dict[str, object]:
        """Settings as a plain dict with every secret replaced by ``**********``."""
        out: dict[str, object] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                out[name] = REDACTED if value.get_secret_value() else None
            elif isinstance(value, Path):
                out[name] = str(value)
            else:
                out[name] = value
        out["resolved_provider"] = self.resolved_provider
        return out


def settings_with(settings: Settings, **values: object) -> Settings:
    """A copy of ``settings`` with ``values`` validated and set (which fields were set is kept).

    Raises:
        pydantic.ValidationError: a value is invalid for its field.
    """
    copy = settings.model_copy()
    for name, value in values.items():
        type(settings).__pydantic_validator__.validate_assignment(copy, name, value)
    return copy


def environment_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret settings given as ``TS_`` variables, read raw.

    For masking them when the settings themselves fail to validate (a bad unrelated variable must
    not unmask a key).

    Args:
        environ: The environment to read (default ``os.environ``).
    """
    env = os.environ if environ is None else environ
    return [env[f"TS_{name.upper()}"] for name in SECRET_FIELDS
            if env.get(f"TS_{name.upper()}")]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process.

    Settings from the environment, read once per process (``get_settings.cache_clear()`` re-reads).
    """
    return Settings()
