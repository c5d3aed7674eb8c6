"""Smoke-test flow (``tradingstation smoke-test``).

Every session mode end to end in a scratch prefix of the configured store, outputs checked, the
scratch prefix deleted afterwards.

The session flows resolve their store from settings, so the run starts them with settings
pointing at the scratch prefix (``data_dir`` for the local backend, ``s3_prefix`` for s3;
``flows.session.sessions_using``: the process environment is never changed, so flows running
beside it in a worker are not redirected) and proves the redirection with a marker object
before anything runs: live data is never written. An S3Bucket block whose ``bucket_folder``
is set cannot be redirected that way, and the smoke test then refuses to run rather than write
into the live prefix.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import date, datetime
from pathlib import Path

from prefect import flow

from blocks.resolve import resolve_store
from flows.daily import daily
from flows.market import market
from flows.postmarket import postmarket
from flows.premarket import premarket
from flows.runs import command_run_name, configure_run_logging, names_failed_task
from flows.session import sessions_using
from tradingstation.calendar import get_calendar, ny_time, parse_as_of
from tradingstation.config import Settings, get_settings, settings_with
from tradingstation.dashboard.publish import load_latest
from tradingstation.errors import ConfigError, TradingStationError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore
from tradingstation.storage.local import LocalStore
from tradingstation.storage.locks import LOCK_DIR_NAME
from tradingstation.storage.prefixed import PrefixedStore

MODES = {
    "premarket": (premarket, (8, 45)),
    "market": (market, (10, 30)),
    "postmarket": (postmarket, (17, 0)),
    "daily": (daily, (21, 0)),
}
MARKER = "_probe/smoke-marker"


def scratch_settings(settings: Settings, prefix: str, overrides: dict[str, object]) -> Settings:
    """``settings`` pointing at ``prefix`` of the configured store, with ``overrides``."""
    values = dict(overrides)
    if settings.storage_backend == "local":
        root = Path(settings.data_dir).expanduser().absolute()
        values["data_dir"] = root.joinpath(*prefix.strip("/").split("/"))
    else:
        values["s3_prefix"] = "/".join(p for p in (settings.s3_prefix, prefix.strip("/")) if p)
    return settings_with(settings, **values)


def expected_outputs(session: date) -> dict[str, list[str]]:
    """Keys or prefixes (ending in ``/``) each mode must leave in the scratch store."""
    sig = keys.signals_prefix(session)
    return {
        "premarket": [keys.universe_key(), keys.bars_prefix("daily"), keys.anchors_key(session),
                      f"{sig}gap_and_go.json", f"{sig}orb.json", keys.bars_prefix("1min")],
        "market": [f"{sig}avwap_reclaim.json", f"{sig}breakout.json", f"{sig}ema_pullback.json"],
        "postmarket": [keys.bars_prefix("30min"), f"{sig}exhaustion_reversal.json",
                       keys.dashboard_latest_key()],
        "daily": [keys.ledger_key("daily")],
    }


def missing_outputs(store: ObjectStore, wanted: list[str]) -> list[str]:
    """Entries of ``wanted`` with no object (a prefix needs at least one object)."""
    missing = []
    for item in wanted:
        found = store.list_objects(item) if item.endswith("/") else store.head(item)
        if not found:
            missing.append(item)
    return missing


def delete_scratch(base: ObjectStore, prefix: str) -> int:
    """Delete every object under ``prefix`` (and, locally, the emptied folders)."""
    scratch = PrefixedStore(base, prefix)
    infos = scratch.list_objects()
    for info in infos:
        scratch.delete(info.key)
    if isinstance(base, LocalStore):
        top = base.root / "smoke"
        folder = base.root.joinpath(*prefix.strip("/").split("/"))
        # Only the scratch run's folder: metadata sidecars and write-lock files of the redirected
        # store live in its hidden .meta and .locks; nothing outside it is touched.
        for dirpath, _dirs, files in os.walk(folder, topdown=False):
            for name in files:
                if Path(dirpath, name).relative_to(folder).parts[0] in (".meta", LOCK_DIR_NAME):
                    Path(dirpath, name).unlink()
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)
        with contextlib.suppress(OSError):
            top.rmdir()
    return len(infos)


def _prove_redirect(base: ObjectStore, prefix: str, settings: Settings) -> None:
    token = secrets.token_hex(8).encode()
    scratch = PrefixedStore(base, prefix)
    scratch.put_bytes(MARKER, token)
    redirected = resolve_store(settings)
    try:
        seen = redirected.get_bytes(MARKER)
    except TradingStationError:
        seen = None
    if seen != token:
        raise ConfigError(
            "cannot redirect the session flows to a scratch prefix (an S3Bucket block with "
            "bucket_folder set wins over TS_S3_PREFIX): refusing to write into live data"
        )
    scratch.delete(MARKER)  # through the base store, so its checksum sidecar goes too


@flow(name="smoke-test", flow_run_name=command_run_name("smoke-test"))
@names_failed_task
def smoke_test(use_configured_provider: bool = False, demo_symbols: int = 30,
               as_of: datetime | None = None) -> dict:
    """Run every session mode on the last completed session in a scratch prefix.

    Run premarket, market, postmarket and daily on the last completed session in a scratch prefix,
    check each mode's outputs, then delete the scratch prefix.

    Args:
        use_configured_provider: Use the configured provider (API calls!) instead of the demo.
        demo_symbols: Demo market size (when the demo market is used).
        as_of: Reference time; the modes run on the last session completed by then.

    Returns:
        ``{"ok", "session", "prefix", "modes": {mode: {"ok", "state", "missing"}}, "deleted"}``.
    """
    settings = get_settings()
    configure_run_logging(settings)
    now = parse_as_of(as_of)
    session = get_calendar().last_completed_session(now)
    run_id = f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    prefix = keys.smoke_prefix(run_id)
    base = resolve_store(settings)
    overrides = {} if use_configured_provider else {
        "provider": "demo", "demo_symbols": demo_symbols}
    out: dict = {"session": session.isoformat(), "prefix": prefix, "modes": {},
                 "store": base.describe()}
    scratch = PrefixedStore(base, prefix)
    try:
        redirected = scratch_settings(settings, prefix, overrides)
        with sessions_using(redirected):
            _prove_redirect(base, prefix, redirected)
            for mode, (flow_fn, (hour, minute)) in MODES.items():
                state = flow_fn(as_of=ny_time(session, hour, minute), return_state=True)
                row = {"state": state.name, "missing": []}
                if state.is_completed():
                    row["missing"] = missing_outputs(scratch, expected_outputs(session)[mode])
                else:
                    row["error"] = str(state.message or "")[:300]
                row["ok"] = state.is_completed() and not row["missing"]
                out["modes"][mode] = row
                if mode == "postmarket" and row["ok"]:
                    try:
                        load_latest(scratch)  # every file "latest" names is present, intact
                    except TradingStationError as exc:
                        row.update(ok=False, error=str(exc))
    finally:
        out["deleted"] = delete_scratch(base, prefix)
    out["left_behind"] = len(base.list_objects(prefix))
    out["ok"] = (all(m["ok"] for m in out["modes"].values()) and len(out["modes"]) == len(MODES)
                 and out["left_behind"] == 0)
    return out
