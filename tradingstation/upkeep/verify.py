"""Integrity verification.

Every object readable and matching the hash recorded at write (a missing record is a problem too),
every frame valid, the coverage ledger consistent with the bars it describes, each panel snapshot
matching its own row hashes, data fresh and inside retention. One function per check.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from tradingstation.calendar import get_calendar
from tradingstation.config import Settings
from tradingstation.contracts import BAR_COLUMNS, bar_problems
from tradingstation.data.ledger import load_ledger
from tradingstation.data.panel_store import snapshot_problems
from tradingstation.data.provenance import DEMO_SOURCE, frame_source
from tradingstation.data.retention import retention_horizon
from tradingstation.data.split_ledger import entry_split, load_split_ledger
from tradingstation.data.split_ledger import repair_command as split_repair
from tradingstation.data.splits import find_candidates
from tradingstation.errors import DataError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectInfo, ObjectStore, read_frame_bytes, sha256_hex

CHUNK = 200
JOBS = {"daily": "daily", "1min": "intraday_1min", "30min": "intraday_30min"}


@dataclass(frozen=True)
class Problem:
    """One integrity problem and the command that repairs it.

    Attributes:
        kind: ``unreadable``, ``hash_mismatch``, ``no_hash`` (no content hash recorded),
            ``invalid_bars``, ``invalid_json``, ``ledger`` (the ledger is behind the bars),
            ``data_loss`` (the ledger claims more than is stored), ``snapshot`` (a panel
            snapshot's rows fail their hash), ``stale``, ``retention``, ``empty`` (no data
            object at all), ``split`` (a split-like move no split confirms: the symbol is not
            screened until it is resolved).
        key: The object concerned.
        detail: What is wrong, one line.
        repair: The command that fixes it.
        symbol: The symbol concerned, when there is one.
        dataset: The dataset concerned, when there is one.
    """

    kind: str
    key: str
    detail: str
    repair: str
    symbol: str | None = None
    dataset: str | None = None


@dataclass
class VerifyReport:
    """Result of :func:`verify_store`."""

    checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"checked": self.checked, "ok": self.ok,
                "problems": [asdict(p) for p in self.problems]}


def rebuild_command(dataset: str, symbol: str) -> str:
    """The command that refetches one symbol's bars wholesale."""
    if dataset == "daily":
        return f"tradingstation data rebuild-daily --symbols {symbol}"
    return f"tradingstation fetch {JOBS[dataset]} --tickers {symbol} --force"


def repair_command(key: str) -> str:
    """The command that replaces a damaged object at ``key`` with a good copy."""
    parts = key.split("/")
    if parts[0] == "bars" and len(parts) == 3:
        return rebuild_command(parts[1], keys.symbol_from_bars_key(key))
    if parts[0] == "ledger":
        return f"tradingstation data rebuild-ledger --dataset {parts[-1].split('.')[0]}"
    return "tradingstation data restore --date <last good backup>"


def recorded_hashes(store: ObjectStore, infos: list[ObjectInfo]) -> dict[str, tuple[str, ...]]:
    """``{key.

    Digests}`` the store recorded at write for each object (see ``ObjectStore.recorded_hashes``),
    asked side by side (one HEAD per object on S3).
    """
    with ThreadPoolExecutor(max_workers=16) as pool:
        found = pool.map(lambda i: store.recorded_hashes(i.key), infos)
        return dict(zip([i.key for i in infos], found, strict=True))


