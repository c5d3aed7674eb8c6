"""Trigger logic of live ideas: when a watched idea triggers, is invalidated or expires.

Pure and vectorised: one call advances every open idea of a session by one batch of quotes.

Rules (long; a short mirrors them):

- An idea **triggers** when the highest price traded since it was published reaches its entry.
- It is **invalidated** when the lowest price traded since it was published reaches its stop
  while it has not triggered. When one poll shows both for the first time, the order is
  unknown and the idea counts as invalidated (conservative: no alert for a trade that may
  have been stopped out before it filled).
- It **expires** at a per-screener time (:data:`EXPIRY_TIMES`): a quote stamped after that time
  no longer triggers it.

"Traded since it was published" uses the quote's running session high and low, not only the
last price, so a spike between two polls is not missed. The session high/low of an idea
published during the session may predate it, so for such an idea the watcher takes the
quote's high/low at its first observation as a baseline and only a later *new* session high
(low) counts; before that, the last price does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import get_args

import numpy as np
import pandas as pd

from tradingstation.calendar import NY, get_calendar
from tradingstation.plan import LiveState

OPEN = "watch"
TRIGGERED = "triggered"
INVALIDATED = "invalidated"
EXPIRED = "expired"
STATES: tuple[str, ...] = get_args(LiveState)  # the plan's live_state values, in this order

# When a watched idea stops being actionable (New York time), by screener. An idea merged
# from several screeners expires at the latest of theirs. Gap & Go and ORB are opening-drive
# setups; the daily-chart screeners stay valid for the session.
EXPIRY_TIMES: dict[str, time] = {
    "gap_and_go": time(10, 30),
    "orb": time(11, 30),
}
DEFAULT_EXPIRY = time(16, 0)

IDEA_COLUMNS = ["idea_id", "symbol", "direction", "entry", "stop", "published_at",
                "expires_at", "state", "seen_high", "seen_low", "base_high", "base_low",
                "changed_at", "price"]
QUOTE_FIELDS = ["symbol", "timestamp", "price", "high", "low"]
TRANSITION_COLUMNS = ["idea_id", "symbol", "direction", "state", "at", "price"]


def expiry_for(screeners: list[str], session: date) -> datetime:
    """The moment an idea from ``screeners`` stops being watched (UTC), never after the close."""
    latest = max((EXPIRY_TIMES.get(s, DEFAULT_EXPIRY) for s in screeners),
                 default=DEFAULT_EXPIRY)
    close = get_calendar().session_times(session).market_close
    return min(datetime.combine(session, latest, NY).astimezone(UTC), close)


def advance_ideas(
    ideas: pd.DataFrame, quotes: pd.DataFrame, session_open: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply one batch of quotes to the open ideas.

    Args:
        ideas: ``IDEA_COLUMNS``; ``state`` is one of :data:`STATES`; ``seen_*`` and ``base_*``
            are NaN until the idea's first observation.
        quotes: ``QUOTE_FIELDS``: the latest quote per symbol with the running session high
            and low (regular session) and the last price.
        session_open: The regular session's open (UTC); ideas published before it count the
            whole session's high/low.

    Returns:
        ``(ideas, transitions)``: the ideas with updated state and extremes, and one row per
        idea whose state changed in this batch (``TRANSITION_COLUMNS``).
    """
    out = ideas.copy()
    if out.empty or quotes.empty:
        return out, pd.DataFrame(columns=TRANSITION_COLUMNS)
    q = quotes.drop_duplicates("symbol", keep="last").set_index("symbol")
    open_mask = (out["state"] == OPEN).to_numpy() & out["symbol"].isin(q.index).to_numpy()
    if not open_mask.any():
        return out, pd.DataFrame(columns=TRANSITION_COLUMNS)
    sub = out.iloc[np.flatnonzero(open_mask)]
    quote = q.loc[sub["symbol"].to_numpy()]
    stamp = pd.to_datetime(quote["timestamp"], utc=True).to_numpy()
    price = quote["price"].to_numpy(dtype="float64")
    high = np.fmax(quote["high"].to_numpy(dtype="float64"), price)
    low = np.fmin(quote["low"].to_numpy(dtype="float64"), price)
    # only quotes stamped after publication say anything about the idea
    fresh = stamp > pd.to_datetime(sub["published_at"], utc=True).to_numpy()

    seen_high, seen_low = _extremes(sub, price, high, low, session_open)
    seen_high = np.where(fresh, seen_high, sub["seen_high"].to_numpy(dtype="float64"))
    seen_low = np.where(fresh, seen_low, sub["seen_low"].to_numpy(dtype="float64"))
    first = np.isnan(sub["base_high"].to_numpy(dtype="float64")) & fresh
    base_high = np.where(first, high, sub["base_high"].to_numpy(dtype="float64"))
    base_low = np.where(first, low, sub["base_low"].to_numpy(dtype="float64"))

    long = (sub["direction"] == "long").to_numpy()
    entry = sub["entry"].to_numpy(dtype="float64")
    stop = sub["stop"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        reached = np.where(long, seen_high >= entry, seen_low <= entry)
        stopped = np.where(long, seen_low <= stop, seen_high >= stop)
    expired = stamp > pd.to_datetime(sub["expires_at"], utc=True).to_numpy()

    state = np.full(len(sub), OPEN, dtype=object)
    live = fresh & ~expired
    state[live & reached] = TRIGGERED
    state[live & stopped] = INVALIDATED  # both in one poll: the stop counts (see module doc)
    state[fresh & expired] = EXPIRED

    changed = state != OPEN
    pos = np.flatnonzero(open_mask)
    updates = {"seen_high": seen_high, "seen_low": seen_low, "base_high": base_high,
               "base_low": base_low, "state": state,
               "price": np.where(fresh, price, sub["price"].to_numpy(dtype="float64"))}
    for column, values in updates.items():  # whole-column writes: .loc per row set is slow
        full = out[column].to_numpy(copy=True)
        full[pos] = values
        out[column] = full
    changed_at = pd.to_datetime(out["changed_at"], utc=True).to_numpy(copy=True)
    changed_at[pos[changed]] = stamp[changed]
    out["changed_at"] = pd.to_datetime(changed_at, utc=True)
    moved = out.iloc[pos[changed]]
    transitions = pd.DataFrame({
        "idea_id": moved["idea_id"].to_numpy(),
        "symbol": moved["symbol"].to_numpy(),
        "direction": moved["direction"].to_numpy(),
        "state": moved["state"].to_numpy(),
        "at": pd.to_datetime(stamp[changed], utc=True),
        "price": price[changed],
    }, columns=TRANSITION_COLUMNS)
    return out, transitions.reset_index(drop=True)


def _extremes(
    sub: pd.DataFrame, price: np.ndarray, high: np.ndarray, low: np.ndarray,
    session_open: datetime,
) -> tuple[np.ndarray, np.ndarray]:
    """Highest/lowest price traded since publication, as far as the quotes can tell."""
    published_before_open = (
        pd.to_datetime(sub["published_at"], utc=True) <= pd.Timestamp(session_open)
    ).to_numpy()
    base_high = sub["base_high"].to_numpy(dtype="float64")
    base_low = sub["base_low"].to_numpy(dtype="float64")
    seen_high = sub["seen_high"].to_numpy(dtype="float64")
    seen_low = sub["seen_low"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        # a session high above the baseline was printed after the first observation
        new_high = np.where(high > base_high, high, price)
        new_low = np.where(low < base_low, low, price)
    # before the baseline exists (first observation), only the last price is known to be new
    new_high = np.where(np.isnan(base_high), price, new_high)
    new_low = np.where(np.isnan(base_low), price, new_low)
    new_high = np.where(published_before_open, high, new_high)
    new_low = np.where(published_before_open, low, new_low)
    return np.fmax(seen_high, new_high), np.fmin(seen_low, new_low)


def new_ideas_frame() -> pd.DataFrame:
    """An empty ideas frame with the right columns."""
    return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, "object")) for c in IDEA_COLUMNS})


_DTYPES = {"entry": "float64", "stop": "float64", "seen_high": "float64", "seen_low": "float64",
           "base_high": "float64", "base_low": "float64", "price": "float64",
           "published_at": "datetime64[ns, UTC]", "expires_at": "datetime64[ns, UTC]",
           "changed_at": "datetime64[ns, UTC]"}
