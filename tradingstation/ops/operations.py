"""Data operations of ``tradingstation data``: their names and parameter validation.

Shared by the command (which validates before any flow starts) and the ``data-ops`` flow
(which validates again, so a deployment run with bad parameters changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tradingstation.errors import InputError
from tradingstation.ops.backup import parse_backup_date
from tradingstation.storage import keys

OPERATIONS = ("rebuild-all", "rebuild-daily", "verify", "detect-gaps", "fill-gaps", "cleanup",
              "backup", "restore", "rebuild-ledger")
# Operations that write, trim or replace data: dated far ahead, cleanup would expire every bar
# and a backup would take a label no real day will ever reach.
WRITING_OPERATIONS = frozenset(
    {"rebuild-all", "rebuild-daily", "fill-gaps", "cleanup", "backup", "restore",
     "rebuild-ledger"})
MAX_AHEAD = timedelta(days=1)


@dataclass(frozen=True)
class OperationParams:
    """Validated parameters of one data operation.

    Attributes:
        operation: One of ``OPERATIONS``.
        symbols: Tickers for rebuild-daily (sorted, unique) or None.
        symbol: The one ticker detect-gaps / fill-gaps are restricted to, or None.
        date: Backup date for restore, or None.
        datasets: Datasets rebuild-ledger covers.
    """

    operation: str
    symbols: list[str] | None = None
    symbol: str | None = None
    date: date | None = None
    datasets: list[str] = field(default_factory=lambda: list(keys.DATASETS))


def check_parameters(
    operation: str,
    symbols: str | list[str] | None = None,
    symbol: str | None = None,
    restore_date: str | date | None = None,
    dataset: str | None = None,
) -> OperationParams:
    """Validate a data operation's parameters and return them parsed.

    Raises:
        InputError: Unknown operation or dataset, malformed ticker, impossible date, a missing
            required argument.
    """
    if operation not in OPERATIONS:
        raise InputError(f"unknown operation {operation!r}: one of {', '.join(OPERATIONS)}")
    if isinstance(symbols, list):
        symbols = ",".join(symbols)
    parsed_symbols = keys.parse_symbols(symbols)
    one = None
    if symbol is not None:
        many = keys.parse_symbol_filter(symbol, "--symbol") or []
        if len(many) != 1:
            raise InputError("--symbol takes one ticker (rebuild-daily --symbols takes many)")
        one = many[0]
    datasets = [keys.validate_dataset(dataset)] if dataset else list(keys.DATASETS)
    if operation == "rebuild-daily" and not parsed_symbols:
        raise InputError("rebuild-daily needs --symbols, e.g. --symbols NVDA,AAPL")
    day = None
    if operation == "restore":
        if restore_date is None or str(restore_date).strip() == "":
            raise InputError("restore needs --date YYYY-MM-DD (see `tradingstation data backup`)")
        day = restore_date if isinstance(restore_date, date) else parse_backup_date(
            str(restore_date))
    return OperationParams(operation, parsed_symbols, one, day, datasets)


def check_operation_time(operation: str, as_of: datetime, now: datetime) -> None:
    """Refuse a writing operation whose ``as_of`` is more than :data:`MAX_AHEAD` after ``now``.

    Read-only operations (verify, detect-gaps) may look at any supported instant.

    Raises:
        InputError: one line naming the operation, the instant and the limit.
    """
    if operation in WRITING_OPERATIONS and as_of > now + MAX_AHEAD:
        raise InputError(f"{operation} refuses --as-of {as_of.isoformat(timespec='minutes')}: "
                         "more than a day in the future (it would act on data as if that "
                         "time had come; leave --as-of out to act for now)")