def verify_store(
    store: ObjectStore,
    now: datetime,
    settings: Settings,
    datasets: Iterable[str] = keys.DATASETS,
) -> VerifyReport:
    """Check every data object; see :class:`Problem` for the kinds found.

    Nothing is changed: this only reads.
    """
    report = VerifyReport()
    datasets = [keys.validate_dataset(d) for d in datasets]
    bars_by_dataset: dict[str, dict[str, pd.DataFrame]] = {d: {} for d in datasets}
    damaged: set[str] = set()
    infos: list[ObjectInfo] = []
    for prefix in keys.DATA_PREFIXES:
        infos += store.list_objects(prefix)
    if not infos:
        # A typo in TS_DATA_DIR or the bucket name reads as an empty store: never "all good".
        report.problems.append(Problem(
            "empty", "", f"no data objects in {store.describe()}",
            "check TS_DATA_DIR (or the bucket and TS_S3_PREFIX); a new store fills with "
            "`tradingstation run premarket --force`"))
        return report
    recorded = recorded_hashes(store, infos)
    for start in range(0, len(infos), CHUNK):
        chunk = infos[start:start + CHUNK]
        blobs = store.get_many([i.key for i in chunk])
        for info in chunk:
            report.checked += 1
            problem = (check_content_hash(info.key, blobs.get(info.key), recorded[info.key])
                       or _check_object(info, blobs.get(info.key), bars_by_dataset))
            if problem:
                report.problems.append(problem)
                damaged.add(info.key)
    if "daily" in bars_by_dataset:
        report.problems += _check_splits(store, bars_by_dataset["daily"])
    for dataset in datasets:
        report.problems += _check_ledger(store, dataset, bars_by_dataset[dataset], damaged)
        report.problems += _check_freshness_and_retention(
            dataset, bars_by_dataset[dataset], now, settings
        )
        report.problems += _check_panel_snapshot(store, dataset)
    return report


DAMAGE_KINDS = ("unreadable", "hash_mismatch", "no_hash", "invalid_json")


def damage_problems(store: ObjectStore, blobs: dict[str, bytes]) -> list[Problem]:
    """Damaged objects among ``blobs`` (``{key.

    Content}`` just read): content that fails the hash recorded at write, has no record, or cannot
    be decoded (``DAMAGE_KINDS``).
    """
    infos = [ObjectInfo(key, len(data)) for key, data in blobs.items()]
    recorded = recorded_hashes(store, infos)
    found = [check_content_hash(i.key, blobs[i.key], recorded[i.key])
             or _check_object(i, blobs[i.key], {}) for i in infos]
    return [p for p in found if p is not None and p.kind in DAMAGE_KINDS]


def check_content_hash(key: str, data: bytes | None, recorded: tuple[str, ...]) -> Problem | None:
    """A problem when ``data`` has no hash record or matches none of the ``recorded`` digests.

    The record is compared whatever the object's mtime or size say: an edit that changed
    them is exactly what must be found.
    """
    if data is None:
        return None  # reported as unreadable by the object check
    dataset, symbol = _bars_identity(key)
    if not recorded:
        return Problem("no_hash", key, "no content hash was recorded for this object, so its "
                       "content cannot be trusted", repair_command(key), symbol, dataset)
    if sha256_hex(data) not in recorded:
        return Problem("hash_mismatch", key, "content does not match the hash recorded at write",
                       repair_command(key), symbol, dataset)
    return None


def _bars_identity(key: str) -> tuple[str | None, str | None]:
    parts = key.split("/")
    if parts[0] == "bars" and len(parts) == 3:
        return parts[1], keys.symbol_from_bars_key(key)
    return None, None


def _check_object(
    info: ObjectInfo, data: bytes | None, bars_by_dataset: dict[str, dict[str, pd.DataFrame]]
) -> Problem | None:
    key = info.key
    dataset, symbol = _bars_identity(key)
    repair = repair_command(key)
    if data is None:
        return Problem("unreadable", key, "listed but could not be read", repair, symbol, dataset)
    if key.endswith(".json"):
        try:
            json.loads(data)
        except ValueError:
            return Problem("invalid_json", key, "not valid JSON", repair)
        return None
    if not key.endswith(".parquet"):
        return None
    try:
        frame = read_frame_bytes(key, data)
    except DataError as exc:
        return Problem("unreadable", key, str(exc), repair, symbol, dataset)
    if dataset is None:
        return None
    problems = bar_problems(frame)
    if not problems and list(frame.columns) != BAR_COLUMNS:
        problems = [f"columns {list(frame.columns)} are not {BAR_COLUMNS}"]
    if problems:
        return Problem("invalid_bars", key, "; ".join(problems), repair, symbol, dataset)
    if dataset in bars_by_dataset:
        bars_by_dataset[dataset][symbol] = frame
    return None


