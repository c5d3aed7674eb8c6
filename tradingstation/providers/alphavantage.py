"""The Alpha Vantage market data provider over ``requests`` (one HTTP request per call)."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import requests
import requests.adapters
from pydantic import SecretStr

from tradingstation.contracts import QUOTE_COLUMNS, SESSION_QUOTE_COLUMNS, Split
from tradingstation.errors import (
    ConfigError,
    InputError,
    PremiumEndpointError,
    ProviderError,
    SymbolNotFoundError,
    ThrottledError,
    TradingStationError,
)
from tradingstation.providers import avformat
from tradingstation.providers.base import Interval, MarketDataProvider
from tradingstation.providers.ratelimit import Limiter
from tradingstation.providers.usage import UsageCounter
from tradingstation.redaction import REDACTED
from tradingstation.storage.keys import validate_symbol

log = logging.getLogger(__name__)

INTERVALS = ("1min", "30min")
BULK_MAX = 100
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _pooled_session(pool_size: int = 32) -> requests.Session:
    """A session whose connection pool fits many concurrent fetching threads."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class AlphaVantageProvider(MarketDataProvider):
    """Alpha Vantage behind the ``MarketDataProvider`` interface.

    Every method makes exactly one HTTP request per Alpha Vantage call, after taking a slot
    from the shared ``limiter``; it never retries (the task layer owns retries). Answers are
    classified by their data key, never by status code: throttle texts under ``Note`` or
    ``Information`` → ``ThrottledError`` (and ``limiter.on_throttle()``), premium refusals →
    ``PremiumEndpointError``, a rejected key → ``InvalidApiKeyError``, ``Error Message`` for a
    symbol → ``SymbolNotFoundError``; 5xx, timeouts, resets, malformed or truncated bodies and
    answers for another symbol → ``ProviderError``; bars breaking the contract → ``DataError``.
    The key never appears in an error, a log line or the repr.

    Args:
        api_key: The Alpha Vantage key (``str`` or ``SecretStr``).
        base_url: Query endpoint, e.g. ``https://www.alphavantage.co/query``.
        limiter: Shared rate limiter (``RateLimiter`` or any ``Limiter``).
        timeout: Seconds to wait for connect and for each read.
        session: A ``requests.Session`` to reuse (one is created otherwise).
        usage: Shared usage counter (one is created otherwise).
        now: Current UTC time (injectable; stamps ``GLOBAL_QUOTE`` quotes).
    """

    name = "alphavantage"
    is_demo = False
    compact_bars = 100
    reports_splits = True

    def __init__(
        self,
        api_key: str | SecretStr,
        base_url: str,
        limiter: Limiter,
        timeout: float = 30,
        session: requests.Session | None = None,
        usage: UsageCounter | None = None,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        secret = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        if not isinstance(secret, str) or not secret.strip():
            raise ConfigError("Alpha Vantage API key is empty")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigError("Alpha Vantage base URL must start with http:// or https://")
        if timeout <= 0:
            raise ConfigError(f"Alpha Vantage timeout must be positive, got {timeout!r}")
        self._api_key = SecretStr(secret.strip())
        self.base_url = base_url
        self.limiter = limiter
        self.timeout = float(timeout)
        self._session = session or _pooled_session()
        self.usage_counter = usage or UsageCounter()
        self._now = now or (lambda: datetime.now(UTC))
        self._bulk_lock = threading.Lock()
        self._bulk_unavailable = False

    def __repr__(self) -> str:
        return f"AlphaVantageProvider(base_url={self.base_url!r}, api_key={REDACTED!r})"

    @property
    def bulk_quotes_available(self) -> bool:
        """False once ``REALTIME_BULK_QUOTES`` was refused as premium (then GLOBAL_QUOTE)."""
        return not self._bulk_unavailable

    def usage(self) -> dict[str, int]:
        """Calls, throttles and errors counted by this provider's usage counter."""
        return self.usage_counter.totals()

    # --- MarketDataProvider -----------------------------------------------------------------

    def listing(self) -> pd.DataFrame:
        """Active listings (``LISTING_STATUS`` CSV) as ``UNIVERSE_COLUMNS``."""
        what = "LISTING_STATUS"
        text = self._call("LISTING_STATUS", {}, what, csv=True, symbol_scoped=False)
        return self._guard("LISTING_STATUS", lambda: avformat.listing_frame(text, what))

    def daily_bars(self, symbol: str, full: bool = False) -> pd.DataFrame:
        """Daily bars (``TIME_SERIES_DAILY``, compact or full); timestamp = date 00:00 UTC."""
        symbol = validate_symbol(symbol)
        what = f"TIME_SERIES_DAILY {symbol}"
        params = {"symbol": symbol, "outputsize": "full" if full else "compact"}
        document = self._call("TIME_SERIES_DAILY", params, what)
        return self._guard("TIME_SERIES_DAILY", lambda: avformat.series_frame(
            document, "Time Series (Daily)", symbol, f"{symbol} daily bars",
            avformat.daily_stamps_to_utc))

    def intraday_bars(
        self, symbol: str, interval: Interval, full: bool = False, month: str | None = None
    ) -> pd.DataFrame:
        """Extended-hours bars (``TIME_SERIES_INTRADAY``); timestamp = bar start in UTC.

        With ``month`` the whole month is asked for (``outputsize=full``).
        """
        symbol = validate_symbol(symbol)
        if interval not in INTERVALS:
            raise InputError(f"invalid interval {interval!r}: expected 1min or 30min")
        params = {"symbol": symbol, "interval": interval, "extended_hours": "true",
                  "outputsize": "full" if full or month else "compact"}
        if month is not None:
            params["month"] = self._check_month(month)
        what = f"TIME_SERIES_INTRADAY {symbol} {interval}" + (f" {month}" if month else "")
        document = self._call("TIME_SERIES_INTRADAY", params, what)
        return self._guard("TIME_SERIES_INTRADAY", lambda: avformat.series_frame(
            document, f"Time Series ({interval})", symbol, f"{symbol} {interval} bars",
            avformat.intraday_stamps_to_utc))

    def splits(self, symbol: str) -> list[Split]:
        """Splits of ``symbol`` (``SPLITS``: ``effective_date``, ``split_factor``), oldest first.

        An unknown symbol or an empty ``data`` list means no split.
        """
        symbol = validate_symbol(symbol)
        what = f"SPLITS {symbol}"
        try:
            document = self._call("SPLITS", {"symbol": symbol}, what)
        except SymbolNotFoundError:
            return []
        return self._guard("SPLITS", lambda: avformat.splits_list(document, symbol, what))

    def quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Latest quotes: ``REALTIME_BULK_QUOTES`` in chunks of 100, else ``GLOBAL_QUOTE``.

        When the plan refuses the bulk endpoint as premium, this instance remembers it and
        asks ``GLOBAL_QUOTE`` one symbol at a time; symbols without a quote (empty answer or
        unknown symbol) are left out.
        """
        return self._quotes(symbols, QUOTE_COLUMNS)

    def session_quotes(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Like :meth:`quotes`, with the day's ``high``/``low`` both endpoints carry."""
        return self._quotes(symbols, SESSION_QUOTE_COLUMNS)

    def _quotes(self, symbols: Sequence[str], columns: list[str]) -> pd.DataFrame:
        wanted = list(dict.fromkeys(validate_symbol(s) for s in symbols))
        frames: list[pd.DataFrame] = []
        pending = wanted
        while pending and not self._bulk_unavailable:
            chunk = pending[:BULK_MAX]
            try:
                frames.append(self._bulk_quotes(chunk, columns))
            except PremiumEndpointError:
                with self._bulk_lock:
                    if not self._bulk_unavailable:
                        log.warning("REALTIME_BULK_QUOTES is not in this plan; using GLOBAL_QUOTE")
                    self._bulk_unavailable = True
                break
            pending = pending[BULK_MAX:]
        for symbol in pending if self._bulk_unavailable else []:
            frames.append(self._global_quote(symbol, columns))
        frames = [f for f in frames if len(f)]
        if not frames:
            return avformat.quotes_frame([], "quotes", columns)
        return pd.concat(frames, ignore_index=True)[columns]

    # --- requests ---------------------------------------------------------------------------

    def _bulk_quotes(self, chunk: list[str], columns: list[str]) -> pd.DataFrame:
        what = f"REALTIME_BULK_QUOTES ({len(chunk)} symbols)"
        document = self._call("REALTIME_BULK_QUOTES", {"symbol": ",".join(chunk)}, what,
                              symbol_scoped=False)

        def parse() -> pd.DataFrame:
            data = document.get("data")
            if not isinstance(data, list):
                raise ProviderError(f"{what}: answer has no 'data' list")
            wanted = set(chunk)
            rows = [avformat.bulk_quote_row(e, what) for e in data if isinstance(e, dict)]
            rows = [r for r in rows if r is not None and r["symbol"] in wanted]
            rows = list({r["symbol"]: r for r in rows}.values())
            return avformat.quotes_frame(rows, what, columns)

        return self._guard("REALTIME_BULK_QUOTES", parse)

    def _global_quote(self, symbol: str, columns: list[str]) -> pd.DataFrame:
        what = f"GLOBAL_QUOTE {symbol}"
        try:
            document = self._call("GLOBAL_QUOTE", {"symbol": symbol}, what)
        except SymbolNotFoundError:
            return avformat.quotes_frame([], what, columns)

        def parse() -> pd.DataFrame:
            quote = document.get("Global Quote")
            if not isinstance(quote, dict):
                raise ProviderError(f"{what}: answer has no 'Global Quote'")
            if not quote:
                return avformat.quotes_frame([], what, columns)  # AV's way of saying "no quote"
            answered = str(quote.get("01. symbol", "")).strip().upper()
            if answered != symbol:
                raise ProviderError(f"{what}: answer is for symbol {answered[:12]!r}")
            try:
                row = avformat.global_quote_row(quote, self._now())
            except (ValueError, TypeError):
                raise ProviderError(f"{what}: unreadable 'latest trading day'") from None
            return avformat.quotes_frame([row], what, columns)

        return self._guard("GLOBAL_QUOTE", parse)

    @staticmethod
    def _check_month(month: str) -> str:
        match = _MONTH_RE.fullmatch(month) if isinstance(month, str) else None
        if match is None or not "2000-01" <= month <= datetime.now(UTC).strftime("%Y-%m"):
            raise InputError(f"invalid month {str(month)[:20]!r}: expected YYYY-MM from 2000-01")
        return month

    def _guard(self, endpoint: str, parse: Callable[[], Any]) -> Any:
        """Run a parser, counting any typed failure as an error of ``endpoint``."""
        try:
            return parse()
        except TradingStationError:
            self.usage_counter.record_error(endpoint)
            raise

    def _call(
        self, function: str, params: dict[str, str], what: str, *, csv: bool = False,
        symbol_scoped: bool = True,
    ) -> Any:
        """One rate-limited request; returns decoded JSON (or CSV text) or raises typed."""
        self.limiter.acquire(1)
        self.usage_counter.record_call(function)
        error: TradingStationError | None = None
        try:
            body = self._get(function, params, what)
            result = self._decode(body, what, csv=csv, symbol_scoped=symbol_scoped)
        except ThrottledError as exc:
            error = exc
            self.usage_counter.record_throttle(function)
            self.limiter.on_throttle()
        except TradingStationError as exc:
            error = exc
            self.usage_counter.record_error(function)
        if error is not None:
            log.info("alphavantage %s failed: %s", what, error)
            raise error
        return result

    def _get(self, function: str, params: dict[str, str], what: str) -> bytes:
        query = {"function": function, **params, "apikey": self._api_key.get_secret_value()}
        failure: str | None = None
        try:
            response = self._session.get(self.base_url, params=query, timeout=self.timeout)
        # requests' exception text embeds the URL with the key: only the type name leaves here,
        # and the error is raised outside the handler so no exception context carries it.
        except requests.Timeout:
            failure = f"timed out after {self.timeout:g}s"
        except requests.ConnectionError as exc:
            failure = f"connection failed ({type(exc).__name__})"
        except requests.RequestException as exc:
            failure = f"request failed ({type(exc).__name__}, e.g. a truncated body)"
        if failure is not None:
            raise ProviderError(f"Alpha Vantage {what}: {failure}")
        status = response.status_code
        if status == 429:
            raise ThrottledError(f"Alpha Vantage throttled {what}: HTTP 429")
        if status >= 300:
            raise ProviderError(f"Alpha Vantage {what}: HTTP {status}")
        return response.content

    def _decode(self, body: bytes, what: str, *, csv: bool, symbol_scoped: bool) -> Any:
        secret = self._api_key.get_secret_value()
        text = body.decode("utf-8", errors="replace")
        if csv and not text.lstrip().startswith(("{", "[")):
            return text
        try:
            document = json.loads(text)
        except ValueError:
            raise ProviderError(f"Alpha Vantage {what}: malformed JSON ({len(body)} B)") from None
        if not isinstance(document, dict):
            raise ProviderError(f"Alpha Vantage {what}: JSON answer is not an object")
        error = avformat.classify_message(document, what, secret, symbol_scoped)
        if error is not None:
            raise error
        if csv:
            raise ProviderError(f"Alpha Vantage {what}: JSON answer where CSV was expected")
        return document
