"""Publishing dashboards: time-stamped folders, an atomic "latest" pointer, and retention."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from tradingstation.errors import DataError, ObjectNotFoundError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, sha256_hex

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}


def stamp_for(instant: datetime) -> str:
    """The folder stamp of a dashboard published at ``instant`` (UTC, ``YYYYMMDDTHHMMSSZ``)."""
    return instant.strftime("%Y%m%dT%H%M%SZ")


def publish_dashboard(
    store: ObjectStore, session: date, instant: datetime, files: Mapping[str, bytes]
) -> dict:
    """Write every file of one dashboard, then point "latest" at it unless a newer one is current.

    The pointer is written last and names each file with its sha256, so "latest" never refers
    to a half-written dashboard: a crash before the pointer leaves the previous one current.
    "latest" always names the newest session's newest dashboard (by session, then stamp), so
    a replay of an earlier instant, or a run finishing after a later one, leaves it alone.

    Returns:
        The pointer document of this dashboard (whether or not "latest" now names it).
    """
    stamp = stamp_for(instant)
    written = {}
    for name, data in files.items():
        key = keys.dashboard_key(session, stamp, name)
        content_type = CONTENT_TYPES.get(name.rsplit(".", 1)[-1])
        store.put_bytes(key, data, content_type)
        written[name] = {"key": key, "sha256": sha256_hex(data), "size": len(data)}
    pointer = {"session": session.isoformat(), "stamp": stamp, "files": written}
    current = _current_pointer(store)
    if current is None or _order(pointer) >= _order(current):
        store.put_json(keys.dashboard_latest_key(), pointer)
    else:
        log.info("dashboard %s %s published; latest stays at the newer %s %s",
                 pointer["session"], stamp, current.get("session"), current.get("stamp"))
    return pointer


def _current_pointer(store: ObjectStore) -> dict | None:
    try:
        current = store.get_json(keys.dashboard_latest_key())
    except (ObjectNotFoundError, DataError):
        return None  # none yet, or damaged: replacing it is the repair
    return current if isinstance(current, dict) else None


def _order(pointer: dict) -> tuple[str, str]:
    """Sort key of a pointer: ISO session date, then its UTC stamp (both sort as text)."""
    return (str(pointer.get("session", "")), str(pointer.get("stamp", "")))


def load_latest(store: ObjectStore) -> dict:
    """The "latest" pointer, after checking every file it names is present and intact.

    Raises:
        ObjectNotFoundError: when no dashboard was published yet.
        DataError: when a file it names is missing or does not match its hash.
    """
    try:
        pointer = store.get_json(keys.dashboard_latest_key())
    except ObjectNotFoundError:
        raise ObjectNotFoundError(
            "no dashboard published yet: run `tradingstation dashboard`"
        ) from None
    for name, meta in pointer["files"].items():
        try:
            data = store.get_bytes(meta["key"])
        except ObjectNotFoundError:
            raise DataError(f"latest dashboard is missing {name}") from None
        if sha256_hex(data) != meta["sha256"]:
            raise DataError(f"latest dashboard file {name} does not match its hash")
    return pointer


def cleanup_dashboards(store: ObjectStore, today: date, keep_days: int) -> list[str]:
    """Delete dashboards of sessions older than ``keep_days`` before ``today``.

    The dashboard "latest" points at is never deleted, whatever its age.

    Returns:
        Deleted keys.
    """
    cutoff = today - timedelta(days=keep_days)
    try:
        current = store.get_json(keys.dashboard_latest_key())
        protected = {m["key"] for m in current["files"].values()}
    except (ObjectNotFoundError, DataError, KeyError, TypeError):
        protected = set()
    deleted = []
    for info in store.list_objects(keys.dashboard_prefix()):
        parts = info.key.split("/")
        if len(parts) < 4:
            continue  # the pointer itself
        try:
            session = date.fromisoformat(parts[1])
        except ValueError:
            log.warning("leaving unexpected dashboard object %s", info.key)
            continue
        if session < cutoff and info.key not in protected:
            store.delete(info.key)
            deleted.append(info.key)
    return deleted
