"""Loading a dataset's panel from the store, through a snapshot of the whole universe.

Reading 6,000 small objects costs 6,000 requests; on S3 that, not decoding, is what a load
costs. So a full load keeps one snapshot object per dataset (``keys.panel_snapshot_key``): the
bars of every symbol in one parquet file, with the version of each symbol's object it was built
from. Every load lists the dataset (one request per 1,000 objects) and reuses a symbol's rows
only when its listed version equals the recorded one; anything rewritten, added or deleted since
is read from its own object, and the refreshed snapshot is stored. The snapshot also records a
hash of each symbol's own rows: rows that no longer match it (an edited or damaged snapshot) are
discarded and read from the symbol's object instead. The listing itself is split
at symbols the snapshot knows, so its pages are fetched side by side. The per-symbol objects stay
the only source of truth: any writer (fetch, gap fill, rebuild, retention, restore, a person
with the console) is picked up on the next load, and losing the snapshot costs one slow load.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import logging
from collections.abc import Iterable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tradingstation.data.panel import FIELDS, Panel, bar_keys
from tradingstation.data.provenance import foreign_symbols
from tradingstation.data.sources import recorded_sources
from tradingstation.errors import DataError, ObjectNotFoundError, TradingStationError
from tradingstation.storage import keys
from tradingstation.storage.base import PARQUET_CONTENT_TYPE, ObjectStore

log = logging.getLogger(__name__)

BAR_TABLE_COLUMNS = ("timestamp", *FIELDS)
SNAPSHOT_FORMAT = 2  # 2: per-symbol row hashes
_META_KEY = b"tradingstation.panel_snapshot"
_SPLIT_EVERY = 900  # symbols per listing range: one S3 page (1,000 keys) with room to grow


def read_bar_table(key: str, data: bytes) -> pa.Table:
    """Decode one bars object to Arrow (``timestamp`` + OHLCV).

    Raises:
        DataError: Not readable parquet, or not bars (the message names ``key``).
    """
    try:
        table = pq.ParquetFile(pa.BufferReader(data)).read(columns=list(BAR_TABLE_COLUMNS))
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt input
        raise DataError(f"object {key} is not readable parquet: {type(exc).__name__}") from None
    missing = [c for c in BAR_TABLE_COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(f"object {key} is not bars: no column {', '.join(missing)}")
    return table


def long_table(tables: Mapping[str, pa.Table]) -> pa.Table | None:
    """Per-symbol bar tables as one table with a leading ``symbol`` column (None if no bars)."""
    parts = [t.select(list(BAR_TABLE_COLUMNS)).add_column(
                 0, "symbol", pa.array([s] * t.num_rows, pa.string()))
             for s, t in sorted(tables.items()) if t.num_rows]
    return pa.concat_tables(parts, promote_options="permissive") if parts else None


def load_panel(store: ObjectStore, dataset: str, symbols: Iterable[str] | None = None,
               source: str = "") -> Panel:
    """The stored bars of ``dataset`` as a :class:`Panel`.

    With ``symbols``, reads exactly those objects. Without, loads the whole universe through
    the snapshot (see the module docstring): one listing, one snapshot read, and a read of
    each object that changed since the snapshot was stored. With ``source`` (a provider name),
    symbols whose ledger records data from another provider are left out, so data of two
    sources never meets in one screen (:mod:`tradingstation.data.provenance`).

    Raises:
        DataError: An object is not readable bars parquet (the message names its key).
    """
    if symbols is not None:
        tables = store.read_many(bar_keys(store, dataset, symbols), read_bar_table)
        table = long_table({keys.symbol_from_bars_key(k): t for k, t in tables.items()})
    else:
        table = load_universe_table(store, dataset)
    panel = Panel.from_bars({}) if table is None else Panel.from_long_table(table)
    if source and len(panel):
        foreign = foreign_symbols(recorded_sources(store, dataset), source, panel.symbols)
        if foreign:
            log.warning("%s: left out %d symbols whose data is not from %s: %s", dataset,
                        len(foreign), source, ", ".join(foreign[:20]))
            panel = panel.select(sorted(set(panel.symbols) - set(foreign)))
    return panel


def load_universe_table(store: ObjectStore, dataset: str) -> pa.Table | None:
    """Every stored symbol's bars of ``dataset`` as one long table.

    Every stored symbol's bars of ``dataset`` as one long table (None if there are none), through
    the snapshot, which is stored again when it no longer matches the listing.
    """
    cached, recorded, rows_recorded = _read_snapshot(store, dataset)
    intact = _intact_symbols(cached, rows_recorded)
    # split the listing about a page apart, at symbols the snapshot knows, so that a store
    # which pages its listings (S3) lists the pages side by side
    split_at = [keys.bars_key(dataset, s) for s in sorted(recorded)[_SPLIT_EVERY::_SPLIT_EVERY]]
    listed = {keys.symbol_from_bars_key(i.key): (i.key, i.version)
              for i in store.list_objects_split(keys.bars_prefix(dataset), split_at)}
    reuse = {s for s, (_, version) in listed.items()
             if s in intact and version is not None and recorded.get(s) == version}
    fresh = store.read_many([k for s, (k, _) in sorted(listed.items()) if s not in reuse],
                            read_bar_table)
    parts = [long_table({keys.symbol_from_bars_key(k): t for k, t in fresh.items()})]
    if reuse:
        parts.append(cached.filter(pc.is_in(cached["symbol"], value_set=pa.array(sorted(reuse)))))
    parts = [p for p in parts if p is not None and p.num_rows]
    table = pa.concat_tables(parts, promote_options="permissive") if parts else None
    read = [s for s in map(keys.symbol_from_bars_key, fresh) if listed[s][1] is not None]
    versions = {s: listed[s][1] for s in [*reuse, *read]}
    if table is not None and (versions != recorded or not set(recorded) <= intact):
        _write_snapshot(store, dataset, table, versions)
    return table


def row_hashes(table: pa.Table | None) -> dict[str, str]:
    """``{symbol: hash of its rows}`` of a long bars table (see :func:`long_table`).

    A symbol's hash is its row count and a blake2b digest of its timestamp and OHLCV values in
    row order: any changed, added, removed or reordered row changes it. Rows of one symbol are
    contiguous in a snapshot, so each column is hashed slice by slice without a copy per row.
    """
    if table is None or not table.num_rows:
        return {}
    columns = [_as_numpy(table[c]) for c in BAR_TABLE_COLUMNS]
    codes = pc.dictionary_encode(table["symbol"]).combine_chunks()
    names = codes.dictionary.to_pylist()
    indices = codes.indices.to_numpy()
    bounds = [0, *(np.flatnonzero(indices[1:] != indices[:-1]) + 1).tolist(), len(indices)]
    digests: dict[str, hashlib.blake2b] = {}
    counts: dict[str, int] = {}
    for start, stop in itertools.pairwise(bounds):
        name = names[indices[start]]
        digest = digests.setdefault(name, hashlib.blake2b(digest_size=16))
        for column in columns:
            digest.update(column[start:stop])
        counts[name] = counts.get(name, 0) + stop - start
    return {name: f"{counts[name]}:{digest.hexdigest()}" for name, digest in digests.items()}


def _as_numpy(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_timestamp(column.type):
        column = column.cast(pa.int64())
    return np.ascontiguousarray(column.to_numpy())


def _intact_symbols(cached: pa.Table | None, recorded: dict[str, str]) -> set[str]:
    """Symbols whose snapshot rows still match the hash recorded for them."""
    if cached is None:
        return set()
    computed = row_hashes(cached)
    intact = {s for s, h in computed.items() if recorded.get(s) == h}
    damaged = sorted(set(recorded) - intact)
    if damaged:
        log.warning("panel snapshot rows of %d symbols (%s) fail their hash; reading their "
                    "objects", len(damaged), ", ".join(damaged[:5]))
    return intact


def snapshot_problems(store: ObjectStore, dataset: str) -> list[str]:
    """Symbols whose rows in the stored snapshot fail their recorded hash.

    Symbols whose rows in the stored snapshot of ``dataset`` fail the hash recorded for them (empty
    when there is no usable snapshot: loads then read every object anyway).
    """
    cached, _, recorded = _read_snapshot(store, dataset)
    if cached is None:
        return []
    computed = row_hashes(cached)
    return sorted(s for s in set(computed) | set(recorded) if computed.get(s) != recorded.get(s))


def repair_snapshot(store: ObjectStore, dataset: str) -> list[str]:
    """Store the snapshot of ``dataset`` again if rows in it fail their hash.

    Those symbols are read from their objects (as any load would). Returns the symbols repaired.
    """
    damaged = snapshot_problems(store, dataset)
    if damaged:
        load_universe_table(store, dataset)
    return damaged


def _read_snapshot(
    store: ObjectStore, dataset: str
) -> tuple[pa.Table | None, dict[str, str], dict[str, str]]:
    key = keys.panel_snapshot_key(dataset)
    try:
        data = store.get_bytes(key)
        table = pq.read_table(pa.BufferReader(data))
        meta = json.loads((table.schema.metadata or {})[_META_KEY])
        if meta.get("format") != SNAPSHOT_FORMAT or meta.get("dataset") != dataset:
            raise ValueError("another snapshot format")
        if not {"symbol", *BAR_TABLE_COLUMNS} <= set(table.column_names):
            raise ValueError("snapshot without the bar columns")
        versions = {str(s): str(v) for s, v in meta["versions"].items()}
        rows = {str(s): str(v) for s, v in meta["rows"].items()}
        return table.replace_schema_metadata(None), versions, rows
    except ObjectNotFoundError:
        return None, {}, {}
    except (DataError, KeyError, ValueError, TypeError, pa.ArrowException) as exc:
        # a snapshot is only ever a shortcut: an unreadable one is rebuilt from the objects.
        # (A failed read is not unreadable: it propagates, and the caller's retry reads it.)
        log.warning("panel snapshot %s unusable (%s); reading every object", key,
                    type(exc).__name__)
        return None, {}, {}


def _write_snapshot(store: ObjectStore, dataset: str, table: pa.Table,
                    versions: dict[str, str]) -> None:
    # symbols whose objects have no version are in the table but never reused from it
    key = keys.panel_snapshot_key(dataset)
    meta = {"format": SNAPSHOT_FORMAT, "dataset": dataset, "versions": versions,
            "rows": row_hashes(table)}
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata({_META_KEY: json.dumps(meta)}), buffer)
    try:
        store.put_bytes(key, buffer.getvalue(), PARQUET_CONTENT_TYPE)
    except TradingStationError as exc:
        # the load itself succeeded; the next one simply reads the objects again
        log.warning("could not store panel snapshot %s: %s", key, exc)
