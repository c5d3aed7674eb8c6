"""Storage fixtures: one moto S3 server per session, a fresh bucket per test, both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.moto_server import (
    create_bucket,
    delete_bucket,
    moto_s3_config,
    running_moto_server,
)
from tradingstation.storage.base import ObjectStore
from tradingstation.storage.local import LocalStore
from tradingstation.storage.s3 import S3Store


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Endpoint URL of a moto S3 server on 127.0.0.1, stopped at the end of the session."""
    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(moto_endpoint: str) -> Iterator[str]:
    """A fresh, empty bucket for one test, deleted afterwards."""
    name = create_bucket(moto_endpoint)
    yield name
    delete_bucket(moto_endpoint, name)


@pytest.fixture(params=["local", "s3", "s3-prefixed"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """The store under contract test: a local directory, S3 at the bucket root, S3 under a
    prefix (the moto server is only started when an S3 variant runs)."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    prefix = "team/tradingstation" if request.param == "s3-prefixed" else ""
    return S3Store(moto_s3_config(endpoint, bucket, prefix))
