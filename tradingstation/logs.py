"""Logging setup: JSON lines or human-readable output, run ids, and secret redaction.

``configure_logging`` owns the root logger's handlers and the ``tradingstation`` logger's level.
It never touches handlers on ``prefect`` loggers, so Prefect's API handler keeps shipping flow and
task logs to the UI; those records also propagate to the root handler installed here.

Redaction (:mod:`tradingstation.redaction` owns the mask) happens at two points so that no handler
can see a secret: a log-record factory rewrites each record's message and exception text when it is
created (before any handler, Prefect's included, runs), and every formatter installed here redacts
its output again. Both are installed by :func:`configure_logging`, never at import.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from tradingstation.errors import InputError
from tradingstation.redaction import add_secrets, redact

FORMATS = ("auto", "json", "human")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}

_run_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "tradingstation_run_context", default=None
)


def _current_run() -> dict[str, str]:
    return _run_context.get() or {}


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: message (after ``%`` formatting), args and exception text."""
    try:
        message = record.getMessage()
    except Exception:
        # Leave malformed records to logging's own error reporting.
        return record
    clean = redact(message)
    if clean != message or record.args:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactionFilter(logging.Filter):
    """A logging filter that redacts every record it sees and never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always keep it."""
        redact_record(record)
        return True


_base_factory = logging.getLogRecordFactory()
_factory_lock = threading.Lock()


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    return redact_record(_base_factory(*args, **kwargs))


def _install_record_factory() -> None:
    global _base_factory
    with _factory_lock:
        current = logging.getLogRecordFactory()
        if current is not _redacting_factory:
            _base_factory = current
            logging.setLogRecordFactory(_redacting_factory)


@contextlib.contextmanager
def set_run_context(
    flow_run_id: str | None = None, task_run_id: str | None = None
) -> Iterator[None]:
    """Within the block, log records carry these Prefect run ids (unless a record has its own).

    The task layer sets this so core modules, which never import Prefect, log with run ids.
    """
    values = dict(_current_run())
    if flow_run_id:
        values["flow_run_id"] = str(flow_run_id)
    if task_run_id:
        values["task_run_id"] = str(task_run_id)
    token = _run_context.set(values)
    try:
        yield
    finally:
        _run_context.reset(token)


def _component(record: logging.LogRecord) -> str:
    explicit = getattr(record, "component", None)
    if explicit:
        return str(explicit)
    return record.name.removeprefix("tradingstation.")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return redact(value)


