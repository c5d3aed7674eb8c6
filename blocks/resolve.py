"""Resolution of the store and provider a flow uses: Prefect blocks first, then TS_* settings."""

from __future__ import annotations

import logging
from datetime import datetime

from blocks.ratelimit import GlobalRateLimiter, ensure_rate_limit
from tradingstation import redaction
from tradingstation.config import Settings
from tradingstation.errors import ConfigError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage.base import ObjectStore
from tradingstation.storage.factory import open_store

log = logging.getLogger("tradingstation.blocks")


def api_configured() -> bool:
    """Whether a Prefect API server is configured (``PREFECT_API_URL``), not ephemeral mode."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def _load_block(block_cls, name: str):
    """Load a block document by name, or None when it does not exist or no API answers."""
    try:
        return block_cls.load(name)
    except ValueError:  # Prefect raises ValueError for "no block document named ..."
        return None
    except Exception as exc:  # an unreachable API must not stop a run that has env settings
        log.warning("could not load block %s: %s", name, type(exc).__name__)
        return None


def s3_config_from_block(settings: Settings):
    """``S3Config`` built from the prefect-aws ``S3Bucket`` block ``settings.s3_block``.

    Returns:
        The configuration, or None when the block does not exist.
    """
    from prefect_aws import S3Bucket

    from tradingstation.storage.s3 import S3Config

    bucket = _load_block(S3Bucket, settings.s3_block)
    if bucket is None:
        return None
    creds = bucket.credentials
    params = getattr(creds, "aws_client_parameters", None)
    secret = getattr(creds, "aws_secret_access_key", None)
    key_id = getattr(creds, "aws_access_key_id", None)
    redaction.add_secrets([key_id, secret.get_secret_value() if secret else None])
    return S3Config(
        bucket=bucket.bucket_name,
        endpoint_url=getattr(params, "endpoint_url", None),
        region=getattr(creds, "region_name", None),
        access_key_id=key_id,
        secret_access_key=secret,
        prefix=(bucket.bucket_folder or settings.s3_prefix or "").strip("/"),
    )


def resolve_store(settings: Settings) -> ObjectStore:
    """The object store a flow or command works on: the same one wherever it runs.

    The s3 backend uses the ``S3Bucket`` block named by ``TS_S3_BLOCK`` when it exists, else the
    ``TS_S3_*`` settings. With ``TS_STORAGE_BACKEND`` unset and a Prefect API configured (an
    operator's shell, a worker), the block's bucket is used when the block exists, as the flows
    use it; else ``settings.data_dir``. ``TS_STORAGE_BACKEND=local`` always opens the directory.

    Raises:
        ConfigError: The s3 backend is selected but neither a block nor settings configure it.
    """
    if settings.storage_backend != "s3":
        if "storage_backend" in settings.model_fields_set or not api_configured():
            return open_store(settings)
        config = s3_config_from_block(settings)
        if config is not None:
            return open_store(settings.model_copy(update={"storage_backend": "s3"}), config)
        return open_store(settings)
    redaction.add_secrets(settings.secret_values())
    config = s3_config_from_block(settings)
    if config is None and not settings.s3_bucket:
        raise ConfigError(
            f"storage backend is s3 but there is no S3Bucket block {settings.s3_block!r} and "
            "TS_S3_BUCKET is not set"
        )
    return open_store(settings, config)


def missing_operator_store(settings: Settings, store: ObjectStore) -> str | None:
    """Why ``store`` is not the flows' store, for an operator's command with a Prefect API.

    With a server the flows keep their data in the S3Bucket block's bucket; an operator's
    shell that finds no block and no local data directory would otherwise create an empty
    local store and report on it. ``None`` when ``store`` is fine to use.
    """
    if settings.storage_backend == "s3" or not api_configured():
        return None
    root = getattr(store, "root", None)
    if root is None or root.is_dir():
        return None
    return (f"no data to check here: local directory {settings.data_dir} does not exist and "
            f"there is no S3Bucket block {settings.s3_block!r}; set TS_S3_* and run "
            "`tradingstation blocks register`, or point TS_DATA_DIR at the flows' data")


def resolve_api_key(settings: Settings) -> str | None:
    """The Alpha Vantage key: ``TS_ALPHAVANTAGE_API_KEY``, else the ``Secret`` block, else None.

    Every key found is registered with log redaction before it is returned.
    """
    if settings.alphavantage_api_key and settings.alphavantage_api_key.get_secret_value():
        key = settings.alphavantage_api_key.get_secret_value()
    else:
        from prefect.blocks.system import Secret

        block = _load_block(Secret, settings.alphavantage_secret_block)
        key = str(block.get()) if block is not None else None
    if key:
        redaction.add_secrets([key])
    return key or None


def resolve_provider(settings: Settings, now: datetime) -> MarketDataProvider:
    """The market-data provider: Alpha Vantage when a key is configured, else the demo market.

    Args:
        settings: Settings (``provider``: auto | alphavantage | demo).
        now: The run's as-of instant; the demo market generates data up to it.

    Raises:
        ConfigError: ``TS_PROVIDER=alphavantage`` but no key is configured anywhere.
    """
    key = None if settings.provider == "demo" else resolve_api_key(settings)
    if key:
        from tradingstation.providers.alphavantage import AlphaVantageProvider
        from tradingstation.providers.ratelimit import RateLimiter

        limiter = RateLimiter(
            per_minute=settings.rate_limit_per_minute, per_day=settings.rate_limit_per_day
        )
        if api_configured():
            # Concurrent runs on one server share the plan's budget, not one each.
            ensure_rate_limit(settings.rate_limit_per_minute)
            limiter = GlobalRateLimiter(limiter, settings.rate_limit_per_minute)
        return AlphaVantageProvider(
            api_key=key,
            base_url=settings.alphavantage_base_url,
            limiter=limiter,
            timeout=settings.http_timeout_seconds,
        )
    if settings.provider == "alphavantage":
        raise ConfigError(
            "TS_PROVIDER=alphavantage but no API key: set TS_ALPHAVANTAGE_API_KEY or register "
            f"the Secret block {settings.alphavantage_secret_block!r}"
        )
    from tradingstation.providers.demo.market import DemoMarket

    return DemoMarket(seed=settings.demo_seed, n_symbols=settings.demo_symbols, now=now)
