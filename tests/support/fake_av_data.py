"""Alpha Vantage answer texts and bodies, and seeded data, for the fake Alpha Vantage server."""

from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

NEW_YORK = ZoneInfo("America/New_York")
INTERVAL_MINUTES = {"1min": 1, "30min": 30}
DAILY_SESSIONS = 260
INTRADAY_DAYS = 5

# --- the texts Alpha Vantage answers with (HTTP 200 each) -------------------------------------


def invalid_key() -> dict[str, str]:
    """The answer to a missing or wrong ``apikey``."""
    return {"Error Message": "the parameter apikey is invalid or missing. Please claim your free "
            "API key on (https://www.alphavantage.co/support/#api-key). It should take less "
            "than 20 seconds."}


def minute_limit(per_minute: int) -> dict[str, str]:
    """The per-minute throttle answer (under ``Note``)."""
    return {"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is "
            f"{per_minute} calls per minute and 500 calls per day. Please visit "
            "https://www.alphavantage.co/premium/ if you would like to target a higher API call "
            "frequency."}


def daily_limit(api_key: str, per_day: int) -> dict[str, str]:
    """The daily-quota throttle answer (under ``Information``); it echoes the key."""
    return {"Information": f"We have detected your API key as {api_key} and our standard API "
            f"rate limit is {per_day} requests per day. Please subscribe to any of the premium "
            "plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate "
            "limits."}


def premium_endpoint() -> dict[str, str]:
    """The answer to a premium-only endpoint on a free plan."""
    return {"Information": "Thank you for using Alpha Vantage! This is a premium endpoint. You "
            "may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ "
            "to instantly unlock all premium endpoints"}


def premium_feature(function: str) -> dict[str, str]:
    """The answer to ``outputsize=full`` / ``month`` on a free plan."""
    return {"Information": "Thank you for using Alpha Vantage! The outputsize=full parameter "
            f"value is a premium feature for the {function} endpoint. You may subscribe to any "
            "of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock "
            "all premium features"}


def invalid_call(function: str) -> dict[str, str]:
    """The answer to an unknown symbol or a bad parameter."""
    return {"Error Message": "Invalid API call. Please retry or visit the documentation "
            f"(https://www.alphavantage.co/documentation/) for {function}."}


def unknown_function(function: str) -> dict[str, str]:
    """The answer to an unknown ``function``."""
    return {"Error Message": f"This API function ({function}) does not exist."}


# --- bodies ----------------------------------------------------------------------------------


def _other(symbol: str) -> str:
    return "IBM" if symbol != "IBM" else "MSFT"


def _series(labels: Any, bars: pd.DataFrame) -> dict[str, dict[str, str]]:
    """``{label: {"1. open": ..., "5. volume": ...}}``, newest first, as Alpha Vantage writes
    it (built column by column: the fake must stay cheaper than the client it serves)."""
    columns = [[f"{v:.4f}" for v in bars[c].to_numpy()[::-1]]
               for c in ("open", "high", "low", "close")]
    volume = [str(int(v)) for v in bars["volume"].to_numpy()[::-1]]
    return {label: {"1. open": o, "2. high": h, "3. low": lo, "4. close": c, "5. volume": v}
            for label, o, h, lo, c, v in zip(list(labels)[::-1], *columns, volume, strict=True)}


def daily_json(symbol: str, bars: pd.DataFrame, full: bool, wrong: bool) -> dict[str, Any]:
    """A ``TIME_SERIES_DAILY`` answer (newest first, dates of the UTC-midnight stamps)."""
    series = _series(bars["timestamp"].dt.strftime("%Y-%m-%d"), bars)
    return {
        "Meta Data": {
            "1. Information": "Daily Prices (open, high, low, close) and Volumes",
            "2. Symbol": _other(symbol) if wrong else symbol,
            "3. Last Refreshed": next(iter(series), ""),
            "4. Output Size": "Full size" if full else "Compact",
            "5. Time Zone": "US/Eastern",
        },
        "Time Series (Daily)": series,
    }


def intraday_json(symbol: str, interval: str, bars: pd.DataFrame, full: bool, wrong: bool
                  ) -> dict[str, Any]:
    """A ``TIME_SERIES_INTRADAY`` answer: US/Eastern bar-start stamps, newest first."""
    wall = bars["timestamp"].dt.tz_convert(NEW_YORK).dt.tz_localize(None).to_numpy()
    local = [s.replace("T", " ") for s in np.datetime_as_string(wall, unit="s")]
    series = _series(local, bars)
    return {
        "Meta Data": {
            "1. Information": f"Intraday ({interval}) open, high, low, close prices and volume",
            "2. Symbol": _other(symbol) if wrong else symbol,
            "3. Last Refreshed": next(iter(series), ""),
            "4. Interval": interval,
            "5. Output Size": "Full size" if full else "Compact",
            "6. Time Zone": "US/Eastern",
        },
        f"Time Series ({interval})": series,
    }


