"""Silent corruption (issue 14 §3, §2): every edit an operator or bit rot can make to stored
data is found by ``data verify`` and reported with the command that repairs it, on a local
directory and on S3 (moto): byte flips with the mtime changed or restored, a valid-parquet edit
of the last close with and without its hash record, objects written behind the store's back,
a ledger that claims more than is stored, a deleted ledger. A ledger that claims more than is
stored is possible data loss, repaired by a refetch, never by rebuilding the ledger."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.storage.conftest import moto_endpoint, s3_bucket  # noqa: F401 (fixtures)
from tests.support.moto_server import moto_client, moto_s3_config
from tests.upkeep.test_integrity import NOW, daily_truth
from tradingstation.config import Settings
from tradingstation.data.ledger import load_ledger, rebuild_ledger
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, sha256_hex
from tradingstation.storage.local import LocalStore
from tradingstation.storage.s3 import S3Store
from tradingstation.upkeep.verify import Problem, verify_store

SYMBOLS = ["AAPL", "MSFT", "NVDA"]
KEY = keys.bars_key("daily", "MSFT")
REFETCH = "tradingstation data rebuild-daily --symbols MSFT"
REBUILD_LEDGER = "tradingstation data rebuild-ledger --dataset daily"


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Three symbols of daily bars with their ledger, fresh for NOW, on each backend."""
    if request.param == "local":
        store: ObjectStore = LocalStore(tmp_path / "store")
    else:
        endpoint = request.getfixturevalue("moto_endpoint")
        store = S3Store(moto_s3_config(endpoint, request.getfixturevalue("s3_bucket")))
    for symbol in SYMBOLS:
        store.put_frame(keys.bars_key("daily", symbol), daily_truth(symbol))
    rebuild_ledger(store, "daily")
    assert verify_store(store, NOW, Settings(), ["daily"]).ok
    return store


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def flipped(data: bytes) -> bytes:
    # bit rot in the middle of the file (the column data), not in the footer
    raw = bytearray(data)
    for offset in range(5):
        raw[len(raw) // 3 + offset * 7] ^= 0x5A
    return bytes(raw)


def close_cut(data: bytes) -> bytes:
    """The same object with its last close cut by 20 %: still valid, plausible bars."""
    frame = pd.read_parquet(io.BytesIO(data))
    frame.loc[frame.index[-1], "close"] *= 0.8
    frame.loc[frame.index[-1], "low"] = min(frame["low"].iloc[-1], frame["close"].iloc[-1])
    return parquet(frame)


def write_behind(store: ObjectStore, key: str, data: bytes, keep_mtime: bool = False,
                 keep_record: bool = True) -> None:
    """Replace ``key``'s content without going through the store.

    Local: rewrite the file (mtime changed unless ``keep_mtime``), delete its ``.meta`` record
    unless ``keep_record``. S3: an out-of-band PUT that copies the recorded sha256 metadata
    when ``keep_record`` (as a tool copying metadata would), else carries none.
    """
    if isinstance(store, LocalStore):
        path = store.root / key
        stat = path.stat()
        path.write_bytes(data)
        if keep_mtime:
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        else:
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        if not keep_record:
            (store.root / ".meta" / key).unlink()
        return
    assert isinstance(store, S3Store)
    client = moto_client(store.config.endpoint_url)
    metadata = {"sha256": store.head(key).sha256} if keep_record else {}
    client.put_object(Bucket=store.config.bucket, Key=key, Body=data, Metadata=metadata)


def edit_ledger(store: ObjectStore, **claims: object) -> None:
    """Rewrite MSFT's ledger row through the store (its hash record is then consistent)."""
    ledger = load_ledger(store, "daily")
    row = ledger["symbol"] == "MSFT"
    for column, value in claims.items():
        ledger.loc[row, column] = value
    store.put_frame(keys.ledger_key("daily"), ledger)


CASES: dict[str, Callable[[ObjectStore], None]] = {
    "flip, mtime changed": lambda s: write_behind(s, KEY, flipped(s.get_bytes(KEY))),
    "flip, mtime restored": lambda s: write_behind(s, KEY, flipped(s.get_bytes(KEY)),
                                                   keep_mtime=True),
    "last close edited": lambda s: write_behind(s, KEY, close_cut(s.get_bytes(KEY))),
    "last close edited, hash record deleted": lambda s: write_behind(
        s, KEY, close_cut(s.get_bytes(KEY)), keep_record=False),
    "hash record deleted": lambda s: write_behind(s, KEY, s.get_bytes(KEY), keep_mtime=True,
                                                  keep_record=False),
}
# what each case must be reported as: (kind, key, repair)
EXPECTED = {
    "flip, mtime changed": ("hash_mismatch", KEY, REFETCH),
    "flip, mtime restored": ("hash_mismatch", KEY, REFETCH),
    "last close edited": ("hash_mismatch", KEY, REFETCH),
    "last close edited, hash record deleted": ("no_hash", KEY, REFETCH),
    "hash record deleted": ("no_hash", KEY, REFETCH),
}


def found(problems: list[Problem]) -> set[tuple[str, str, str]]:
    return {(p.kind, p.key, p.repair) for p in problems}


@pytest.mark.parametrize("case", list(CASES))
def test_edited_bars_object_is_reported_with_its_repair(store: ObjectStore, case: str) -> None:
    CASES[case](store)
    report = verify_store(store, NOW, Settings(), ["daily"])
    assert found(report.problems) == {EXPECTED[case]}, report.problems


def test_ledger_claiming_bars_after_the_data_is_possible_data_loss(store: ObjectStore) -> None:
    edit_ledger(store, last_bar=pd.Timestamp("2026-12-31", tz="UTC"))
    problems = verify_store(store, NOW, Settings(), ["daily"]).problems
    assert found(problems) == {("data_loss", keys.ledger_key("daily"), REFETCH)}, problems
    assert "2026-12-31" in problems[0].detail


def test_ledger_claiming_more_bars_than_stored_is_refetched_not_rebuilt(
    store: ObjectStore,
) -> None:
    # as cleanup racing a fetch left it: the ledger counts bars the object no longer has
    frame = store.get_frame(KEY)
    store.put_frame(KEY, frame.iloc[:-3])
    problems = verify_store(store, NOW, Settings(), ["daily"]).problems
    kinds = {(p.kind, p.repair) for p in problems if p.symbol == "MSFT"}
    assert ("data_loss", REFETCH) in kinds, problems
    assert all(p.repair != REBUILD_LEDGER for p in problems if p.symbol == "MSFT"), problems


def test_ok_outcome_the_bars_contradict_is_possible_data_loss(store: ObjectStore) -> None:
    edit_ledger(store, outcome="ok", expected_bar=pd.Timestamp("2025-12-01", tz="UTC"))
    problems = verify_store(store, NOW, Settings(), ["daily"]).problems
    assert found(problems) == {("data_loss", keys.ledger_key("daily"), REFETCH)}, problems


def test_deleted_bars_object_with_its_ledger_row_is_data_loss(store: ObjectStore) -> None:
    store.delete(KEY)
    problems = verify_store(store, NOW, Settings(), ["daily"]).problems
    assert found(problems) == {("data_loss", KEY, REFETCH)}, problems


def test_deleted_ledger_is_reported(store: ObjectStore) -> None:
    store.delete(keys.ledger_key("daily"))
    problems = verify_store(store, NOW, Settings(), ["daily"]).problems
    assert found(problems) == {("ledger", keys.ledger_key("daily"), REBUILD_LEDGER)}, problems


def test_every_repair_makes_verify_clean_again(store: ObjectStore) -> None:
    """The suggested repairs work: a refetch rewrites the object with a fresh hash record."""
    write_behind(store, KEY, close_cut(store.get_bytes(KEY)), keep_record=False)
    assert not verify_store(store, NOW, Settings(), ["daily"]).ok
    store.put_frame(KEY, daily_truth("MSFT"))  # what rebuild-daily's swap writes
    assert verify_store(store, NOW, Settings(), ["daily"]).ok
    assert store.recorded_hashes(KEY) == (sha256_hex(store.get_bytes(KEY)),)
