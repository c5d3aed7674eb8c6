"""S3Store specifics against moto's server: endpoint and prefix, missing hashes, credentials,
missing bucket, unreachable endpoint, config validation."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.moto_server import (
    MOTO_REGION,
    moto_auth_enforced,
    moto_client,
    moto_s3_config,
    unused_local_port,
)
from tradingstation.errors import (
    ConfigError,
    StorageError,
    TransientError,
)
from tradingstation.storage.s3 import S3Config, S3Store


def test_s3_uses_the_custom_endpoint_and_prefix(moto_endpoint: str, s3_bucket: str) -> None:
    store = S3Store(moto_s3_config(moto_endpoint, s3_bucket, prefix="/team/ts/"))
    store.put_bytes("bars/daily/AAPL.parquet", b"abc", "application/vnd.apache.parquet")
    raw = moto_client(moto_endpoint)
    obj = raw.get_object(Bucket=s3_bucket, Key="team/ts/bars/daily/AAPL.parquet")
    assert obj["Body"].read() == b"abc"
    assert obj["Metadata"] == {"sha256": hashlib.sha256(b"abc").hexdigest()}
    assert obj["ContentType"] == "application/vnd.apache.parquet"
    # Objects outside the prefix and console folder markers are not part of the store.
    raw.put_object(Bucket=s3_bucket, Key="elsewhere/x", Body=b"1")
    raw.put_object(Bucket=s3_bucket, Key="team/ts/folder/", Body=b"")
    raw.put_object(Bucket=s3_bucket, Key="team/tsx/y", Body=b"1")
    assert [i.key for i in store.list_objects()] == ["bars/daily/AAPL.parquet"]
    assert store.describe() == f"s3://{s3_bucket}/team/ts at {moto_endpoint} ({MOTO_REGION})"


def test_s3_head_without_recorded_hash_reports_none(moto_endpoint: str, s3_bucket: str) -> None:
    moto_client(moto_endpoint).put_object(Bucket=s3_bucket, Key="foreign", Body=b"12345")
    info = S3Store(moto_s3_config(moto_endpoint, s3_bucket)).head("foreign")
    assert (info.size, info.sha256) == (5, None)


def test_s3_wrong_credentials_raise_config_error_without_secret(
    moto_endpoint: str, s3_bucket: str
) -> None:
    iam = moto_client(moto_endpoint, "iam")
    user = f"u-{s3_bucket}"
    iam.create_user(UserName=user)
    real_key_id = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    secret = "Sup3rSecretValue/NeverPrint+123"
    attempts = {
        code: S3Config(s3_bucket, moto_endpoint, MOTO_REGION, key_id, secret)
        for code, key_id in (
            ("InvalidAccessKeyId", "AKIAUNKNOWN0001"),
            ("SignatureDoesNotMatch", real_key_id),
        )
    }
    with moto_auth_enforced(moto_endpoint):
        for code, config in attempts.items():
            store = S3Store(config)
            assert secret not in repr(config) and secret not in repr(store)
            for operation in (
                lambda s=store: s.put_bytes("x/y", b"1"),
                lambda s=store: s.get_bytes("x/y"),
                lambda s=store: s.list_objects(),
                lambda s=store: s.head("x/y"),
            ):
                with pytest.raises(ConfigError) as caught:
                    operation()
                message = str(caught.value)
                assert secret not in message and config.access_key_id not in message
                assert "\n" not in message
            assert code in message or "403" in message


def test_s3_missing_bucket_is_a_config_error(moto_endpoint: str) -> None:
    store = S3Store(moto_s3_config(moto_endpoint, "ts-no-such-bucket"))
    with pytest.raises(ConfigError, match="NoSuchBucket"):
        store.list_objects()
    with pytest.raises(ConfigError, match="NoSuchBucket"):
        store.put_bytes("x", b"1")


def test_s3_unreachable_endpoint_is_a_transient_storage_error() -> None:
    endpoint = f"http://127.0.0.1:{unused_local_port()}"
    store = S3Store(moto_s3_config(endpoint, "bucket"))
    for operation in (
        lambda: store.put_bytes("x", b"1"),
        lambda: store.get_bytes("x"),
        lambda: store.head("x"),
        lambda: store.list_objects(),
        lambda: store.delete("x"),
        lambda: store.copy("x", "y"),
    ):
        with pytest.raises(StorageError, match="EndpointConnectionError") as caught:
            operation()
        assert isinstance(caught.value, TransientError)


def test_s3_config_repr_and_validation() -> None:
    config = S3Config("b", "https://nyc3.digitaloceanspaces.com", "nyc3", "DO00KEYID", "s3cr3t")
    assert "s3cr3t" not in repr(config) and "DO00KEYID" not in repr(config)
    assert "nyc3.digitaloceanspaces.com" in repr(config)
    for bad in (
        {"bucket": ""},
        {"bucket": "b", "endpoint_url": "nyc3.digitaloceanspaces.com"},
        {"bucket": "b", "prefix": "a/../b"},
    ):
        with pytest.raises(ConfigError):
            S3Config(**bad)
    store = S3Store(S3Config("b", "https://user:pw@example.test", "nyc3", "id", "pw"))
    assert "pw" not in store.describe()
