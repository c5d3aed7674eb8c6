"""Replay = live, shared by the demo and the Alpha Vantage runs: run the four modes live, store
later data, replay the four modes at the same instants and compare what they produced."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

import pandas as pd

from flows.daily import daily
from flows.market import MARKET_SCREENERS, market
from flows.postmarket import POSTMARKET_SCREENERS, postmarket
from flows.premarket import premarket
from tradingstation.calendar import get_calendar, ny_time
from tradingstation.data.bars import merge_bars
from tradingstation.data.ledger import ledger_row, update_ledger
from tradingstation.data.point_in_time import utc_day
from tradingstation.screeners import PREMARKET_SCREENERS
from tradingstation.screeners.store import save_signals
from tradingstation.signals import Signal
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore
from tradingstation.upkeep.verify import verify_store

SESSION = date(2025, 11, 24)  # a Monday
NEXT = get_calendar().next_session(SESSION)
MODES = {
    "premarket": (premarket, ny_time(SESSION, 8, 45), PREMARKET_SCREENERS),
    "market": (market, ny_time(SESSION, 10, 30), MARKET_SCREENERS),
    "postmarket": (postmarket, ny_time(SESSION, 17, 0), POSTMARKET_SCREENERS),
    "daily": (daily, ny_time(SESSION, 21, 0), ()),
}
# The later data: after-hours minutes of the session, the next session's bar and minutes, a
# quote after the close; everything 20 % above the last price.
UP = 1.2
LATER_QUOTE = ny_time(SESSION, 19, 30)
LATER_MINUTES = [(ny_time(SESSION, 17, 1), ny_time(SESSION, 20, 0)),
                 (ny_time(NEXT, 4, 0), ny_time(NEXT, 10, 0))]


def outputs(store: ObjectStore, mode: str, result: dict, found: dict) -> dict:
    """What a mode produced, without generation stamps: its screeners' signals (``found``, as
    the screen task returned them), the session's anchors, its plan (premarket plan,
    postmarket plan.json) and the daily signals check."""
    _, _, screeners = MODES[mode]
    out: dict = {
        "signals": {n: [s.model_dump(mode="json") for s in found[n]] for n in screeners},
        "anchors": store.get_frame(keys.anchors_key(SESSION)).to_dict("records"),
        "counts": result.get("signals"),
    }
    if mode == "premarket":
        out["plan"] = result["plan"]["ideas"]
        out["watchlist"] = sorted(result["watchlist"])
    if mode == "market":  # which symbols it fetched 1-min bars for (the rest: session quotes)
        out["watchlist"] = sorted(result["watchlist"])
        out["minute_symbols"] = result["minute_symbols"]
    if mode == "postmarket":
        files = result["dashboard"]["files"]
        out["plan.json"] = json.loads(store.get_bytes(files["plan.json"]["key"]))
    if mode == "daily":
        # (integrity and freshness describe the store as it is now, not the data at as_of)
        out["signals check"] = [c for c in result["health"]["checks"] if c["name"] == "signals"]
    return out


def run_live(store: ObjectStore, refetch: dict[str, bool] | None = None,
             before: Callable[[datetime], None] | None = None) -> dict[str, dict]:
    """Run the four modes at their instants, in order (``before(instant)`` first, e.g. to let
    a provider reveal its data up to then); what each produced."""
    seen = {}
    for mode, (flow_fn, at, _) in MODES.items():
        if before is not None:
            before(at)
        found.clear()
        options = {"refetch": True} if (refetch or {}).get(mode) else {}
        state = flow_fn(as_of=at, **options, return_state=True)
        assert state.is_completed(), f"{mode} at {at}: {state.message}"
        seen[mode] = outputs(store, mode, state.result(), found)
    return seen


found: dict[str, list[Signal]] = {}


def record_screens(monkeypatch) -> None:
    """Keep what each flow's screen task returns in ``found`` (the replay's signals are in its
    result, not in the session's documents: those keep the latest instant's)."""
    import flows.premarket
    import flows.session

    for module in (flows.premarket, flows.session):
        original = module.screen

        def recording(*args, _original=original, **kwargs):
            result = _original(*args, **kwargs)
            found.update(result)
            return result

        monkeypatch.setattr(module, "screen", recording)


def published(store: ObjectStore) -> dict[str, list[dict]]:
    """The session's signal documents as stored (what the session published)."""
    return {i.key: store.get_json(i.key)["signals"]
            for i in store.list_objects(keys.signals_prefix(SESSION))}


