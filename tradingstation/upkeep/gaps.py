"""Gap detection and repair: sessions or minutes missing per symbol and dataset.

A missing daily session (or a whole intraday session without a bar) is ``not_fetched`` unless
the ledger says the provider had no data for it (``no_data``), in which case it is
``no_trades``. Minutes missing inside an intraday session that has bars are ``no_trades``: the
provider omits minutes in which nothing traded. Only ``not_fetched`` gaps are refetched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from tradingstation.calendar import NY, get_calendar
from tradingstation.config import Settings
from tradingstation.data.bars import merge_bars
from tradingstation.data.ledger import ledger_row, load_ledger, update_ledger
from tradingstation.data.panel import load_bars
from tradingstation.data.provenance import REPLACE_COMMANDS, frame_source, is_foreign, with_source
from tradingstation.data.retention import retention_horizon
from tradingstation.data.split_ledger import applied_splits
from tradingstation.data.splits import adjust_bars
from tradingstation.errors import InputError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, put_frame_if_changed

log = logging.getLogger(__name__)

GAP_DATASETS = ("daily", "1min")


@dataclass(frozen=True)
class Gap:
    """A run of missing sessions for one symbol and dataset.

    Attributes:
        symbol: Ticker.
        dataset: ``daily`` or ``1min``.
        start: First missing session.
        end: Last missing session (inclusive).
        sessions: Number of missing sessions.
        kind: ``not_fetched`` (refetchable) or ``no_trades``.
        minutes_missing: For ``1min`` ``no_trades`` gaps: regular-hours minutes without a bar.
    """

    symbol: str
    dataset: str
    start: date
    end: date
    sessions: int
    kind: str
    minutes_missing: int = 0

    def to_dict(self) -> dict:
        """JSON-ready form."""
        out = asdict(self)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        return out


def _runs(days: list[date], expected: list[date]) -> list[tuple[date, date, int]]:
    """Group ``days`` into runs of consecutive entries of ``expected``."""
    position = {d: n for n, d in enumerate(expected)}
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and position[day] == position[runs[-1][-1]] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return [(r[0], r[-1], len(r)) for r in runs]


def _ny_dates(timestamps: pd.Series) -> pd.Series:
    return timestamps.dt.tz_convert(NY).dt.date


def detect_gaps(
    store: ObjectStore,
    now: datetime,
    settings: Settings,
    datasets: Iterable[str] = GAP_DATASETS,
    symbols: Iterable[str] | None = None,
) -> list[Gap]:
    """Find missing sessions (daily) and missing or thin sessions (1-min) in stored bars.

    Daily: every session from the symbol's first stored bar to the last completed session.
    1-min: every session from the first stored bar (inside the retention window) to ``now``.
    """
    calendar = get_calendar()
    gaps: list[Gap] = []
    wanted = None if symbols is None else [keys.validate_symbol(s) for s in symbols]
    for dataset in datasets:
        if dataset not in GAP_DATASETS:
            raise InputError(f"gap detection covers {', '.join(GAP_DATASETS)}, not {dataset}")
        ledger = load_ledger(store, dataset)
        no_data = {
            r.symbol: pd.Timestamp(r.expected_bar)
            for r in ledger.itertuples(index=False)
            if r.outcome == "no_data" and pd.notna(r.expected_bar)
        }
        last = calendar.last_completed_session(now)
        for symbol, bars in sorted(load_bars(store, dataset, wanted).items()):
            if not len(bars):
                continue
            if dataset == "daily":
                first = bars["timestamp"].iloc[0].date()
                expected = calendar.sessions(first, last)
                have = set(bars["timestamp"].dt.date)
            else:
                # From the first stored bar: a symbol new to the watchlist has no older hole.
                first = max(retention_horizon(now, settings), bars["timestamp"].iloc[0])
                expected = [d for d in calendar.sessions(first.tz_convert(NY).date(),
                                                         now.astimezone(NY).date())
                            if calendar.session_times(d).market_close <= now]
                have = set(_ny_dates(bars["timestamp"]))
            missing = [d for d in expected if d not in have]
            known_empty = no_data.get(symbol)
            for start, end, count in _runs(missing, expected):
                empty = known_empty is not None and known_empty.date() >= end
                gaps.append(Gap(symbol, dataset, start, end, count,
                                "no_trades" if empty else "not_fetched"))
            if dataset == "1min":
                gaps += _thin_sessions(symbol, bars, [d for d in expected if d in have])
    return gaps


def _thin_sessions(symbol: str, bars: pd.DataFrame, sessions: list[date]) -> list[Gap]:
    calendar = get_calendar()
    out = []
    local_dates = _ny_dates(bars["timestamp"])
    for day in sessions:
        times = calendar.session_times(day)
        expected = int((times.market_close - times.market_open) / timedelta(minutes=1))
        ts = bars["timestamp"][local_dates == day]
        regular = int(((ts >= times.market_open) & (ts < times.market_close)).sum())
        if regular < expected:
            out.append(Gap(symbol, "1min", day, day, 1, "no_trades", expected - regular))
    return out


def fill_gaps(
    store: ObjectStore,
    provider: MarketDataProvider,
    gaps: Iterable[Gap],
    now: datetime,
) -> dict[str, int]:
    """Refetch exactly the ``not_fetched`` gaps and merge only bars inside them.

    Bars outside the gap ranges are left exactly as stored, so a repair changes nothing else.
    Each symbol costs one provider call: compact when the gap lies inside the provider's
    compact window, full otherwise.

    Returns:
        Bars added per ``"<dataset>:<symbol>"``.
    """
    calendar = get_calendar()
    todo: dict[tuple[str, str], list[Gap]] = {}
    for gap in gaps:
        if gap.kind == "not_fetched":
            todo.setdefault((gap.dataset, gap.symbol), []).append(gap)
    added: dict[str, int] = {}
    applied = applied_splits(store) if todo else {}  # as-traded bars → the adjusted history
    for (dataset, symbol), symbol_gaps in sorted(todo.items()):
        oldest = min(g.start for g in symbol_gaps)
        last = calendar.last_completed_session(now)
        depth = len(calendar.sessions(oldest, last))
        if dataset == "daily":
            fresh = provider.daily_bars(symbol, full=depth > provider.compact_bars)
            day_of = fresh["timestamp"].dt.date
        else:
            fresh = provider.intraday_bars(symbol, "1min", full=True)
            day_of = _ny_dates(fresh["timestamp"])
        fresh = adjust_bars(fresh, dataset, applied.get(symbol, []))
        inside = pd.Series(False, index=fresh.index)
        for gap in symbol_gaps:
            inside |= (day_of >= gap.start) & (day_of <= gap.end)
        patch = fresh[inside.to_numpy()]
        key = keys.bars_key(dataset, symbol)
        stored = store.get_frame(key)
        if is_foreign(frame_source(stored), provider.name):
            # patching another provider's series would mix sources: a refetch replaces it
            log.warning("fill-gaps: %s %s holds %s data; replace it with `%s`", dataset, symbol,
                        frame_source(stored), REPLACE_COMMANDS[dataset].format(symbols=symbol))
            added[f"{dataset}:{symbol}"] = 0
            continue
        merged = with_source(merge_bars(stored, patch), provider.name)
        put_frame_if_changed(store, key, merged, stored=stored)
        update_ledger(store, dataset, [ledger_row(
            symbol, dataset, merged, pd.Timestamp(now), "ok" if len(patch) else "no_data",
            f"fill-gaps added {len(patch)} bars",
            expected_bar=pd.Timestamp(max(g.end for g in symbol_gaps), tz="UTC"),
        )])
        added[f"{dataset}:{symbol}"] = len(patch)
    return added
