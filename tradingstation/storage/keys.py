"""Every object key TradingStation reads or writes is built here, and nowhere else.

Layout (all relative to the store's root / bucket prefix)::

    universe/latest.parquet                      current tradable universe
    universe/history/<YYYY-MM-DD>.parquet        daily snapshots
    bars/<dataset>/<SYMBOL>.parquet              canonical bars (dataset: daily, 1min, 30min)
    ledger/<dataset>.parquet                     coverage ledger, one row per symbol
    corporate_actions/splits.json                corporate-actions ledger (splits found/applied)
    panels/<dataset>.parquet                     snapshot of a dataset's bars (derived, rebuilt)
    quotes/<YYYY-MM-DD>/premarket.parquet        premarket quotes of a session
    quotes/<YYYY-MM-DD>/market.parquet           session quotes (running high/low) of a session
    anchors/<YYYY-MM-DD>.parquet                 AVWAP anchors found for a session
    signals/<YYYY-MM-DD>/<screener>.json         signals of one screener for a session
    dashboards/<YYYY-MM-DD>/<stamp>/<file>       one published dashboard file
    dashboards/latest.json                       pointer to the newest complete dashboard
    usage/api/<YYYY-MM-DD>.json                  provider usage counters of a day
    research/backtests/<run>/outcomes.parquet    a backtest's signals with their outcomes
    research/backtests/<run>/summary.json        its statistics (written last)
    research/backtests/latest.json               pointer to the newest complete backtest
    research/live/outcomes.parquet               live track record: published signals' outcomes
    quarantine/<dataset>/<SYMBOL>/<stamp>.parquet  provider data that failed validation
    backups/<label>/<key>                        backup copies (label: date or pre-restore-<stamp>,
                                                 then -2, -3 ... for more the same day)
    backups/<label>/manifest.json                written last: marks a complete backup
    staging/<run>/<key>                          rebuild staging area
    smoke/<run>/<key>                            smoke-test scratch area (deleted after the run)
    _probe/<token>                               storage check probes
"""

from __future__ import annotations

import re
from datetime import date

from tradingstation.errors import InputError

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")
SCREENER_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
STAMP_RE = re.compile(r"^\d{8}T\d{6}Z?$")

DATASETS = ("daily", "1min", "30min")
DATA_PREFIXES = ("universe/", "bars/", "ledger/", "corporate_actions/", "quotes/", "anchors/",
                 "signals/", "dashboards/", "research/", "profiles/", "live/")


def validate_symbol(symbol: object) -> str:
    """Return ``symbol`` if it is a well-formed US equity ticker, else raise ``InputError``.

    Accepted: one capital letter then up to nine of ``A-Z 0-9 . -`` (``BRK.B``, ``BF-B``).
    Nothing is upper-cased or trimmed here on purpose: a key never silently differs from input.
    """
    if not isinstance(symbol, str) or not SYMBOL_RE.fullmatch(symbol):
        shown = repr(symbol)[:40]
        raise InputError(
            f"invalid ticker {shown}: expected 1-10 characters, A-Z first, then A-Z 0-9 . -"
        )
    return symbol


def parse_symbols(text: str | None) -> list[str] | None:
    """Parse a comma-separated ticker list from the command line (``"NVDA, aapl"``).

    Whitespace around items is dropped and letters are upper-cased (a user typing ``aapl``
    means AAPL); every item is then validated. ``None`` or an empty string means "no filter".
    """
    if text is None or not text.strip():
        return None
    symbols = []
    for item in text.split(","):
        item = item.strip()
        symbols.append(validate_symbol(item.upper() if item.isascii() else item))
    return sorted(set(symbols))


def parse_symbol_filter(text: str | None, option: str = "--tickers") -> list[str] | None:
    """Like :func:`parse_symbols` for an option that narrows a command.

    ``None`` (not given) means no filter, but a given option with no ticker is an error, never
    "everything".

    Raises:
        InputError: the option is empty, or an item is not a valid ticker.
    """
    symbols = parse_symbols(text)
    if text is not None and not symbols:
        raise InputError(f"{option} is empty: name at least one ticker, or leave the option "
                         "out to act on every symbol")
    return symbols


