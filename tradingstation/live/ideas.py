"""The ideas a watcher follows: the session's open (``watch``) plan ideas, kept across polls."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime

import numpy as np
import pandas as pd

from tradingstation.live.triggers import IDEA_COLUMNS, OPEN, expiry_for, new_ideas_frame
from tradingstation.plan import Plan, RiskSettings, build_plan
from tradingstation.signals import Signal

# What an alert needs besides the trigger columns, kept beside them in the watch state.
DETAIL_COLUMNS = ["screeners", "targets", "shares", "score"]
WATCH_COLUMNS = [*IDEA_COLUMNS, *DETAIL_COLUMNS]


def make_idea_id(session: date, symbol: str, direction: str) -> str:
    """One id per session, symbol and direction: the unit a trader is alerted about once."""
    raw = f"{session.isoformat()}|{symbol}|{direction}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def plan_ideas(signals: Iterable[Signal], risk: RiskSettings, session: date) -> pd.DataFrame:
    """The plan's ``watch`` ideas of ``session`` as a watch frame (``WATCH_COLUMNS``).

    The same merge, ranking and sizing as the published plan (:func:`build_plan`), so the
    shares an alert names are the plan's.
    """
    mine = [s for s in signals if s.session == session]
    plan = build_plan(mine, risk)
    rows = []
    for idea in plan.ideas:
        if idea.status != OPEN:
            continue
        rows.append({
            "idea_id": make_idea_id(session, idea.symbol, idea.direction),
            "symbol": idea.symbol, "direction": idea.direction,
            "entry": float(idea.entry), "stop": float(idea.stop),
            "published_at": pd.Timestamp(idea.timestamp).tz_convert("UTC"),
            "expires_at": pd.Timestamp(expiry_for(idea.screeners, session)),
            "state": OPEN, "seen_high": np.nan, "seen_low": np.nan, "base_high": np.nan,
            "base_low": np.nan, "changed_at": pd.NaT, "price": np.nan,
            "screeners": list(idea.screeners), "targets": [float(t) for t in idea.targets],
            "shares": int(idea.shares), "score": float(idea.score),
        })
    if not rows:
        return empty_watch()
    return normalize_watch(pd.DataFrame(rows, columns=WATCH_COLUMNS))


def normalize_watch(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the watch columns in order and their canonical dtypes."""
    out = frame[WATCH_COLUMNS].copy()
    for column in ("published_at", "expires_at", "changed_at"):
        out[column] = pd.to_datetime(out[column], utc=True).astype("datetime64[ns, UTC]")
    for column in ("entry", "stop", "seen_high", "seen_low", "base_high", "base_low", "price",
                   "score"):
        out[column] = out[column].astype("float64")
    out["shares"] = out["shares"].astype("int64")
    for column in ("screeners", "targets"):
        out[column] = out[column].map(list)
    return out.reset_index(drop=True)


def empty_watch() -> pd.DataFrame:
    """An empty watch frame."""
    frame = new_ideas_frame()
    for column in DETAIL_COLUMNS:
        frame[column] = pd.Series(dtype="object")
    return frame[WATCH_COLUMNS]


def merge_watch(current: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """Fold the plan's latest ideas into the watch state.

    An idea already watched keeps its state and the extremes seen so far; while it is still
    open, a newer plan's entry, stop, targets, shares and expiry replace the old ones. A new
    idea starts open. An idea the plan no longer lists stays as it was (it was published).
    """
    if current.empty:
        return normalize_watch(fresh)
    if fresh.empty:
        return current
    known = current.set_index("idea_id")
    update = fresh.set_index("idea_id")
    still_open = known.index[known["state"] == OPEN].intersection(update.index)
    for column in ("entry", "stop", "targets", "shares", "score", "screeners", "expires_at"):
        known.loc[still_open, column] = update.loc[still_open, column]
    added = update.loc[update.index.difference(known.index)]
    merged = pd.concat([known, added]) if len(added) else known
    return normalize_watch(merged.reset_index())


def with_live_state(plan: Plan, watch: pd.DataFrame, as_of: datetime) -> Plan:
    """``plan`` with each idea's live state, as the watcher knew it at ``as_of``.

    A state reached after ``as_of`` did not exist yet: such an idea shows as still watched.
    """
    if watch.empty:
        return plan
    limit = pd.Timestamp(as_of)
    seen = {}
    for row in watch.itertuples(index=False):
        at = None if pd.isna(row.changed_at) else pd.Timestamp(row.changed_at)
        if at is not None and at > limit:
            seen[row.symbol, row.direction] = (OPEN, None)
        else:
            seen[row.symbol, row.direction] = (row.state, at and at.to_pydatetime())
    ideas = []
    for idea in plan.ideas:
        state, at = seen.get((idea.symbol, idea.direction), (None, None))
        ideas.append(idea.model_copy(update={"live_state": state, "live_at": at}))
    return plan.model_copy(update={"ideas": ideas})
