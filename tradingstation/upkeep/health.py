"""Health checks: API, rate-limit headroom, data coverage and freshness, signals, storage.

Each check returns a :class:`Check` (``ok`` / ``warn`` / ``fail``); the exit code of
``tradingstation health`` is 0 when all are ok, 1 when any is degraded (warn), 2 when any fails.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from tradingstation.calendar import NY, get_calendar
from tradingstation.config import Settings
from tradingstation.data.ledger import load_ledger
from tradingstation.data.split_ledger import load_split_ledger
from tradingstation.errors import InputError, TradingStationError, TransientError
from tradingstation.providers.base import MarketDataProvider
from tradingstation.providers.usage import load_usage, usage_day
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore

LEVELS = ("ok", "warn", "fail")
EXIT_CODES = {"ok": 0, "warn": 1, "fail": 2}
CHECK_NAMES = ("api", "api_limits", "api_usage", "data", "data_freshness", "signals", "storage",
               "storage_usage")


@dataclass(frozen=True)
class Check:
    """The outcome of one health check.

    Attributes:
        name: Check name (``api``, ``data_freshness`` ...).
        level: ``ok``, ``warn`` or ``fail``.
        detail: One line for humans.
        data: Numbers behind the detail, for ``--json``.
    """

    name: str
    level: str
    detail: str
    data: dict = field(default_factory=dict)


@dataclass
class HealthReport:
    """All checks run, and the overall verdict."""

    checks: list[Check]

    @property
    def level(self) -> str:
        """The worst level among the checks."""
        return max((c.level for c in self.checks), key=LEVELS.index, default="ok")

    @property
    def exit_code(self) -> int:
        """0 healthy, 1 degraded, 2 failing."""
        return EXIT_CODES[self.level]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"status": {"ok": "healthy", "warn": "degraded", "fail": "failing"}[self.level],
                "exit_code": self.exit_code, "checks": [asdict(c) for c in self.checks]}


def check_api(provider: MarketDataProvider, demo_reason: str = "no API key configured") -> Check:
    """One cheap provider call proves reachability and key (a quote for a liquid symbol).

    ``demo_reason`` says why the demo market is in force when it is.
    """
    if provider.is_demo:
        return Check("api", "ok", f"demo market ({demo_reason})", {"provider": "demo"})
    started = time.perf_counter()
    try:
        provider.quotes(["IBM"])
    except TradingStationError as exc:
        level = "warn" if isinstance(exc, TransientError) else "fail"
        return Check("api", level, f"{provider.name}: {exc}", {"provider": provider.name})
    ms = round((time.perf_counter() - started) * 1000)
    return Check("api", "ok", f"{provider.name} reachable, key accepted ({ms} ms)",
                 {"provider": provider.name, "latency_ms": ms})


def demo_reason(settings: Settings) -> str:
    """Why the demo market is used under ``settings``: chosen, or no key found."""
    if settings.provider == "demo":
        return "TS_PROVIDER=demo: chosen over any configured API key"
    return "no API key configured"


def check_api_limits(store: ObjectStore, settings: Settings, now: datetime) -> Check:
    """Today's calls against the daily quota (when one is configured) and throttles seen."""
    usage = load_usage(store, usage_day(now))
    data = {"calls_today": usage["calls"], "throttles_today": usage["throttles"],
            "per_minute": settings.rate_limit_per_minute, "per_day": settings.rate_limit_per_day}
    quota = settings.rate_limit_per_day
    if quota:
        left = quota - usage["calls"]
        data["remaining_today"] = max(left, 0)
        if left <= 0:
            return Check("api_limits", "fail", f"daily quota used up ({usage['calls']}/{quota})",
                         data)
        if left < quota * 0.1:
            return Check("api_limits", "warn", f"{left} of {quota} daily calls left", data)
    if usage["throttles"]:
        return Check("api_limits", "warn",
                     f"{usage['throttles']} throttle responses today; limiter slowed down", data)
    limit = f"{quota}/day, " if quota else ""
    return Check("api_limits", "ok", f"{usage['calls']} calls today; limit {limit}"
                 f"{settings.rate_limit_per_minute}/min", data)


def check_api_usage(store: ObjectStore, now: datetime, days: int = 7) -> Check:
    """Calls, throttles and errors per day for the last ``days`` days."""
    today = usage_day(now)
    history = [load_usage(store, today - timedelta(days=n)) for n in range(days)]
    rows = {u["day"]: {k: u[k] for k in ("calls", "throttles", "errors")} for u in history}
    return Check("api_usage", "ok", f"today: {rows[today.isoformat()]['calls']} calls, "
                 f"{rows[today.isoformat()]['errors']} errors", {"days": rows})


def _expected_last_bar(dataset: str, now: datetime) -> pd.Timestamp:
    calendar = get_calendar()
    session = calendar.last_completed_session(now)
    if dataset == "daily":
        return pd.Timestamp(session, tz="UTC")
    return pd.Timestamp(calendar.session_times(session).market_close)