def global_quote(quote: dict[str, Any], wrong: bool) -> dict[str, Any]:
    """A ``GLOBAL_QUOTE`` answer for one quote."""
    price, prev = quote["price"], quote["previous_close"]
    day = quote["timestamp"].tz_convert(NEW_YORK).strftime("%Y-%m-%d")
    return {"Global Quote": {
        "01. symbol": _other(quote["symbol"]) if wrong else quote["symbol"],
        "02. open": f"{quote.get('open', prev):.4f}",
        "03. high": f"{quote.get('high', max(price, prev)):.4f}",
        "04. low": f"{quote.get('low', min(price, prev)):.4f}", "05. price": f"{price:.4f}",
        "06. volume": str(quote["volume"]), "07. latest trading day": day,
        "08. previous close": f"{prev:.4f}", "09. change": f"{price - prev:.4f}",
        "10. change percent": f"{(price / prev - 1) * 100:.4f}%",
    }}


def bulk_quotes(quotes: list[dict[str, Any]], wrong: bool) -> dict[str, Any]:
    """A ``REALTIME_BULK_QUOTES`` answer; outside 09:30-16:00 the price is the extended quote."""
    data = []
    for q in quotes:
        local = q["timestamp"].tz_convert(NEW_YORK)
        regular = local.time() >= datetime(2000, 1, 1, 9, 30).time() and local.hour < 16
        close = q["price"] if regular else q["close"]
        prev = q["previous_close"]
        data.append({
            "symbol": _other(q["symbol"]) if wrong else q["symbol"],
            "timestamp": local.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            "open": f"{q.get('open', prev):.2f}",
            "high": f"{q.get('high', max(close, prev)):.2f}",
            "low": f"{q.get('low', min(close, prev)):.2f}", "close": f"{close:.2f}",
            "volume": str(q["volume"]), "previous_close": f"{prev:.2f}",
            "change": f"{close - prev:.2f}", "change_percent": f"{(close / prev - 1) * 100:.4f}",
            "extended_hours_quote": "" if regular else f"{q['price']:.2f}",
            "extended_hours_change": "" if regular else f"{q['price'] - close:.2f}",
            "extended_hours_change_percent": "" if regular
            else f"{(q['price'] / close - 1) * 100:.4f}",
        })
    return {"endpoint": "Realtime Bulk Quotes", "message": "success", "data": data}


def splits_json(symbol: str, splits: list[tuple[date, float]]) -> dict[str, Any]:
    """A ``SPLITS`` answer: ``{"symbol", "data": [{"effective_date", "split_factor"}]}``."""
    return {"symbol": symbol, "data": [
        {"effective_date": day.isoformat(), "split_factor": f"{factor:.4f}"}
        for day, factor in sorted(splits)]}


def as_traded(bars: pd.DataFrame, splits: list[tuple[date, float]]) -> pd.DataFrame:
    """The unadjusted (as-traded) form of split-adjusted ``bars``: before each split's
    effective date (New York session date) prices × factor and volume ÷ factor."""
    stamps = pd.DatetimeIndex(bars["timestamp"])
    daily = bool((stamps == stamps.normalize()).all())
    days = np.asarray((stamps if daily else stamps.tz_convert(NEW_YORK)).date)
    factor = np.ones(len(bars))
    for day, f in splits:
        factor[days < day] *= f
    out = bars.copy()
    for column in ("open", "high", "low", "close"):
        out[column] = out[column].to_numpy(float) * factor
    out["volume"] = np.rint(out["volume"].to_numpy(float) / factor).astype("int64")
    return out


def listing_csv(listing: pd.DataFrame) -> str:
    """The ``LISTING_STATUS`` CSV (``\\r\\n`` line ends, ``null`` for no delisting date)."""
    def cell(value: Any) -> str:
        return "null" if value is None or value == "" or pd.isna(value) else str(value)

    lines = ["symbol,name,exchange,assetType,ipoDate,delistingDate,status"]
    for row in listing.to_dict("records"):
        cells = [row["symbol"], row["name"], row["exchange"], row["asset_type"],
                 cell(row.get("ipo_date")), cell(row.get("delisting_date")), row["status"]]
        lines.append(",".join(str(c).replace(",", " ") for c in cells))
    return "\r\n".join(lines) + "\r\n"


