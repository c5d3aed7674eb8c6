"""The ObjectStore interface every storage backend implements, with the shared helpers."""

from __future__ import annotations

import hashlib
import io
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd

from tradingstation.errors import DataError, ObjectNotFoundError

T = TypeVar("T")
PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows about one object.

    Attributes:
        key: The object's key.
        size: Size in bytes.
        sha256: Hex sha256 of the content recorded at write time (None if unknown).
        modified: Last modification time (UTC), when the backend reports it.
        etag: The server's entity tag (S3), when the backend reports it.
    """

    key: str
    size: int
    sha256: str | None = None
    modified: datetime | None = None
    etag: str | None = None

    @property
    def version(self) -> str | None:
        """A token that changes whenever the object's content changes (None when unknown).

        The recorded sha256 where the backend has it (local listings), else the entity tag
        (S3 listings, whose tags change with the content). Compare versions taken the same way,
        e.g. from two listings.
        """
        if self.sha256:
            return f"sha256:{self.sha256}"
        return f"etag:{self.etag}" if self.etag else None


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class ObjectStore(ABC):
    """A flat key → bytes store. Keys come from :mod:`tradingstation.storage.keys` only.

    Writes are atomic: a reader sees the old object or the new one, never a partial one.
    Every write records the content's sha256 so ``verify`` can detect corruption.
    """

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """Return the object's content. Raises ``ObjectNotFoundError`` if it does not exist."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        """Write ``data`` at ``key`` atomically and return its info (with sha256)."""

    @abstractmethod
    def head(self, key: str) -> ObjectInfo | None:
        """Info of the object at ``key``, or None if there is none."""

    @abstractmethod
    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """All objects whose key starts with ``prefix``, sorted by key."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete ``key``; deleting a missing key is not an error."""

    @abstractmethod
    def copy(self, src: str, dst: str) -> ObjectInfo:
        """Copy ``src`` to ``dst`` (server-side where the backend can)."""

    def list_objects_split(self, prefix: str, split_at: Sequence[str]) -> list[ObjectInfo]:
        """``list_objects(prefix)``.

        A backend whose listings come in pages may list the key ranges between consecutive
        ``split_at`` keys concurrently (S3 does). The keys are only hints: the result is the same
        for any of them.
        """
        return self.list_objects(prefix)

    @abstractmethod
    def describe(self) -> str:
        """A one-line description of where data lives, with no secret in it."""

    # Shared helpers built on the primitives above.

    def recorded_hashes(self, key: str) -> tuple[str, ...]:
        """The sha256 digests the content of ``key`` may rightly have.

        The sha256 digests the content of ``key`` may rightly have, from what the store recorded at
        write (never from the content itself): empty when there is no record.

        The default asks :meth:`head` (on S3 the ``sha256`` metadata written with the PUT, so
        the record and the content change together). Backends that keep the record apart from
        the content override this to return it whatever the object's mtime or size say.
        """
        info = self.head(key)
        return (info.sha256,) if info is not None and info.sha256 else ()

    def exists(self, key: str) -> bool:
        """Whether an object exists at ``key``."""
        return self.head(key) is not None

    def get_many(self, keys: Iterable[str], max_workers: int = 16) -> dict[str, bytes]:
        """Fetch many objects concurrently. Missing keys are left out of the result."""
        return self.read_many(keys, lambda key, data: data, max_workers)

    def read_many(
        self, keys: Iterable[str], decode: Callable[[str, bytes], T], max_workers: int = 16
    ) -> dict[str, T]:
        """Fetch many objects concurrently and decode each one in the thread that fetched it.

        Decoding while other objects are still in flight overlaps the CPU work with the
        store's latency, instead of decoding only after the last object arrived.

        Args:
            keys: Keys to read.
            decode: ``decode(key, data)`` turns an object's bytes into the value returned.
            max_workers: Concurrent reads.

        Returns:
            ``{key: decode(key, data)}`` for the keys that exist (missing keys are left out).
        """
        keys = list(keys)

        def fetch(key: str) -> tuple[str, T | None, bool]:
            try:
                data = self.get_bytes(key)
            except ObjectNotFoundError:
                return key, None, False
            return key, decode(key, data), True

        if len(keys) <= 1:
            found = [fetch(k) for k in keys]
        else:
            with ThreadPoolExecutor(max_workers=min(max_workers, len(keys))) as pool:
                found = list(pool.map(fetch, keys))
        return {k: v for k, v, present in found if present}  # type: ignore[misc]

    def put_frame(self, key: str, frame: pd.DataFrame) -> ObjectInfo:
        """Write a DataFrame as parquet (bytes from :func:`frame_to_parquet`)."""
        return self.put_bytes(key, frame_to_parquet(frame), PARQUET_CONTENT_TYPE)

    def get_frame(self, key: str) -> pd.DataFrame:
        """Read a parquet DataFrame. Raises ``DataError`` if the object is not valid parquet."""
        return read_frame_bytes(key, self.get_bytes(key))

    def put_json(self, key: str, document: Any) -> ObjectInfo:
        """Write a JSON document (UTF-8, sorted keys)."""
        data = json.dumps(document, sort_keys=True, default=str, indent=1).encode()
        return self.put_bytes(key, data, "application/json")

    def get_json(self, key: str) -> Any:
        """Read a JSON document. Raises ``DataError`` if it is not valid JSON."""
        data = self.get_bytes(key)
        try:
            return json.loads(data)
        except ValueError as exc:
            raise DataError(f"object {key} is not valid JSON: {exc}") from None

    def usage(self, prefix: str = "") -> dict[str, dict[str, int]]:
        """Objects and bytes per top-level prefix (``bars/``, ``signals/`` ...) under ``prefix``."""
        totals: dict[str, dict[str, int]] = {}
        for info in self.list_objects(prefix):
            top = info.key.split("/", 1)[0] + "/"
            entry = totals.setdefault(top, {"objects": 0, "bytes": 0})
            entry["objects"] += 1
            entry["bytes"] += info.size
        return totals


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    """The parquet bytes every frame is stored as (no index; ``attrs`` kept as metadata).

    The one serializer: content hashes of frames compare only because every writer uses it.
    """
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def put_frame_if_changed(
    store: ObjectStore, key: str, frame: pd.DataFrame, stored: pd.DataFrame | None = None
) -> bool:
    """Write ``frame`` at ``key`` unless the stored object already holds the same content.

    The stored object's content hash is compared with the new bytes' hash; if they differ
    only by serialization (an older writer), the frames themselves are compared. A rerun that
    changes nothing therefore writes nothing.

    Args:
        store: The object store.
        key: Object key (from :mod:`tradingstation.storage.keys`).
        frame: The new content.
        stored: The stored frame when the caller already read it (saves a read).

    Returns:
        True if the object was written.
    """
    data = frame_to_parquet(frame)
    if stored is None:
        try:
            old = store.get_bytes(key)
        except ObjectNotFoundError:
            old = None
        if old is not None:
            if sha256_hex(old) == sha256_hex(data):
                return False
            try:
                stored = read_frame_bytes(key, old)
            except DataError:
                stored = None  # unreadable: replacing it is the repair
    if stored is not None and _same_frame(stored, frame):
        return False
    store.put_bytes(key, data, PARQUET_CONTENT_TYPE)
    return True


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    if a.attrs != b.attrs:
        # parquet keeps ``attrs`` (e.g. the provenance of bars): the same bars from another
        # provider still change the object
        return False
    try:
        pd.testing.assert_frame_equal(
            a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False
        )
    except AssertionError:
        return False
    return True


def read_frame_bytes(key: str, data: bytes) -> pd.DataFrame:
    """Decode parquet bytes read from ``key``; raise ``DataError`` naming the key if corrupt."""
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt input
        raise DataError(f"object {key} is not readable parquet: {type(exc).__name__}") from None