def _check_splits(store: ObjectStore, bars: dict[str, pd.DataFrame]) -> list[Problem]:
    """Unresolved corporate actions and unexplained split-like moves in the daily bars.

    Unresolved entries of the corporate-actions ledger, and strong split-like moves in the stored
    daily bars that no ledger entry accounts for (a split the fetch missed or the provider did not
    report, bars restored or written by hand).
    """
    key = keys.corporate_actions_key()
    try:
        ledger = load_split_ledger(store)
    except DataError as exc:
        return [Problem("split", key, str(exc),
                        "tradingstation data restore --date <last good backup>")]
    problems = []
    for symbol, entries in sorted(ledger.unresolved().items()):
        for entry in entries:
            split = entry_split(entry)
            problems.append(Problem(
                "split", keys.bars_key("daily", symbol),
                f"{entry['state']} split-like move on {entry['effective_date']}: "
                f"{entry['reason']}", split_repair(symbol, split.effective_date, split.factor),
                symbol, "daily"))
    for symbol, frame in sorted(bars.items()):
        if frame_source(frame) == DEMO_SOURCE:
            continue  # the demo market has no splits: its planted moves are meant
        for c in find_candidates(symbol, _sorted(frame), "daily"):
            if c.strong and ledger.get(symbol, c.effective_date) is None:
                problems.append(Problem(
                    "split", keys.bars_key("daily", symbol),
                    f"unconfirmed split-like move (not in the corporate-actions ledger): "
                    f"{c.describe()}",
                    split_repair(symbol, c.effective_date, c.ratio), symbol, "daily"))
    return problems


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    if frame["timestamp"].is_monotonic_increasing:
        return frame
    return frame.sort_values("timestamp").reset_index(drop=True)


def _check_ledger(
    store: ObjectStore, dataset: str, bars: dict[str, pd.DataFrame], damaged: set[str]
) -> list[Problem]:
    key = keys.ledger_key(dataset)
    repair = f"tradingstation data rebuild-ledger --dataset {dataset}"
    if key in damaged:
        return []  # already reported; its rows cannot be trusted
    try:
        ledger = load_ledger(store, dataset)
    except DataError as exc:
        return [Problem("ledger", key, str(exc), repair, dataset=dataset)]
    if bars and not store.exists(key):
        return [Problem("ledger", key, f"the ledger is missing but {len(bars)} symbols have "
                        "bars", repair, dataset=dataset)]
    rows = {r.symbol: r for r in ledger.itertuples(index=False)}
    problems = []
    for symbol, frame in sorted(bars.items()):
        row = rows.get(symbol)
        if row is None:
            problems.append(Problem("ledger", key, f"{symbol} has bars but no ledger row",
                                    repair, symbol, dataset))
        else:
            problems += _check_ledger_row(dataset, row, frame)
    for symbol, row in sorted(rows.items()):
        object_key = keys.bars_key(dataset, symbol)
        if symbol not in bars and object_key not in damaged and int(row.bar_count) > 0:
            problems.append(Problem(
                "data_loss", object_key,
                f"ledger lists {int(row.bar_count)} bars but the object is missing: "
                "bars may have been lost", rebuild_command(dataset, symbol), symbol, dataset,
            ))
    return problems


