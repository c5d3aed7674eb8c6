"""The generated dashboard in a real headless Chromium: no console errors, every row and chart
rendered, a non-blank screenshot (also the README's screenshot)."""

from __future__ import annotations

import os
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

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"


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
    if os.environ.get("UPDATE_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        SCREENSHOT.write_bytes(png)


def test_png_decoder_rejects_non_png() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        decode_png(b"GIF89a")