def check_data(store: ObjectStore, now: datetime, universe: list[str] | None) -> Check:
    """Coverage.

    How many universe symbols have daily bars, failed fetches per dataset, and symbols under an
    unresolved split-like move (they are not screened).
    """
    ledgers = {d: load_ledger(store, d) for d in keys.DATASETS}
    daily = ledgers["daily"]
    have = set(daily.loc[daily["bar_count"] > 0, "symbol"])
    failed = {d: int((f["outcome"] == "failed").sum()) for d, f in ledgers.items()}
    splits = sorted(load_split_ledger(store).unresolved())
    data = {"universe": len(universe or []), "daily_covered": len(have), "failed": failed,
            "symbols": {d: len(f) for d, f in ledgers.items()}, "unresolved_splits": splits}
    if not universe:
        return Check("data", "fail", "no universe yet: run `tradingstation fetch universe`", data)
    missing = len(set(universe) - have)
    if missing == len(universe):
        return Check("data", "fail", "no daily bars stored: run `tradingstation fetch daily`",
                     data)
    if splits:
        return Check("data", "warn", f"{len(splits)} symbols not screened under an unresolved "
                     f"split-like move: {', '.join(splits[:10])} (`tradingstation data verify` "
                     "names the repair)", data)
    if missing or any(failed.values()):
        return Check("data", "warn", f"{missing} of {len(universe)} symbols without daily bars; "
                     f"failed fetches {failed}", data)
    return Check("data", "ok", f"{len(have)}/{len(universe)} symbols have daily bars", data)


def check_freshness(store: ObjectStore, now: datetime) -> Check:
    """Per dataset: share of symbols whose last bar reaches the latest expected bar."""
    data, stale_sets = {}, []
    for dataset in keys.DATASETS:
        ledger = load_ledger(store, dataset)
        if not len(ledger):
            continue
        expected = _expected_last_bar(dataset, now)
        if dataset != "daily":
            # intraday bars are bar starts: the last one starts at most one interval before close
            expected -= pd.Timedelta(minutes=30 if dataset == "30min" else 1)
        fresh = int((ledger["last_bar"] >= expected).sum())
        data[dataset] = {"fresh": fresh, "total": len(ledger), "expected_last_bar":
                         expected.isoformat()}
        if fresh < len(ledger):
            stale_sets.append(f"{dataset} {len(ledger) - fresh}/{len(ledger)} stale")
    if not data:
        return Check("data_freshness", "fail", "no data fetched yet", data)
    if stale_sets:
        return Check("data_freshness", "warn", "; ".join(stale_sets), data)
    return Check("data_freshness", "ok", "all datasets fresh", data)


def check_signals(store: ObjectStore, now: datetime, max_age_sessions: int = 1) -> Check:
    """Signals were written for the latest session(s) up to ``now`` (never a later one)."""
    calendar = get_calendar()
    # New York's date: at 21:00 New York the UTC date is already the next day's session.
    recent = calendar.sessions_back(now.astimezone(NY).date(), max_age_sessions + 1)
    found = {}
    for day in recent:
        found[day.isoformat()] = len(store.list_objects(keys.signals_prefix(day)))
    data = {"signal_files": found}
    if not any(found.values()):
        return Check("signals", "warn", f"no signals since {recent[0]}: run a session", data)
    latest = max(d for d, n in found.items() if n)
    return Check("signals", "ok", f"signals present for {latest}", data)


def check_storage(store: ObjectStore) -> Check:
    """Write, read and delete a probe object."""
    key = keys.probe_key(secrets.token_hex(8))
    payload = secrets.token_bytes(32)
    started = time.perf_counter()
    try:
        store.put_bytes(key, payload)
        ok = store.get_bytes(key) == payload
        store.delete(key)
    except TradingStationError as exc:
        return Check("storage", "fail", f"{store.describe()}: {exc}")
    ms = round((time.perf_counter() - started) * 1000)
    if not ok:
        return Check("storage", "fail", f"{store.describe()}: probe read back different bytes")
    return Check("storage", "ok", f"{store.describe()}: write/read/delete ok ({ms} ms)",
                 {"latency_ms": ms})


def check_storage_usage(store: ObjectStore) -> Check:
    """Objects and bytes per top-level prefix."""
    usage = store.usage()
    total = sum(u["bytes"] for u in usage.values())
    return Check("storage_usage", "ok",
                 f"{sum(u['objects'] for u in usage.values())} objects, {total / 1e6:.1f} MB",
                 {"prefixes": usage})


def run_health(
    store: ObjectStore,
    provider: MarketDataProvider | None,
    settings: Settings,
    now: datetime,
    universe: list[str] | None,
    only: Iterable[str] | None = None,
    extra: Iterable[Callable[[], Check]] = (),
) -> HealthReport:
    """Run the selected checks (all when ``only`` is empty) plus ``extra`` ones.

    A check that raises is reported as failing with its one-line error, never as a crash.
    """
    selected = set(only or CHECK_NAMES)
    unknown = selected - set(CHECK_NAMES)
    if unknown:
        raise InputError(f"unknown health check(s): {', '.join(sorted(unknown))}")
    table: dict[str, Callable[[], Check]] = {
        "api": lambda: check_api(provider, demo_reason(settings)) if provider
        else Check("api", "warn", "no provider"),
        "api_limits": lambda: check_api_limits(store, settings, now),
        "api_usage": lambda: check_api_usage(store, now),
        "data": lambda: check_data(store, now, universe),
        "data_freshness": lambda: check_freshness(store, now),
        "signals": lambda: check_signals(store, now),
        "storage": lambda: check_storage(store),
        "storage_usage": lambda: check_storage_usage(store),
    }
    checks = []
    for name in CHECK_NAMES:
        if name in selected:
            checks.append(_safely(name, table[name]))
    checks += [_safely("extra", fn) for fn in extra]
    return HealthReport(checks)


def _safely(name: str, fn: Callable[[], Check]) -> Check:
    try:
        return fn()
    except TradingStationError as exc:
        return Check(name, "fail", str(exc))
