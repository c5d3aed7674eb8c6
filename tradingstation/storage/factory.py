"""Store selection: turns Settings (and an optional S3Config) into the configured ObjectStore."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tradingstation.config import Settings
from tradingstation.errors import ConfigError
from tradingstation.storage.base import ObjectStore
from tradingstation.storage.local import LocalStore

if TYPE_CHECKING:
    from tradingstation.storage.s3 import S3Config


def s3_config_from_settings(settings: Settings) -> S3Config:
    """Build an :class:`S3Config` from the ``TS_S3_*`` settings.

    Args:
        settings: The settings to read.

    Returns:
        The S3 configuration (endpoint and region are optional; None means AWS defaults).

    Raises:
        ConfigError: A required ``TS_S3_*`` variable is missing; the message names them all.
    """
    # Imported here so that local-only processes never pay for importing boto3.
    from tradingstation.storage.s3 import S3Config

    required = {
        "TS_S3_BUCKET": settings.s3_bucket,
        "TS_S3_ACCESS_KEY_ID": settings.s3_access_key_id,
        "TS_S3_SECRET_ACCESS_KEY": settings.s3_secret_access_key,
    }
    missing = [
        name
        for name, value in required.items()
        if not value or (hasattr(value, "get_secret_value") and not value.get_secret_value())
    ]
    if missing:
        raise ConfigError(
            f"S3 storage needs {', '.join(missing)} (or a prefect-aws S3Bucket block "
            f"named by TS_S3_BLOCK)"
        )
    return S3Config(
        bucket=str(settings.s3_bucket),
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
        prefix=settings.s3_prefix,
    )


def open_store(settings: Settings, s3: S3Config | None = None) -> ObjectStore:
    """Open the store that ``settings.storage_backend`` selects.

    Args:
        settings: Settings; ``data_dir`` is used by the local backend.
        s3: S3 configuration to use instead of the ``TS_S3_*`` settings (e.g. one built
            from a prefect-aws S3Bucket block). Only used by the s3 backend.

    Returns:
        A :class:`LocalStore` or an :class:`S3Store`.

    Raises:
        ConfigError: The s3 backend is selected but not fully configured.
    """
    if settings.storage_backend == "local":
        root = Path(settings.data_dir).expanduser()
        if root.exists() and not root.is_dir():
            raise ConfigError(f"TS_DATA_DIR {str(root)[:200]} is not a directory (a file is "
                              "in the way); point TS_DATA_DIR at the data directory")
        return LocalStore(root)
    if settings.storage_backend == "s3":
        from tradingstation.storage.s3 import S3Store

        return S3Store(s3 or s3_config_from_settings(settings))
    raise ConfigError(f"unknown storage backend {settings.storage_backend!r}: expected local | s3")
