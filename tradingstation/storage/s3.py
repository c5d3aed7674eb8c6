"""S3 object store for any S3-compatible endpoint (DigitalOcean Spaces, MinIO, AWS)."""

from __future__ import annotations

import base64
import functools
import hashlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from tradingstation.errors import (
    ConfigError,
    ObjectNotFoundError,
    StorageError,
    TradingStationError,
)
from tradingstation.storage.base import ObjectInfo, ObjectStore, sha256_hex
from tradingstation.storage.local import validate_key_prefix, validate_object_key

DEFAULT_REGION = "us-east-1"
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
# Above get_many's 16 workers so concurrent reads never wait for a pooled connection.
MAX_POOL_CONNECTIONS = 32

_NOT_FOUND_CODES = {"NoSuchKey", "NotFound", "404"}
_CREDENTIAL_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "AllAccessDisabled",
    "AccountProblem",
    "403",
}
_BUCKET_CODES = {"NoSuchBucket", "InvalidBucketName", "PermanentRedirect", "301"}


_SESSION_LOCK = threading.Lock()


@functools.cache
def _shared_session() -> boto3.session.Session:
    # One session per process caches the parsed service models, which makes every client after
    # the first cheap; sessions are not thread-safe, so clients are created under a lock.
    return boto3.session.Session()


def _plain(value: Any) -> str | None:
    # Accepts pydantic SecretStr (Settings, prefect-aws AwsCredentials) as well as str.
    if value is None:
        return None
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    return str(value) or None