def validate_dataset(dataset: str) -> str:
    """Return ``dataset`` if it is one of ``daily``, ``1min``, ``30min``."""
    if dataset not in DATASETS:
        raise InputError(f"unknown dataset {dataset!r}: expected one of {', '.join(DATASETS)}")
    return dataset


def _day(day: date) -> str:
    if not isinstance(day, date):
        raise InputError(f"expected a date, got {day!r}")
    return day.isoformat()


def _check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InputError(f"invalid {what} {str(value)[:40]!r}")
    return value


def bars_key(dataset: str, symbol: str) -> str:
    """Key of a symbol's canonical bars for ``dataset``."""
    return f"bars/{validate_dataset(dataset)}/{validate_symbol(symbol)}.parquet"


def bars_prefix(dataset: str) -> str:
    """Prefix under which all bars of ``dataset`` live."""
    return f"bars/{validate_dataset(dataset)}/"


def symbol_from_bars_key(key: str) -> str:
    """Inverse of :func:`bars_key`: the symbol of a bars object key."""
    name = key.rsplit("/", 1)[-1]
    return validate_symbol(name.removesuffix(".parquet"))


def panel_snapshot_key(dataset: str) -> str:
    """Key of the snapshot of ``dataset``'s bars for the whole universe (a derived copy)."""
    return f"panels/{validate_dataset(dataset)}.parquet"


def volume_profile_key(symbol: str) -> str:
    """Premarket volume profile of one symbol (``tradingstation.data.volume_profile``)."""
    return f"profiles/premarket-volume/{validate_symbol(symbol)}.parquet"


def symbol_from_profile_key(key: str) -> str:
    """The symbol of a ``volume_profile_key``."""
    return validate_symbol(key.rsplit("/", 1)[-1].removesuffix(".parquet"))


def ledger_key(dataset: str) -> str:
    """Key of the coverage ledger of ``dataset``."""
    return f"ledger/{validate_dataset(dataset)}.parquet"


def corporate_actions_key() -> str:
    """Key of the corporate-actions ledger: every split found, confirmed, applied or dismissed."""
    return "corporate_actions/splits.json"


def universe_key() -> str:
    """Key of the current universe snapshot."""
    return "universe/latest.parquet"


def universe_history_key(day: date) -> str:
    """Key of the universe snapshot taken on ``day``."""
    return f"universe/history/{_day(day)}.parquet"


def quotes_key(session: date) -> str:
    """Key of the premarket quotes of ``session``."""
    return f"quotes/{_day(session)}/premarket.parquet"


def market_quotes_key(session: date) -> str:
    """Key of the regular-session quotes of ``session`` (with the running high/low)."""
    return f"quotes/{_day(session)}/market.parquet"


def anchors_key(session: date) -> str:
    """Key of the AVWAP anchors found for ``session``."""
    return f"anchors/{_day(session)}.parquet"


def signals_key(session: date, screener: str) -> str:
    """Key of the signals of ``screener`` for ``session``."""
    return f"signals/{_day(session)}/{_check(SCREENER_RE, screener, 'screener name')}.json"


def signals_prefix(session: date | None = None) -> str:
    """Prefix of all signals, or of one session's signals."""
    return "signals/" if session is None else f"signals/{_day(session)}/"


def dashboard_key(session: date, stamp: str, filename: str) -> str:
    """Key of one file of a dashboard published for ``session`` at ``stamp`` (YYYYMMDDTHHMMSSZ)."""
    _check(STAMP_RE, stamp, "dashboard stamp")
    _check(re.compile(r"^[a-z0-9_\-]+\.(html|json|csv|png|md)$"), filename, "dashboard file")
    return f"dashboards/{_day(session)}/{stamp}/{filename}"


def dashboard_prefix(session: date | None = None) -> str:
    """Prefix of all dashboards, or of one session's dashboards."""
    return "dashboards/" if session is None else f"dashboards/{_day(session)}/"


