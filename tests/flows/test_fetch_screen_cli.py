"""`tradingstation fetch|anchors|screen` end to end, in process: each command runs its real
Prefect flow (against the session's temporary Prefect server) on a 30-symbol demo market."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from cli.fetch_cmd import BatchProgress, run_fetch_flow
from tests.flows.conftest import Invoke
from tests.support.fetching import fetch_job
from tradingstation.config import get_settings
from tradingstation.data.ledger import load_ledger
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.providers.demo.plants import PLANTED
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore

pytestmark = pytest.mark.slow  # ~12 flow runs; the Prefect server start dominates

SYMBOLS = 30
BATCH = 10
CLOSE = "2025-11-24T17:00-05:00"  # after the close: daily screeners
PREMARKET = "2025-11-24T08:45-05:00"  # Gap & Go's premarket window
GAPPERS = PLANTED["gap_and_go"] + PLANTED["gap_and_go_near_miss"]
ENV = {"TS_DEMO_SYMBOLS": str(SYMBOLS), "TS_BATCH_SIZE": str(BATCH), "TS_PROVIDER": "demo"}


@dataclass
class Market:
    """The seeded store and what seeding it reported."""

    root: Path
    daily: dict
    progress: BatchProgress


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    """Universe, daily bars and the gappers' 1-min bars, fetched through the fetch flow."""
    root = tmp_path_factory.mktemp("market")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**ENV, "TS_DATA_DIR": str(root)}.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        as_of = datetime.fromisoformat(CLOSE)
        run_fetch_flow("universe", as_of=as_of)
        daily, progress = run_fetch_flow("daily", as_of=as_of)
        run_fetch_flow("intraday_1min", tickers=",".join(GAPPERS), as_of=as_of)
        get_settings.cache_clear()
        yield Market(root, daily, progress)
    get_settings.cache_clear()


@pytest.fixture
def store(market: Market, monkeypatch: pytest.MonkeyPatch) -> LocalStore:
    for name, value in {**ENV, "TS_DATA_DIR": str(market.root)}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return LocalStore(market.root)




def as_json(invoke: Invoke, *args: str) -> tuple[int, object]:
    code, out, err = invoke(*args, "--json")
    assert out.strip(), err[-2000:]
    return code, json.loads(out)


def row(out: str, label: str) -> str:
    """The value cell of a summary-table row (rich draws cells between box characters)."""
    for line in out.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line) if c.strip()]
        if cells and cells[0] == label:
            return cells[-1]
    raise AssertionError(f"no row {label!r} in:\n{out}")


def test_fetch_flow_progress_advances_once_per_batch(market: Market) -> None:
    assert market.daily["counts"] == {"ok": SYMBOLS} and market.daily["calls"] == SYMBOLS
    # Read from the flow's progress artifact through the Prefect API (no log text parsed).
    batches = math.ceil(SYMBOLS / BATCH)
    assert market.progress.percent == 100.0
    assert market.progress.description == (f"fetch daily: {SYMBOLS} of {SYMBOLS} symbols need "
                                           f"calls; {batches} of {batches} batches done")


