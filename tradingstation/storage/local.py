"""Local-directory object store: atomic temp-file writes with a sha256 sidecar per object."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from tradingstation.errors import (
    DataError,
    InputError,
    ObjectNotFoundError,
    StorageError,
    StorageRefusedError,
)
from tradingstation.storage.base import ObjectInfo, ObjectStore, sha256_hex

META_DIR = ".meta"
MAX_KEY_LENGTH = 1024


def validate_object_key(key: object) -> str:
    """Return ``key`` if it is a safe relative object key, else raise ``InputError``.

    Keys are built by :mod:`tradingstation.storage.keys`; this is the second line of defence
    that keeps any key inside the store: no absolute path, no ``.``/``..`` or hidden segment
    (which would also collide with the store's own temp and metadata files), no empty segment,
    no backslash and no control character.
    """
    if not isinstance(key, str) or not key:
        raise InputError(f"invalid object key {key!r}: expected a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InputError(f"invalid object key {key[:40]!r}...: longer than {MAX_KEY_LENGTH}")
    if "\\" in key or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise InputError(f"invalid object key {key[:60]!r}: backslash or control character")
    for segment in key.split("/"):
        if not segment or segment.startswith("."):
            raise InputError(
                f"invalid object key {key[:60]!r}: empty, absolute, '.', '..' or hidden segment"
            )
    return key


def validate_key_prefix(prefix: object) -> str:
    """Return ``prefix`` if it is a safe listing prefix (``""``, ``bars/``, ``bars/da`` ...)."""
    if prefix == "":
        return ""
    if not isinstance(prefix, str):
        raise InputError(f"invalid key prefix {prefix!r}: expected a string")
    validate_object_key(prefix.removesuffix("/"))
    return prefix


# Failures that stay until a human acts: retrying them only delays the alert.
_REFUSED_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def os_failure(action: str, where: str, exc: OSError) -> StorageError | StorageRefusedError:
    """The typed error for an ``OSError`` of ``action`` (e.g. ``"cannot write bars/x"``).

    A read-only filesystem or missing permission is permanent, anything else transient.
    """
    if exc.errno in _REFUSED_ERRNOS:
        return StorageRefusedError(f"{action} in {where}: {exc.strerror} (not retried: fix the "
                                   "mount or the permissions of the data directory)")
    return StorageError(f"{action} in {where}: {exc.strerror}")


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; some filesystems refuse to open directories.
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_atomic(
    path: Path, data: bytes, durable: bool,
    before_replace: Callable[[os.stat_result], None] | None = None,
) -> os.stat_result:
    """Write ``data`` to a temp file next to ``path``, then rename it over ``path``.

    ``before_replace(stat)`` runs once the temp file is complete, just before the rename.
    Returns the stat of the written file (taken before the rename, which keeps it).
    """
    for attempt in range(3):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
            )
            break
        except FileNotFoundError:
            # A concurrent delete pruned the now-empty parent directory; recreate it.
            if attempt == 2:
                raise
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), 0o644)
            # An exact, fine-grained mtime lets a sidecar prove it belongs to this version.
            now = time.time_ns()
            os.utime(handle.fileno(), ns=(now, now))
            if durable:
                os.fsync(handle.fileno())
            written = os.fstat(handle.fileno())
        if before_replace is not None:
            before_replace(written)
        os.replace(tmp_name, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp_name)
        raise
    if durable:
        _fsync_dir(path.parent)
    return written


class LocalStore(ObjectStore):
    """Objects as files under ``root``; the key is the relative path.

    Writes go to a temp file in the target directory, are fsynced and renamed into place, so a
    crash leaves the old or the new object. The sha256 of each write is recorded in
    ``<root>/.meta/<key>`` together with the file's size and mtime and the previous version's
    sha256, just before the rename. Listings trust a record only while the file's size and
    mtime match it (else the version is "unknown", and readers re-read the object); integrity
    checks use :meth:`recorded_hashes`, which keep the record whatever the mtime says.

    Args:
        root: Directory holding the objects; created on first write.
    """

    def __init__(self, root: Path | str) -> None:
        # Absolute so that a later chdir never moves where data lives.
        self.root = Path(root).expanduser().absolute()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def describe(self) -> str:
        """Where data lives, e.g. ``local directory /srv/ts/data``."""
        return f"local directory {self.root}"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_object_key(key).split("/"))

    def _meta_path(self, key: str) -> Path:
        # Mirrors the data tree, so it can only collide where the data tree itself would.
        return self.root.joinpath(META_DIR, *key.split("/"))

    def _record(self, key: str) -> list[str] | None:
        # "<sha256> <size> <mtime_ns> [<previous sha256>]" (older records have no previous)
        try:
            fields = self._meta_path(key).read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            return None
        if len(fields) not in (3, 4) or any(len(f) != 64 for f in fields[:1] + fields[3:]):
            return None
        return fields

    def _recorded_sha256(self, key: str, st: os.stat_result) -> str | None:
        fields = self._record(key)
        if fields is None:
            return None
        if fields[1] != str(st.st_size) or fields[2] != str(st.st_mtime_ns):
            return None
        return fields[0]

    def recorded_hashes(self, key: str) -> tuple[str, ...]:
        """The sha256 recorded at the last write of ``key``, whatever has changed the file since.

        A record whose size and mtime no longer match the file also accepts the previous
        version's sha256: a write killed between recording and renaming left that version.
        Empty when there is no record (a missing record is itself a finding of ``verify``).
        """
        validate_object_key(key)
        fields = self._record(key)
        if fields is None:
            return ()
        try:
            st = self._path(key).stat()
        except OSError:
            return (fields[0],)
        if fields[1] == str(st.st_size) and fields[2] == str(st.st_mtime_ns):
            return (fields[0],)
        return tuple(fields[:1] + fields[3:])

    def _current_sha256(self, key: str) -> str | None:
        # The sha256 of what the file holds now: its record when that matches the file, else
        # (rare: an interrupted write or an edit) the file itself hashed.
        try:
            st = self._path(key).stat()
        except OSError:
            return None
        recorded = self._recorded_sha256(key, st)
        if recorded is not None or not stat.S_ISREG(st.st_mode):
            return recorded
        try:
            return sha256_hex(self._read(key)[0])
        except (ObjectNotFoundError, StorageError):
            return None

    def _missing(self, key: str) -> ObjectNotFoundError:
        return ObjectNotFoundError(f"no object at {key} in {self.describe()}")

    def _read(self, key: str) -> tuple[bytes, os.stat_result]:
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                st = os.fstat(handle.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise self._missing(key)
                return handle.read(), st
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise self._missing(key) from None
        except OSError as exc:
            raise os_failure(f"cannot read {key}", self.describe(), exc) from None

    def get_bytes(self, key: str) -> bytes:
        """Return the object's content. Raises ``ObjectNotFoundError`` if it does not exist."""
        return self._read(key)[0]

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        """Write ``data`` at ``key`` atomically and record its sha256 (content_type is unused)."""
        path = self._path(key)
        data = bytes(data)
        digest = sha256_hex(data)
        previous = self._current_sha256(key)

        def record(written: os.stat_result) -> None:
            # Recorded before the rename, so no replaced content is ever left without a record;
            # the previous sha256 covers a kill between this write and the rename.
            fields = [digest, str(written.st_size), str(written.st_mtime_ns)]
            if previous is not None and previous != digest:
                fields.append(previous)
            _write_atomic(self._meta_path(key), (" ".join(fields) + "\n").encode("ascii"),
                          durable=False)

        try:
            written = _write_atomic(path, data, durable=True, before_replace=record)
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            raise InputError(
                f"cannot write {key}: it collides with an existing object or folder"
            ) from None
        except OSError as exc:
            raise os_failure(f"cannot write {key}", self.describe(), exc) from None
        return ObjectInfo(key, written.st_size, digest, _utc(written.st_mtime_ns))

    def head(self, key: str) -> ObjectInfo | None:
        """Info of the object at ``key`` (sha256 None when no matching record), or None."""
        try:
            st = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise os_failure(f"cannot stat {key}", self.describe(), exc) from None
        if not stat.S_ISREG(st.st_mode):
            return None
        return ObjectInfo(key, st.st_size, self._recorded_sha256(key, st), _utc(st.st_mtime_ns))

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """All objects whose key starts with ``prefix``, sorted by key (temp/meta files hidden)."""
        prefix = validate_key_prefix(prefix)
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*base.split("/")) if base else self.root
        found: list[ObjectInfo] = []
        for dirpath, dirnames, filenames in os.walk(start):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            folder = "" if rel == "." else rel + "/"
            # Hidden directories hold metadata; others are pruned when they cannot match.
            dirnames[:] = [
                d
                for d in dirnames
                if not d.startswith(".")
                and (prefix.startswith(f"{folder}{d}/") or f"{folder}{d}/".startswith(prefix))
            ]
            for name in filenames:
                key = folder + name
                if name.startswith(".") or not key.startswith(prefix):
                    continue
                try:
                    validate_object_key(key)
                    st = os.stat(os.path.join(dirpath, name))
                except (InputError, FileNotFoundError):
                    continue  # not one of ours, or deleted while listing
                if stat.S_ISREG(st.st_mode):
                    sha = self._recorded_sha256(key, st)
                    found.append(ObjectInfo(key, st.st_size, sha, _utc(st.st_mtime_ns)))
        return sorted(found, key=lambda info: info.key)

    def delete(self, key: str) -> None:
        """Delete ``key`` and its sha256 record; deleting a missing key is not an error."""
        path = self._path(key)
        for target, stop in ((path, self.root), (self._meta_path(key), self.root / META_DIR)):
            try:
                if target.is_dir():
                    continue  # a folder of other objects, not an object
                target.unlink(missing_ok=True)
            except NotADirectoryError:
                continue
            except OSError as exc:
                raise os_failure(f"cannot delete {key}", self.describe(), exc) from None
            self._prune(target.parent, stop)

    @staticmethod
    def _prune(directory: Path, stop: Path) -> None:
        # Empty folders left by deletes are removed so retention does not leave a skeleton.
        while directory != stop and stop in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    def copy(self, src: str, dst: str) -> ObjectInfo:
        """Copy ``src`` to ``dst`` atomically; a source that fails its recorded sha256 is refused.

        Raises:
            ObjectNotFoundError: ``src`` does not exist.
            DataError: ``src`` no longer matches the sha256 recorded when it was written.
        """
        validate_object_key(dst)
        data, st = self._read(src)
        recorded = self._recorded_sha256(src, st)
        if recorded is not None and recorded != sha256_hex(data):
            raise DataError(f"object {src} does not match its recorded sha256; not copied")
        return self.put_bytes(dst, data)
