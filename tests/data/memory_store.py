"""In-memory ObjectStore (a complete backend) and a LocalStore that counts writes, for tests."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

from tradingstation.errors import ObjectNotFoundError
from tradingstation.storage.base import ObjectInfo, ObjectStore, sha256_hex
from tradingstation.storage.local import LocalStore


class MemoryStore(ObjectStore):
    """A thread-safe dict-backed store counting writes and reads per key (``puts``, ``gets``)
    and listings per prefix (``lists``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, tuple[bytes, ObjectInfo]] = {}
        self.puts: Counter[str] = Counter()
        self.gets: Counter[str] = Counter()
        self.lists: Counter[str] = Counter()

    def get_bytes(self, key: str) -> bytes:
        with self._lock:
            self.gets[key] += 1
            if key not in self._objects:
                raise ObjectNotFoundError(f"no object at {key}")
            return self._objects[key][0]

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        info = ObjectInfo(key, len(data), sha256_hex(data), datetime.now(UTC))
        with self._lock:
            self._objects[key] = (bytes(data), info)
            self.puts[key] += 1
        return info

    def head(self, key: str) -> ObjectInfo | None:
        with self._lock:
            entry = self._objects.get(key)
        return entry[1] if entry else None

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        with self._lock:
            self.lists[prefix] += 1
            return [info for key, (_, info) in sorted(self._objects.items())
                    if key.startswith(prefix)]

    def delete(self, key: str) -> None:
        with self._lock:
            self._objects.pop(key, None)

    def copy(self, src: str, dst: str) -> ObjectInfo:
        return self.put_bytes(dst, self.get_bytes(src))

    def describe(self) -> str:
        return "memory store"

    @property
    def total_puts(self) -> int:
        """Writes since creation (or the last ``reset_counts``)."""
        return sum(self.puts.values())

    def reset_counts(self) -> None:
        """Forget the read, write and listing counts."""
        self.puts.clear()
        self.gets.clear()
        self.lists.clear()


class CountingLocalStore(LocalStore):
    """The real local-directory backend, counting reads and writes per key."""

    def __init__(self, root) -> None:
        super().__init__(root)
        self._count_lock = threading.Lock()
        self.puts: Counter[str] = Counter()
        self.gets: Counter[str] = Counter()

    def get_bytes(self, key: str) -> bytes:
        with self._count_lock:
            self.gets[key] += 1
        return super().get_bytes(key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        info = super().put_bytes(key, data, content_type)
        with self._count_lock:
            self.puts[key] += 1
        return info

    @property
    def total_puts(self) -> int:
        """Writes since creation (or the last ``reset_counts``)."""
        return sum(self.puts.values())

    def reset_counts(self) -> None:
        """Forget the read and write counts."""
        self.puts.clear()
        self.gets.clear()
