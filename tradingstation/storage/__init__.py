"""Object storage: one interface, a local-directory and an S3 backend; every key from keys.py."""

from tradingstation.storage.base import ObjectInfo, ObjectStore
from tradingstation.storage.factory import open_store

__all__ = ["ObjectInfo", "ObjectStore", "open_store"]
