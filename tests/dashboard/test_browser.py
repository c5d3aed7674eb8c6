"""The generated dashboard in a real headless Chromium: no console errors, every row and chart
rendered, a non-blank screenshot; chart legends laid out without overlap. (The README's picture
comes from a real demo session: docs/make_screenshot.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.dashboard.builders import outcomes, sample_bars, sample_plan
from tests.support.browser import Browser, find_chromium
from tests.support.png import decode_png
from tradingstation.dashboard.charts import render_candles_svg
from tradingstation.dashboard.html import render_dashboard_html
from tradingstation.dashboard.track_html import render_track_section
from tradingstation.track import stats
from tradingstation.track.store import jsonable


def test_dashboard_renders_in_headless_chromium(tmp_path: Path) -> None:
    binary = find_chromium()
    assert binary, "chromium is required (apt-get install chromium; .ci/run installs it)"
    plan = sample_plan()
    charts = {}
    for n, idea in enumerate(plan.ideas):
        bars = sample_bars(seed=n)
        bars[["open", "high", "low", "close"]] *= idea.entry / bars["close"].iloc[-1]
        charts[f"{idea.symbol}-{idea.direction}"] = render_candles_svg(
            bars, f"{idea.symbol} daily",
            overlays={"EMA21": bars["close"].ewm(span=21).mean()},
            levels={"entry": idea.entry, "stop": idea.stop, "target 1R": idea.targets[0]},
        )
    backtest = pd.concat([outcomes("breakout", 8.4, [1.0, -1.0, 2.0] * 12),
                          outcomes("orb", 6.5, [-1.0, 0.5] * 20)], ignore_index=True)
    track = render_track_section(
        jsonable(stats.side_by_side(backtest, backtest.head(3))),
        jsonable(stats.calibration(backtest)), stats.equity_curves(backtest), "20251124", True)
    page = tmp_path / "index.html"
    page.write_text(render_dashboard_html(
        plan, "TradingStation plan 2025-11-24", charts,
        status_rows=[("daily bars", "ok", "300/300 fresh as of 2025-11-21")],
        track_section=track,
    ))
    with Browser(binary) as browser:
        browser.open(page.as_uri())
        rows = browser.evaluate("document.querySelectorAll('#plan tbody tr').length")
        images = browser.evaluate(
            "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
        )
        banner = browser.evaluate("document.getElementById('demo-banner').innerText")
        track_rows = browser.evaluate("document.querySelectorAll('#track tbody tr').length")
        track_cells = browser.evaluate(
            "Array.from(document.querySelectorAll('#plan td.track')).map(c => c.innerText)")
        injected = browser.evaluate("document.querySelectorAll('#plan script, #plan b').length")
        png = browser.screenshot(tmp_path / "dashboard.png")
    assert browser.console_errors == []
    assert rows == len(plan.ideas)
    assert len(images) == len(charts) + 1  # the charts and the equity curve
    assert track_rows == 2 and len(track_cells) == len(plan.ideas)
    assert all("n=" in cell for cell in track_cells)
    assert all(ok and w > 0 and h > 0 for ok, w, h in images)
    assert "DEMO DATA" in banner
    assert injected == 0  # the hostile reason text stayed text
    pixels = decode_png(png)[..., :3].reshape(-1, 3)
    non_white = np.any(pixels < 240, axis=1).mean()
    colours = len(np.unique(pixels[:: max(1, len(pixels) // 200_000)], axis=0))
    assert pixels.shape[0] > 500_000 and non_white > 0.02 and colours > 50


def test_chart_legends_do_not_overlap_with_several_avwaps(tmp_path: Path) -> None:
    binary = find_chromium()
    assert binary, "chromium is required (./dev setup installs it)"
    bars = sample_bars(seed=3)
    close = bars["close"]
    overlays = {"EMA21": close.ewm(span=21).mean()}
    for n, kind in enumerate(("swing_high", "swing_low", "gap_up", "volume_spike", "earnings")):
        overlays[f"AVWAP {kind} 2025-{9 + n % 3:02d}-{10 + n:02d}"] = close.rolling(5 + n).mean()
    levels = {"entry": float(close.iloc[-1]), "stop": float(close.iloc[-1]) * 0.95}
    page = tmp_path / "chart.svg"
    page.write_text(render_candles_svg(bars, "NVDA daily", overlays=overlays, levels=levels))
    with Browser(binary) as browser:
        browser.open(page.as_uri())
        boxes = browser.evaluate(
            "const labels = " + json.dumps(list(overlays)) + ";"
            "Array.from(document.querySelectorAll('text'))"
            ".filter(t => labels.includes(t.textContent))"
            ".map(t => { const b = t.getBBox();"
            " return [b.x, b.y, b.x + b.width, b.y + b.height]; })")
        candle_top = browser.evaluate(  # the highest wick
            "Math.min(...Array.from(document.querySelectorAll("
            "'svg > line:not([stroke-dasharray]):not([stroke=\"#eeeeee\"])'))"
            ".map(l => l.getBBox().y))")
    assert len(boxes) == len(overlays)
    for i, a in enumerate(boxes):
        assert a[2] <= 640  # inside the chart
        for b in boxes[i + 1:]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, (a, b)
    assert max(b[3] for b in boxes) <= candle_top + 0.5  # the legend covers no candle


def test_png_decoder_rejects_non_png() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        decode_png(b"GIF89a")