def _check_ledger_row(dataset: str, row: Any, frame: pd.DataFrame) -> list[Problem]:
    """A ledger row against the bars it describes.

    A row that claims more than is stored (more bars, a later last bar, an earlier first bar,
    or an ``ok`` fetch of a bar that is not there) means bars may have been lost: the repair
    refetches them. Rebuilding the ledger instead would make it agree with the loss. A row
    that claims less (bars written by a run that died before its ledger update) is repaired
    by rebuilding the ledger.
    """
    symbol = row.symbol
    key = keys.ledger_key(dataset)
    stored_count = len(frame)
    first = frame["timestamp"].iloc[0] if stored_count else None
    last = frame["timestamp"].iloc[-1] if stored_count else None
    claimed = f"ledger says {int(row.bar_count)} bars to {_day(row.last_bar)}"
    stored = f"stored {stored_count} to {_day(last)}"
    more = (int(row.bar_count) > stored_count
            or _after(row.last_bar, last) or _after(first, row.first_bar))
    if more:
        return [Problem("data_loss", key, f"{symbol}: {claimed}, {stored}: bars may have been "
                        "lost", rebuild_command(dataset, symbol), symbol, dataset)]
    if row.outcome == "ok" and _after(row.expected_bar, last):
        return [Problem("data_loss", key, f"{symbol}: ledger says the fetch received the bar "
                        f"of {_day(row.expected_bar)}, {stored}: bars may have been lost",
                        rebuild_command(dataset, symbol), symbol, dataset)]
    if int(row.bar_count) != stored_count or _after(last, row.last_bar):
        return [Problem("ledger", key, f"{symbol}: {claimed}, {stored}",
                        f"tradingstation data rebuild-ledger --dataset {dataset}",
                        symbol, dataset)]
    return []


def _after(a: Any, b: Any) -> bool:
    """``a`` is a known time later than ``b`` (an unknown ``b`` counts as the earliest)."""
    if a is None or pd.isna(a):
        return False
    return b is None or pd.isna(b) or pd.Timestamp(a) > pd.Timestamp(b)


def _day(moment: Any) -> str:
    return "-" if moment is None or pd.isna(moment) else str(pd.Timestamp(moment))


def _check_panel_snapshot(store: ObjectStore, dataset: str) -> list[Problem]:
    """The dataset's panel snapshot: rows that no longer match the hash recorded for them."""
    key = keys.panel_snapshot_key(dataset)
    bad = snapshot_problems(store, dataset)
    if not bad:
        return []
    shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    return [Problem("snapshot", key, f"rows of {shown} do not match the hash recorded for them "
                    "(loads skip them and read the objects)",
                    f"tradingstation data rebuild-ledger --dataset {dataset}", dataset=dataset)]


def _check_freshness_and_retention(
    dataset: str, bars: dict[str, pd.DataFrame], now: datetime, settings: Settings
) -> list[Problem]:
    problems = []
    calendar = get_calendar()
    if dataset == "daily":
        expected = pd.Timestamp(calendar.last_completed_session(now), tz="UTC")
        limit = settings.retention_daily_sessions
    elif dataset == "30min":
        expected, limit = None, settings.retention_30min_bars
    else:
        expected, limit = None, None
    horizon = retention_horizon(now, settings) if dataset == "1min" else None
    for symbol, frame in sorted(bars.items()):
        key = keys.bars_key(dataset, symbol)
        if not len(frame):
            continue
        if expected is not None and frame["timestamp"].iloc[-1] < expected:
            problems.append(Problem(
                "stale", key,
                f"last bar {frame['timestamp'].iloc[-1].date()} but {expected.date()} closed",
                f"tradingstation fetch {JOBS[dataset]} --tickers {symbol}", symbol, dataset,
            ))
        expired = (len(frame) - limit if limit is not None and len(frame) > limit
                   else int((frame["timestamp"] < horizon).sum()) if horizon is not None else 0)
        if expired > 0:
            problems.append(Problem(
                "retention", key, f"{expired} bars are past the retention policy",
                "tradingstation data cleanup", symbol, dataset,
            ))
    return problems
