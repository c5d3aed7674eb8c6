"""Premarket volume profile: per symbol, the volume of each premarket minute of past sessions.

Gap & Go's relative volume compares today's premarket volume with the same time of day over
the prior ``rvol_sessions`` (10) sessions, but 1-min retention keeps about a week (4-5
sessions). So, before retention trims a symbol's 1-min bars, the premarket minutes of its
complete sessions are recorded in a small per-symbol object (``keys.volume_profile_key``):
rows ``session, minute, volume`` (minute 0 = 04:00 New York; a row at minute -1 marks a session
with bars but no premarket trade), the newest ``PROFILE_SESSIONS`` sessions, with the source
they came from (:mod:`tradingstation.data.provenance`). A screen uses the sessions its 1-min
panel holds plus the older ones from the profile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from tradingstation.calendar import NY
from tradingstation.data.provenance import frame_source, is_foreign, with_source
from tradingstation.errors import ObjectNotFoundError, TradingStationError
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore, put_frame_if_changed, read_frame_bytes

log = logging.getLogger(__name__)

PROFILE_SESSIONS = 60  # the most sessions Gap & Go's rvol_sessions can ask for
PREMARKET_MINUTES = 330  # 04:00-09:30 New York
COLUMNS = ["session", "minute", "volume"]
_PREMARKET_START = 4 * 60


def minute_rows(volume: pd.DataFrame, before: date) -> pd.DataFrame:
    """Premarket minute volumes of the sessions before ``before`` in a wide 1-min volume frame.

    Args:
        volume: 1-min volumes, rows = bar start (UTC), columns = symbols, NaN = no bar.
        before: Only New York dates strictly before this one.

    Returns:
        Rows ``symbol, session, minute, volume``: one per premarket bar, plus a marker row
        (minute -1, volume 0) per session on which the symbol has any bar.
    """
    if volume.empty:
        return pd.DataFrame({"symbol": [], **{c: [] for c in COLUMNS}})
    local = volume.index.tz_convert(NY)
    days = np.array(local.date)
    keep = days < before
    frame = volume[keep]
    local, days = local[keep], days[keep]
    stacked = frame.set_axis(pd.MultiIndex.from_arrays(
        [days, (local.hour * 60 + local.minute - _PREMARKET_START).to_numpy()],
        names=["session", "minute"])).stack().rename("volume").reset_index()
    stacked = stacked.rename(columns={stacked.columns[2]: "symbol"})
    markers = stacked.drop_duplicates(["symbol", "session"]).assign(minute=-1, volume=0.0)
    pm = stacked[(stacked["minute"] >= 0) & (stacked["minute"] < PREMARKET_MINUTES)]
    return pd.concat([markers, pm], ignore_index=True)[["symbol", *COLUMNS]]


def _complete_before(now: datetime) -> date:
    """The first New York date whose premarket is not over at ``now``."""
    local = pd.Timestamp(now).tz_convert(NY)
    today = local.date()
    return today + timedelta(days=1) if local.hour * 60 + local.minute >= 9 * 60 + 30 else today


def _bars_rows(bars: pd.DataFrame, before: date) -> pd.DataFrame:
    wide = bars.set_index("timestamp")[["volume"]].astype("float64").rename(
        columns={"volume": "x"})
    return minute_rows(wide, before).drop(columns="symbol")


def update_volume_profile(store: ObjectStore, symbol: str, bars: pd.DataFrame, now: datetime,
                          source: str) -> bool:
    """Record the premarket minutes of ``bars``' complete sessions in ``symbol``'s profile.

    Sessions in ``bars`` replace the profile's rows of the same sessions; the newest
    ``PROFILE_SESSIONS`` sessions are kept. A profile from another source is replaced.

    Returns:
        True if the profile object was written (unchanged content is not rewritten).
    """
    fresh = _bars_rows(bars, _complete_before(now)) if len(bars) else pd.DataFrame(
        columns=COLUMNS)
    if not len(fresh):
        return False
    key = keys.volume_profile_key(symbol)
    try:
        stored = store.get_frame(key)
    except ObjectNotFoundError:
        stored = None
    base = stored
    if base is not None and source and is_foreign(frame_source(base), source):
        base = None
    fresh = fresh.assign(session=[d.isoformat() for d in fresh["session"]])
    parts = [fresh]
    if base is not None and len(base):
        parts.insert(0, base[~base["session"].isin(set(fresh["session"]))][COLUMNS])
    merged = pd.concat(parts, ignore_index=True)
    newest = sorted(set(merged["session"]))[-PROFILE_SESSIONS:]
    merged = merged[merged["session"].isin(newest)].sort_values(["session", "minute"])
    merged = merged.astype({"session": str, "minute": "int64", "volume": "float64"})
    merged = with_source(merged.reset_index(drop=True), source)
    return put_frame_if_changed(store, key, merged, stored=stored)


def record_before_trim(store: ObjectStore, symbol: str, untrimmed: pd.DataFrame,
                       kept: pd.DataFrame, now: datetime, source: str) -> bool:
    """Before 1-min retention drops bars of ``symbol``, record its complete sessions.

    Nothing is read or written when retention dropped nothing. A failure is logged, never
    raised: the profile is derived data and the bars write it follows already succeeded.
    """
    if len(kept) >= len(untrimmed):
        return False
    try:
        return update_volume_profile(store, symbol, untrimmed, now, source)
    except TradingStationError as exc:
        log.warning("volume profile of %s not updated: %s", symbol, exc)
        return False


def load_volume_profiles(store: ObjectStore, symbols: Iterable[str],
                         source: str = "") -> dict[str, pd.DataFrame]:
    """The stored profiles of ``symbols`` (``session`` as dates).

    Symbols without one, or (with ``source``) with one recorded from another provider, are left out.
    """
    found = store.read_many([keys.volume_profile_key(s) for s in symbols], read_frame_bytes)
    out = {}
    for key, frame in found.items():
        if source and is_foreign(frame_source(frame), source):
            continue
        frame = frame.assign(session=pd.to_datetime(frame["session"]).dt.date)
        out[keys.symbol_from_profile_key(key)] = frame
    return out


def usual_premarket_volume(
    volume: pd.DataFrame, session: date, minutes: pd.Series, lookback: int,
    profiles: Mapping[str, pd.DataFrame] | None = None,
) -> pd.Series:
    """Mean cumulative premarket volume up to each symbol's minute over its prior sessions.

    Args:
        volume: The 1-min volume panel (wide, UTC rows) seen by the screen.
        session: The session screened; only sessions before it count.
        minutes: Per symbol, the premarket minute (0 = 04:00) to accumulate through.
        lookback: Sessions averaged: the newest ``lookback`` sessions before ``session`` on
            which the symbol has bars, from the panel and, older, from ``profiles``.
        profiles: Stored profiles (``load_volume_profiles``), or None.

    Returns:
        Per symbol of ``minutes``: the mean (NaN without any prior session).
    """
    rows = minute_rows(volume, session)
    if profiles:
        stored = [p.assign(symbol=s)[["symbol", *COLUMNS]] for s, p in profiles.items()
                  if s in minutes.index and len(p)]
        stored = [p[p["session"] < session] for p in stored]
        if stored:
            known = set(zip(rows["symbol"], rows["session"], strict=True))
            extra = pd.concat(stored, ignore_index=True)
            pairs = zip(extra["symbol"], extra["session"], strict=True)
            extra = extra[[p not in known for p in pairs]]
            rows = pd.concat([rows, extra], ignore_index=True)
    rows = rows[rows["symbol"].isin(minutes.index)]
    if not len(rows):
        return pd.Series(np.nan, index=minutes.index, dtype="float64")
    sessions = rows[["symbol", "session"]].drop_duplicates()
    sessions = sessions.assign(rank=sessions.groupby("symbol")["session"].rank(
        method="first", ascending=False))
    sessions = sessions[sessions["rank"] <= lookback]
    counted = sessions.groupby("symbol").size()
    rows = rows.merge(sessions[["symbol", "session"]], on=["symbol", "session"])
    limit = rows["symbol"].map(minutes)
    total = rows[(rows["minute"] >= 0) & (rows["minute"] <= limit)].groupby("symbol")[
        "volume"].sum()
    mean = total.reindex(counted.index, fill_value=0.0) / counted
    return mean.reindex(minutes.index).astype("float64")
