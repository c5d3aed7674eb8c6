"""A small seeded local store for the data-operation tests (demo market, one session)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from tests.support.fetching import fetch_job
from tradingstation.calendar import NY
from tradingstation.config import Settings
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.storage.local import LocalStore

AS_OF = datetime(2025, 11, 24, 21, 0, tzinfo=NY)
AS_OF_TEXT = "2025-11-24T21:00-05:00"
DEMO_SYMBOLS = 12
INTRADAY = "GPUP,ORBX"


def seed_store(root: Path) -> LocalStore:
    """Universe, daily bars of the whole demo universe, 1-min bars of two symbols."""
    settings = Settings(data_dir=root, demo_symbols=DEMO_SYMBOLS)
    store = LocalStore(root)
    provider = DemoMarket(seed=settings.demo_seed, n_symbols=DEMO_SYMBOLS, now=AS_OF)
    fetch_job("universe", store, provider, AS_OF, settings)
    fetch_job("daily", store, provider, AS_OF, settings)
    fetch_job("intraday_1min", store, provider, AS_OF, settings, tickers=INTRADAY)
    return store


def snapshot(root: Path) -> dict[str, bytes]:
    """Every data file under ``root`` (hidden metadata excluded) by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)}


def clone(pristine: Path, target: Path) -> Path:
    """A copy of the seeded store (metadata sidecars and mtimes preserved)."""
    shutil.copytree(pristine, target, copy_function=shutil.copy2)
    return target
