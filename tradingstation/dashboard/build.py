"""Build and publish the master dashboard: gather signals, plan, chart, render, publish."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from tradingstation import indicators
from tradingstation.calendar import get_calendar
from tradingstation.config import Settings
from tradingstation.dashboard.charts import render_candles_svg
from tradingstation.dashboard.export import plan_to_csv, plan_to_document, plan_to_markdown
from tradingstation.dashboard.html import render_dashboard_html
from tradingstation.dashboard.publish import publish_dashboard
from tradingstation.dashboard.track_html import render_track_section
from tradingstation.data import point_in_time
from tradingstation.data.panel import load_bars
from tradingstation.errors import InputError, ObjectNotFoundError
from tradingstation.live.ideas import with_live_state
from tradingstation.live.watcher import load_watch
from tradingstation.plan import Plan, RiskSettings
from tradingstation.screeners.store import load_signals
from tradingstation.storage import keys
from tradingstation.storage.base import ObjectStore
from tradingstation.track import stats as track_stats
from tradingstation.track.ideas import plan_with_track_record
from tradingstation.track.store import backtest_outcomes, jsonable, latest_summary, read_live
from tradingstation.upkeep.health import check_data, check_freshness, check_signals

log = logging.getLogger(__name__)

MAX_ANCHOR_LINES = 3


@dataclass
class DashboardResult:
    """A published dashboard."""

    plan: Plan
    pointer: dict
    markdown: str
    html: str


def idea_chart(
    bars: pd.DataFrame, anchors: pd.DataFrame, symbol: str, levels: dict[str, float],
    ema_period: int = 21,
) -> str:
    """SVG chart of one idea: daily candles, EMA, AVWAPs from its strongest anchors, levels."""
    series = bars.set_index("timestamp")
    overlays = {}
    if len(series) > ema_period:
        overlays[f"EMA{ema_period}"] = indicators.ema(series["close"], ema_period)
    mine = anchors[anchors["symbol"] == symbol] if len(anchors) else anchors
    if len(mine):
        for row in mine.sort_values("strength", ascending=False).head(MAX_ANCHOR_LINES) \
                .itertuples(index=False):
            start = pd.Timestamp(row.anchor_date, tz="UTC")  # daily bars sit at 00:00 UTC
            line = indicators.anchored_vwap_from(
                series["high"], series["low"], series["close"], series["volume"], start)
            overlays[f"AVWAP {row.anchor_type} {start.date()}"] = line
    return render_candles_svg(
        bars, f"{symbol} daily",
        overlays={k: v.reset_index(drop=True) for k, v in overlays.items()}, levels=levels,
    )


def _track_section(store: ObjectStore, summary: dict | None, now: datetime) -> str:
    """The "Track record" section from the latest backtest and the live record, as of now."""
    backtest = backtest_outcomes(store, summary)
    both = jsonable(track_stats.side_by_side(backtest, read_live(store, now)))
    return render_track_section(both, (summary or {}).get("calibration") or [],
                                track_stats.equity_curves(backtest),
                                (summary or {}).get("run"), bool((summary or {}).get("demo")))


def build_dashboard(
    store: ObjectStore,
    now: datetime,
    settings: Settings,
    hours_lookback: float = 24,
    risk: RiskSettings | None = None,
    top_charts: int = 8,
    universe: list[str] | None = None,
) -> DashboardResult:
    """Gather signals of the last ``hours_lookback`` hours and publish the dashboard.

    Raises:
        InputError: for a non-positive or absurd lookback.
    """
    if not (0 < hours_lookback <= 24 * 31):
        raise InputError(f"invalid --hours-lookback {hours_lookback!r}: must be in (0, 744]")
    risk = risk or RiskSettings.from_settings(settings)
    # Only signals that existed at ``now``: a replay must not plan a later run's ideas.
    signals = load_signals(store, now - timedelta(hours=hours_lookback), until=now)
    plan = plan_with_track_record(signals, risk, now, store, settings.rank_by_expectancy)
    summary = latest_summary(store, now)
    calendar = get_calendar()
    session = calendar.session_for(now) or calendar.last_completed_session(now)
    plan = with_live_state(plan, load_watch(store, session), now)

    top = plan.ideas[:top_charts]
    bars = {s: point_in_time.cut_bars(frame, now, "daily") for s, frame in
            load_bars(store, "daily", sorted({i.symbol for i in top})).items()}
    try:
        anchors = point_in_time.cut_anchors(store.get_frame(keys.anchors_key(session)),
                                            calendar.next_session(session))
    except ObjectNotFoundError:
        anchors = pd.DataFrame(columns=["symbol"])
    charts = {}
    for idea in top:
        levels = {"entry": idea.entry, "stop": idea.stop}
        levels.update({f"target {n}": t for n, t in enumerate(idea.targets[:3], start=1)})
        frame = bars.get(idea.symbol)
        if frame is None or not len(frame):
            continue
        charts[f"{idea.symbol}-{idea.direction}"] = idea_chart(frame, anchors, idea.symbol,
                                                               levels)
    status = [check_freshness(store, now), check_signals(store, now)]
    if universe is not None:
        status.insert(0, check_data(store, now, universe))
    status_rows = [(c.name.replace("_", " "), c.level, c.detail) for c in status]
    demo = " (DEMO)" if plan.demo else ""
    title = f"TradingStation plan {session.isoformat()}{demo}"
    html = render_dashboard_html(plan, title, charts, status_rows,
                                 track_section=_track_section(store, summary, now))
    document = plan_to_document(plan, session=session.isoformat(), hours_lookback=hours_lookback)
    markdown = plan_to_markdown(plan, title)
    pointer = publish_dashboard(store, session, now, {
        "index.html": html.encode(),
        "plan.json": json.dumps(document, indent=1).encode(),
        "plan.csv": plan_to_csv(plan).encode(),
        "plan.md": markdown.encode(),
    })
    log.info("dashboard published: %d ideas, %d charts", len(plan.ideas), len(charts))
    return DashboardResult(plan=plan, pointer=pointer, markdown=markdown, html=html)
