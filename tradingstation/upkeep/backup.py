"""Backups of every data prefix with a sha256 manifest, and verified restores."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime

from tradingstation.errors import DataError, InputError, ObjectNotFoundError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, sha256_hex
from tradingstation.upkeep.verify import damage_problems

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
CHUNK = 200  # objects held in memory at once


@dataclass
class BackupReport:
    """What a backup or restore did."""

    label: str
    objects: int = 0
    bytes: int = 0
    removed: list[str] = field(default_factory=list)
    safety_label: str | None = None
    problems: list[str] = field(default_factory=list)


def parse_backup_date(text: str) -> date:
    """Parse a ``--date`` value (YYYY-MM-DD) or raise a one-line ``InputError``."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InputError(f"invalid date {str(text)[:40]!r}: expected YYYY-MM-DD") from None


def data_keys(store: ObjectStore) -> list[str]:
    """Every key under the data prefixes (what a backup covers), sorted."""
    found = []
    for prefix in keys.DATA_PREFIXES:
        found += [i.key for i in store.list_objects(prefix)]
    return sorted(found)


def _chunks(items: list[str], size: int = CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def numbered_label(base: str, n: int) -> str:
    """The ``n``-th backup label of ``base`` on one day: ``base``, then ``base-2``, ``base-3``."""
    label = base if n == 1 else f"{base}-{n}"
    keys.backup_prefix(label)  # validates
    return label


def _number_of(label: str, base: str) -> int | None:
    if label == base:
        return 1
    suffix = label.removeprefix(base + "-") if label.startswith(base + "-") else ""
    return int(suffix) if suffix.isdigit() else None


def backups_of(store: ObjectStore, base: str) -> list[str]:
    """Complete backups labelled ``base`` or ``base-<n>``, oldest first."""
    found = [(n, label) for label in list_backups(store)
             if (n := _number_of(label, base)) is not None]
    return [label for _, label in sorted(found)]


def free_label(store: ObjectStore, base: str) -> str:
    """The first of ``base``, ``base-2`` ... that has no complete backup.

    A complete backup is never written again (a label with only partial files, from a killed run, is
    reused).
    """
    taken = set(backups_of(store, base))
    n = 1
    while numbered_label(base, n) in taken:
        n += 1
    return numbered_label(base, n)


def _remove_backup_files(store: ObjectStore, label: str) -> None:
    for info in store.list_objects(keys.backup_prefix(label)):
        store.delete(info.key)


def create_backup(
    store: ObjectStore, label: str, now: datetime, progress: Callable[[int], None] | None = None,
    allow_problems: bool = False,
) -> BackupReport:
    """Copy every data object to a new backup of ``label`` and write the manifest last.

    The backup gets the first free label of ``label`` (see :func:`free_label`), so a complete
    backup is never overwritten. Content is read and hashed (not trusted from metadata), so the
    manifest describes exactly what was copied. Each object is checked as ``verify`` checks it
    (recorded hash, readable content): damage refuses the backup, so a damaged state is never
    backed up silently beside the good one, unless ``allow_problems`` (then the problems are
    logged and recorded in the manifest). A backup that fails removes the files it wrote.

    Raises:
        DataError: Damaged objects were found and ``allow_problems`` is False.
    """
    label = free_label(store, label)
    _remove_backup_files(store, label)  # leftovers of a killed run under this label
    try:
        report = _copy_objects(store, label, now, progress, allow_problems)
    except BaseException:
        # a failed backup must not keep the disk full or pass for a backup
        with suppress(Exception):
            _remove_backup_files(store, label)
        raise
    log.info("backup %s: %d objects, %d bytes", label, report.objects, report.bytes)
    return report


def _copy_objects(
    store: ObjectStore, label: str, now: datetime, progress: Callable[[int], None] | None,
    allow_problems: bool,
) -> BackupReport:
    prefix = keys.backup_prefix(label)
    report = BackupReport(label=label)
    entries = []
    for chunk in _chunks(data_keys(store)):
        blobs = store.get_many(chunk)
        problems = damage_problems(store, blobs)
        if problems and not allow_problems:
            first = problems[0]
            raise DataError(
                f"backup refused: {len(problems)} damaged object(s), e.g. {first.key}: "
                f"{first.detail} (repair: {first.repair}); run `tradingstation data verify`, "
                "or back up anyway with --allow-problems"
            )
        for problem in problems:
            log.warning("backing up damaged object %s: %s", problem.key, problem.detail)
            report.problems.append(f"{problem.key}: {problem.detail}")
        for key, data in blobs.items():
            store.put_bytes(prefix + key, data)
            entries.append({"key": key, "size": len(data), "sha256": sha256_hex(data)})
            report.objects += 1
            report.bytes += len(data)
        if progress:
            progress(len(chunk))
    entries.sort(key=lambda e: e["key"])
    store.put_json(keys.backup_manifest_key(label), {
        "version": MANIFEST_VERSION, "label": label, "created_at": now.isoformat(),
        "objects": entries, "problems": report.problems,
    })
    return report


def load_manifest(store: ObjectStore, label: str) -> dict:
    """The manifest of a complete backup, or a one-line ``InputError`` when there is none."""
    try:
        manifest = store.get_json(keys.backup_manifest_key(label))
    except ObjectNotFoundError:
        available = ", ".join(list_backups(store)) or "none"
        raise InputError(
            f"no complete backup for {label} (available: {available})"
        ) from None
    if manifest.get("version") != MANIFEST_VERSION or "objects" not in manifest:
        raise DataError(f"backup {label} has an unreadable manifest")
    return manifest


def list_backups(store: ObjectStore) -> list[str]:
    """Labels of complete backups (those with a manifest), sorted by label."""
    labels = []
    for info in store.list_objects("backups/"):
        parts = info.key.split("/")
        if len(parts) == 3 and parts[2] == "manifest.json":
            labels.append(parts[1])
    return sorted(labels)


def newest_backup(store: ObjectStore, day: date) -> tuple[str, list[str]]:
    """The newest complete backup taken on ``day`` and the day's other complete ones.

    Raises:
        InputError: There is no complete backup of ``day`` (the message lists what exists).
    """
    labels = backups_of(store, keys.backup_label(day))
    if not labels:
        load_manifest(store, keys.backup_label(day))  # raises, naming the available backups
    return labels[-1], labels[:-1]


def verify_backup(store: ObjectStore, label: str) -> list[str]:
    """Problems of a backup: every manifest entry must exist with its recorded sha256."""
    manifest = load_manifest(store, label)
    prefix = keys.backup_prefix(label)
    problems = []
    entries = {prefix + e["key"]: e for e in manifest["objects"]}
    for chunk in _chunks(sorted(entries)):
        blobs = store.get_many(chunk)
        for key in chunk:
            if key not in blobs:
                problems.append(f"{key}: missing from backup")
            elif sha256_hex(blobs[key]) != entries[key]["sha256"]:
                problems.append(f"{key}: content does not match the manifest")
    return problems


def restore_backup(store: ObjectStore, label: str, now: datetime) -> BackupReport:
    """Restore the data prefixes to exactly the state of backup ``label``.

    Order: check the manifest and every backed-up object (refuse on any problem, changing
    nothing) → take a safety backup of the current state (a new label every time) → write
    every backed-up object → delete data objects the backup does not have (they remain in the
    safety backup) → verify the live data against the manifest. An interrupted restore can
    simply be rerun.
    """
    manifest = load_manifest(store, label)
    problems = verify_backup(store, label)
    if problems:
        raise DataError(f"backup {label} is damaged ({len(problems)} problems): {problems[0]}")
    # the current state is kept whatever its damage (repairing damage is what restores are for);
    # a rerun at the same stamp gets a new label, so no earlier safety backup is overwritten
    safety = create_backup(store, keys.safety_backup_label(now.strftime("%Y%m%dT%H%M%SZ")), now,
                           allow_problems=True).label
    report = BackupReport(label=label, safety_label=safety)
    prefix = keys.backup_prefix(label)
    wanted = {e["key"]: e for e in manifest["objects"]}
    for chunk in _chunks(sorted(wanted)):
        blobs = store.get_many([prefix + k for k in chunk])
        for key in chunk:
            data = blobs[prefix + key]
            # Always write: a bit-flipped live object may still carry its original recorded hash.
            store.put_bytes(key, data)
            report.objects += 1
            report.bytes += len(data)
    for key in data_keys(store):
        if key not in wanted:
            store.delete(key)
            report.removed.append(key)
    for chunk in _chunks(sorted(wanted)):
        blobs = store.get_many(chunk)
        for key in chunk:
            if key not in blobs:
                report.problems.append(f"{key}: missing after restore")
            elif sha256_hex(blobs[key]) != wanted[key]["sha256"]:
                report.problems.append(f"{key}: differs from backup after restore")
    if report.problems:
        raise DataError(f"restore of {label} did not verify: {report.problems[0]}")
    log.info("restored %s (%d objects); safety backup %s", label, report.objects, safety)
    return report
