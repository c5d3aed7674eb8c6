"""Helpers shared by every command module: JSON output, one-line failures, common options."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel, SecretStr, ValidationError
from rich.console import Console

from tradingstation.config import Settings, get_settings
from tradingstation.errors import ConfigError, InputError, TradingStationError
from tradingstation.redaction import REDACTED, one_line, redact

# Commands print data to stdout and diagnostics to stderr, so `--json | jq` always works.
console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of text.")
]
"""Use as ``json_out: JsonOption = False`` in a command signature."""

VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show more detail.")]
"""Use as ``verbose: VerboseOption = False`` in a command signature."""


def running(flow_fn: Any, label: str) -> Any:
    """A spinner on stderr while ``flow_fn`` runs: ``<label> (Prefect flow <name>)``."""
    return err_console.status(f"{label} (Prefect flow {flow_fn.name})")


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an expected error: 2 for bad input/config, 1 for anything else."""
    if isinstance(exc, InputError | ConfigError | ValidationError):
        return 2
    return 1


def settings_error_message(exc: ValidationError) -> str:
    """One line naming each bad ``TS_`` variable of a Settings validation error.

    The offending value is not shown: it might be a secret.
    """
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        field = str(error["loc"][0]) if error.get("loc") else ""
        name = f"TS_{field.upper()}" if field else "settings"
        parts.append(f"{name}: {str(error['msg']).removeprefix('Value error, ')}")
    return "invalid setting " + "; ".join(parts)


def load_settings() -> Settings:
    """The process settings; a validation error becomes a ``ConfigError`` naming the variable.

    Raises:
        ConfigError: A ``TS_`` variable (or ``.env`` entry) has a bad value.
    """
    try:
        return get_settings()
    except ValidationError as exc:
        raise ConfigError(settings_error_message(exc)) from None


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, Path | Decimal | Enum):
        return str(value.value if isinstance(value, Enum) else value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "to_dict"):  # pandas objects
        return value.to_dict()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def to_json(obj: Any) -> str:
    """``obj`` as indented JSON (dates ISO-8601, models dumped, secrets masked)."""
    return json.dumps(obj, indent=2, default=_to_jsonable, ensure_ascii=False)


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout, plainly (no colour, no wrapping), redacted."""
    sys.stdout.write(redact(to_json(obj)) + "\n")
    sys.stdout.flush()


def print_error(message: object) -> None:
    """Print ``error: <message>`` as one line on stderr."""
    sys.stderr.write(f"error: {one_line(message)}\n")
    sys.stderr.flush()


def fail(message: object, code: int = 1) -> NoReturn:
    """Print ``error: <message>`` on stderr and exit with ``code`` (no traceback)."""
    print_error(message)
    raise typer.Exit(code)


def fail_from(exc: BaseException) -> NoReturn:
    """:func:`fail` with the message and exit code of an expected error."""
    fail(exc, exit_code_for(exc))


def parse_day(text: str | None, option: str = "--date") -> date | None:
    """Parse a ``YYYY-MM-DD`` option value; ``None``/empty stays ``None``.

    Raises:
        InputError: If the text is not a real calendar date.
    """
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date (expected YYYY-MM-DD)") from None


def is_expected(exc: BaseException) -> bool:
    """Whether ``exc`` is an expected failure that gets one line instead of a traceback."""
    if isinstance(exc, TradingStationError):
        return True
    return isinstance(exc, ValidationError) and exc.title == Settings.__name__
