"""AlphaVantageProvider against the fake Alpha Vantage server over real HTTP: formats, errors."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import requests

from tests.support.fake_alphavantage import FakeAlphaVantage
from tradingstation.contracts import BAR_COLUMNS, QUOTE_COLUMNS, UNIVERSE_COLUMNS, canonicalize_bars
from tradingstation.errors import (
    ConfigError,
    DataError,
    InputError,
    InvalidApiKeyError,
    PremiumEndpointError,
    ProviderError,
    SymbolNotFoundError,
    ThrottledError,
)
from tradingstation.logs import configure_logging
from tradingstation.providers import avformat
from tradingstation.providers.alphavantage import AlphaVantageProvider
from tradingstation.providers.ratelimit import RateLimiter
from tradingstation.redaction import REDACTED

KEY = "SENTINEL-KEY-123"
NOW = datetime(2024, 7, 17, 12, 0, tzinfo=UTC)  # a Wednesday, 08:00 New York (premarket)


def make_bars(stamps: pd.DatetimeIndex, seed: int = 1) -> pd.DataFrame:
    """Valid canonical bars at ``stamps``."""
    rng = np.random.default_rng(seed)
    close = np.round(100 + np.cumsum(rng.normal(0, 1, len(stamps))), 4)
    frame = pd.DataFrame({"timestamp": stamps, "open": close, "high": close + 1,
                          "low": close - 1, "close": close,
                          "volume": rng.integers(1, 10_000, len(stamps))})
    return canonicalize_bars(frame)


def daily_bars(n: int) -> pd.DataFrame:
    return make_bars(pd.bdate_range("2024-01-02", periods=n, tz="UTC"))


@pytest.fixture(autouse=True)
def _logging_configured(restored_logging: None) -> None:
    """Logging as every entry point (CLI, flow run) configures it: redaction installed, so the
    request URLs urllib3 logs at DEBUG have the key masked."""
    configure_logging(level="DEBUG", fmt="json", stream=io.StringIO())


@pytest.fixture
def fake() -> Iterator[FakeAlphaVantage]:
    with FakeAlphaVantage(KEY, premium=True, now=lambda: NOW, timeout_seconds=5) as server:
        yield server


@pytest.fixture
def limiter() -> RateLimiter:
    return RateLimiter(6000, throttle_pause=0.0)


@pytest.fixture
def provider(fake: FakeAlphaVantage, limiter: RateLimiter) -> AlphaVantageProvider:
    return AlphaVantageProvider(KEY, fake.url, limiter, timeout=0.5, now=lambda: NOW)


# --- successful answers ---------------------------------------------------------------------


def test_daily_compact_returns_latest_100_bars(fake, provider):
    bars = daily_bars(150)
    fake.set_daily("NVDA", bars)
    got = provider.daily_bars("NVDA")
    pd.testing.assert_frame_equal(got, bars.tail(100).reset_index(drop=True))
    assert fake.requests[0].params == {"function": "TIME_SERIES_DAILY", "symbol": "NVDA",
                                       "outputsize": "compact"}
    assert provider.usage() == {"calls": 1, "throttles": 0, "errors": 0}


def test_daily_full_returns_everything_on_premium(fake, provider):
    bars = daily_bars(150)
    fake.set_daily("NVDA", bars)
    got = provider.daily_bars("NVDA", full=True)
    assert list(got.columns) == BAR_COLUMNS and len(got) == 150
    assert (got["timestamp"].dt.hour == 0).all() and str(got["timestamp"].dt.tz) == "UTC"
    assert fake.requests[0].params["outputsize"] == "full"


def test_intraday_compact_1min_extended_hours(fake, provider):
    stamps = pd.date_range("2024-07-16 08:00", periods=300, freq="1min", tz="UTC")
    bars = make_bars(stamps)
    fake.set_intraday("NVDA", "1min", bars)
    got = provider.intraday_bars("NVDA", "1min")
    pd.testing.assert_frame_equal(got, bars.tail(100).reset_index(drop=True))
    params = fake.requests[0].params
    assert params["interval"] == "1min" and params["extended_hours"] == "true"
    assert params["outputsize"] == "compact" and "month" not in params


def test_intraday_month_asks_full_month(fake, provider):
    stamps = pd.date_range("2024-02-28 14:30", "2024-03-02 14:30", freq="30min", tz="UTC")
    fake.set_intraday("NVDA", "30min", make_bars(stamps))
    got = provider.intraday_bars("NVDA", "30min", month="2024-03")
    assert fake.requests[0].params["month"] == "2024-03"
    assert fake.requests[0].params["outputsize"] == "full"
    local = got["timestamp"].dt.tz_convert("America/New_York")
    assert len(got) > 0 and (local.dt.month == 3).all()


@pytest.mark.parametrize(
    ("utc_start", "eastern_label"),
    [
        ("2024-01-16 14:30:00", "2024-01-16 09:30:00"),  # EST, UTC-5
        ("2024-07-16 13:30:00", "2024-07-16 09:30:00"),  # EDT, UTC-4
        ("2024-03-11 08:00:00", "2024-03-11 04:00:00"),  # first EDT Monday, premarket open
        ("2024-11-04 00:59:00", "2024-11-03 19:59:00"),  # first EST day, last extended bar
    ],
)
def test_intraday_eastern_labels_become_utc_bar_starts(fake, provider, utc_start, eastern_label):
    bars = make_bars(pd.DatetimeIndex([pd.Timestamp(utc_start, tz="UTC")]))
    fake.set_intraday("IBM", "1min", bars)
    raw = requests.get(fake.url, params={"function": "TIME_SERIES_INTRADAY", "symbol": "IBM",
                                         "interval": "1min", "apikey": KEY}, timeout=5).json()
    assert list(raw["Time Series (1min)"]) == [eastern_label]
    assert raw["Meta Data"]["6. Time Zone"] == "US/Eastern"
    got = provider.intraday_bars("IBM", "1min")
    assert got["timestamp"].tolist() == [pd.Timestamp(utc_start, tz="UTC")]


def test_intraday_label_conversion_without_the_fake():
    meta = {"6. Time Zone": "US/Eastern"}
    got = avformat.intraday_stamps_to_utc(["2024-01-16 04:00:00", "2024-07-16 19:59:00"], meta)
    assert [t.isoformat() for t in got] == ["2024-01-16T09:00:00+00:00",
                                            "2024-07-16T23:59:00+00:00"]


def test_listing_parses_csv_into_universe_columns(fake, provider):
    listing = pd.DataFrame([
        {"symbol": "NVDA", "name": "NVIDIA Corp", "exchange": "NASDAQ", "asset_type": "Stock",
         "ipo_date": "1999-01-22", "status": "Active"},
        {"symbol": "SPY", "name": "SPDR S&P 500", "exchange": "NYSE ARCA", "asset_type": "ETF",
         "ipo_date": None, "status": "Active"},
    ])
    fake.set_listing(listing)
    got = provider.listing()
    assert list(got.columns) == UNIVERSE_COLUMNS
    assert got.to_dict("records") == [
        {"symbol": "NVDA", "name": "NVIDIA Corp", "exchange": "NASDAQ", "asset_type": "Stock",
         "ipo_date": "1999-01-22", "status": "Active"},
        {"symbol": "SPY", "name": "SPDR S&P 500", "exchange": "NYSE ARCA", "asset_type": "ETF",
         "ipo_date": None, "status": "Active"},
    ]
    assert fake.requests[0].params == {"function": "LISTING_STATUS"}


def test_bulk_quotes_chunked_by_100_with_extended_hours_price(fake, provider):
    symbols = [f"S{i:03d}" for i in range(150)]
    premarket = datetime(2024, 7, 17, 11, 45, tzinfo=UTC)  # 07:45 New York
    for i, symbol in enumerate(symbols):
        fake.set_quote(symbol, price=50 + i, volume=1000 + i, timestamp=premarket, close=40.0)
    fake.set_quote("S000", price=77.5, volume=5, timestamp=datetime(2024, 7, 16, 15, tzinfo=UTC),
                   close=77.5)  # 11:00 New York: regular session, close is the price
    got = provider.quotes(symbols)
    assert fake.count(function="REALTIME_BULK_QUOTES") == 2
    assert [len(r.symbol.split(",")) for r in fake.requests] == [100, 50]
    assert list(got.columns) == QUOTE_COLUMNS and got["symbol"].tolist() == symbols
    assert got.loc[1, "price"] == 51.0 and got.loc[1, "volume"] == 1001
    assert got.loc[1, "timestamp"] == pd.Timestamp(premarket)
    assert got.loc[0, "price"] == 77.5


def test_bulk_premium_refusal_falls_back_to_global_quote_and_remembers(fake, limiter):
    fake.premium = False
    provider = AlphaVantageProvider(KEY, fake.url, limiter, timeout=2, now=lambda: NOW)
    today = datetime(2024, 7, 17, 11, 0, tzinfo=UTC)
    fake.set_quote("AAA", price=10.5, volume=7, timestamp=today)
    fake.set_quote("BBB", price=20.0, volume=8, timestamp=datetime(2024, 7, 16, 18, tzinfo=UTC))
    got = provider.quotes(["AAA", "BBB"])
    assert [r.function for r in fake.requests] == ["REALTIME_BULK_QUOTES", "GLOBAL_QUOTE",
                                                   "GLOBAL_QUOTE"]
    assert got.set_index("symbol")["price"].to_dict() == {"AAA": 10.5, "BBB": 20.0}
    stamps = got.set_index("symbol")["timestamp"]
    assert stamps["AAA"] == pd.Timestamp(NOW)  # today's session: stamped on receipt
    assert stamps["BBB"] == pd.Timestamp("2024-07-16 20:00", tz="UTC")  # 16:00 NY close
    assert not provider.bulk_quotes_available
    fake.reset_requests()
    provider.quotes(["AAA"])
    assert [r.function for r in fake.requests] == ["GLOBAL_QUOTE"]


def test_empty_global_quote_and_unknown_symbol_are_left_out(limiter):
    with FakeAlphaVantage(KEY, premium=False, strict_symbols=True, now=lambda: NOW) as fake:
        for symbol in ("AAA", "BBB"):
            fake.set_quote(symbol, price=5.0, timestamp=NOW)
        fake.fail_symbol("BBB", "empty_global_quote")
        provider = AlphaVantageProvider(KEY, fake.url, limiter, timeout=2, now=lambda: NOW)
        got = provider.quotes(["AAA", "BBB", "ZZZ"])
        assert got["symbol"].tolist() == ["AAA"]
        assert fake.count(function="GLOBAL_QUOTE") == 3


def test_global_quote_error_message_leaves_symbol_out(fake, provider):
    fake.premium = False
    fake.fail_symbol("BBB", "error_message")
    got = provider.quotes(["AAA", "BBB"])
    assert got["symbol"].tolist() == ["AAA"]
    assert fake.count(symbol="BBB", outcome="error_message") == 1
    assert provider.usage_counter.snapshot()["by_endpoint"]["GLOBAL_QUOTE"]["errors"] == 1


def test_empty_quote_left_out_of_bulk_answer(fake, provider):
    for symbol in ("AAA", "BBB"):
        fake.set_quote(symbol, price=5.0, timestamp=NOW)
    fake.fail_symbol("BBB", "empty_global_quote")
    assert provider.quotes(["AAA", "BBB"])["symbol"].tolist() == ["AAA"]
    assert fake.count() == 1


# --- typed errors ---------------------------------------------------------------------------

FAULT_ERRORS = [
    ("throttle_note", ThrottledError),
    ("throttle_information", ThrottledError),
    ("premium", PremiumEndpointError),
    ("error_message", SymbolNotFoundError),
    ("http_500", ProviderError),
    ("http_503", ProviderError),
    ("timeout", ProviderError),
    ("connection_reset", ProviderError),
    ("malformed_json", ProviderError),
    ("truncated_body", ProviderError),
    ("wrong_symbol", ProviderError),
]


def assert_no_key(exc: BaseException, provider: AlphaVantageProvider, log_text: str) -> None:
    rendered = "".join(traceback.format_exception(exc))
    for text in (str(exc), repr(exc), rendered, repr(provider), log_text):
        assert KEY not in text


FAULT_CASES = [
    (endpoint, kind, error)
    for endpoint in ("daily", "intraday", "global_quote")
    for kind, error in FAULT_ERRORS
    # An unknown symbol in a quote list is left out instead (see the test below).
    if not (endpoint == "global_quote" and kind == "error_message")
]


@pytest.mark.parametrize(("endpoint", "kind", "error"), FAULT_CASES)
def test_fault_maps_to_typed_error_without_leaking_key(
    fake, provider, limiter, caplog, endpoint, kind, error
):
    caplog.set_level(logging.DEBUG)
    fake.premium = False  # quotes go through GLOBAL_QUOTE after one bulk refusal
    if endpoint == "global_quote":
        provider.quotes(["IBM"])
        fake.reset_requests()
    fake.fail_next(kind)
    call = {"daily": lambda: provider.daily_bars("NVDA"),
            "intraday": lambda: provider.intraday_bars("NVDA", "30min"),
            "global_quote": lambda: provider.quotes(["NVDA"])}[endpoint]
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert fake.count() == 1  # one request, no retry inside the provider
    assert_no_key(caught.value, provider, caplog.text)
    throttled = error is ThrottledError
    assert limiter.stats()["throttles"] == int(throttled)
    usage = provider.usage_counter.snapshot()["by_endpoint"]
    counted = usage["GLOBAL_QUOTE" if endpoint == "global_quote" else
                    {"daily": "TIME_SERIES_DAILY", "intraday": "TIME_SERIES_INTRADAY"}[endpoint]]
    assert (counted["throttles"], counted["errors"]) == ((1, 0) if throttled else (0, 1))


def test_throttle_text_echoing_the_key_is_redacted(fake, provider):
    fake.fail_next("throttle_information")
    with pytest.raises(ThrottledError) as caught:
        provider.daily_bars("NVDA")
    assert f"API key as {REDACTED}" in str(caught.value)
    assert "25 requests per day" in str(caught.value)
    assert KEY not in str(caught.value)


def test_invalid_key_is_permanent_and_not_echoed(fake, limiter, caplog):
    caplog.set_level(logging.DEBUG)
    provider = AlphaVantageProvider("WRONG-KEY-999", fake.url, limiter, timeout=2)
    for call in (lambda: provider.daily_bars("NVDA"), provider.listing):
        with pytest.raises(InvalidApiKeyError) as caught:
            call()
        assert "WRONG-KEY-999" not in str(caught.value) + caplog.text
    assert [r.outcome for r in fake.requests] == ["invalid_key", "invalid_key"]


def test_urllib3_debug_lines_have_the_key_masked(fake, provider, caplog):
    caplog.set_level(logging.DEBUG)
    provider.daily_bars("NVDA")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any(f"apikey={REDACTED}" in line for line in lines)
    assert KEY not in caplog.text


def test_importing_the_provider_installs_no_logging_filter():
    script = ("import logging\n"
              "import tradingstation.providers.alphavantage\n"
              "names = ['urllib3', 'urllib3.connectionpool', '']\n"
              "print(sum(len(logging.getLogger(n).filters) for n in names),\n"
              "      logging.getLogRecordFactory() is logging.LogRecord)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.split() == ["0", "True"]


@pytest.mark.parametrize(("kind", "error"), [("throttle_note", ThrottledError),
                                             # refused without a symbol: the key (permanent)
                                             ("error_message", InvalidApiKeyError),
                                             ("malformed_json", ProviderError)])
def test_json_answering_the_csv_listing_request(fake, provider, kind, error):
    fake.fail_next(kind)
    with pytest.raises(error) as caught:
        provider.listing()
    assert type(caught.value) is error


def test_unknown_symbol_is_symbol_not_found(provider):
    with FakeAlphaVantage(KEY, strict_symbols=True) as fake:
        provider.base_url = fake.url
        with pytest.raises(SymbolNotFoundError):
            provider.daily_bars("ZZZZ")


def test_full_history_without_premium_is_permanent(fake, provider):
    fake.premium = False
    with pytest.raises(PremiumEndpointError):
        provider.daily_bars("NVDA", full=True)
    with pytest.raises(PremiumEndpointError):
        provider.intraday_bars("NVDA", "1min", month="2024-03")


def test_bars_breaking_the_contract_are_data_errors(fake, provider):
    bad = daily_bars(5)
    bad.loc[2, "high"] = bad.loc[2, "low"] - 5
    fake.set_daily("NVDA", bad)
    with pytest.raises(DataError, match="NVDA daily bars"):
        provider.daily_bars("NVDA")
    assert provider.usage()["errors"] == 1


@pytest.mark.parametrize(
    "call",
    [lambda p: p.daily_bars("nvda"), lambda p: p.intraday_bars("NVDA", "5min"),
     lambda p: p.intraday_bars("NVDA", "1min", month="2024-13"),
     lambda p: p.intraday_bars("NVDA", "1min", month="1999-12"),
     lambda p: p.intraday_bars("NVDA", "1min", month="2999-01"),
     lambda p: p.quotes(["NVDA", "bad ticker"])],
)
def test_bad_input_is_rejected_before_any_request(fake, provider, call):
    with pytest.raises(InputError):
        call(provider)
    assert fake.count() == 0


def test_configuration_is_checked_and_repr_hides_key(limiter):
    with pytest.raises(ConfigError):
        AlphaVantageProvider("  ", "http://127.0.0.1:1/query", limiter)
    with pytest.raises(ConfigError):
        AlphaVantageProvider(KEY, "ftp://x", limiter)
    provider = AlphaVantageProvider(KEY, "http://127.0.0.1:1/query", limiter)
    assert KEY not in repr(provider) and KEY not in str(vars(provider))


def test_connection_refused_is_transient_and_keyless(limiter):
    with FakeAlphaVantage(KEY) as fake:
        url = fake.url
    provider = AlphaVantageProvider(KEY, url, limiter, timeout=2)
    with pytest.raises(ProviderError) as caught:
        provider.daily_bars("NVDA")
    assert KEY not in "".join(traceback.format_exception(caught.value))
