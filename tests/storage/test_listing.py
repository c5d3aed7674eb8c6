"""Split listings return exactly what a plain listing returns, on every backend."""

from __future__ import annotations

from tradingstation.storage.base import ObjectStore


def test_split_listing_equals_the_plain_listing(store: ObjectStore) -> None:
    names = [f"bars/daily/{c}{i}.parquet" for c in "ABMZ" for i in range(5)]
    for key in [*names, "bars/dailyx/A1.parquet", "bars/1min/A1.parquet", "ledger/daily.parquet"]:
        store.put_bytes(key, key.encode())
    plain = store.list_objects("bars/daily/")
    assert [i.key for i in plain] == sorted(names)
    splits = [
        [],
        ["bars/daily/B0.parquet"],
        ["bars/daily/M3.parquet", "bars/daily/A0.parquet", "bars/daily/M3.parquet"],
        ["bars/daily/C", "bars/daily/ZZZ", "ledger/x", "bars/a"],  # not keys, outside the prefix
        names[::3],
    ]
    for split_at in splits:
        listed = store.list_objects_split("bars/daily/", split_at)
        assert [(i.key, i.size, i.version) for i in listed] == \
            [(i.key, i.size, i.version) for i in plain], split_at
