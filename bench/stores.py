"""An ObjectStore wrapper that counts what the code under benchmark reads and writes."""

from __future__ import annotations

import threading
from collections import Counter

from tradingstation.storage.base import ObjectInfo, ObjectStore


class CountingStore(ObjectStore):
    """Delegates every primitive to ``inner`` and counts objects and bytes per operation.

    ``writes_by_key`` records every key written, so a rerun can show which objects were
    rewritten (none should be, when nothing changed).
    """

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self.ops: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        self.writes_by_key: Counter[str] = Counter()

    def reset(self) -> None:
        """Forget the counts (between benchmark phases)."""
        with self._lock:
            self.ops.clear()
            self.bytes.clear()
            self.writes_by_key.clear()

    def snapshot(self) -> dict:
        """Counts so far: objects read/written, bytes read/written, lists and heads."""
        with self._lock:
            return {
                "objects_read": self.ops["get"],
                "bytes_read": self.bytes["get"],
                "objects_written": self.ops["put"],
                "bytes_written": self.bytes["put"],
                "lists": self.ops["list"],
                "heads": self.ops["head"],
                "deletes": self.ops["delete"],
                "written_prefixes": dict(Counter(k.split("/", 1)[0]
                                                 for k in self.writes_by_key.elements())),
            }

    def _count(self, op: str, size: int = 0, key: str | None = None) -> None:
        with self._lock:
            self.ops[op] += 1
            self.bytes[op] += size
            if key is not None:
                self.writes_by_key[key] += 1

    def get_bytes(self, key: str) -> bytes:
        """Counted read."""
        data = self.inner.get_bytes(key)
        self._count("get", len(data))
        return data

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        """Counted write."""
        info = self.inner.put_bytes(key, data, content_type)
        self._count("put", len(data), key)
        return info

    def head(self, key: str) -> ObjectInfo | None:
        """Counted head."""
        self._count("head")
        return self.inner.head(key)

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """Counted listing."""
        self._count("list")
        return self.inner.list_objects(prefix)

    def list_objects_split(self, prefix: str, split_at) -> list[ObjectInfo]:
        """Counted listing (split as the inner store lists it)."""
        self._count("list")
        return self.inner.list_objects_split(prefix, split_at)

    def delete(self, key: str) -> None:
        """Counted delete."""
        self._count("delete")
        self.inner.delete(key)

    def copy(self, src: str, dst: str) -> ObjectInfo:
        """Counted server-side copy (a write of ``dst``)."""
        info = self.inner.copy(src, dst)
        self._count("put", info.size, dst)
        return info

    def describe(self) -> str:
        """The inner store's description."""
        return f"counting({self.inner.describe()})"
