"""Alpha Vantage answer formats: error classification and parsing into frames."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from tradingstation.calendar import NY
from tradingstation.contracts import (
    QUOTE_COLUMNS,
    UNIVERSE_COLUMNS,
    Split,
    canonicalize_bars,
    validate_bars,
)
from tradingstation.errors import (
    DataError,
    InvalidApiKeyError,
    PremiumEndpointError,
    ProviderError,
    SymbolNotFoundError,
    ThrottledError,
    TradingStationError,
)
from tradingstation.redaction import one_line

REGULAR_OPEN, REGULAR_CLOSE = time(9, 30), time(16, 0)
OHLCV_FIELDS = {"open": "1. open", "high": "2. high", "low": "3. low", "close": "4. close",
                "volume": "5. volume"}
LISTING_FIELDS = {"symbol": "symbol", "name": "name", "exchange": "exchange",
                  "assetType": "asset_type", "ipoDate": "ipo_date", "status": "status"}

# Alpha Vantage answers every refusal with HTTP 200 and prose; these fragments identify it.
_THROTTLE_MARKERS = ("call frequency", "rate limit", "requests per day", "spreading out",
                     "burst pattern", "higher api call volume", "calls per minute")
_PREMIUM_MARKERS = ("premium endpoint", "premium feature")
_KEY_MARKERS = ("apikey is invalid", "invalid api key", "api key is invalid", "**demo** api key")
_MESSAGE_KEYS = ("Error Message", "Note", "Information")
_MAX_TEXT = 240


def classify_message(
    document: Mapping[str, Any], what: str, secret: str | None, symbol_scoped: bool
) -> TradingStationError | None:
    """The typed error an Alpha Vantage JSON answer stands for, or None if it carries data.

    Args:
        document: The decoded JSON object.
        what: Names the request in the message (``"TIME_SERIES_DAILY NVDA"``).
        secret: The API key, masked out of every message.
        symbol_scoped: Whether a generic ``Error Message`` means an unknown symbol.
    """
    texts = {k: str(document[k]) for k in _MESSAGE_KEYS if k in document}
    # Successful premium-gated answers may carry sample data plus a lowercase "message".
    lowered_message = str(document.get("message", "")).lower()
    if any(m in lowered_message for m in _PREMIUM_MARKERS):
        texts.setdefault("message", str(document["message"]))
    if not texts:
        return None
    key, text = next(iter(texts.items()))
    shown = one_line(text, [secret], max_length=_MAX_TEXT)
    lowered = text.lower()
    if any(m in lowered for m in _KEY_MARKERS):
        return InvalidApiKeyError(f"Alpha Vantage rejected the API key ({what}): {shown}")
    if any(m in lowered for m in _THROTTLE_MARKERS):
        return ThrottledError(f"Alpha Vantage throttled {what}: {shown}")
    if any(m in lowered for m in _PREMIUM_MARKERS):
        return PremiumEndpointError(f"Alpha Vantage plan does not include {what}: {shown}")
    if key == "Error Message":
        # An "Error Message" is Alpha Vantage refusing the request itself: the same request
        # gets the same answer, so it is never retried.
        if "apikey" in lowered or "api key" in lowered:
            return InvalidApiKeyError(f"Alpha Vantage rejected the API key ({what}): {shown}")
        if symbol_scoped:
            return SymbolNotFoundError(f"Alpha Vantage does not know the symbol ({what}): {shown}")
        # Without a symbol, only the key (or the plan) can be wrong in our fixed parameters.
        return InvalidApiKeyError(
            f"Alpha Vantage refused {what}, a request without a symbol (not retried): check the "
            f"API key, TS_ALPHAVANTAGE_API_KEY or the Secret block: {shown}")
    if "Meta Data" in document or any(k.startswith("Time Series") for k in document):
        return None  # an informational note next to real data
    return ProviderError(f"Alpha Vantage answered {what} with a message instead of data: {shown}")


def _wrap_data_error(what: str, exc: Exception) -> DataError:
    return DataError(f"{what}: unreadable provider data ({type(exc).__name__})")


def series_frame(
    document: Mapping[str, Any],
    series_key: str,
    symbol: str,
    what: str,
    to_utc: Callable[[list[str], Mapping[str, Any]], pd.DatetimeIndex],
) -> pd.DataFrame:
    """Turn a ``Meta Data`` + ``Time Series (...)`` answer into canonical, validated bars.

    Raises:
        ProviderError: The series is missing or the answer is for another symbol.
        DataError: The bars break the bar contract.
    """
    meta = document.get("Meta Data")
    series = document.get(series_key)
    if not isinstance(meta, Mapping) or not isinstance(series, Mapping):
        raise ProviderError(f"{what}: answer has no '{series_key}' (keys: "
                            f"{', '.join(sorted(map(str, document))[:5]) or 'none'})")
    answered = str(meta.get("2. Symbol", "")).strip().upper()
    if answered != symbol.upper():
        raise ProviderError(f"{what}: answer is for symbol {answered[:12]!r}, not {symbol}")
    stamps = list(series)
    rows = [values if isinstance(values, Mapping) else {} for values in series.values()]
    try:
        timestamps = to_utc(stamps, meta)
    except (ValueError, TypeError, KeyError) as exc:
        raise _wrap_data_error(what, exc) from None
    frame = pd.DataFrame({name: _numbers([row.get(field) for row in rows])
                          for name, field in OHLCV_FIELDS.items()})
    frame.insert(0, "timestamp", timestamps)
    frame = canonicalize_bars(frame)
    try:
        return validate_bars(frame, what)
    except DataError as exc:
        exc.frame = frame  # the fetch quarantines the rejected bars as evidence
        raise


def _numbers(values: list[Any]) -> np.ndarray | list[Any]:
    """Decimal strings as float64 in one pass.

    Anything unparsable is left to ``canonicalize_bars``, which turns it into NaN for validation to
    reject with evidence.
    """
    try:
        return np.array(values, dtype="float64")
    except (TypeError, ValueError):
        return values


def daily_stamps_to_utc(stamps: list[str], meta: Mapping[str, Any]) -> pd.DatetimeIndex:
    """Session dates (``YYYY-MM-DD``) → the date at 00:00 UTC."""
    return pd.to_datetime(stamps, format="%Y-%m-%d", utc=True)


def intraday_stamps_to_utc(stamps: list[str], meta: Mapping[str, Any]) -> pd.DatetimeIndex:
    """Local bar-start stamps (``YYYY-MM-DD HH:MM:SS`` in ``6. Time Zone``) → UTC.

    Alpha Vantage labels intraday bars by their start: with ``extended_hours=true`` a day's
    1-min series runs 04:00 ... 19:59 and the 30-min series 04:00 ... 19:30 (US/Eastern), the
    last bar ending at 20:00. The labels are kept as bar starts (the canonical convention).
    """
    zone_name = str(meta.get("6. Time Zone") or "US/Eastern")
    try:
        zone = NY if zone_name == "US/Eastern" else ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone") from None
    local = pd.to_datetime(stamps, format="%Y-%m-%d %H:%M:%S")
    return local.tz_localize(zone, ambiguous="raise", nonexistent="raise").tz_convert("UTC")


def listing_frame(text: str, what: str) -> pd.DataFrame:
    """Parse the ``LISTING_STATUS`` CSV into ``UNIVERSE_COLUMNS`` (``ipo_date`` as ISO text).

    Raises:
        ProviderError: The CSV lacks the expected header (truncated or not a listing).
    """
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in LISTING_FIELDS if c not in header]
    if missing:
        raise ProviderError(f"{what}: CSV lacks columns {', '.join(missing)}")
    rows = []
    for row in reader:
        if not (row.get("symbol") or "").strip():
            continue
        out = {name: (row.get(src) or "").strip() for src, name in LISTING_FIELDS.items()}
        out["ipo_date"] = None if out["ipo_date"] in ("", "null") else out["ipo_date"]
        rows.append(out)
    # object dtype keeps a missing ipo_date as None rather than NaN.
    return pd.DataFrame(rows, columns=UNIVERSE_COLUMNS, dtype=object)


def _number(value: Any) -> float | None:
    try:
        number = float(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def quotes_frame(rows: list[dict[str, Any]], what: str,
                 columns: list[str] = QUOTE_COLUMNS) -> pd.DataFrame:
    """Build the canonical quotes frame; rows without a positive price are dropped.

    Args:
        rows: Parsed quote rows (``high``/``low`` when ``columns`` asks for them).
        what: The request, for error messages.
        columns: ``QUOTE_COLUMNS`` or ``SESSION_QUOTE_COLUMNS``. A missing or unreadable
            session high/low falls back to the last price, a missing open is NaN (unknown).

    Raises:
        DataError: A volume is not a non-negative number.
    """
    kept = []
    for row in rows:
        price = _number(row["price"])
        if price is None or price <= 0:
            continue
        volume = _number(row.get("volume") or 0)
        if volume is None or volume < 0:
            raise DataError(f"{what}: quote for {row['symbol']} has an unreadable volume")
        extremes = {k: _number(row.get(k)) or price for k in ("high", "low")}
        opened = _number(row.get("open"))
        kept.append({**row, **extremes, "open": opened if opened else float("nan"),
                     "price": price, "volume": int(volume)})
    frame = pd.DataFrame(kept, columns=columns)
    frame["symbol"] = frame["symbol"].astype("object")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    for column in ("price", "open", "high", "low"):
        if column in frame:
            frame[column] = frame[column].astype("float64")
    frame["volume"] = frame["volume"].astype("int64")
    return frame.reset_index(drop=True)


def bulk_quote_row(entry: Mapping[str, Any], what: str) -> dict[str, Any] | None:
    """One ``REALTIME_BULK_QUOTES`` entry → a quote row (None when it has no usable stamp).

    ``timestamp`` is US/Eastern. Outside the regular session the latest price is
    ``extended_hours_quote`` (premarket / after hours); during it, ``close``.
    """
    try:
        local = pd.Timestamp(str(entry.get("timestamp", ""))).tz_localize(NY)
    except (ValueError, TypeError):
        return None
    extended = _number(entry.get("extended_hours_quote"))
    regular = REGULAR_OPEN <= local.time() < REGULAR_CLOSE
    price = entry.get("close") if regular or not extended else extended
    return {"symbol": str(entry.get("symbol", "")).strip().upper(),
            "timestamp": local.tz_convert("UTC"), "price": price, "volume": entry.get("volume"),
            "open": entry.get("open"), "high": entry.get("high"), "low": entry.get("low")}


def global_quote_row(quote: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """One ``Global Quote`` object → a quote row.

    ``GLOBAL_QUOTE`` carries only a date: a quote of today's session is stamped with the time
    it was received; an older one with that session's 16:00 New York close.
    """
    day = date.fromisoformat(str(quote.get("07. latest trading day", "")).strip())
    local_now = now.astimezone(NY)
    if day >= local_now.date():
        stamp = pd.Timestamp(now).tz_convert("UTC")
    else:
        stamp = pd.Timestamp(datetime.combine(day, REGULAR_CLOSE, NY)).tz_convert("UTC")
    return {"symbol": str(quote.get("01. symbol", "")).strip().upper(), "timestamp": stamp,
            "price": quote.get("05. price"), "volume": quote.get("06. volume"),
            "open": quote.get("02. open"), "high": quote.get("03. high"),
            "low": quote.get("04. low")}



def splits_list(document: Mapping[str, Any], symbol: str, what: str) -> list[Split]:
    """A ``SPLITS`` answer (``{"symbol", "data".

    [{"effective_date", "split_factor"}]}``) → splits, oldest first. An answer without ``data``
    (``{}`` for a symbol without splits) is no split.

    Raises:
        ProviderError: The answer is for another symbol, or an entry is unreadable.
    """
    answered = str(document.get("symbol", symbol)).strip().upper()
    if answered != symbol.upper():
        raise ProviderError(f"{what}: answer is for symbol {answered[:12]!r}")
    entries = document.get("data") or []
    if not isinstance(entries, list):
        raise ProviderError(f"{what}: 'data' is not a list")
    found = []
    for entry in entries:
        try:
            day = date.fromisoformat(str(entry["effective_date"]).strip())
            factor = float(str(entry["split_factor"]).strip())
        except (KeyError, TypeError, ValueError):
            raise ProviderError(f"{what}: unreadable split entry") from None
        if not np.isfinite(factor) or factor <= 0:
            raise ProviderError(f"{what}: split factor {factor!r} is not positive")
        if factor != 1.0:
            found.append(Split(symbol, day, factor))
    return sorted(found, key=lambda s: s.effective_date)