def _exception_text(record: logging.LogRecord, formatter: logging.Formatter) -> str | None:
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    return redact(record.exc_text) if record.exc_text else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, component, message, run ids, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single JSON line (no embedded newlines)."""
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        out: dict[str, Any] = {
            "timestamp": stamp.replace("+00:00", "Z"),
            "level": record.levelname,
            "component": _component(record),
            "message": redact(record.getMessage()),
        }
        context = _current_run()
        for key in ("flow_run_id", "task_run_id"):
            value = getattr(record, key, None) or context.get(key)
            if value:
                out[key] = str(value)
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in out and key != "component":
                out[key] = _jsonable(value)
        if out["component"] != record.name:
            out["logger"] = record.name
        exc = _exception_text(record, self)
        if exc:
            out["exc_info"] = exc
        if record.stack_info:
            out["stack_info"] = redact(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class HumanFormatter(logging.Formatter):
    """Concise terminal format: ``HH:MM:SS LEVEL component: message`` (+ run id, traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` for a person at a terminal."""
        stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{stamp} {record.levelname:<7} {_component(record)}: {record.getMessage()}"
        context = _current_run()
        run = getattr(record, "task_run_id", None) or context.get("task_run_id")
        run = run or getattr(record, "flow_run_id", None) or context.get("flow_run_id")
        if run:
            line += f" [run {str(run)[:8]}]"
        exc = _exception_text(record, self)
        if exc:
            line += "\n" + exc
        return redact(line)


class _StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is at emit time.

    Looking the stream up late keeps output going to the right place when stderr is replaced
    (pytest capture, a CLI runner) after logging was configured.
    """

    _ts_owned = True

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _resolve_format(fmt: str, stream: Any) -> str:
    if fmt not in FORMATS:
        raise InputError(f"unknown log format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt != "auto":
        return fmt
    target = stream if stream is not None else sys.stderr
    try:
        return "human" if target.isatty() else "json"
    except (AttributeError, ValueError):
        return "json"


CHATTY_LOGGERS = ("httpx", "httpcore", "urllib3", "botocore", "boto3", "s3transfer")


def configure_logging(
    level: str | int = "INFO",
    fmt: str = "auto",
    secrets: Iterable[str | None] = (),
    stream: Any = None,
) -> logging.Handler:
    """Configure the root and ``tradingstation`` loggers; safe to call more than once.

    Args:
        level: Level name (DEBUG, INFO, WARNING, ERROR, CRITICAL) or number for the root and
            ``tradingstation`` loggers.
        fmt: ``json`` (one JSON object per line), ``human``, or ``auto`` (human when the output
            is a terminal, else JSON).
        secrets: Secret values to mask in every record from any logger (added to those
            already known).
        stream: Where to write; defaults to the current ``sys.stderr`` at each emit.

    Returns:
        The handler installed on the root logger.

    Raises:
        InputError: If ``level`` or ``fmt`` is not a known value.
    """
    if isinstance(level, str):
        name = level.upper()
        if name not in LEVELS:
            raise InputError(f"unknown log level {level!r}: expected one of {', '.join(LEVELS)}")
        numeric = logging.getLevelName(name)
    elif isinstance(level, int) and not isinstance(level, bool):
        numeric = level
    else:
        raise InputError(f"unknown log level {level!r}")
    mode = _resolve_format(fmt, stream)
    add_secrets(secrets)
    _install_record_factory()

    handler: logging.Handler
    if stream is None:
        handler = _StderrHandler()
    else:
        handler = logging.StreamHandler(stream)
        handler._ts_owned = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if mode == "json" else HumanFormatter())
    handler.addFilter(RedactionFilter())

    root = logging.getLogger()
    # The root's console output is ours: drop the console handlers already there (ours from an
    # earlier call, Prefect's, basicConfig's) so records are not printed twice. Other handlers
    # (files, test capture) stay.
    for old in list(root.handlers):
        if _is_console_handler(old):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)

    # Per-request lines of HTTP clients drown the operator's output: warnings only, unless
    # the operator asked for DEBUG.
    quiet = numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for noisy in CHATTY_LOGGERS:
        logging.getLogger(noisy).setLevel(quiet)
    # urllib3's DEBUG lines print whole request URLs, API key included: its records are
    # redacted on this logger too, whatever record factory is current when they are made.
    url_logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, RedactionFilter) for f in url_logger.filters):
        url_logger.addFilter(RedactionFilter())

    package = logging.getLogger("tradingstation")
    for old in list(package.handlers):
        if getattr(old, "_ts_owned", False):
            package.removeHandler(old)
    package.setLevel(numeric)
    package.propagate = True
    _protect_existing_handlers()
    return handler


def _is_console_handler(handler: logging.Handler) -> bool:
    if getattr(handler, "_ts_owned", False) or type(handler).__name__ == "PrefectConsoleHandler":
        return True
    return type(handler) is logging.StreamHandler and getattr(handler, "stream", None) in (
        sys.stderr,
        sys.stdout,
        sys.__stderr__,
        sys.__stdout__,
    )


def _protect_existing_handlers() -> None:
    """Add the redaction filter to handlers already attached to other loggers (additive)."""
    for logger in list(logging.root.manager.loggerDict.values()):
        # Placeholders (names never used directly) have no handlers; skip them without creating.
        if not isinstance(logger, logging.Logger):
            continue
        for handler in list(logger.handlers):
            if not any(isinstance(f, RedactionFilter) for f in handler.filters):
                handler.addFilter(RedactionFilter())
