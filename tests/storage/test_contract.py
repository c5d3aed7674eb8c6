"""ObjectStore contract: the same tests against the local directory and S3 (moto over HTTP)."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tradingstation.contracts import BAR_COLUMNS, canonicalize_bars, validate_bars
from tradingstation.errors import (
    DataError,
    InputError,
    ObjectNotFoundError,
)
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_bars(rows: int = 50, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 + rng.normal(0, 1, rows).cumsum()
    open_ = close + rng.normal(0, 0.5, rows)
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2025-01-02", periods=rows, freq="B", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) + 0.5,
            "low": np.minimum(open_, close) - 0.5,
            "close": close,
            "volume": rng.integers(1_000, 1_000_000, rows),
        }
    )
    return validate_bars(canonicalize_bars(frame))


# --- bytes ---------------------------------------------------------------------------------


def test_put_get_bytes_round_trip_and_info(store: ObjectStore) -> None:
    data = bytes(range(256)) * 40
    info = store.put_bytes("a/b/c.bin", data)
    assert (info.key, info.size, info.sha256) == ("a/b/c.bin", len(data), sha(data))
    assert store.get_bytes("a/b/c.bin") == data


def test_empty_object_is_a_real_object(store: ObjectStore) -> None:
    store.put_bytes("empty/x", b"")
    assert store.get_bytes("empty/x") == b""
    assert store.exists("empty/x")
    assert store.head("empty/x").size == 0
    assert store.head("empty/x").sha256 == sha(b"")


def test_overwrite_replaces_content_size_and_hash(store: ObjectStore) -> None:
    store.put_bytes("k/obj", b"first version, longer")
    store.put_bytes("k/obj", b"second")
    assert store.get_bytes("k/obj") == b"second"
    info = store.head("k/obj")
    assert (info.size, info.sha256) == (6, sha(b"second"))
    assert [i.key for i in store.list_objects("k/")] == ["k/obj"]


def test_missing_key_raises_object_not_found(store: ObjectStore) -> None:
    store.put_bytes("present/x", b"1")
    for read in (store.get_bytes, store.get_frame, store.get_json):
        with pytest.raises(ObjectNotFoundError, match="absent/y"):
            read("absent/y")
    # A "folder" of other objects is not an object either.
    with pytest.raises(ObjectNotFoundError):
        store.get_bytes("present")
    assert store.head("absent/y") is None
    assert store.head("present") is None
    assert not store.exists("absent/y")
    assert store.exists("present/x")


def test_head_reports_size_sha256_and_utc_time(store: ObjectStore) -> None:
    data = b"payload" * 1000
    store.put_bytes("h/obj", data)
    info = store.head("h/obj")
    assert info is not None
    assert (info.key, info.size, info.sha256) == ("h/obj", len(data), sha(data))
    assert info.modified is not None and info.modified.utcoffset().total_seconds() == 0


# --- frames and JSON -----------------------------------------------------------------------


def test_bars_frame_round_trip_keeps_canonical_schema(store: ObjectStore) -> None:
    bars = make_bars()
    key = keys.bars_key("daily", "BRK.B")
    info = store.put_frame(key, bars)
    back = store.get_frame(key)
    pd.testing.assert_frame_equal(back, bars)
    assert list(back.columns) == BAR_COLUMNS
    assert str(back["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert info.sha256 == sha(store.get_bytes(key))


@pytest.mark.parametrize(
    "payload",
    [b"not parquet at all", b"PAR1garbagePAR1", None],
    ids=["text", "fake-magic", "truncated"],
)
def test_corrupt_parquet_raises_data_error(store: ObjectStore, payload: bytes | None) -> None:
    if payload is None:
        buffer = io.BytesIO()
        make_bars().to_parquet(buffer, index=False)
        payload = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    store.put_bytes("bars/daily/BAD.parquet", payload)
    with pytest.raises(DataError, match=r"bars/daily/BAD\.parquet"):
        store.get_frame("bars/daily/BAD.parquet")


def test_json_round_trip_and_invalid_json(store: ObjectStore) -> None:
    document = {"b": [1, 2.5, None], "a": {"nested": "é"}, "when": date(2025, 1, 2)}
    store.put_json("signals/2025-01-02/gap_up.json", document)
    assert store.get_json("signals/2025-01-02/gap_up.json") == {
        "a": {"nested": "é"},
        "b": [1, 2.5, None],
        "when": "2025-01-02",
    }
    store.put_bytes("signals/2025-01-02/broken.json", b"{not json")
    with pytest.raises(DataError, match=r"broken\.json"):
        store.get_json("signals/2025-01-02/broken.json")


# --- listing, usage ------------------------------------------------------------------------


def fill(store: ObjectStore) -> dict[str, bytes]:
    objects = {
        "bars/daily/AAPL.parquet": b"a" * 10,
        "bars/daily/AA.parquet": b"b" * 20,
        "bars/daily/MSFT.parquet": b"c" * 30,
        "bars/1min/AAPL.parquet": b"d" * 40,
        "barsx/other": b"e" * 5,
        "signals/2025-01-02/gap_up.json": b"{}",
        "universe/latest.parquet": b"u" * 7,
    }
    for key, data in objects.items():
        store.put_bytes(key, data)
    # Overwrites and deletes leave temp/metadata files behind on some backends; none may leak.
    store.put_bytes("bars/daily/MSFT.parquet", b"c" * 30)
    store.put_bytes("gone/soon", b"x")
    store.delete("gone/soon")
    return objects


def test_list_everything_sorted_with_sizes_and_nothing_else(store: ObjectStore) -> None:
    objects = fill(store)
    listed = store.list_objects()
    assert [i.key for i in listed] == sorted(objects)
    assert {i.key: i.size for i in listed} == {k: len(v) for k, v in objects.items()}
    for info in listed:
        assert info.sha256 in (None, sha(objects[info.key]))


def test_list_by_prefix_filters_exactly(store: ObjectStore) -> None:
    fill(store)
    assert [i.key for i in store.list_objects("bars/daily/")] == [
        "bars/daily/AA.parquet",
        "bars/daily/AAPL.parquet",
        "bars/daily/MSFT.parquet",
    ]
    assert [i.key for i in store.list_objects("bars/daily/AA")] == [
        "bars/daily/AA.parquet",
        "bars/daily/AAPL.parquet",
    ]
    assert [i.key for i in store.list_objects("bars")] == [
        "bars/1min/AAPL.parquet",
        "bars/daily/AA.parquet",
        "bars/daily/AAPL.parquet",
        "bars/daily/MSFT.parquet",
        "barsx/other",
    ]
    assert [i.key for i in store.list_objects("bars/")][-1] == "bars/daily/MSFT.parquet"
    assert store.list_objects("nothing/") == []
    assert store.list_objects("gone/") == []


def test_list_on_a_fresh_store_is_empty(store: ObjectStore) -> None:
    assert store.list_objects() == []
    assert store.usage() == {}


def test_usage_counts_objects_and_bytes_per_top_prefix(store: ObjectStore) -> None:
    fill(store)
    assert store.usage() == {
        "bars/": {"objects": 4, "bytes": 100},
        "barsx/": {"objects": 1, "bytes": 5},
        "signals/": {"objects": 1, "bytes": 2},
        "universe/": {"objects": 1, "bytes": 7},
    }
    assert store.usage("bars/daily/") == {"bars/": {"objects": 3, "bytes": 60}}


# --- delete, copy, get_many ----------------------------------------------------------------


def test_delete_removes_and_is_idempotent(store: ObjectStore) -> None:
    store.put_bytes("d/one", b"1")
    store.put_bytes("d/two", b"2")
    store.delete("d/one")
    assert not store.exists("d/one")
    with pytest.raises(ObjectNotFoundError):
        store.get_bytes("d/one")
    assert [i.key for i in store.list_objects("d/")] == ["d/two"]
    store.delete("d/one")
    store.delete("never/written")
    assert store.get_bytes("d/two") == b"2"
    # A key can be written again after deletion.
    store.put_bytes("d/one", b"again")
    assert store.get_bytes("d/one") == b"again"
    assert store.head("d/one").sha256 == sha(b"again")


def test_copy_keeps_content_and_hash_and_is_independent(store: ObjectStore) -> None:
    data = b"original content" * 100
    store.put_bytes("src/obj", data)
    info = store.copy("src/obj", "backups/2025-01-02/src/obj")
    assert (info.key, info.size) == ("backups/2025-01-02/src/obj", len(data))
    assert info.sha256 == sha(data)
    assert store.get_bytes("backups/2025-01-02/src/obj") == data
    assert store.head("backups/2025-01-02/src/obj").sha256 == sha(data)
    store.put_bytes("src/obj", b"changed")
    assert store.get_bytes("backups/2025-01-02/src/obj") == data
    store.copy("src/obj", "backups/2025-01-02/src/obj")
    assert store.get_bytes("backups/2025-01-02/src/obj") == b"changed"


def test_copy_of_missing_source_raises_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError, match="no/such"):
        store.copy("no/such", "dst/x")
    assert not store.exists("dst/x")


def test_get_many_returns_present_keys_only(store: ObjectStore) -> None:
    present = {f"many/K{i:03d}": f"value {i}".encode() * (i + 1) for i in range(40)}
    for key, data in present.items():
        store.put_bytes(key, data)
    wanted = [*present, "many/missing1", "nowhere/missing2"]
    assert store.get_many(wanted) == present
    assert store.get_many([]) == {}
    assert store.get_many(["many/missing1"]) == {}
    assert store.get_many(["many/K007"], max_workers=1) == {"many/K007": present["many/K007"]}


# --- keys ----------------------------------------------------------------------------------

BAD_KEYS = [
    "", "/abs/key", "../escape", "a/../../b", "a//b", "a/", "a\\b", ".meta/x", "a/./b",
    "a/.hidden", "nul\x00byte", "line\nbreak", None, b"bytes/key",
]


def test_unsafe_keys_are_rejected_before_any_io(store: ObjectStore) -> None:
    store.put_bytes("ok/key", b"x")
    for key in BAD_KEYS:
        for operation in (
            lambda k=key: store.put_bytes(k, b"x"),
            lambda k=key: store.get_bytes(k),
            lambda k=key: store.head(k),
            lambda k=key: store.delete(k),
            lambda k=key: store.copy(k, "ok/key"),
            lambda k=key: store.copy("ok/key", k),
        ):
            with pytest.raises(InputError):
                operation()
    for prefix in ("../", "/abs", "a//", ".meta/", "a\\"):
        with pytest.raises(InputError):
            store.list_objects(prefix)
    assert [i.key for i in store.list_objects()] == ["ok/key"]
    assert store.get_bytes("ok/key") == b"x"


def test_keys_module_output_is_storable(store: ObjectStore) -> None:
    built = [
        keys.bars_key("30min", "BF-B"),
        keys.ledger_key("1min"),
        keys.universe_history_key(date(2025, 1, 2)),
        keys.dashboard_key(date(2025, 1, 2), "20250102T130000Z", "index.html"),
        keys.quarantine_key("daily", "A", "20250102T130000Z"),
        keys.probe_key("abc-123"),
    ]
    for key in built:
        store.put_bytes(key, key.encode())
    assert store.get_many(built) == {k: k.encode() for k in built}
    assert [i.key for i in store.list_objects()] == sorted(built)


def test_describe_is_one_line_and_secret_free(store: ObjectStore) -> None:
    text = store.describe()
    assert text and "\n" not in text
    assert "testing" not in text and "testing" not in repr(store)