def test_fetch_job_on_a_handed_in_store_stores_what_the_fetch_command_stores(
    market: Market, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tests.support.fetching.fetch_job runs the fetch flow's composition on a store and provider
    # handed in (flows.analysis.open_run): same store contents and reports as the command, which
    # resolves them from settings, or the many tests using it would prove something else.
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    settings, as_of = get_settings(), datetime.fromisoformat(CLOSE)
    provider = DemoMarket(seed=settings.demo_seed, n_symbols=SYMBOLS, now=as_of)
    helper = LocalStore(tmp_path / "helper")
    fetch_job("universe", helper, provider, as_of, settings)
    daily = fetch_job("daily", helper, provider, as_of, settings).to_dict()
    fetch_job("intraday_1min", helper, provider, as_of, settings, tickers=GAPPERS)
    assert {k: daily[k] for k in ("calls", "writes", "counts", "details")} == {
        k: market.daily[k] for k in ("calls", "writes", "counts", "details")}
    flow = LocalStore(market.root)
    for prefix in ("bars/", "universe/"):
        keys_ = [i.key for i in helper.list_objects(prefix)]
        assert keys_ and keys_ == [i.key for i in flow.list_objects(prefix)]
        assert all(helper.get_bytes(k) == flow.get_bytes(k) for k in keys_)
    for dataset in ("daily", "1min"):
        mine = load_ledger(helper, dataset).drop(columns="fetched_at")
        theirs = load_ledger(flow, dataset).drop(columns="fetched_at")
        assert mine.equals(theirs[theirs["symbol"].isin(mine["symbol"])].reset_index(drop=True))


def test_fetch_prints_summary_then_a_rerun_costs_no_call(store: LocalStore, invoke: Invoke
                                                         ) -> None:
    code, out, err = invoke("fetch", "intraday_30min", "--tickers", "brko, base",
                            "--as-of", CLOSE)
    assert code == 0, err[-2000:]
    assert "DEMO" in out and "fetch intraday_30min (30min)" in out
    assert row(out, "symbols") == "2" and row(out, "ok") == "2"
    assert int(row(out, "calls made")) >= 2
    assert store.exists(keys.bars_key("30min", "BRKO"))
    code, again = as_json(invoke, "fetch", "intraday_30min", "--tickers", "BASE,BRKO",
                          "--as-of", CLOSE)
    assert code == 0 and again["calls"] == 0 and again["counts"] == {"fresh": 2}
    code, daily = as_json(invoke, "fetch", "daily", "--as-of", CLOSE)
    assert code == 0 and daily["calls"] == 0 and daily["counts"] == {"fresh": SYMBOLS}
    assert daily["exit_code"] == 0 and daily["demo"] is True


def test_fetch_of_only_failing_symbols_exits_1_with_reasons(store: LocalStore, invoke: Invoke
                                                            ) -> None:
    code, out, _ = invoke("fetch", "daily", "--tickers", "ZZZZ", "--as-of", CLOSE)
    assert code == 1
    assert row(out, "failed") == "1"
    failed = [line for line in out.splitlines() if line.strip().startswith("ZZZZ")]
    assert len(failed) == 1 and "permanent" in failed[0] and "ZZZZ" in failed[0]
    assert "exit code 1" in out
    assert not store.exists(keys.bars_key("daily", "ZZZZ"))


def test_anchors_table_ticker_filter_and_json(store: LocalStore, invoke: Invoke) -> None:
    code, one = as_json(invoke, "anchors", "--ticker", "gpup", "--as-of", CLOSE)
    assert code == 0 and one and {r["symbol"] for r in one} == {"GPUP"}
    assert {"anchor_type", "anchor_date", "price", "strength", "avwap"} <= set(one[0])
    # The planted gap of the session is an anchor, with the AVWAP from it (TP of that bar).
    gap = [r for r in one if r["anchor_type"] == "gap_up" and r["anchor_date"] == "2025-11-24"]
    assert len(gap) == 1 and gap[0]["strength"] >= 0.04 and gap[0]["avwap"] > 0
    code, out, err = invoke("anchors", "--lookback-days", "30", "--as-of", CLOSE, "--verbose")
    assert code == 0, err[-2000:]
    assert "AVWAP anchors for session 2025-11-24" in out
    assert "by type:" in out and "gap_up=" in out
    stored = store.get_frame(keys.anchors_key(date(2025, 11, 24)))
    assert stored["symbol"].nunique() > 10  # the whole universe, not just the last --ticker
    code, all_rows = as_json(invoke, "anchors", "--as-of", CLOSE)
    assert code == 0 and len(all_rows) == len(stored)
    assert [r for r in all_rows if r["symbol"] == "GPUP"] == one


def test_screen_breakout_verbose_prints_reasons_with_numbers(store: LocalStore, invoke: Invoke
                                                             ) -> None:
    code, out, err = invoke("screen", "breakout", "--verbose", "--as-of", CLOSE)
    assert code == 0, err[-2000:]
    assert "breakout 2025-11-24" in out
    for symbol in PLANTED["breakout"]:
        assert re.search(rf"^{symbol} long triggered score \d+\.\d$", out, re.M), out
    reasons = [line for line in out.splitlines() if line.startswith("  - ")]
    assert reasons and all(re.search(r"\d", line) for line in reasons)
    code, signals = as_json(invoke, "screen", "breakout", "--min-consolidation-days", "5",
                            "--tickers", ",".join(PLANTED["breakout"] + PLANTED[
                                "breakout_near_miss"]), "--as-of", CLOSE)
    assert code == 0 and isinstance(signals, list)
    assert sorted(s["symbol"] for s in signals) == sorted(PLANTED["breakout"])
    for s in signals:
        assert s["screener"] == "breakout" and s["stop"] < s["entry"] and s["reasons"]
        assert s["risk_per_share"] == pytest.approx(s["entry"] - s["stop"], abs=0.011)
    assert store.exists(keys.signals_key(date(2025, 11, 24), "breakout"))


def test_screen_gap_and_go_premarket_watch_list(store: LocalStore, invoke: Invoke) -> None:
    code, out, err = invoke("screen", "gap_and_go", "--verbose", "--as-of", PREMARKET)
    assert code == 0, err[-2000:]
    for symbol in PLANTED["gap_and_go"]:
        assert re.search(rf"^{symbol} long watch score", out, re.M), out
    for symbol in PLANTED["gap_and_go_near_miss"]:
        assert not re.search(rf"^{symbol} ", out, re.M)
    assert re.search(r"gap \+\d+\.\d%", out), out
    # A parameter reaches the screener: at a 7 % minimum gap only LEAP (+8.1 %) is left.
    code, signals = as_json(invoke, "screen", "gap_and_go", "--param", "min_gap=0.07",
                            "--as-of", PREMARKET)
    assert code == 0 and [s["symbol"] for s in signals] == ["LEAP"]
    assert signals[0]["metrics"]["gap_pct"] >= 7 and signals[0]["status"] == "watch"
