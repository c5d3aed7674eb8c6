"""The track record where decisions are made: each idea's expectancy and sample size in
plan.json, plan.csv and the page, and the page's "Track record" section."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pandas as pd

from tests.dashboard.builders import make_signal, outcomes
from tests.upkeep.test_integrity import NOW
from tradingstation.config import Settings
from tradingstation.dashboard.build import build_dashboard
from tradingstation.dashboard.export import PLAN_JSON_SCHEMA
from tradingstation.dashboard.publish import load_latest
from tradingstation.dashboard.track_chart import render_equity_svg
from tradingstation.screeners.store import save_signals
from tradingstation.storage.local import LocalStore
from tradingstation.track.outcome import OutcomeRules
from tradingstation.track.run import summarize_backtest
from tradingstation.track.store import save_backtest


def test_ideas_carry_their_screener_band_expectancy(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    frame = pd.concat([outcomes("breakout", 8.4, [1.0, -1.0, 2.0] * 12),
                       outcomes("ema_pullback", 8.4, [1.0] * 5)], ignore_index=True)
    summary = summarize_backtest(frame, OutcomeRules())
    save_backtest(store, "20251124T220000Z", frame, {**summary, "demo": True,
                                                     "run": "20251124T220000Z"})
    for screener, symbol in (("breakout", "NVDA"), ("ema_pullback", "AAPL")):
        signal = make_signal(symbol, screener, 8.5, 120.0, 115.0)
        save_signals(store, NOW.date(), screener, [signal.model_copy(update={
            "timestamp": NOW, "session": NOW.date()})])

    result = build_dashboard(store, NOW, Settings(), hours_lookback=24)
    pointer = load_latest(store)
    document = json.loads(store.get_bytes(pointer["files"]["plan.json"]["key"]))
    jsonschema.validate(document, PLAN_JSON_SCHEMA)
    assert document["schema_version"] == 1
    ideas = {i["symbol"]: i for i in document["ideas"]}
    assert ideas["NVDA"]["track_expectancy_r"] == round(2.0 / 3, 3)
    assert ideas["NVDA"]["track_sample"] == 36 and ideas["NVDA"]["track_note"] == ""
    assert ideas["AAPL"]["track_expectancy_r"] is None
    assert (ideas["AAPL"]["track_sample"], ideas["AAPL"]["track_note"]) == (
        5, "not enough history")
    rows = list(csv.DictReader(io.StringIO(
        store.get_bytes(pointer["files"]["plan.csv"]["key"]).decode())))
    assert {r["symbol"]: r["track_sample"] for r in rows} == {"NVDA": "36", "AAPL": "5"}
    html = result.html
    assert "+0.67R (n=36)" in html and "not enough history (n=5)" in html
    assert "id='track-record'" in html and "<img class='equity'" in html
    assert "track record" in result.markdown
    assert [i.symbol for i in result.plan.ideas] == ["AAPL", "NVDA"]  # by score, then symbol
    ranked = build_dashboard(store, NOW, Settings(rank_by_expectancy=True), hours_lookback=24)
    assert [i.symbol for i in ranked.plan.ideas] == ["NVDA", "AAPL"]  # the one with a record


def test_without_a_backtest_the_section_says_how_to_get_one(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    signal = make_signal("NVDA", "breakout", 8.5, 120.0, 115.0)
    save_signals(store, NOW.date(), "breakout", [signal.model_copy(update={
        "timestamp": NOW, "session": NOW.date()})])
    result = build_dashboard(store, NOW, Settings(), hours_lookback=24)
    assert "id='no-track'" in result.html and "tradingstation backtest" in result.html
    assert result.plan.ideas[0].track_note == "not enough history"


def test_equity_svg_is_valid_xml_with_one_line_per_screener() -> None:
    curves = {"breakout": pd.Series([1.0, 0.0, 2.0], index=pd.bdate_range("2025-06-02", periods=3)),
              "orb <x>": pd.Series([-1.0], index=pd.bdate_range("2025-06-03", periods=1))}
    root = ElementTree.fromstring(render_equity_svg(curves, "equity & R"))
    lines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 2
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "equity & R" in texts and "orb <x> -1.0R" in texts and "breakout +2.0R" in texts
    empty = render_equity_svg({}, "none")
    assert "no closed trades" in empty


def test_a_dashboard_as_of_an_earlier_moment_ignores_later_track_records(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    frame = outcomes("breakout", 8.4, [1.0] * 40)
    later = (NOW + pd.Timedelta(days=2)).isoformat()
    save_backtest(store, "20251127T220000Z", frame, {
        **summarize_backtest(frame, OutcomeRules()), "generated_at": later})
    signal = make_signal("NVDA", "breakout", 8.5, 120.0, 115.0)
    save_signals(store, NOW.date(), "breakout", [signal.model_copy(update={
        "timestamp": NOW, "session": NOW.date()})])
    early = build_dashboard(store, NOW, Settings(), hours_lookback=24)
    assert early.plan.ideas[0].track_expectancy_r is None and "id='no-track'" in early.html
    late = build_dashboard(store, NOW + pd.Timedelta(days=3), Settings(), hours_lookback=100)
    assert late.plan.ideas[0].track_expectancy_r == 1.0
