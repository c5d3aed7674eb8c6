"""A real S3 endpoint for tests: moto's threaded server on 127.0.0.1, plus bucket helpers.

Usage::

    with running_moto_server() as endpoint:          # "http://127.0.0.1:<port>"
        bucket = create_bucket(endpoint)
        store = S3Store(moto_s3_config(endpoint, bucket))

Moto keeps its state per process, so every server started in one test process shares the
same buckets; use a fresh bucket (``create_bucket`` picks a unique name) per test.
"""

from __future__ import annotations

import functools
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import requests
from botocore.config import Config as BotoConfig
from moto.server import ThreadedMotoServer

from tradingstation.storage.s3 import S3Config

MOTO_REGION = "us-east-1"
MOTO_ACCESS_KEY_ID = "testing"
MOTO_SECRET_ACCESS_KEY = "testing"


@contextmanager
def running_moto_server() -> Iterator[str]:
    """Run moto's S3-compatible server on 127.0.0.1 and yield its endpoint URL.

    Port 0 lets the OS pick a free port at bind time, so parallel runs never collide.
    The server is stopped (and its thread joined) on exit.
    """
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


_CLIENT_LOCK = threading.Lock()


@functools.cache
def moto_client(endpoint: str, service: str = "s3") -> Any:
    """A plain boto3 client for ``service`` against the moto server (independent of S3Store).

    Clients are cached per endpoint and service: creating one is slow, using one is
    thread-safe.
    """
    with _CLIENT_LOCK:
        return _session().client(
        service,
            endpoint_url=endpoint,
            region_name=MOTO_REGION,
            aws_access_key_id=MOTO_ACCESS_KEY_ID,
            aws_secret_access_key=MOTO_SECRET_ACCESS_KEY,
            config=BotoConfig(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


def create_bucket(endpoint: str, name: str | None = None) -> str:
    """Create a bucket (a unique ``ts-test-...`` name unless given) and return its name."""
    name = name or f"ts-test-{uuid.uuid4().hex[:16]}"
    moto_client(endpoint).create_bucket(Bucket=name)
    return name


def delete_bucket(endpoint: str, name: str) -> None:
    """Empty and delete a bucket created by :func:`create_bucket`."""
    client = moto_client(endpoint)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


def moto_s3_config(endpoint: str, bucket: str, prefix: str = "") -> S3Config:
    """An :class:`S3Config` pointing at the moto server with its test credentials."""
    return S3Config(
        bucket=bucket,
        endpoint_url=endpoint,
        region=MOTO_REGION,
        access_key_id=MOTO_ACCESS_KEY_ID,
        secret_access_key=MOTO_SECRET_ACCESS_KEY,
        prefix=prefix,
    )


@contextmanager
def moto_auth_enforced(endpoint: str) -> Iterator[None]:
    """Make the moto server check signatures and access keys (it accepts anything by default).

    Only keys created through moto's IAM (``iam.create_access_key``) are valid while this is
    active. The previous setting is restored on exit.
    """
    response = requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=10)
    response.raise_for_status()
    previous = response.json()["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]
    try:
        yield
    finally:
        requests.post(f"{endpoint}/moto-api/reset-auth", data=previous.encode(), timeout=10)


def unused_local_port() -> int:
    """A 127.0.0.1 TCP port nothing listens on (bound, then released), for unreachable URLs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
