"""Signals + stored bars -> outcomes: builds each signal's forward path and resolves it.

A signal's path starts with the first bar after it:

* **Entry day on 1-min bars** when the signal's own session has regular-session 1-min bars of
  its symbol starting at or after the signal's timestamp (Gap & Go before the open, ORB after
  the range): those minutes are session 0 of the path, then the daily bars of the following
  sessions. The entry day's minutes count as a complete session once its daily bar is stored.
* **Daily bars only** otherwise: from the signal's session when the signal came before that
  session's open, else from the next session (a signal published at or after the open cannot
  use the bar of a day whose beginning it did not see).

Daily signals are gathered from the panel with one fancy-indexing step for all of them, so a
backtest's hundreds of thousands of signals resolve in one vectorised pass.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from tradingstation.calendar import NY, get_calendar
from tradingstation.data.panel import Panel
from tradingstation.track.outcome import Levels, OutcomeRules, Paths, resolve_outcomes

SIGNAL_COLUMNS = ("id", "screener", "symbol", "session", "timestamp", "direction", "status",
                  "score", "entry", "stop", "target", "target2", "risk_per_share")
OUTCOME_COLUMNS = ("exit_reason", "filled", "fill_price", "exit_price", "r_gross", "r",
                   "held_sessions", "fill_session", "exit_session")
PRICES = ("open", "high", "low", "close")


def signal_rows(signals: list) -> pd.DataFrame:
    """Signals (:class:`~tradingstation.signals.Signal`) as the flat frame outcomes work on.

    ``target`` is the first (nearest) target, ``target2`` the second (a scale-out's rest);
    ``session`` an ISO date string; ``timestamp`` UTC.
    """
    records = [{
        "id": s.id, "screener": s.screener, "symbol": s.symbol,
        "session": s.session.isoformat(), "timestamp": pd.Timestamp(s.timestamp),
        "direction": s.direction, "status": s.status, "score": float(s.score),
        "entry": float(s.entry), "stop": float(s.stop),
        "target": float(s.targets[0]) if s.targets else np.nan,
        "target2": float(s.targets[1]) if len(s.targets) > 1 else np.nan,
        "risk_per_share": float(s.risk_per_share),
    } for s in signals]
    return rows_frame(records)


def rows_frame(records: list[dict] | dict[str, list]) -> pd.DataFrame:
    """Signal rows as :func:`signal_rows` frames them.

    Signal rows (dicts with :data:`SIGNAL_COLUMNS`, or one list per column) as :func:`signal_rows`
    frames them.
    """
    if isinstance(records, dict):
        frame = pd.DataFrame(records, columns=list(SIGNAL_COLUMNS))
    else:
        frame = pd.DataFrame.from_records(records, columns=list(SIGNAL_COLUMNS))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def _levels(frame: pd.DataFrame) -> Levels:
    return Levels(
        side=np.where(frame["direction"].to_numpy() == "long", 1.0, -1.0),
        triggered=frame["status"].to_numpy() == "triggered",
        entry=frame["entry"].to_numpy("float64"),
        stop=frame["stop"].to_numpy("float64"),
        target=frame["target"].to_numpy("float64"),
        target2=(frame["target2"].to_numpy("float64") if "target2" in frame
                 else np.full(len(frame), np.nan)),
    )


def _start_days(frame: pd.DataFrame) -> np.ndarray:
    """First session whose daily bar may be used: the signal's own before its open, else next.

    Computed once per distinct session (a backtest has far fewer sessions than signals).
    """
    cal = get_calendar()
    opens, nexts = {}, {}
    for session in frame["session"].unique():
        day = date.fromisoformat(session)
        opens[session] = (pd.Timestamp(cal.session_times(day).market_open)
                          if cal.is_session(day) else pd.Timestamp.max.tz_localize("UTC"))
        nexts[session] = np.datetime64(cal.next_session(day), "D")
    sessions = frame["session"]
    before = (frame["timestamp"] < pd.to_datetime(sessions.map(opens), utc=True)).to_numpy()
    own = sessions.to_numpy().astype("datetime64[D]")
    return np.where(before, own, sessions.map(nexts).to_numpy().astype("datetime64[D]"))


def _daily_paths(frame: pd.DataFrame, daily: Panel, start: np.ndarray, width: int,
                 first_sess: int = 0) -> tuple[Paths, np.ndarray]:
    """Paths of ``width`` daily rows from each row's ``start`` date; also each bar's date."""
    dates = daily.index.tz_localize(None).to_numpy().astype("datetime64[D]")
    cols = daily.close.columns.get_indexer(frame["symbol"])
    row0 = np.searchsorted(dates, start)
    rows = row0[:, None] + np.arange(width)[None, :]
    inside = (rows < len(dates)) & (cols[:, None] >= 0)
    safe_r, safe_c = np.where(inside, rows, 0), np.maximum(cols, 0)[:, None]
    prices = {}
    for name in PRICES:
        values = getattr(daily, name).to_numpy("float64")
        prices[name] = np.where(inside, values[safe_r, safe_c] if values.size else np.nan, np.nan)
    sess = np.where(inside, np.arange(width)[None, :] + first_sess, -1)
    complete = np.clip(len(dates) - row0, 0, width) + first_sess
    bar_dates = np.where(inside, dates[safe_r] if len(dates) else np.datetime64("NaT"),
                         np.datetime64("NaT"))
    return Paths(**prices, session=sess, complete=complete), bar_dates


def _minute_path(minutes: pd.DataFrame) -> dict[str, np.ndarray]:
    return {name: minutes[name].to_numpy("float64") for name in PRICES}


def _minute_paths(frame: pd.DataFrame, daily: Panel, intraday: Panel,
                  rules: OutcomeRules) -> tuple[np.ndarray, Paths, np.ndarray] | None:
    """Rows whose entry day has 1-min bars: their minute+daily paths (row positions first)."""
    cal = get_calendar()
    local = intraday.index.tz_convert(NY)
    day_of = np.asarray(local.date)
    picked, parts = [], []
    for pos, (symbol, session, stamp) in enumerate(
            zip(frame["symbol"], frame["session"], frame["timestamp"], strict=True)):
        day = date.fromisoformat(session)
        if symbol not in intraday.close.columns or not cal.is_session(day):
            continue
        times = cal.session_times(day)
        begin = max(pd.Timestamp(times.market_open), stamp)
        mask = (day_of == day) & (intraday.index >= begin)
        mask &= intraday.index < pd.Timestamp(times.market_close)
        bars = pd.DataFrame({n: getattr(intraday, n)[symbol].to_numpy()[mask] for n in PRICES})
        bars = bars.dropna(subset=["close"])
        if bars.empty:
            continue
        picked.append(pos)
        parts.append((day, _minute_path(bars)))
    if not picked:
        return None
    sub = frame.iloc[picked]
    after = np.array([np.datetime64(cal.next_session(d), "D") for d, _ in parts])
    tail, tail_dates = _daily_paths(sub, daily, after, rules.horizon - 1, first_sess=1)
    dates = daily.index.tz_localize(None).to_numpy().astype("datetime64[D]")
    stored_day = np.array([np.datetime64(d, "D") in dates for d, _ in parts])
    longest = max(len(p["close"]) for _, p in parts)
    width = longest + tail.close.shape[1]
    out = {name: np.full((len(parts), width), np.nan) for name in PRICES}
    sess = np.full((len(parts), width), -1)
    bar_dates = np.full((len(parts), width), np.datetime64("NaT"), dtype="datetime64[D]")
    for i, (day, path) in enumerate(parts):
        k = len(path["close"])
        for name in PRICES:
            out[name][i, :k] = path[name]
            out[name][i, k:k + tail.close.shape[1]] = getattr(tail, name)[i]
        sess[i, :k] = 0
        sess[i, k:k + tail.close.shape[1]] = tail.session[i]
        bar_dates[i, :k] = np.datetime64(day, "D")
        bar_dates[i, k:k + tail.close.shape[1]] = tail_dates[i]
    complete = np.where(stored_day, tail.complete, 0)
    return np.array(picked), Paths(**out, session=sess, complete=complete), bar_dates


def _resolve(frame: pd.DataFrame, paths: Paths, bar_dates: np.ndarray,
             rules: OutcomeRules) -> pd.DataFrame:
    result = resolve_outcomes(paths, _levels(frame), rules)
    rows = np.arange(len(frame))
    out = pd.DataFrame({k: result[k] for k in OUTCOME_COLUMNS[:7]}, index=frame.index)
    for name, bar in (("fill_session", result["fill_bar"]), ("exit_session", result["exit_bar"])):
        days = bar_dates[rows, np.maximum(bar, 0)] if bar_dates.size else np.array([], "M8[D]")
        out[name] = [str(d) if b >= 0 else None for d, b in zip(days, bar, strict=True)]
    return out


def evaluate_signals(frame: pd.DataFrame, daily: Panel, intraday: Panel | None = None,
                     rules: OutcomeRules | None = None) -> pd.DataFrame:
    """Outcomes of the signals in ``frame`` (:func:`signal_rows` columns) from stored bars.

    Args:
        frame: Signals, one row each.
        daily: Daily bars (whatever is known; later bars only make more outcomes final).
        intraday: 1-min bars, used for each signal's entry day where they exist.
        rules: Outcome assumptions (defaults: :class:`OutcomeRules`).

    Returns:
        ``frame`` with the :data:`OUTCOME_COLUMNS` added, same row order.
    """
    rules = rules or OutcomeRules()
    frame = frame.reset_index(drop=True)
    if frame.empty:
        return frame.assign(**{c: pd.Series(dtype="object") for c in OUTCOME_COLUMNS})
    parts = []
    minute_rows = np.array([], dtype=int)
    if intraday is not None and not intraday.close.empty:
        found = _minute_paths(frame, daily, intraday, rules)
        if found is not None:
            minute_rows, paths, bar_dates = found
            parts.append(_resolve(frame.iloc[minute_rows], paths, bar_dates, rules))
    rest = frame.drop(index=minute_rows)
    if len(rest):
        paths, bar_dates = _daily_paths(rest, daily, _start_days(rest), rules.horizon)
        parts.append(_resolve(rest, paths, bar_dates, rules))
    return pd.concat([frame, pd.concat(parts).sort_index()], axis=1)
