"""Integrity verification: every object readable and matching its hash, every frame valid,
the coverage ledger consistent with the bars, data fresh and inside retention."""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime

import pandas as pd

from tradingstation.calendar import get_calendar
from tradingstation.config import Settings
from tradingstation.data.bars import BAR_COLUMNS, bar_problems
from tradingstation.data.ledger import load_ledger
from tradingstation.data.retention import retention_horizon
from tradingstation.errors import DataError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectInfo, ObjectStore, read_frame_bytes, sha256_hex

CHUNK = 200
JOBS = {"daily": "daily", "1min": "intraday_1min", "30min": "intraday_30min"}


@dataclass(frozen=True)
class Problem:
    """One integrity problem and the command that repairs it.

    Attributes:
        kind: ``unreadable``, ``hash_mismatch``, ``invalid_bars``, ``ledger``, ``stale``,
            ``retention``, ``gap``, ``invalid_json``, ``empty`` (no data object at all).
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


def _with_hashes(store: ObjectStore, infos: list[ObjectInfo]) -> list[ObjectInfo]:
    # S3 listings carry no user metadata; fetch the recorded hash with HEAD where it is missing.
    missing = [i for i in infos if i.sha256 is None]
    if not missing:
        return infos
    with ThreadPoolExecutor(max_workers=16) as pool:
        heads = dict(zip([i.key for i in missing], pool.map(lambda i: store.head(i.key), missing),
                         strict=True))
    return [(heads.get(i.key) or i) if i.sha256 is None else i for i in infos]


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
    infos = _with_hashes(store, infos)
    for start in range(0, len(infos), CHUNK):
        chunk = infos[start:start + CHUNK]
        blobs = store.get_many([i.key for i in chunk])
        for info in chunk:
            report.checked += 1
            problem = _check_object(info, blobs.get(info.key), bars_by_dataset)
            if problem:
                report.problems.append(problem)
    for dataset in datasets:
        report.problems += _check_ledger(store, dataset, bars_by_dataset[dataset])
        report.problems += _check_freshness_and_retention(
            dataset, bars_by_dataset[dataset], now, settings
        )
    return report


def _check_object(
    info: ObjectInfo, data: bytes | None, bars_by_dataset: dict[str, dict[str, pd.DataFrame]]
) -> Problem | None:
    key = info.key
    parts = key.split("/")
    dataset = parts[1] if parts[0] == "bars" and len(parts) == 3 else None
    symbol = keys.symbol_from_bars_key(key) if dataset else None
    repair = (rebuild_command(dataset, symbol) if dataset
              else "tradingstation data restore --date <last good backup>")
    if data is None:
        return Problem("unreadable", key, "listed but could not be read", repair, symbol, dataset)
    if info.sha256 and sha256_hex(data) != info.sha256:
        return Problem("hash_mismatch", key, "content does not match the hash recorded at write",
                       repair, symbol, dataset)
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


def _check_ledger(
    store: ObjectStore, dataset: str, bars: dict[str, pd.DataFrame]
) -> list[Problem]:
    problems = []
    key = keys.ledger_key(dataset)
    repair = f"tradingstation data rebuild-ledger --dataset {dataset}"
    try:
        ledger = load_ledger(store, dataset)
    except DataError as exc:
        return [Problem("ledger", key, str(exc), repair, dataset=dataset)]
    rows = {r.symbol: r for r in ledger.itertuples(index=False)}
    for symbol, frame in sorted(bars.items()):
        row = rows.get(symbol)
        if row is None:
            problems.append(Problem("ledger", key, f"{symbol} has bars but no ledger row",
                                    repair, symbol, dataset))
        elif int(row.bar_count) != len(frame) or (
            len(frame) and pd.Timestamp(row.last_bar) != frame["timestamp"].iloc[-1]
        ):
            problems.append(Problem(
                "ledger", key,
                f"{symbol}: ledger says {int(row.bar_count)} bars to {row.last_bar}, "
                f"stored {len(frame)} to {frame['timestamp'].iloc[-1] if len(frame) else '-'}",
                repair, symbol, dataset,
            ))
    stored = set(bars)
    for symbol, row in sorted(rows.items()):
        if symbol not in stored and int(row.bar_count) > 0:
            problems.append(Problem(
                "ledger", keys.bars_key(dataset, symbol),
                f"ledger lists {int(row.bar_count)} bars but the object is missing",
                rebuild_command(dataset, symbol), symbol, dataset,
            ))
    return problems


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
