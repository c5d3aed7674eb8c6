"""The ``tradingstation storage`` commands: check that the configured store works."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import typer
from rich.markup import escape

from cli.common import (
    JsonOption,
    console,
    exit_code_for,
    fail,
    is_expected,
    load_settings,
    print_json,
)
from tradingstation.errors import StorageError
from tradingstation.redaction import one_line

app = typer.Typer(help="Object storage (local directory or S3 / DigitalOcean Spaces).",
                  no_args_is_help=True)


def run_probe(store: Any) -> dict[str, Any]:
    """Write, read back, verify and delete a probe object; return the steps' timings.

    Args:
        store: An ``ObjectStore``.

    Returns:
        ``{"key", "bytes", "write_ms", "read_ms", "delete_ms"}``.

    Raises:
        StorageError: The probe read back different bytes or survived its delete.
    """
    # Imported here: the storage package pulls in pandas, which `--help` should not pay for.
    from tradingstation.storage import keys

    token = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}-{secrets.token_hex(4)}"
    key = keys.probe_key(token)
    payload = f"tradingstation storage probe {token}\n".encode()
    timings: dict[str, Any] = {"key": key, "bytes": len(payload)}
    start = time.perf_counter()
    try:
        store.put_bytes(key, payload, content_type="text/plain")
        timings["write_ms"] = _ms(start)
        start = time.perf_counter()
        data = store.get_bytes(key)
        timings["read_ms"] = _ms(start)
        if data != payload:
            raise StorageError(f"probe {key} read back {len(data)} bytes that differ from the "
                               f"{len(payload)} written")
    except BaseException:
        # Clean up after a failed step too, but report the step that failed, not the cleanup.
        with contextlib.suppress(Exception):
            store.delete(key)
        raise
    start = time.perf_counter()
    store.delete(key)
    timings["delete_ms"] = _ms(start)
    if store.head(key) is not None:
        raise StorageError(f"probe {key} still exists after delete")
    return timings


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


@app.command("check")
def check(json_out: JsonOption = False) -> None:
    """Probe the configured store: write, read back, verify and delete a small object.

    Exit code 0: every step passed.

    Exit code 1: the store failed (unreachable endpoint, bad credentials, missing bucket).

    Exit code 2: the storage configuration is incomplete or invalid.
    """
    settings = load_settings()
    result: dict[str, Any] = {"ok": False, "backend": settings.storage_backend}
    started = time.perf_counter()
    try:
        # The store the flows use: with a Prefect API, the S3Bucket block's bucket; without
        # one, the settings alone (no temporary Prefect server just to look for a block).
        from blocks.resolve import api_configured, resolve_store
        from tradingstation.storage.factory import open_store

        store = resolve_store(settings) if api_configured() else open_store(settings)
        result["store"] = one_line(store.describe())
        result.update(run_probe(store))
    except Exception as exc:
        # Any failure of a probe is a finding to report, not a crash: one line, no traceback.
        message = one_line(exc) if is_expected(exc) else one_line(f"{type(exc).__name__}: {exc}")
        code = exit_code_for(exc) if is_expected(exc) else 1
        result.update(error=message, elapsed_ms=_ms(started))
        if json_out:
            print_json(result)
        fail(f"storage check failed: {message}", code)
    result["ok"] = True
    result["elapsed_ms"] = _ms(started)
    if json_out:
        print_json(result)
        return
    console.print(
        f"[green]storage check passed[/green]: {escape(result['store'])} "
        f"(write/read/delete {result['elapsed_ms']:.0f} ms)",
        highlight=False,
        soft_wrap=True,
    )
