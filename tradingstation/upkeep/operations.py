"""Data operations of ``tradingstation data``: their names and parameter validation.

Shared by the command (which validates before any flow starts) and the ``data-ops`` flow
(which validates again, so a deployment run with bad parameters changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tradingstation.errors import InputError
from tradingstation.storage import keys
from tradingstation.upkeep.backup import parse_backup_date

OPERATIONS = ("rebuild-all", "rebuild-daily", "verify", "detect-gaps", "fill-gaps", "cleanup",
              "backup", "restore", "rebuild-ledger", "splits")
# Operations that write, trim or replace data: dated far ahead, cleanup would expire every bar
# and a backup would take a label no real day will ever reach.
WRITING_OPERATIONS = frozenset(
    {"rebuild-all", "rebuild-daily", "fill-gaps", "cleanup", "backup", "restore",
     "rebuild-ledger", "splits", "daily"})  # the daily session flow runs retention cleanup
MAX_AHEAD = timedelta(days=1)


@dataclass(frozen=True)
class OperationParams:
    """Validated parameters of one data operation.

    Attributes:
        operation: One of ``OPERATIONS``.
        symbols: Tickers for rebuild-daily (sorted, unique) or None.
        symbol: The one ticker detect-gaps / fill-gaps are restricted to, or None.
        date: Backup date for restore, or a split's effective date (splits), or None.
        datasets: Datasets rebuild-ledger covers.
        factor: The split factor an operator confirms (splits --factor).
        dismiss: The operator dismisses the move as a real price move (splits --dismiss).
    """

    operation: str
    symbols: list[str] | None = None
    symbol: str | None = None
    date: date | None = None
    datasets: list[str] = field(default_factory=lambda: list(keys.DATASETS))
    factor: float | None = None
    dismiss: bool = False


def check_parameters(
    operation: str,
    symbols: str | list[str] | None = None,
    symbol: str | None = None,
    restore_date: str | date | None = None,
    dataset: str | None = None,
    factor: float | str | None = None,
    dismiss: bool = False,
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
    split_factor = None
    if operation == "splits":
        day, split_factor = _split_parameters(one, restore_date, factor, dismiss)
    elif factor is not None or dismiss:
        raise InputError("--factor and --dismiss belong to the splits operation")
    return OperationParams(operation, parsed_symbols, one, day, datasets, split_factor,
                           bool(dismiss))


def _split_parameters(
    symbol: str | None, day: str | date | None, factor: float | str | None, dismiss: bool
) -> tuple[date | None, float | None]:
    """Validate ``data splits --symbol S [--date D (--factor F | --dismiss)]``."""
    if symbol is None:
        raise InputError("splits needs --symbol, e.g. --symbol NVDA")
    parsed = None
    if day is not None and str(day).strip():
        try:
            parsed = day if isinstance(day, date) else date.fromisoformat(str(day).strip())
        except ValueError:
            raise InputError(f"--date {str(day)[:20]!r} is not a date (YYYY-MM-DD)") from None
    value = None
    if factor is not None and str(factor).strip():
        try:
            value = float(factor)
        except ValueError:
            value = -1.0
        if not 0 < value < 1000 or value == 1:
            raise InputError(f"--factor {str(factor)[:20]!r} must be a split factor, e.g. 4 "
                             "(4-for-1) or 0.1 (1-for-10)")
    if (value is not None or dismiss) and parsed is None:
        raise InputError("--factor and --dismiss need --date (the split's effective date)")
    if value is not None and dismiss:
        raise InputError("give either --factor (confirm the split) or --dismiss, not both")
    if parsed is not None and value is None and not dismiss:
        raise InputError("--date needs --factor F (confirm the split) or --dismiss")
    return parsed, value


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