def dashboard_latest_key() -> str:
    """Key of the pointer to the newest complete dashboard."""
    return "dashboards/latest.json"


def api_usage_key(day: date) -> str:
    """Key of the provider usage counters of ``day``."""
    return f"usage/api/{_day(day)}.json"


def backtest_key(run: str, filename: str) -> str:
    """Key of one file (``outcomes.parquet``, ``summary.json``) of backtest run ``run``."""
    _check(re.compile(r"^(outcomes\.parquet|summary\.json)$"), filename, "backtest file")
    return f"research/backtests/{_check(TOKEN_RE, run, 'backtest run id')}/{filename}"


def backtest_latest_key() -> str:
    """Key of the pointer to the newest complete backtest."""
    return "research/backtests/latest.json"


def live_outcomes_key() -> str:
    """Key of the live track record (outcomes of published signals, kept past retention)."""
    return "research/live/outcomes.parquet"


def quarantine_key(dataset: str, symbol: str, stamp: str) -> str:
    """Key where rejected provider data for ``symbol`` is kept for inspection."""
    _check(STAMP_RE, stamp, "quarantine stamp")
    return f"quarantine/{validate_dataset(dataset)}/{validate_symbol(symbol)}/{stamp}.parquet"


# a second backup of the same date (or stamp) is <label>-2, -3 ...: a complete one is immutable
BACKUP_LABEL_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}|pre-restore-\d{8}T\d{6}Z)(-[1-9]\d{0,3})?$")


def backup_label(day: date) -> str:
    """Label of the regular backup taken on ``day`` (its ISO date)."""
    return _day(day)


def safety_backup_label(stamp: str) -> str:
    """Label of the safety backup a restore takes first (``pre-restore-<stamp>``)."""
    return f"pre-restore-{_check(STAMP_RE, stamp, 'backup stamp')}"


def backup_prefix(label: str) -> str:
    """Prefix of the backup with ``label`` (see :func:`backup_label`)."""
    return f"backups/{_check(BACKUP_LABEL_RE, label, 'backup label')}/"


def backup_manifest_key(label: str) -> str:
    """Key of a backup's manifest (written last: its presence marks a complete backup)."""
    return f"{backup_prefix(label)}manifest.json"


def staging_prefix(run: str) -> str:
    """Prefix of a rebuild's staging area."""
    return f"staging/{_check(TOKEN_RE, run, 'staging run id')}/"


def smoke_prefix(run: str) -> str:
    """Prefix of a smoke test's scratch area (a whole store layout, deleted afterwards)."""
    return f"smoke/{_check(TOKEN_RE, run, 'smoke run id')}/"


def probe_key(token: str) -> str:
    """Key of a storage probe object."""
    return f"_probe/{_check(TOKEN_RE, token, 'probe token')}"


IDEA_ID_RE = re.compile(r"^[0-9a-f]{16}$")
LIVE_STATE_RE = re.compile(r"^(triggered|invalidated|expired)$")


def live_prefix(session: date | None = None) -> str:
    """Prefix of the live-trigger journal, or of one session's journal."""
    return "live/" if session is None else f"live/{_day(session)}/"


def live_event_key(session: date, idea_id: str, state: str) -> str:
    """Key of the journal record of idea ``idea_id`` reaching ``state`` (written once)."""
    _check(IDEA_ID_RE, idea_id, "idea id")
    _check(LIVE_STATE_RE, state, "idea state")
    return f"{live_prefix(session)}events/{idea_id}.{state}.json"


def live_alert_key(session: date, idea_id: str, state: str) -> str:
    """Key of the record that the alert of an event was delivered (or why it was not)."""
    _check(IDEA_ID_RE, idea_id, "idea id")
    _check(LIVE_STATE_RE, state, "idea state")
    return f"{live_prefix(session)}alerts/{idea_id}.{state}.json"


def live_watch_key(session: date) -> str:
    """Key of the watcher's working state of ``session`` (ideas and extremes seen so far)."""
    return f"{live_prefix(session)}watch.parquet"