def month_slice(bars: pd.DataFrame, month: str) -> pd.DataFrame:
    """The bars whose New York date falls in ``YYYY-MM``."""
    local = bars["timestamp"].dt.tz_convert(NEW_YORK).dt.strftime("%Y-%m")
    return bars[local == month]


# --- seeded data -----------------------------------------------------------------------------


def _rng(seed: int, symbol: str, salt: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"{symbol}/{salt}".encode())])


def _weekdays(end: date, count: int) -> list[date]:
    days, day = [], end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def _walk(rng: np.random.Generator, n: int, start: float, sigma: float) -> pd.DataFrame:
    closes = start * np.exp(np.cumsum(rng.normal(0, sigma, n)))
    opens = np.concatenate([[start], closes[:-1]]) * (1 + rng.normal(0, sigma / 4, n))
    spread = np.abs(rng.normal(0, sigma, n))
    return pd.DataFrame({
        "open": np.round(opens, 4), "close": np.round(closes, 4),
        "high": np.round(np.maximum(opens, closes) * (1 + spread), 4),
        "low": np.round(np.minimum(opens, closes) * (1 - spread), 4),
    })


def generate_daily(seed: int, symbol: str, now: datetime, sessions: int = DAILY_SESSIONS
                   ) -> pd.DataFrame:
    """Deterministic daily bars for the last ``sessions`` weekdays up to ``now`` (New York)."""
    rng = _rng(seed, symbol, "daily")
    days = _weekdays(now.astimezone(NEW_YORK).date(), sessions)
    frame = _walk(rng, len(days), float(rng.uniform(10, 300)), 0.02)
    frame["volume"] = rng.lognormal(13, 0.6, len(days)).astype("int64")
    frame["timestamp"] = pd.to_datetime([d.isoformat() for d in days], utc=True)
    return frame[["timestamp", "open", "high", "low", "close", "volume"]]


def generate_intraday(seed: int, symbol: str, interval: str, now: datetime,
                      days: int = INTRADAY_DAYS) -> pd.DataFrame:
    """Deterministic extended-hours bars (04:00-20:00 New York) of the last ``days`` weekdays,
    only those completed by ``now``."""
    step = INTERVAL_MINUTES[interval]
    starts = []
    for day in _weekdays(now.astimezone(NEW_YORK).date(), days):
        first = pd.Timestamp(datetime(day.year, day.month, day.day, 4, 0), tz=NEW_YORK)
        starts.extend(first + pd.Timedelta(minutes=step * i) for i in range(16 * 60 // step))
    stamps = pd.DatetimeIndex(starts).tz_convert("UTC")
    # Only completed bars: a bar starting at ``now`` has not closed yet.
    stamps = stamps[stamps + pd.Timedelta(minutes=step) <= pd.Timestamp(now).tz_convert("UTC")]
    rng = _rng(seed, symbol, interval)
    frame = _walk(rng, len(stamps), float(rng.uniform(10, 300)), 0.001 * step**0.5)
    frame["volume"] = rng.lognormal(8, 1.0, len(stamps)).astype("int64")
    frame["timestamp"] = stamps
    return frame[["timestamp", "open", "high", "low", "close", "volume"]].reset_index(drop=True)


def generate_listing(seed: int, size: int) -> pd.DataFrame:
    """A deterministic listing: mostly NYSE/NASDAQ stocks, plus ETFs and other venues."""
    rng = np.random.default_rng([seed, 7])
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    symbols: list[str] = []
    while len(symbols) < size:
        candidate = "".join(rng.choice(list(letters), int(rng.integers(2, 5))))
        if candidate not in symbols:
            symbols.append(candidate)
    venues = ["NYSE", "NASDAQ", "NASDAQ", "NYSE", "NYSE ARCA", "BATS", "NYSE MKT"]
    rows = []
    for i, symbol in enumerate(symbols):
        ipo = date(1990, 1, 1) + timedelta(days=int(rng.integers(0, 12000)))
        rows.append({"symbol": symbol, "name": f"Fake {symbol} Corp", "exchange": venues[i % 7],
                     "asset_type": "ETF" if i % 9 == 8 else "Stock",
                     "ipo_date": ipo.isoformat(), "status": "Active"})
    return pd.DataFrame(rows)
