"""The session benchmarks' world: a seeded S3 store, a matching fake Alpha Vantage, timers.

State before the premarket run (the scenario whose minimum number of calls is computed):

* universe snapshot of the previous session stored (today's is missing: 1 listing call);
* daily bars of every symbol stored through the previous session, 200 sessions (retention),
  with a coverage ledger saying so (daily is fresh: 0 calls);
* no quote and no 1-min bar of today stored (quotes: ceil(universe / 100) bulk calls; 1-min:
  one call per watchlist symbol, ``full`` because nothing of today is stored);
* the daily panel snapshot as the previous session's last load left it (matching the stored
  daily objects; see tradingstation/data/panel_store.py).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date

import numpy as np
import pandas as pd

from bench.synth import daily_panel as make_panel
from bench.synth import listing_for, minute_bars, per_symbol_bars, premarket_quote
from tests.support.fake_alphavantage import FakeAlphaVantage
from tradingstation.calendar import get_calendar
from tradingstation.data.ledger import ledger_row, update_ledger
from tradingstation.data.panel_store import load_panel
from tradingstation.data.universe import save_universe
from tradingstation.storage import keys
from tradingstation.storage.base import PARQUET_CONTENT_TYPE, ObjectStore, frame_to_parquet


class BenchAlphaVantage(FakeAlphaVantage):
    """The fake server, serving 1-min bars that continue the stored daily history.

    1-min bars of a symbol (previous session and today, extended hours) are generated on
    request, cut at ``self.bench_now`` (moved forward between the premarket and market runs),
    and pass through the premarket quote price at the quote's minute; quotes during the
    session follow them.
    """

    def __init__(self, *args, sessions: list[date], quotes: dict[str, dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = sessions
        self.quote_book = quotes
        self.bench_now = pd.Timestamp.now(tz="UTC")

    def _intraday_frame(self, symbol: str, interval: str) -> pd.DataFrame:
        q = self.quote_book.get(symbol, {"price": 50.0, "timestamp": self.bench_now})
        return minute_bars(symbol, self.sessions, q["price"], q["timestamp"], self.bench_now)

    def _quote(self, symbol: str) -> dict | None:
        """Once today's regular session has a complete minute: the quote its 1-min bars imply
        (last close; the session's open, high, low and volume so far), as a real feed's quote
        during the session agrees with its bars. Before: the premarket quote."""
        quote = super()._quote(symbol)
        opened = pd.Timestamp(get_calendar().session_times(self.sessions[-1]).market_open)
        if quote is None or self.bench_now < opened + pd.Timedelta(minutes=1):
            return quote  # (and the premarket's 6,000 quotes generate no bars)
        bars = self._intraday_frame(symbol, "1min")
        regular = bars[bars["timestamp"] >= opened]
        last = regular.iloc[-1]
        return {**quote, "price": float(last["close"]), "close": float(last["close"]),
                "timestamp": last["timestamp"], "open": float(regular["open"].iloc[0]),
                "high": float(regular["high"].max()), "low": float(regular["low"].min()),
                "volume": int(regular["volume"].sum())}


def seed_world(store: ObjectStore, symbols: int, session: date, workers: int = 16,
               mirror: ObjectStore | None = None) -> dict:
    """Write the pre-session state into ``store`` (uncounted); return what the fake needs.

    ``mirror`` also receives every daily bars object, byte for byte (the local copy the load
    comparison reads).
    """
    cal = get_calendar()
    previous = cal.previous_session(session)
    panel = make_panel(symbols, 200, last=previous)
    bars = per_symbol_bars(panel)
    names = panel.symbols
    listing = listing_for(names)
    save_universe(store, listing, previous)
    fetched = pd.Timestamp(cal.session_times(previous).market_close) + pd.Timedelta(hours=5)

    def put(symbol: str) -> dict:
        frame = bars[symbol]
        key, data = keys.bars_key("daily", symbol), frame_to_parquet(frame)
        for target in (store, mirror) if mirror is not None else (store,):
            target.put_bytes(key, data, PARQUET_CONTENT_TYPE)
        return ledger_row(symbol, "daily", frame, fetched, "ok",
                          expected_bar=frame["timestamp"].iloc[-1])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        rows = list(pool.map(put, names))
    update_ledger(store, "daily", pd.DataFrame(rows))
    load_panel(store, "daily")  # the snapshot the previous session's last load stored
    last_close = {s: float(b["close"].iloc[-1]) for s, b in bars.items()}
    return {"symbols": names, "listing": listing, "last_close": last_close,
            "previous": previous, "seed_seconds": time.perf_counter() - started}


def make_fake(world: dict, session: date, as_of: pd.Timestamp, per_minute: int,
              latency: float, api_key: str) -> BenchAlphaVantage:
    """The fake server with the world's listing and premarket quotes (not started)."""
    quotes = {s: premarket_quote(s, c, as_of) for s, c in world["last_close"].items()}
    fake = BenchAlphaVantage(api_key, per_minute=per_minute, latency=latency, premium=True,
                             sessions=[world["previous"], session], quotes=quotes)
    fake.set_listing(world["listing"])
    for symbol, q in quotes.items():
        fake.set_quote(symbol, q["price"], q["volume"], q["timestamp"].to_pydatetime(),
                       previous_close=q["previous_close"])
    fake.bench_now = as_of
    return fake


class Intervals:
    """Thread-safe record of (start, end) intervals, e.g. of our code running inside tasks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spans: list[tuple[str, float, float]] = []

    def wrap(self, name: str, fn: Callable) -> Callable:
        """``fn`` recording each call's interval under ``name`` (signature kept for Prefect)."""
        import functools

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.spans.append((name, start, time.perf_counter()))

        return timed

    def union_seconds(self, start: float = -np.inf, end: float = np.inf) -> float:
        """Length of the union of the recorded intervals inside ``[start, end]``."""
        with self._lock:
            spans = sorted((max(s, start), min(e, end)) for _, s, e in self.spans)
        total, cur_s, cur_e = 0.0, None, None
        for s, e in spans:
            if e <= s:
                continue
            if cur_e is None or s > cur_e:
                if cur_e is not None:
                    total += cur_e - cur_s
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        if cur_e is not None:
            total += cur_e - cur_s
        return total

    def by_name(self) -> dict[str, float]:
        """Summed seconds per name (overlapping calls add up)."""
        out: dict[str, float] = {}
        with self._lock:
            for name, s, e in self.spans:
                out[name] = out.get(name, 0.0) + (e - s)
        return {k: round(v, 3) for k, v in sorted(out.items())}

    def reset(self) -> None:
        """Forget recorded intervals."""
        with self._lock:
            self.spans.clear()


@contextmanager
def moto_process() -> Iterator[str]:
    """moto's S3 server in its own process on 127.0.0.1 (a real S3 endpoint is remote too: an
    in-process server would compete with the code under test for the interpreter lock)."""
    from tests.support.moto_server import unused_local_port

    port = unused_local_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)  # polling a port that is not bound yet, not synchronisation
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