@dataclass(frozen=True)
class S3Config:
    """Where and how to reach an S3-compatible bucket. Secrets never appear in its repr.

    Example (DigitalOcean Spaces)::

        S3Config(bucket="my-space", endpoint_url="https://nyc3.digitaloceanspaces.com",
                 region="nyc3", access_key_id="DO00...", secret_access_key="...",
                 prefix="tradingstation")

    Attributes:
        bucket: Bucket (Space) name.
        endpoint_url: ``https://<region>.digitaloceanspaces.com``; None = AWS default endpoint.
        region: Region name (``nyc3``); None = ``us-east-1``.
        access_key_id: Access key id (str or SecretStr); None = boto3's default credential chain.
        secret_access_key: Secret access key (str or SecretStr).
        prefix: Optional folder inside the bucket under which every key lives.
    """

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    prefix: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.bucket, str) or not self.bucket.strip():
            raise ConfigError("S3 bucket name is empty")
        object.__setattr__(self, "bucket", self.bucket.strip())
        object.__setattr__(self, "access_key_id", _plain(self.access_key_id))
        object.__setattr__(self, "secret_access_key", _plain(self.secret_access_key))
        object.__setattr__(self, "endpoint_url", (self.endpoint_url or "").strip() or None)
        object.__setattr__(self, "region", (self.region or "").strip() or None)
        if self.endpoint_url is not None:
            parts = urlsplit(self.endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(
                    f"S3 endpoint must be an http(s) URL, got {_public_url(self.endpoint_url)!r}"
                )
        prefix = (self.prefix or "").strip("/")
        if prefix:
            try:
                validate_object_key(prefix)
            except TradingStationError:
                raise ConfigError(f"invalid S3 key prefix {prefix[:60]!r}") from None
        object.__setattr__(self, "prefix", prefix)


def _as_utc(moment: datetime | None) -> datetime | None:
    # botocore hands out tzutc/tzlocal datetimes depending on the call; normalise to UTC.
    return moment.astimezone(UTC) if moment is not None else None


def _public_url(url: str) -> str:
    # Drops any user:password@ an operator might have pasted into the endpoint.
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return parts._replace(netloc=netloc).geturl()
    return url


class S3Store(ObjectStore):
    """Objects in an S3 bucket, optionally under a key prefix.

    Every write is one PUT carrying the content sha256 as user metadata (``x-amz-meta-sha256``)
    and a Content-MD5 the server checks. The client does not retry (the task layer owns
    retries) and only computes checksums when an operation requires them, which non-AWS
    endpoints need with recent boto3.

    Errors: a missing key raises ``ObjectNotFoundError``; rejected credentials or a missing
    bucket raise ``ConfigError``; connection failures, timeouts and 5xx raise ``StorageError``.

    Args:
        config: Bucket, endpoint and credentials.
    """

    def __init__(self, config: S3Config) -> None:
        self.config = config
        boto_config = BotoConfig(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            # At most one quick retry here: the task layer owns retries with real backoff.
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            max_pool_connections=MAX_POOL_CONNECTIONS,
        )
        try:
            with _SESSION_LOCK:
                self._client = _shared_session().client(
                    "s3",
                    endpoint_url=config.endpoint_url,
                    region_name=config.region or DEFAULT_REGION,
                    aws_access_key_id=config.access_key_id,
                    aws_secret_access_key=config.secret_access_key,
                    config=boto_config,
                )
        except (BotoCoreError, ValueError) as exc:
            raise ConfigError(
                f"cannot set up S3 client for {self.describe()}: {type(exc).__name__}"
            ) from None

    def __repr__(self) -> str:
        return f"S3Store({self.describe()!r})"

    def describe(self) -> str:
        """Where data lives, e.g. ``s3://bucket/prefix at https://nyc3... (nyc3)``; no secrets."""
        cfg = self.config
        location = f"s3://{cfg.bucket}/{cfg.prefix}" if cfg.prefix else f"s3://{cfg.bucket}"
        endpoint = _public_url(cfg.endpoint_url) if cfg.endpoint_url else "the AWS endpoint"
        return f"{location} at {endpoint} ({cfg.region or DEFAULT_REGION})"

    def _full(self, key: str) -> str:
        validate_object_key(key)
        return f"{self.config.prefix}/{key}" if self.config.prefix else key

    @contextmanager
    def _translated(self, operation: str, key: str) -> Iterator[None]:
        """Turn boto errors into the package's typed errors, with no secret in the message."""
        try:
            yield
        except ClientError as exc:
            raise self._client_error(exc, operation, key) from None
        except (NoCredentialsError, PartialCredentialsError):
            raise ConfigError(
                f"no complete S3 credentials for {self.describe()}: set the access key id "
                "and secret"
            ) from None
        except BotoCoreError as exc:
            raise StorageError(
                f"S3 {operation} {key} failed: {type(exc).__name__} talking to {self.describe()}"
            ) from None

    def _client_error(self, exc: ClientError, operation: str, key: str) -> TradingStationError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _NOT_FOUND_CODES:
            return ObjectNotFoundError(f"no object at {key} in {self.describe()}")
        if code in _CREDENTIAL_CODES:
            return ConfigError(
                f"S3 refused {operation} on {self.describe()} ({code}): check the access key "
                "id, secret and bucket permissions"
            )
        if code in _BUCKET_CODES:
            return ConfigError(
                f"S3 bucket problem for {self.describe()} ({code}): check bucket name, "
                "region and endpoint"
            )
        return StorageError(
            f"S3 {operation} {key} failed on {self.describe()}: {code} (HTTP {status})"
        )

    def get_bytes(self, key: str) -> bytes:
        """Return the object's content. Raises ``ObjectNotFoundError`` if it does not exist."""
        full = self._full(key)
        with self._translated("get", key):
            response = self._client.get_object(Bucket=self.config.bucket, Key=full)
            try:
                return response["Body"].read()
            except OSError as exc:
                raise StorageError(
                    f"S3 get {key} broke off while reading: {type(exc).__name__}"
                ) from None

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        """Write ``data`` at ``key`` with one PUT, recording its sha256 as object metadata."""
        full = self._full(key)
        data = bytes(data)
        digest = sha256_hex(data)
        extra = {"ContentType": content_type} if content_type else {}
        with self._translated("put", key):
            self._client.put_object(
                Bucket=self.config.bucket,
                Key=full,
                Body=data,
                ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode("ascii"),
                Metadata={"sha256": digest},
                **extra,
            )
        return ObjectInfo(key, len(data), digest)

    def head(self, key: str) -> ObjectInfo | None:
        """Info of the object at ``key`` with the sha256 recorded at write time, or None."""
        full = self._full(key)
        try:
            with self._translated("head", key):
                response = self._client.head_object(Bucket=self.config.bucket, Key=full)
        except ObjectNotFoundError:
            return None
        return ObjectInfo(
            key,
            int(response.get("ContentLength", 0)),
            response.get("Metadata", {}).get("sha256"),
            _as_utc(response.get("LastModified")),
        )

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """All objects whose key starts with ``prefix``, sorted by key.

        Listings do not carry user metadata on S3, so ``sha256`` is None here (use ``head``);
        ``etag`` is set, so ``ObjectInfo.version`` tells a rewritten object from an unchanged one.
        Folder markers (keys ending in ``/``) made by web consoles are skipped.
        """
        prefix = validate_key_prefix(prefix)
        return self._list_range(prefix, None, None)

    def list_objects_split(self, prefix: str, split_at: Sequence[str]) -> list[ObjectInfo]:
        """``list_objects(prefix)``, listing the key ranges between ``split_at`` keys at once.

        S3 pages a listing 1,000 keys at a time, one page after the other; split at keys about
        a page apart (a previous listing's), a listing of thousands of objects costs one
        round trip instead of one per page.
        """
        prefix = validate_key_prefix(prefix)
        bounds = sorted({b for b in split_at if b.startswith(prefix)})
        if not bounds:
            return self._list_range(prefix, None, None)
        ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
        with ThreadPoolExecutor(max_workers=min(16, len(ranges))) as pool:
            parts = list(pool.map(lambda r: self._list_range(prefix, *r), ranges))
        return [info for part in parts for info in part]

    def _list_range(self, prefix: str, after: str | None, last: str | None) -> list[ObjectInfo]:
        """Objects under ``prefix`` with ``after < key <= last`` (unbounded where None)."""
        root = f"{self.config.prefix}/" if self.config.prefix else ""
        found: list[ObjectInfo] = []
        query: dict[str, Any] = {"Bucket": self.config.bucket, "Prefix": root + prefix}
        if after is not None:
            query["StartAfter"] = root + after
        with self._translated("list", prefix or "/"):
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(**query):
                for item in page.get("Contents", []):
                    key = item["Key"][len(root) :]
                    if last is not None and key > last:
                        return sorted(found, key=lambda info: info.key)
                    try:
                        validate_object_key(key)
                    except TradingStationError:
                        continue  # folder markers and keys this package never writes
                    modified = _as_utc(item["LastModified"])
                    etag = str(item.get("ETag") or "").strip('"') or None
                    found.append(ObjectInfo(key, int(item["Size"]), None, modified, etag))
        return sorted(found, key=lambda info: info.key)

    def delete(self, key: str) -> None:
        """Delete ``key``; deleting a missing key is not an error (S3 answers 204 either way)."""
        full = self._full(key)
        with self._translated("delete", key):
            self._client.delete_object(Bucket=self.config.bucket, Key=full)

    def copy(self, src: str, dst: str) -> ObjectInfo:
        """Server-side copy of ``src`` to ``dst``, metadata (and so the sha256) included."""
        full_src, full_dst = self._full(src), self._full(dst)
        with self._translated("copy", src):
            self._client.copy_object(
                Bucket=self.config.bucket,
                Key=full_dst,
                CopySource={"Bucket": self.config.bucket, "Key": full_src},
                MetadataDirective="COPY",
            )
        info = self.head(dst)
        if info is None:
            raise StorageError(f"S3 copy of {src} to {dst} reported success but {dst} is missing")
        return info
