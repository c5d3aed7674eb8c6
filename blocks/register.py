"""Block registration: create or update TradingStation's Prefect blocks from TS_* settings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from prefect.blocks.notifications import CustomWebhookNotificationBlock, SlackWebhook
from prefect.blocks.system import Secret
from prefect_aws import AwsCredentials, S3Bucket
from prefect_aws.client_parameters import AwsClientParameters

from blocks.resolve import _load_block
from tradingstation.config import Settings, get_settings
from tradingstation.errors import ConfigError

SLACK_HOOK_RE = re.compile(r"^https://hooks\.slack(-gov)?\.com/services/", re.I)
NOTIFICATION_BLOCK = "tradingstation-alerts"
# The block types register_blocks may save the webhook as (Slack, or any other URL).
NOTIFICATION_TYPES = ("slack-webhook", "custom-webhook")


def credentials_block_name(settings: Settings) -> str:
    """Name of the ``AwsCredentials`` block paired with the ``S3Bucket`` block."""
    return f"{settings.s3_block}-credentials"


@dataclass
class RegisteredBlocks:
    """What ``register_blocks`` wrote (block type slug and name), and what it skipped and why.

    Attributes:
        written: ``(block type, block name)`` of every block created or updated.
        skipped: One sentence per block not written (its settings were absent).
    """

    written: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None and value.get_secret_value() else None


def _register_storage(settings: Settings, out: RegisteredBlocks) -> None:
    if not settings.s3_bucket:
        out.skipped.append("S3Bucket: TS_S3_BUCKET is not set")
        return
    key_id = _secret(settings.s3_access_key_id)
    secret = _secret(settings.s3_secret_access_key)
    if bool(key_id) != bool(secret):
        raise ConfigError(
            "TS_S3_ACCESS_KEY_ID and TS_S3_SECRET_ACCESS_KEY must be set together"
        )
    credentials = AwsCredentials(
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        region_name=settings.s3_region,
        aws_client_parameters=AwsClientParameters(endpoint_url=settings.s3_endpoint_url),
    )
    cred_name = credentials_block_name(settings)
    credentials.save(cred_name, overwrite=True)
    out.written.append(("aws-credentials", cred_name))
    # Loading back gives the saved document id so S3Bucket references it instead of
    # embedding a second copy of the secret.
    bucket = S3Bucket(
        bucket_name=settings.s3_bucket,
        credentials=AwsCredentials.load(cred_name),
        bucket_folder=settings.s3_prefix,
    )
    bucket.save(settings.s3_block, overwrite=True)
    out.written.append(("s3-bucket", settings.s3_block))


def _register_api_key(settings: Settings, out: RegisteredBlocks) -> None:
    key = _secret(settings.alphavantage_api_key)
    if not key:
        name = settings.alphavantage_secret_block
        if _load_block(Secret, name) is None:
            out.skipped.append(f"Secret: TS_ALPHAVANTAGE_API_KEY is not set and there is no "
                               f"Secret block {name!r} (flows use the demo market)")
        else:  # an earlier registration's key stays in force: say so, and how to drop it
            out.skipped.append(
                f"Secret: TS_ALPHAVANTAGE_API_KEY is not set; the existing Secret block "
                f"{name!r} is kept and flows use its key (Alpha Vantage) unless the worker sets "
                f"TS_PROVIDER=demo. To use the demo market: prefect block delete secret/{name}")
        return
    Secret(value=key).save(settings.alphavantage_secret_block, overwrite=True)
    out.written.append(("secret", settings.alphavantage_secret_block))


def notification_block(url: str) -> SlackWebhook | CustomWebhookNotificationBlock:
    """The notification block for ``url``.

    ``SlackWebhook`` for a Slack incoming webhook, else a generic JSON POST (``{"subject",
    "text"}``) whose URL is kept as a block secret.
    """
    if SLACK_HOOK_RE.match(url):
        return SlackWebhook(url=url)
    # The URL often carries a token: keep it in the block's secrets, not in the plain url field.
    return CustomWebhookNotificationBlock(
        name="tradingstation",
        url="{{webhook_url}}",
        method="POST",
        json_data={"subject": "{{subject}}", "text": "{{body}}"},
        secrets={"webhook_url": url},
    )


def _register_notifications(settings: Settings, out: RegisteredBlocks) -> None:
    url = _secret(settings.webhook_url)
    if not url:
        out.skipped.append("notification: TS_WEBHOOK_URL is not set (alerts cannot be sent)")
        return
    if not url.startswith(("https://", "http://")):
        raise ConfigError("TS_WEBHOOK_URL must be an http(s) URL")
    block = notification_block(url)
    block.save(NOTIFICATION_BLOCK, overwrite=True)
    out.written.append((block.get_block_type_slug(), NOTIFICATION_BLOCK))


def register_blocks(settings: Settings | None = None) -> RegisteredBlocks:
    """Create or update every TradingStation block from settings (idempotent).

    Blocks written when their settings are present:

    - ``AwsCredentials`` ``<s3_block>-credentials`` + ``S3Bucket`` ``<s3_block>`` from
      ``TS_S3_BUCKET``, ``TS_S3_ENDPOINT_URL``, ``TS_S3_REGION``, ``TS_S3_ACCESS_KEY_ID``,
      ``TS_S3_SECRET_ACCESS_KEY``, ``TS_S3_PREFIX``;
    - ``Secret`` ``<alphavantage_secret_block>`` from ``TS_ALPHAVANTAGE_API_KEY``;
    - a notification block ``tradingstation-alerts`` from ``TS_WEBHOOK_URL``.

    Args:
        settings: Settings to read; the process settings when None.

    Returns:
        What was written and what was skipped.

    Raises:
        ConfigError: A setting is malformed (half a key pair, a non-http webhook).
    """
    settings = settings or get_settings()
    out = RegisteredBlocks()
    _register_storage(settings, out)
    _register_api_key(settings, out)
    _register_notifications(settings, out)
    return out
