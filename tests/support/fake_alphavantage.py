"""A local fake Alpha Vantage server (real HTTP on 127.0.0.1) with rate limits and faults.

Usage::

    with FakeAlphaVantage(api_key="K", per_minute=75, premium=True) as fake:
        fake.set_daily("NVDA", bars)                 # or let it generate seeded data
        fake.set_splits("NVDA", [(date(2024, 6, 10), 10.0)])  # SPLITS (none by default)
        fake.fail_next("http_503", n=2)              # the next two requests fail
        fake.fail_symbol("BAD", "error_message")     # BAD always fails
        fake.fail_randomly("timeout", p=0.1, seed=7) # 10 % of requests time out
        provider = AlphaVantageProvider("K", fake.url, limiter)
        ...
        fake.count(function="TIME_SERIES_DAILY")     # requests received
        fake.count(outcome="throttled")              # throttle answers sent

Formats served (as Alpha Vantage does, every refusal with HTTP 200): ``TIME_SERIES_DAILY``,
``TIME_SERIES_INTRADAY`` (bar-start US/Eastern stamps, 04:00-20:00), ``LISTING_STATUS`` (CSV),
``GLOBAL_QUOTE``, ``REALTIME_BULK_QUOTES`` (premium only) and ``SPLITS`` (``{"symbol",
"data": [{"effective_date", "split_factor"}]}``; bars are served as set, i.e. as-traded:
``fake_av_data.as_traded`` turns an adjusted series into the unadjusted one a split leaves).
``compact`` = the latest 100 bars; ``outputsize=full`` and ``month`` need ``premium=True``.
Symbols with no data set get deterministic data generated from ``seed`` (weekdays only; no
holiday calendar).

Fault kinds (``FAULT_KINDS``): throttle_note, throttle_information, premium, http_500,
http_503, timeout (answer only after ``timeout_seconds``), connection_reset (RST),
malformed_json, truncated_body (Content-Length larger than the body sent), wrong_symbol,
empty_global_quote, error_message (a bulk quote answer leaves a symbol with either of these
two ``fail_symbol`` faults out). Precedence: ``fail_next`` queue, then ``fail_symbol``,
then ``fail_randomly``. Requests that were throttled by the limit do not use up a fault.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import ThreadingHTTPServer
from typing import Any

import pandas as pd

from tests.support import fake_av_data as data
from tests.support.fake_av_handler import FakeAlphaVantageHandler
from tests.support.tape import MinuteTape, quote_at

FAULT_KINDS = (
    "throttle_note", "throttle_information", "premium", "http_500", "http_503", "timeout",
    "connection_reset", "malformed_json", "truncated_body", "wrong_symbol",
    "empty_global_quote", "error_message",
)
# Per-symbol faults that a bulk answer expresses by leaving the symbol out.
_BULK_OMITS = ("empty_global_quote", "error_message")
FUNCTIONS = ("TIME_SERIES_DAILY", "TIME_SERIES_INTRADAY", "LISTING_STATUS", "GLOBAL_QUOTE",
             "REALTIME_BULK_QUOTES", "SPLITS")


@dataclass
class RecordedRequest:
    """One request the fake received.

    Attributes:
        function: The ``function`` parameter.
        symbol: The ``symbol`` parameter ("" when absent; comma list for bulk quotes).
        params: All parameters except ``apikey``.
        outcome: ``ok``, ``throttled``, ``invalid_key``, ``premium``, ``error`` or a fault kind.
    """

    function: str
    symbol: str
    params: dict[str, str]
    outcome: str = "pending"
    at: float = field(default=0.0)


class FakeAlphaVantage:
    """A threaded HTTP server imitating Alpha Vantage. See the module docstring.

    Args:
        api_key: The only key accepted; others get the real invalid-key message.
        per_minute: Requests allowed in any sliding 60 s window (None = unlimited).
        per_day: Requests allowed in total (None = unlimited); then the daily message.
        premium: Whether full history, ``month`` and bulk quotes are allowed.
        latency: Seconds every request waits before being answered.
        seed: Seed of generated data.
        clock: Monotonic seconds used by the rate limit (injectable for tests).
        now: Current UTC time, the end of generated data.
        timeout_seconds: How long a ``timeout`` fault holds the answer.
        listing_size: Symbols in the generated listing.
        strict_symbols: Unknown symbols (not set, not in the listing) get ``Error Message``.
    """

    def __init__(
        self,
        api_key: str = "FAKE-KEY",
        *,
        per_minute: int | None = None,
        per_day: int | None = None,
        premium: bool = True,
        latency: float = 0.0,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout_seconds: float = 5.0,
        listing_size: int = 40,
        strict_symbols: bool = False,
    ) -> None:
        self.api_key = api_key
        self.per_minute = per_minute
        self.per_day = per_day
        self.premium = premium
        self.latency = latency
        self.seed = seed
        self.clock = clock
        self.now = now
        self.timeout_seconds = timeout_seconds
        self.listing_size = listing_size
        self.strict_symbols = strict_symbols
        self.requests: list[RecordedRequest] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._window: deque[float] = deque()
        self._day_count = 0
        self._daily: dict[str, pd.DataFrame] = {}
        self._intraday: dict[tuple[str, str], pd.DataFrame] = {}
        self._quotes: dict[str, dict[str, Any]] = {}
        self._tapes: dict[str, MinuteTape] = {}
        self._splits: dict[str, list[tuple[date, float]]] = {}
        self._listing: pd.DataFrame | None = None
        self._next_faults: deque[tuple[str, str | None]] = deque()
        self._symbol_faults: dict[str, str] = {}
        self._random_faults: list[tuple[str, float, random.Random, str | None]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The query endpoint, ``http://127.0.0.1:<port>/query``."""
        if self._server is None:
            raise RuntimeError("FakeAlphaVantage is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/query"

    def start(self) -> FakeAlphaVantage:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAlphaVantageHandler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name="fake-alphavantage",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake any held (timeout/latency) answers and close the socket."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> FakeAlphaVantage:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- data -------------------------------------------------------------------------------

    def set_daily(self, symbol: str, bars: pd.DataFrame) -> None:
        """Serve ``bars`` (canonical; timestamp = session date 00:00 UTC) as daily bars."""
        with self._lock:
            self._daily[symbol] = bars.copy()

    def set_intraday(self, symbol: str, interval: str, bars: pd.DataFrame) -> None:
        """Serve ``bars`` (canonical; timestamp = UTC bar start) for ``interval``."""
        with self._lock:
            self._intraday[(symbol, interval)] = bars.copy()

    def set_splits(self, symbol: str, splits: list[tuple[date, float]]) -> None:
        """Serve ``splits`` (effective date, factor: 4.0 forward 4:1, 0.1 reverse 1:10) as
        the ``SPLITS`` answer of ``symbol`` (symbols without any answer with no split)."""
        with self._lock:
            self._splits[symbol] = list(splits)

    def set_listing(self, listing: pd.DataFrame) -> None:
        """Serve ``listing`` (``UNIVERSE_COLUMNS``, optional ``delisting_date``) as CSV."""
        with self._lock:
            self._listing = listing.copy()

    def set_quote(
        self, symbol: str, price: float, volume: int = 0, timestamp: datetime | None = None,
        previous_close: float | None = None, close: float | None = None,
        session: tuple[float, float, float] | None = None,
    ) -> None:
        """Serve a quote: ``price`` is the latest (extended-hours) price at ``timestamp``;
        ``session`` the regular session's ``(open, high, low)`` so far (default: the open is
        the previous close, high/low span it and the price)."""
        with self._lock:
            self._quotes[symbol] = {
                "price": float(price), "volume": int(volume),
                "timestamp": pd.Timestamp(timestamp or self.now()).tz_convert("UTC"),
                "previous_close": float(previous_close if previous_close is not None else price),
                "close": float(close if close is not None else price),
                **(dict(zip(("open", "high", "low"), map(float, session), strict=True))
                   if session is not None else {}),
            }

    def set_tape(self, symbol: str, minutes: pd.DataFrame) -> None:
        """Quote ``symbol`` from regular-session 1-min bars as of ``now()``: the last completed
        minute's close, the running session high/low (``tests/support/tape.py``)."""
        with self._lock:
            self._tapes[symbol] = MinuteTape(minutes)

    # --- faults -----------------------------------------------------------------------------

    def fail_next(self, kind: str, n: int = 1, function: str | None = None) -> None:
        """The next ``n`` requests (of ``function`` only, if given) fail with ``kind``."""
        _check_kind(kind)
        with self._lock:
            self._next_faults.extend([(kind, function)] * n)

    def fail_symbol(self, symbol: str, kind: str) -> None:
        """Every request for ``symbol`` fails with ``kind`` until ``clear_faults``."""
        _check_kind(kind)
        with self._lock:
            self._symbol_faults[symbol] = kind

    def fail_randomly(self, kind: str, p: float, seed: int = 0, function: str | None = None
                      ) -> None:
        """A fraction ``p`` of requests (seeded, reproducible) fail with ``kind``."""
        _check_kind(kind)
        with self._lock:
            self._random_faults.append((kind, p, random.Random(seed), function))

    def clear_faults(self) -> None:
        """Forget every injected fault."""
        with self._lock:
            self._next_faults.clear()
            self._symbol_faults.clear()
            self._random_faults.clear()

    # --- inspection -------------------------------------------------------------------------

    def count(self, function: str | None = None, symbol: str | None = None,
              outcome: str | None = None) -> int:
        """Requests received, optionally only of a function, symbol and/or outcome."""
        with self._lock:
            return sum(
                1 for r in self.requests
                if (function is None or r.function == function)
                and (symbol is None or symbol in r.symbol.split(","))
                and (outcome is None or r.outcome == outcome)
            )

    def reset_requests(self) -> None:
        """Forget recorded requests (the rate-limit window is kept)."""
        with self._lock:
            self.requests.clear()

    # --- request handling (called by the handler thread) ------------------------------------

    def _record(self, query: dict[str, str]) -> RecordedRequest:
        record = RecordedRequest(query.get("function", ""), query.get("symbol", ""),
                                 dict(query), at=self.clock())
        with self._lock:
            self.requests.append(record)
        return record

    def _hold(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _admit(self, record: RecordedRequest, key_ok: bool) -> tuple[str, Any] | None:
        """Key check, rate limit and fault choice: ``(outcome, JSON body or None for a
        fault)``, or None to serve data."""
        with self._lock:
            if not key_ok:
                return "invalid_key", data.invalid_key()
            now = self.clock()
            if self.per_day is not None and self._day_count >= self.per_day:
                return "throttled", data.daily_limit(self.api_key, self.per_day)
            if self.per_minute is not None:
                while self._window and self._window[0] <= now - 60.0:
                    self._window.popleft()
                if len(self._window) >= self.per_minute:
                    return "throttled", data.minute_limit(self.per_minute)
                self._window.append(now)
            self._day_count += 1
            kind = self._pick_fault(record)
        if kind is not None:
            return kind, None
        return None

    def _pick_fault(self, record: RecordedRequest) -> str | None:
        for index, (kind, function) in enumerate(self._next_faults):
            if function is None or function == record.function:
                del self._next_faults[index]
                return kind
        symbols = record.symbol.split(",") if record.symbol else []
        for symbol in symbols:
            kind = self._symbol_faults.get(symbol)
            if kind in _BULK_OMITS and record.function == "REALTIME_BULK_QUOTES":
                continue  # the symbol is left out of the bulk answer instead
            if kind is not None:
                return kind
        for kind, p, rng, function in self._random_faults:
            if (function is None or function == record.function) and rng.random() < p:
                return kind
        return None

    def _serve(self, record: RecordedRequest, fault: str | None) -> tuple[str, str, str]:
        """``(outcome, content type, body)`` for an admitted request."""
        function, params = record.function, record.params
        if fault in ("throttle_note", "throttle_information", "premium", "error_message"):
            body = {"throttle_note": lambda: data.minute_limit(self.per_minute or 75),
                    "throttle_information": lambda: data.daily_limit(self.api_key, 25),
                    "premium": data.premium_endpoint,
                    "error_message": lambda: data.invalid_call(function)}[fault]()
            return fault, "application/json", json.dumps(body)
        if function not in FUNCTIONS:
            return "error", "application/json", json.dumps(data.unknown_function(function))
        if function == "LISTING_STATUS":
            return "ok", "text/csv", data.listing_csv(self._listing_frame())
        symbol = params.get("symbol", "")
        wrong = fault == "wrong_symbol"
        if function == "REALTIME_BULK_QUOTES":
            if not self.premium:
                return "premium", "application/json", json.dumps(data.premium_endpoint())
            symbols = [s for s in symbol.split(",") if s][:100]
            with self._lock:
                skip = {s for s in symbols if self._symbol_faults.get(s) in _BULK_OMITS}
            quotes = [q for s in symbols if s not in skip and self._known(s)
                      if (q := self._quote(s)) is not None]
            return "wrong_symbol" if wrong else "ok", "application/json", json.dumps(
                data.bulk_quotes(quotes, wrong))
        if not symbol or not self._known(symbol):
            return "error", "application/json", json.dumps(data.invalid_call(function))
        if function == "SPLITS":
            with self._lock:
                splits = list(self._splits.get(symbol, []))
            return fault or "ok", "application/json", json.dumps(
                data.splits_json(data._other(symbol) if wrong else symbol, splits))
        if function == "GLOBAL_QUOTE":
            if fault == "empty_global_quote":
                return fault, "application/json", json.dumps({"Global Quote": {}})
            quote = self._quote(symbol)
            if quote is None:  # a tape with no completed minute yet: no quote
                return fault or "ok", "application/json", json.dumps({"Global Quote": {}})
            return fault or "ok", "application/json", json.dumps(data.global_quote(quote, wrong))
        full = params.get("outputsize") == "full"
        month = params.get("month")
        if (full or month) and not self.premium:
            return "premium", "application/json", json.dumps(data.premium_feature(function))
        if function == "TIME_SERIES_DAILY":
            bars = self._daily_frame(symbol)
            body = data.daily_json(symbol, bars if full else bars.tail(100), full, wrong)
        else:
            interval = params.get("interval", "")
            if interval not in data.INTERVAL_MINUTES:
                return "error", "application/json", json.dumps(data.invalid_call(function))
            bars = self._intraday_frame(symbol, interval)
            if month:
                bars = data.month_slice(bars, month)
            body = data.intraday_json(symbol, interval, bars if full or month else bars.tail(100),
                                      full or bool(month), wrong)
        return fault or "ok", "application/json", json.dumps(body)

    # --- data lookup / generation ----------------------------------------------------------

    def _known(self, symbol: str) -> bool:
        if not self.strict_symbols:
            return True
        with self._lock:
            listed = set(self._listing_frame()["symbol"])
            return (symbol in listed or symbol in self._daily or symbol in self._quotes
                    or any(s == symbol for s, _ in self._intraday))

    def _listing_frame(self) -> pd.DataFrame:
        with self._lock:
            if self._listing is None:
                self._listing = data.generate_listing(self.seed, self.listing_size)
            return self._listing

    def _daily_frame(self, symbol: str) -> pd.DataFrame:
        with self._lock:
            if symbol not in self._daily:
                self._daily[symbol] = data.generate_daily(self.seed, symbol, self.now())
            return self._daily[symbol]

    def _intraday_frame(self, symbol: str, interval: str) -> pd.DataFrame:
        with self._lock:
            if (symbol, interval) not in self._intraday:
                self._intraday[(symbol, interval)] = data.generate_intraday(
                    self.seed, symbol, interval, self.now())
            return self._intraday[(symbol, interval)]

    def _quote(self, symbol: str) -> dict[str, Any] | None:
        with self._lock:
            if symbol in self._quotes:
                return {"symbol": symbol, **self._quotes[symbol]}
            tape = self._tapes.get(symbol)
        if tape is not None:  # a taped symbol is quoted from its tape only
            quote = quote_at(tape, self.now())
            if quote is None:
                return None
            return {"symbol": symbol, **quote, "previous_close": quote["open"],
                    "close": quote["price"]}
        daily = self._daily_frame(symbol)
        last = daily.iloc[-1]
        prev = daily.iloc[-2] if len(daily) > 1 else last
        return {"symbol": symbol, "price": float(last["close"]), "volume": int(last["volume"]),
                "timestamp": pd.Timestamp(self.now()).tz_convert("UTC"),
                "previous_close": float(prev["close"]), "close": float(last["close"])}


def _check_kind(kind: str) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