def _bump(bars: pd.DataFrame, stamps: pd.DatetimeIndex) -> pd.DataFrame:
    price = float(bars["close"].iloc[-1]) * UP
    return pd.DataFrame({"timestamp": stamps, "open": price, "high": price * 1.01,
                         "low": price * 0.99, "close": price,
                         "volume": int(bars["volume"].max()) * 5})


def _store_bars(store: ObjectStore, dataset: str, symbol: str, extra: pd.DataFrame,
                served: datetime) -> dict:
    key = keys.bars_key(dataset, symbol)
    merged = merge_bars(store.get_frame(key), extra)
    store.put_frame(key, merged)
    return ledger_row(symbol, dataset, merged, pd.Timestamp(served), "ok", "later data",
                      merged["timestamp"].iloc[-1])


def add_later_data(store: ObjectStore, later_run: Callable[[], None], demo: bool) -> None:
    """Store what arrives after every replayed instant: the next session's daily bar and 1-min
    bars, after-hours 1-min bars, a later quote and later signals (each through the ledger,
    as a fetch would), then ``later_run`` (a live run of the next session)."""
    served = ny_time(NEXT, 10, 0)
    for dataset, stamps in (
        ("daily", pd.DatetimeIndex([utc_day(NEXT)])),
        ("1min", pd.DatetimeIndex([]).append([pd.date_range(a, b, freq="1min", inclusive="left")
                                               for a, b in LATER_MINUTES]).tz_convert("UTC")),
    ):
        rows = [_store_bars(store, dataset, keys.symbol_from_bars_key(i.key),
                            _bump(store.get_frame(i.key), stamps), served)
                for i in store.list_objects(keys.bars_prefix(dataset))]
        update_ledger(store, dataset, rows)
    quotes = store.get_frame(keys.quotes_key(SESSION))
    later = quotes.assign(price=quotes["price"] * UP, timestamp=pd.Timestamp(LATER_QUOTE),
                          fetched_at=pd.Timestamp(LATER_QUOTE))
    store.put_frame(keys.quotes_key(SESSION), pd.concat([quotes, later], ignore_index=True))
    symbol = keys.symbol_from_bars_key(store.list_objects(keys.bars_prefix("daily"))[0].key)
    when = ny_time(NEXT, 9, 45)
    save_signals(store, NEXT, "breakout", [Signal(
        id="later-breakout", screener="breakout", symbol=symbol, session=NEXT, timestamp=when,
        direction="long", status="triggered", score=9.9, entry=100.0, stop=95.0,
        targets=[105.0], risk_per_share=5.0, reasons=["a later session's idea"], metrics={},
        data_as_of=when, demo=demo)])
    later_run()


def assert_replay_equals_live(store: ObjectStore, live: dict[str, dict],
                              refetch: dict[str, bool]) -> None:
    """Replay the four modes (``refetch`` per mode, as an operator would) and compare."""
    documents = published(store)
    replayed = run_live(store, refetch)
    # what the session published is what its live runs published
    assert published(store) == documents
    for mode in MODES:
        for part, value in live[mode].items():
            again = replayed[mode][part]
            if part == "signals":
                for name, signals in value.items():
                    assert again[name] == signals, f"{mode} replay: {name} {_first_diff(
                        again[name], signals)}"
            assert again == value, f"{mode} replay differs from live in {part}: " \
                f"{str(again)[:600]} vs live {str(value)[:600]}"
    # and the replays corrupted nothing live: the ledger agrees with the bars, and "latest"
    # still names the next session's dashboard
    report = verify_store(store, ny_time(NEXT, 21, 0), _settings())
    assert [p for p in report.problems if p.kind == "ledger"] == []
    assert store.get_json(keys.dashboard_latest_key())["session"] == NEXT.isoformat()


def _first_diff(replayed: list[dict], live: list[dict]) -> str:
    if len(replayed) != len(live):
        return (f"{len(replayed)} signals, live {len(live)}: "
                f"{sorted({s['symbol'] for s in replayed} ^ {s['symbol'] for s in live})}")
    for a, b in zip(replayed, live, strict=True):
        if a != b:
            return f"{a['symbol']}: " + ", ".join(
                f"{k} {a.get(k)!r} vs live {b.get(k)!r}" for k in b if a.get(k) != b[k])
    return ""


def _settings():
    from tradingstation.config import get_settings

    return get_settings()
