"""Panel: a universe of bars as wide frames (rows = bar timestamps, columns = symbols)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from tradingstation.contracts import PRICE_COLUMNS
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, read_frame_bytes

FIELDS = (*PRICE_COLUMNS, "volume")


@dataclass(frozen=True)
class Panel:
    """OHLCV for many symbols, one wide DataFrame per field.

    Every frame shares one sorted, tz-aware UTC ``DatetimeIndex`` and one column order
    (symbols, sorted). A symbol without a bar at a timestamp holds NaN there. Indicators and
    screeners work on these frames, so they compute for the whole universe at once.
    """

    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    close: pd.DataFrame
    volume: pd.DataFrame

    @property
    def symbols(self) -> list[str]:
        """Symbols (columns), sorted."""
        return list(self.close.columns)

    @property
    def index(self) -> pd.DatetimeIndex:
        """Bar timestamps (UTC)."""
        return self.close.index  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.close.columns)

    @classmethod
    def from_bars(cls, bars: Mapping[str, pd.DataFrame]) -> Panel:
        """Build a panel from canonical per-symbol bar frames (``{symbol: bars}``)."""
        frames = {s: b for s, b in sorted(bars.items()) if len(b)}
        if not frames:
            empty = pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC"), dtype="float64")
            return cls(*(empty.copy() for _ in FIELDS))
        long = pd.concat(frames, names=["symbol", None]).reset_index(level=0)
        return cls._from_long(long)

    @classmethod
    def from_long_table(cls, table: pa.Table) -> Panel:
        """Build a panel from one Arrow table of canonical bars with a ``symbol`` column.

        One conversion for the universe instead of a pandas frame per symbol: the fast path
        for panels read from storage.
        """
        if table.num_rows == 0:
            return cls.from_bars({})
        return cls._from_long(table.to_pandas())

    @classmethod
    def _from_long(cls, long: pd.DataFrame) -> Panel:
        wide = long.pivot(index="timestamp", columns="symbol", values=list(FIELDS))
        wide = wide.sort_index()
        wide.columns.names = [None, None]
        parts = {f: wide[f].astype("float64").rename_axis(None, axis=1) for f in FIELDS}
        return cls(**parts)

    def select(self, symbols: Iterable[str]) -> Panel:
        """A panel restricted to ``symbols`` (those present), rows where any remains."""
        cols = [s for s in sorted(set(symbols)) if s in self.close.columns]
        keep = self.close[cols].notna().any(axis=1)
        return Panel(*(getattr(self, f).loc[keep, cols] for f in FIELDS))

    def column_blocks(self, size: int) -> Iterator[Panel]:
        """Panels of ``size`` consecutive symbols each (the last may hold fewer), every row kept."""
        for start in range(0, len(self), size):
            yield Panel(*(getattr(self, f).iloc[:, start:start + size] for f in FIELDS))

    def bars(self, symbol: str) -> pd.DataFrame:
        """Canonical bars of one symbol (rows where it has a close)."""
        frame = pd.DataFrame({f: getattr(self, f)[symbol] for f in FIELDS})
        frame = frame.dropna(subset=["close"]).rename_axis("timestamp").reset_index()
        frame["volume"] = frame["volume"].astype("int64")
        return frame


def bar_keys(store: ObjectStore, dataset: str, symbols: Iterable[str] | None) -> list[str]:
    """Keys of ``dataset``'s bars for ``symbols``; every stored symbol's (one listing) if None."""
    if symbols is None:
        return [i.key for i in store.list_objects(keys.bars_prefix(dataset))]
    return [keys.bars_key(dataset, s) for s in symbols]


def load_bars(
    store: ObjectStore, dataset: str, symbols: Iterable[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Read stored bars of ``dataset`` for ``symbols`` (all stored when None), concurrently.

    Symbols with no stored object are left out.
    """
    frames = store.read_many(bar_keys(store, dataset, symbols), read_frame_bytes)
    return {keys.symbol_from_bars_key(k): v for k, v in frames.items()}
