"""Tradable universe: filter the provider's listing, snapshot it daily, read it back."""

from __future__ import annotations

import logging
import re
from datetime import date

import pandas as pd

from tradingstation.contracts import UNIVERSE_COLUMNS
from tradingstation.data.provenance import frame_source, with_source
from tradingstation.errors import DataError, ObjectNotFoundError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, put_frame_if_changed

log = logging.getLogger(__name__)

ASSET_TYPES = ("Stock",)
EXCHANGES = ("NYSE", "NASDAQ", "NYSE MKT", "NYSE ARCA", "BATS")
STATUSES = ("Active",)
NO_UNIVERSE = "no universe yet: run `tradingstation fetch universe`"

# Listings that are not common shares although LISTING_STATUS calls them "Stock": they cost a
# call every session and fail or mislead the screeners. NASDAQ marks them with a fifth letter
# (W warrant, R right, U unit), NYSE with a suffix (-P-<series> preferred, -WS warrant, -U, -R);
# share classes (BRK-B, BF-B) are kept. Test issues have fixed symbols and "TEST" names.
_NASDAQ_SUFFIX = re.compile(r"^[A-Z]{4}[WRU]$")
_SUFFIX = re.compile(r"^[A-Z]+[.\-](P([.\-]?[A-Z])?|WS([.\-]?[A-Z])?|W|U|UN|R|RT)$")
_TEST_SYMBOL = re.compile(r"^(Z[A-Z]ZZT|[A-Z]?TEST[A-Z]?|CBO|CBX|CBQ)$")
_NOT_COMMON_NAME = re.compile(
    r"\b(warrants?|rights?|units?|preferred|pfd|prf|test (stock|symbol|issue))\b", re.IGNORECASE
)

# Alpha Vantage's CSV spells some columns in camelCase; providers should already rename them.
_RAW_NAMES = {"assetType": "asset_type", "ipoDate": "ipo_date"}


def filter_universe(listing: pd.DataFrame) -> pd.DataFrame:
    """Keep active stocks on the main US exchanges whose symbol is a clean ticker.

    A row is dropped for the first rule it breaks, in this order: ``asset_type`` (not Stock),
    ``exchange`` (not NYSE, NASDAQ, NYSE MKT, NYSE ARCA or BATS), ``status`` (not Active),
    ``symbol`` (does not match ``keys.SYMBOL_RE``), ``security_type`` (a warrant, right, unit,
    preferred share or exchange test issue, by symbol suffix or name, see
    :func:`is_common_share`), ``duplicate`` (symbol seen before).
    Comparisons of type, exchange and status ignore case and surrounding spaces; the symbol is
    taken exactly as listed (a key never silently differs from the provider's symbol).

    Args:
        listing: The provider's listing with ``UNIVERSE_COLUMNS``.

    Returns:
        The kept rows with ``UNIVERSE_COLUMNS``, sorted by symbol. ``result.attrs["dropped"]``
        holds the number of dropped rows per reason (read it before transforming the frame).
    """
    frame = listing.rename(columns=_RAW_NAMES)
    missing = [c for c in ("symbol", "exchange", "asset_type", "status") if c not in frame]
    if missing:
        raise DataError(f"listing is missing columns: {', '.join(missing)}")
    for column in UNIVERSE_COLUMNS:
        if column not in frame:
            frame[column] = ""
    frame = frame[UNIVERSE_COLUMNS].reset_index(drop=True)

    def norm(column: str) -> pd.Series:
        return frame[column].fillna("").astype(str).str.strip().str.upper()

    symbols = frame["symbol"].fillna("").astype(str)
    checks = [
        ("asset_type", norm("asset_type").isin([a.upper() for a in ASSET_TYPES])),
        ("exchange", norm("exchange").isin([e.upper() for e in EXCHANGES])),
        ("status", norm("status").isin([s.upper() for s in STATUSES])),
        ("symbol", symbols.map(lambda s: keys.SYMBOL_RE.fullmatch(s) is not None).astype(bool)),
        ("security_type", pd.Series(
            [is_common_share(s, e, n) for s, e, n in zip(
                symbols, norm("exchange"), frame["name"].fillna("").astype(str), strict=True)],
            index=frame.index, dtype=bool)),
    ]
    alive = pd.Series(True, index=frame.index)
    dropped: dict[str, int] = {}
    for reason, ok in checks:
        gone = alive & ~ok
        dropped[reason] = int(gone.sum())
        alive &= ok
    # Only survivors compete for a symbol: a dropped row must not shadow a good one.
    survivors = symbols[alive]
    duplicate = pd.Series(False, index=frame.index)
    duplicate[survivors.index] = survivors.duplicated(keep="first")
    dropped["duplicate"] = int(duplicate.sum())
    alive &= ~duplicate
    kept = frame[alive].copy()
    kept["symbol"] = kept["symbol"].astype(str)
    kept = kept.sort_values("symbol", kind="stable").reset_index(drop=True)
    kept.attrs["dropped"] = dropped
    log.info(
        "universe: kept %d of %d listings; dropped %s",
        len(kept),
        len(frame),
        ", ".join(f"{k}={v}" for k, v in dropped.items() if v) or "none",
    )
    return kept


