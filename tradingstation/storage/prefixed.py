"""PrefixedStore: a view of another store under a key prefix (staging areas, scratch runs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import override

from tradingstation.storage.base import ObjectInfo, ObjectStore


class PrefixedStore(ObjectStore):
    """Every key ``k`` of this store is ``prefix + k`` in the underlying store.

    Used for rebuild staging (``staging/<run>/``) and smoke tests against a scratch prefix:
    code written for an ``ObjectStore`` runs unchanged inside the prefix.
    """

    def __init__(self, inner: ObjectStore, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"

    def _strip(self, info: ObjectInfo | None) -> ObjectInfo | None:
        return None if info is None else replace(info, key=info.key[len(self.prefix):])

    @override
    def get_bytes(self, key: str) -> bytes:
        return self.inner.get_bytes(self.prefix + key)

    @override
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        return self._strip(self.inner.put_bytes(self.prefix + key, data, content_type))

    @override
    def head(self, key: str) -> ObjectInfo | None:
        return self._strip(self.inner.head(self.prefix + key))

    @override
    def recorded_hashes(self, key: str) -> tuple[str, ...]:
        return self.inner.recorded_hashes(self.prefix + key)

    @override
    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        return [self._strip(i) for i in self.inner.list_objects(self.prefix + prefix)]

    @override
    def list_objects_split(self, prefix: str, split_at: Sequence[str]) -> list[ObjectInfo]:
        inner = self.inner.list_objects_split(self.prefix + prefix,
                                              [self.prefix + k for k in split_at])
        return [self._strip(i) for i in inner]

    @override
    def delete(self, key: str) -> None:
        self.inner.delete(self.prefix + key)

    @override
    def copy(self, src: str, dst: str) -> ObjectInfo:
        return self._strip(self.inner.copy(self.prefix + src, self.prefix + dst))

    @override
    def describe(self) -> str:
        return f"{self.inner.describe()} under {self.prefix}"
