"""Tests of the demo market: determinism, the real calendar, bar consistency and planted setups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from tradingstation.calendar import NY, ny_time
from tradingstation.contracts import BAR_COLUMNS, QUOTE_COLUMNS, UNIVERSE_COLUMNS, validate_bars
from tradingstation.errors import InputError, SymbolNotFoundError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.providers.demo.plants import PLANTED
from tradingstation.storage.keys import SYMBOL_RE

MARKET_NOW = ny_time(date(2025, 12, 3), 10, 15) + timedelta(seconds=30)  # Wed, market hours
PREMARKET_0800 = ny_time(date(2025, 12, 3), 8, 0)
PREMARKET_0845 = ny_time(date(2025, 12, 3), 8, 45)
SAMPLE = ["GPUP", "ORBX", "BRKO", "XHSB"]  # planted names of different kinds


@pytest.fixture(scope="module")
def market() -> DemoMarket:
    return DemoMarket(seed=42, n_symbols=300, now=MARKET_NOW)


@pytest.fixture(scope="module")
def premarket() -> DemoMarket:
    return DemoMarket(seed=42, n_symbols=300, now=PREMARKET_0845)


def generated(m: DemoMarket, k: int) -> list[str]:
    planted = {s for names in PLANTED.values() for s in names}
    return [s for s in m.listing()["symbol"] if s not in planted][:k]


def regular_hours(bars: pd.DataFrame, day: date, close_hour: int = 16) -> pd.DataFrame:
    local = bars["timestamp"].dt.tz_convert(NY)
    start = pd.Timestamp(datetime(day.year, day.month, day.day, 9, 30), tz=NY)
    end = pd.Timestamp(datetime(day.year, day.month, day.day, close_hour), tz=NY)
    return bars[(local >= start) & (local < end)]


def test_is_a_demo_provider(market):
    assert isinstance(market, MarketDataProvider)
    assert market.name == "demo" and market.is_demo is True


def test_same_inputs_give_identical_frames_and_another_seed_differs():
    a = DemoMarket(seed=7, n_symbols=300, now=MARKET_NOW)
    b = DemoMarket(seed=7, n_symbols=300, now=MARKET_NOW)
    sym = generated(a, 1)[0]
    frames = [
        lambda m: m.listing(),
        lambda m: m.daily_bars(sym, full=True),
        lambda m: m.intraday_bars(sym, "1min", full=True),
        lambda m: m.intraday_bars("ORBX", "30min", full=True),
        lambda m: m.quotes(["GPUP", sym]),
    ]
    for make in frames:
        fa, fb = make(a), make(b)
        pd.testing.assert_frame_equal(fa, fb, check_exact=True)
        assert fa.to_csv().encode() == fb.to_csv().encode()
    other = DemoMarket(seed=8, n_symbols=300, now=MARKET_NOW)
    assert not other.listing()["symbol"].equals(a.listing()["symbol"])
    assert not other.daily_bars("BRKO")["close"].equals(a.daily_bars("BRKO")["close"])


def test_small_universe_is_a_prefix_of_a_large_one_with_identical_data(market):
    big = DemoMarket(seed=42, n_symbols=6000, now=MARKET_NOW)
    small_listing, big_listing = market.listing(), big.listing()
    pd.testing.assert_frame_equal(small_listing, big_listing.head(300), check_exact=True)
    for sym in [*generated(market, 300)[-3:], "RCLM"]:
        pd.testing.assert_frame_equal(market.daily_bars(sym, full=True),
                                      big.daily_bars(sym, full=True), check_exact=True)
        pd.testing.assert_frame_equal(market.intraday_bars(sym, "1min"),
                                      big.intraday_bars(sym, "1min"), check_exact=True)
    assert big_listing["symbol"].iloc[5999] not in set(small_listing["symbol"])
    with pytest.raises(SymbolNotFoundError):
        market.daily_bars(big_listing["symbol"].iloc[5999])


def test_history_of_generated_names_does_not_depend_on_now(market):
    later = DemoMarket(seed=42, n_symbols=300, now=MARKET_NOW + timedelta(days=9))
    sym = generated(market, 1)[0]
    a = market.daily_bars(sym, full=True).set_index("timestamp")
    b = later.daily_bars(sym, full=True).set_index("timestamp")
    common = a.index.intersection(b.index)
    assert len(common) > 390
    pd.testing.assert_frame_equal(a.loc[common], b.loc[common], check_exact=True)


def test_listing_of_6000_symbols():
    listing = DemoMarket(seed=42, n_symbols=6000, now=MARKET_NOW).listing()
    assert list(listing.columns) == UNIVERSE_COLUMNS
    assert len(listing) == 6000 and listing["symbol"].is_unique
    assert all(SYMBOL_RE.fullmatch(s) for s in listing["symbol"])
    assert listing["symbol"].str.contains(".", regex=False).sum() >= 10
    assert set(listing["exchange"]) >= {"NYSE", "NASDAQ", "NYSE MKT", "NYSE ARCA", "BATS"}
    assert (~listing["exchange"].isin(["NYSE", "NASDAQ", "NYSE MKT", "NYSE ARCA", "BATS"])).any()
    assert (listing["asset_type"] == "ETF").sum() > 100
    assert (listing["asset_type"] == "Stock").mean() > 0.85
    assert (listing["status"] == "Active").mean() > 0.99 and (listing["status"] != "Active").any()
    assert pd.to_datetime(listing["ipo_date"]).max() < pd.Timestamp("2023-01-01")
    planted = [s for names in PLANTED.values() for s in names]
    assert listing["symbol"].head(len(planted)).tolist() == planted


def test_real_nyse_calendar_and_half_day():
    m = DemoMarket(seed=42, n_symbols=50, now=ny_time(date(2026, 1, 14), 12, 0))
    sym = generated(m, 1)[0]
    days = set(m.daily_bars(sym, full=True)["timestamp"].dt.date)
    assert date(2025, 1, 8) in days and date(2025, 1, 10) in days
    assert date(2025, 1, 9) not in days  # national day of mourning
    assert date(2025, 12, 25) not in days and date(2025, 11, 27) not in days
    assert not any(d.weekday() >= 5 for d in days)
    minutes = m.intraday_bars(sym, "1min", month="2025-11")
    local = minutes["timestamp"].dt.tz_convert(NY)
    half = minutes[local.dt.date == date(2025, 11, 28)]
    half_local = half["timestamp"].dt.tz_convert(NY)
    assert len(regular_hours(half, date(2025, 11, 28), 13)) == 210
    assert half_local.max() < pd.Timestamp("2025-11-28 17:00", tz=NY)
    daily = m.daily_bars(sym, full=True).set_index("timestamp")
    bar = daily.loc[pd.Timestamp("2025-11-28", tz="UTC")]
    assert bar["close"] == regular_hours(half, date(2025, 11, 28), 13)["close"].iloc[-1]
    assert (local.dt.date != date(2025, 11, 27)).all()


@pytest.mark.parametrize("sym", SAMPLE)
def test_bars_validate_and_stop_at_now(market, sym):
    now = pd.Timestamp(MARKET_NOW)
    daily = validate_bars(market.daily_bars(sym, full=True))
    assert list(daily.columns) == BAR_COLUMNS
    assert daily["timestamp"].iloc[-1] == pd.Timestamp("2025-12-02", tz="UTC")  # today not closed
    assert (daily["timestamp"].dt.hour == 0).all()
    one = validate_bars(market.intraday_bars(sym, "1min", full=True))
    assert one["timestamp"].iloc[-1] == now.floor("min") - pd.Timedelta(minutes=1)
    thirty = validate_bars(market.intraday_bars(sym, "30min", full=True))
    assert thirty["timestamp"].iloc[-1] + pd.Timedelta(minutes=30) <= now
    assert thirty["timestamp"].iloc[-1] == pd.Timestamp("2025-12-03 09:30", tz=NY)
    local = one["timestamp"].dt.tz_convert(NY)
    minutes = local.dt.hour * 60 + local.dt.minute
    assert minutes.min() >= 4 * 60 and minutes.max() < 20 * 60
    assert one["volume"].dtype == "int64" and one["open"].dtype == "float64"


@pytest.mark.parametrize("sym", SAMPLE)
def test_daily_bar_is_the_aggregation_of_regular_minutes(market, sym):
    minutes = market.intraday_bars(sym, "1min", full=True)
    daily = market.daily_bars(sym).set_index("timestamp")
    for day in (date(2025, 12, 2), date(2025, 11, 24)):
        reg = regular_hours(minutes, day)
        assert len(reg) == 390
        bar = daily.loc[pd.Timestamp(day, tz="UTC")]
        assert bar["open"] == reg["open"].iloc[0]
        assert bar["high"] == reg["high"].max() and bar["low"] == reg["low"].min()
        assert bar["close"] == reg["close"].iloc[-1]
        assert bar["volume"] == reg["volume"].sum()
        local = minutes["timestamp"].dt.tz_convert(NY)
        extended = minutes[(local.dt.date == day) & ~minutes.index.isin(reg.index)]
        assert 0 < len(extended) < 570  # sparse pre/post-market minutes
        assert extended["volume"].sum() < reg["volume"].sum()


def test_thirty_minute_bars_aggregate_the_minutes(market):
    minutes = market.intraday_bars("RNGE", "1min", month="2025-11")
    thirty = market.intraday_bars("RNGE", "30min", month="2025-11")
    grouped = minutes.groupby(minutes["timestamp"].dt.floor("30min"))
    expect = pd.DataFrame({
        "open": grouped["open"].first(), "high": grouped["high"].max(),
        "low": grouped["low"].min(), "close": grouped["close"].last(),
        "volume": grouped["volume"].sum(),
    }).reset_index()
    pd.testing.assert_frame_equal(thirty, expect[BAR_COLUMNS], check_exact=True)


def test_compact_full_and_month_sizes(market):
    assert len(market.daily_bars("EMAP")) == 100
    assert len(market.daily_bars("EMAP", full=True)) == 400
    for interval in ("1min", "30min"):
        compact = market.intraday_bars("EMAP", interval)
        full = market.intraday_bars("EMAP", interval, full=True)
        assert len(compact) == 100
        pd.testing.assert_frame_equal(compact, full.tail(100).reset_index(drop=True))
        span = full["timestamp"].iloc[-1] - full["timestamp"].iloc[0]
        assert pd.Timedelta(days=25) < span < pd.Timedelta(days=31)
    months = [market.intraday_bars("EMAP", "30min", month=m) for m in ("2025-10", "2025-11")]
    assert sum(len(m) for m in months) >= 500
    assert months[0]["timestamp"].dt.tz_convert(NY).dt.month.eq(10).all()
    assert len(market.intraday_bars("EMAP", "1min", month="2020-01")) == 0


@pytest.mark.parametrize("month", ["2025-13", "2025-1", "25-01", "2025-00", "latest", 202501])
def test_bad_month_is_rejected(market, month):
    with pytest.raises(InputError, match="month"):
        market.intraday_bars("EMAP", "1min", month=month)


def test_bad_input_is_rejected(market):
    with pytest.raises(InputError, match="after the present"):
        market.intraday_bars("EMAP", "1min", month="2026-01")
    with pytest.raises(InputError, match="interval"):
        market.intraday_bars("EMAP", "5min")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        market.daily_bars("bad ticker")
    with pytest.raises(SymbolNotFoundError):
        market.daily_bars("NOPE1")
    with pytest.raises(InputError, match="timezone"):
        DemoMarket(now=datetime(2025, 12, 3, 10, 0))
    with pytest.raises(InputError, match="n_symbols"):
        DemoMarket(n_symbols=0, now=MARKET_NOW)
    with pytest.raises(InputError, match="covers"):
        DemoMarket(now=datetime(2050, 1, 1, tzinfo=UTC))


def test_premarket_quotes_at_0800():
    m = DemoMarket(seed=42, n_symbols=60, now=PREMARKET_0800)
    symbols = m.listing()["symbol"].tolist()
    quotes = m.quotes([*symbols, "NOPE1"]).set_index("symbol")
    assert list(quotes.reset_index().columns) == QUOTE_COLUMNS
    assert "NOPE1" not in quotes.index
    today_open = pd.Timestamp(ny_time(date(2025, 12, 3), 4, 0))
    fresh = quotes[quotes["timestamp"] >= today_open]
    assert len(fresh) >= 0.8 * len(symbols)  # most names trade before 08:00
    for sym in fresh.index[:10]:
        minutes = m.intraday_bars(sym, "1min", full=True)
        today = minutes[minutes["timestamp"] >= today_open]
        assert today["timestamp"].iloc[-1] < pd.Timestamp(PREMARKET_0800)
        assert fresh.loc[sym, "price"] == today["close"].iloc[-1]
        assert fresh.loc[sym, "volume"] == today["volume"].sum()
        assert fresh.loc[sym, "timestamp"] == today["timestamp"].iloc[-1]


def premarket_numbers(m: DemoMarket, sym: str) -> tuple[float, int]:
    prior_close = m.daily_bars(sym)["close"].iloc[-1]
    quote = m.quotes([sym]).iloc[0]
    return quote["price"] / prior_close - 1, int(quote["volume"])


def test_planted_gap_and_go_at_0845(premarket):
    assert premarket.daily_bars("GPUP")["timestamp"].iloc[-1] == pd.Timestamp("2025-12-02",
                                                                               tz="UTC")
    for sym in PLANTED["gap_and_go"]:
        gap, volume = premarket_numbers(premarket, sym)
        assert gap >= 0.05 and volume >= 300_000, sym
    gap, volume = premarket_numbers(premarket, "GPSH")
    assert 0.037 <= gap < 0.04 and volume >= 300_000
    gap, volume = premarket_numbers(premarket, "THIN")
    assert gap >= 0.05 and volume < 100_000
    minutes = premarket.intraday_bars("GPSH", "1min")
    prior_close = premarket.daily_bars("GPSH")["close"].iloc[-1]
    today = minutes[minutes["timestamp"] >= pd.Timestamp(ny_time(date(2025, 12, 3), 4, 0))]
    assert (today["close"] / prior_close - 1 < 0.04).all()


def test_gap_shows_from_the_first_premarket_minutes():
    m = DemoMarket(seed=42, n_symbols=30, now=ny_time(date(2025, 12, 4), 4, 2))
    for sym in PLANTED["gap_and_go"]:
        gap, volume = premarket_numbers(m, sym)
        assert gap >= 0.04 and volume >= 100_000, sym


def test_orb_planted_breakout_after_the_range(market):
    for sym, multiple in (("ORBX", 3.0), ("RNGE", 3.0), ("ORBW", 1.1)):
        minutes = market.intraday_bars(sym, "1min")
        reg = regular_hours(minutes, date(2025, 12, 3))
        rng, after = reg.iloc[:15], reg.iloc[15:]
        above = after[after["close"] > rng["high"].max()]
        assert above.index[0] == after.index[2]  # 09:47
        ratio = above["volume"].iloc[0] / rng["volume"].mean()
        assert ratio == pytest.approx(multiple, rel=0.01)
        if sym == "ORBW":
            assert len(above) == 1 and (after["close"].iloc[3:] < rng["high"].max()).all()


def test_daily_setups_end_at_the_last_completed_session(market):
    bars = market.daily_bars("XHST")
    last, prior = bars.iloc[-1], bars.iloc[-21:-1]
    assert last["timestamp"] == pd.Timestamp("2025-12-02", tz="UTC")
    assert last["high"] == bars["high"].max() and last["close"] < last["open"]
    assert (last["close"] - last["low"]) / (last["high"] - last["low"]) < 0.25
    assert last["volume"] >= 3 * prior["volume"].mean()
    near = market.daily_bars("XHSV")
    assert near["volume"].iloc[-1] < 2 * near["volume"].iloc[-21:-1].mean()
    base = market.daily_bars("BRKO").iloc[-15:-1]
    assert base["high"].max() / base["low"].min() - 1 < 0.10
    assert market.daily_bars("BRKO")["close"].iloc[-1] > base["high"].max()