def is_common_share(symbol: str, exchange: str, name: str) -> bool:
    """Whether a "Stock" listing is a common share.

    Whether a "Stock" listing is a common share (not a warrant, right, unit, preferred or test
    issue), judged from its symbol suffix and its name.
    """
    if _TEST_SYMBOL.fullmatch(symbol) or _SUFFIX.fullmatch(symbol):
        return False
    if exchange.strip().upper() == "NASDAQ" and _NASDAQ_SUFFIX.fullmatch(symbol):
        return False
    # a name only decides for a suffixed symbol or a plain "TEST" name: "United Rentals Inc"
    # or "Preferred Bank" are common shares
    lowered = name.lower()
    if "test stock" in lowered or "test symbol" in lowered or "test issue" in lowered:
        return False
    return not (("-" in symbol or "." in symbol or len(symbol) == 5)
                and _NOT_COMMON_NAME.search(name))


def save_universe(store: ObjectStore, frame: pd.DataFrame, day: date, source: str = "") -> int:
    """Write ``frame`` as the snapshot of ``day`` and as the current universe.

    Write ``frame`` as the snapshot of ``day`` and as the current universe, recording the provider
    it came from (``source``, see :mod:`tradingstation.data.provenance`).

    The dated snapshot is written first and ``universe/latest`` last, so ``latest`` never names a
    universe whose history snapshot is missing. Objects whose content is unchanged are not
    rewritten.

    Returns:
        The number of objects written (0 when both already held this content).
    """
    for symbol in frame["symbol"]:
        keys.validate_symbol(symbol)
    clean = frame[UNIVERSE_COLUMNS].reset_index(drop=True)
    clean.attrs = {}
    if source:
        with_source(clean, source)
    wrote_history = put_frame_if_changed(store, keys.universe_history_key(day), clean)
    wrote_latest = put_frame_if_changed(store, keys.universe_key(), clean)
    return int(wrote_history) + int(wrote_latest)


def universe_source(store: ObjectStore) -> str | None:
    """The source recorded on the current universe ("" if none, None if there is none)."""
    try:
        return frame_source(store.get_frame(keys.universe_key()))
    except ObjectNotFoundError:
        return None


def load_universe_frame(store: ObjectStore) -> pd.DataFrame:
    """The current universe as stored (``UNIVERSE_COLUMNS``).

    Raises:
        ObjectNotFoundError: No universe was fetched yet.
    """
    try:
        return store.get_frame(keys.universe_key())
    except ObjectNotFoundError:
        raise ObjectNotFoundError(NO_UNIVERSE) from None


def load_universe(store: ObjectStore) -> list[str]:
    """Symbols of the current universe, sorted.

    Raises:
        ObjectNotFoundError: ``no universe yet: run `tradingstation fetch universe```.
        DataError: The stored universe is malformed.
    """
    frame = load_universe_frame(store)
    if "symbol" not in frame:
        raise DataError(f"object {keys.universe_key()} has no symbol column")
    symbols = sorted(set(frame["symbol"].astype(str)))
    for symbol in symbols:
        if not keys.SYMBOL_RE.fullmatch(symbol):
            raise DataError(
                f"object {keys.universe_key()} holds a malformed symbol {symbol[:20]!r}"
            )
    return symbols
