"""Signal documents: versioned JSON per session and screener, saved to and read from a store."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from tradingstation.data import point_in_time
from tradingstation.errors import DataError, InputError, ObjectNotFoundError
from tradingstation.signals import Signal
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

SCHEMA = 1
log = logging.getLogger(__name__)


def signals_to_json(
    signals: Iterable[Signal], screener: str, session: date, generated_at: datetime | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """The versioned document for one screener's signals of one session.

    ``{"schema": 1, "screener": ..., "session": "YYYY-MM-DD", "generated_at": ...,
    "count": n, "signals": [...]}`` plus ``"as_of"`` (the instant screened) when given; every
    signal must belong to ``screener`` and ``session``.

    Raises:
        InputError: a signal from another screener or session.
    """
    items = list(signals)
    for s in items:
        if s.screener != screener or s.session != session:
            raise InputError(
                f"signal {s.id} is {s.screener}/{s.session}, not {screener}/{session}"
            )
    stamp = generated_at or datetime.now(UTC)
    doc = {
        "schema": SCHEMA,
        "screener": screener,
        "session": session.isoformat(),
        "generated_at": stamp.isoformat(),
        "count": len(items),
        "signals": [s.model_dump(mode="json") for s in items],
    }
    if as_of is not None:
        doc["as_of"] = as_of.astimezone(UTC).isoformat()
    return doc


def signals_from_json(doc: Any) -> list[Signal]:
    """Signals of a document written by :func:`signals_to_json`.

    Raises:
        DataError: not a signals document, an unknown schema version, or an invalid signal.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("signals"), list):
        raise DataError("not a signals document (no 'signals' list)")
    if doc.get("schema") != SCHEMA:
        raise DataError(f"unsupported signals schema {doc.get('schema')!r} (expected {SCHEMA})")
    try:
        return [Signal.model_validate(item) for item in doc["signals"]]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise DataError(f"invalid signal in document: {where}: {first.get('msg')}") from None


def save_signals(
    store: ObjectStore, session: date, screener: str, signals: Iterable[Signal],
    as_of: datetime | None = None,
) -> str:
    """Write the signals of ``screener`` for ``session``.

    Write the signals of ``screener`` for ``session``, replacing a previous run's, unless that run
    screened a later instant.

    The document is the session's latest result: a rerun at the same or a later ``as_of``
    replaces it, a replay of an earlier instant (``--as-of``) does not (its signals are in its
    own run's result), so replays never change what the session published.

    Returns:
        The document's key (whether or not this call replaced it).
    """
    key = keys.signals_key(session, screener)
    if as_of is not None:
        stored = _stored_as_of(store, key)
        if stored is not None and stored > as_of:
            log.info("%s: kept the signals screened at %s (this run: %s)", key,
                     stored.isoformat(), as_of.isoformat())
            return key
    store.put_json(key, signals_to_json(signals, screener, session, as_of=as_of))
    return key


def _stored_as_of(store: ObjectStore, key: str) -> datetime | None:
    try:
        doc = store.get_json(key)
    except (ObjectNotFoundError, DataError):
        return None  # none yet, or unreadable: replacing it is the repair
    try:
        stamp = datetime.fromisoformat(str(doc["as_of"]))
    except (KeyError, TypeError, ValueError):
        return None  # written before documents recorded their instant
    return stamp if stamp.tzinfo is not None else None


def load_signals(
    store: ObjectStore, since: datetime | None, screeners: Iterable[str] | None = None,
    until: datetime | None = None, session: date | None = None,
) -> list[Signal]:
    """Signals from the stored session documents, in a time window.

    Signals observed at or after ``since`` (and, with ``until``, at or before it) from the stored
    session documents.

    Only sessions on or after ``since``'s UTC date minus one day are read (a session's
    signals are stamped during that session); with ``session``, only that session's
    documents (and ``since`` None: however early they were stamped). With ``until`` (the
    instant of a run or replay), signals stamped later did not exist yet and are left out
    (:func:`point_in_time.cut_signals`). Sorted by timestamp, then screener and symbol.

    Raises:
        InputError: ``since`` is naive, or neither ``since`` nor ``session`` is given.
        DataError: a stored document is corrupt (naming its key).
    """
    if since is None and session is None:
        raise InputError("load_signals needs a 'since' or a 'session'")
    if since is not None and since.tzinfo is None:
        raise InputError("load_signals needs a timezone-aware 'since'")
    wanted = set(screeners) if screeners is not None else None
    first_day = since.astimezone(UTC).date().toordinal() - 1 if since is not None else 0
    found: list[Signal] = []
    for info in store.list_objects(keys.signals_prefix(session)):
        parts = info.key.split("/")
        if len(parts) != 3 or not parts[2].endswith(".json"):
            continue
        try:
            day = date.fromisoformat(parts[1])
        except ValueError:
            continue
        name = parts[2].removesuffix(".json")
        if day.toordinal() < first_day or (wanted is not None and name not in wanted):
            continue
        try:
            signals = signals_from_json(store.get_json(info.key))
        except DataError as exc:
            raise DataError(f"{info.key}: {exc}") from None
        found.extend(s for s in signals if since is None or s.timestamp >= since)
    if until is not None:
        found = point_in_time.cut_signals(found, until)
    return sorted(found, key=lambda s: (s.timestamp, s.screener, s.symbol, s.direction))
