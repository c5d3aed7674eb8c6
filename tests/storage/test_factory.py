"""Store selection from Settings: local by default, S3 from TS_S3_* or an explicit S3Config."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.moto_server import MOTO_REGION, moto_client, moto_s3_config
from tradingstation.config import Settings
from tradingstation.errors import ConfigError
from tradingstation.storage import open_store
from tradingstation.storage.factory import s3_config_from_settings
from tradingstation.storage.local import LocalStore
from tradingstation.storage.s3 import S3Store


def test_default_is_local_store_in_data_dir(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path / "d"))
    assert isinstance(store, LocalStore)
    store.put_bytes("x/y", b"1")
    assert (tmp_path / "d" / "x" / "y").read_bytes() == b"1"


def test_local_store_follows_ts_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path / "env-dir"))
    store = open_store(Settings())
    assert store.describe() == f"local directory {tmp_path / 'env-dir'}"


def test_s3_from_env_talks_to_that_endpoint(
    monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, s3_bucket: str
) -> None:
    for name, value in {
        "TS_STORAGE_BACKEND": "s3",
        "TS_S3_BUCKET": s3_bucket,
        "TS_S3_ENDPOINT_URL": moto_endpoint,
        "TS_S3_REGION": MOTO_REGION,
        "TS_S3_ACCESS_KEY_ID": "testing",
        "TS_S3_SECRET_ACCESS_KEY": "env-secret-value",
        "TS_S3_PREFIX": "/ts/",
    }.items():
        monkeypatch.setenv(name, value)
    store = open_store(Settings())
    assert isinstance(store, S3Store)
    assert "env-secret-value" not in repr(store) + store.describe() + repr(store.config)
    store.put_bytes("probe/x", b"hello")
    raw = moto_client(moto_endpoint).get_object(Bucket=s3_bucket, Key="ts/probe/x")
    assert raw["Body"].read() == b"hello"


def test_explicit_s3_config_wins_over_settings(moto_endpoint: str, s3_bucket: str) -> None:
    config = moto_s3_config(moto_endpoint, s3_bucket)
    store = open_store(Settings(storage_backend="s3"), s3=config)
    assert isinstance(store, S3Store) and store.config == config
    store.put_bytes("a", b"1")
    assert store.get_bytes("a") == b"1"


def test_missing_s3_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("TS_S3_ACCESS_KEY_ID", "kid-0001")
    with pytest.raises(ConfigError) as caught:
        open_store(Settings())
    message = str(caught.value)
    assert "TS_S3_BUCKET" in message and "TS_S3_SECRET_ACCESS_KEY" in message
    assert "TS_S3_ACCESS_KEY_ID" not in message.split("(")[0]
    assert "kid-0001" not in message


def test_s3_config_from_settings_copies_every_field() -> None:
    settings = Settings(
        s3_bucket="space",
        s3_endpoint_url="https://nyc3.digitaloceanspaces.com",
        s3_region="nyc3",
        s3_access_key_id="DO00ID",
        s3_secret_access_key="secret-01",
        s3_prefix="tradingstation",
    )
    config = s3_config_from_settings(settings)
    assert (config.bucket, config.endpoint_url, config.region, config.prefix) == (
        "space",
        "https://nyc3.digitaloceanspaces.com",
        "nyc3",
        "tradingstation",
    )
    assert (config.access_key_id, config.secret_access_key) == ("DO00ID", "secret-01")
    assert S3Store(config).describe() == (
        "s3://space/tradingstation at https://nyc3.digitaloceanspaces.com (nyc3)"
    )
