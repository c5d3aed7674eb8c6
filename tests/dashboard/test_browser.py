"""The generated dashboard in a real headless Chromium: no console errors, every row and chart
rendered, a non-blank screenshot (also the README's screenshot)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.dashboard.builders import sample_bars, sample_plan
from tests.support.browser import Browser, find_chromium
from tests.support.png import decode_png
from tradingstation.dashboard.charts import render_candles_svg
from tradingstation.dashboard.html import render_dashboard_html

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
    page = tmp_path / "index.html"
    page.write_text(render_dashboard_html(
        plan, "TradingStation plan 2025-11-24", charts,
        status_rows=[("daily bars", "ok", "300/300 fresh as of 2025-11-21")],
    ))
    with Browser(binary) as browser:
        browser.open(page.as_uri())
        rows = browser.evaluate("document.querySelectorAll('#plan tbody tr').length")
        images = browser.evaluate(
            "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
        )
        banner = browser.evaluate("document.getElementById('demo-banner').innerText")
        injected = browser.evaluate("document.querySelectorAll('#plan script, #plan b').length")
        png = browser.screenshot(tmp_path / "dashboard.png")
    assert browser.console_errors == []
    assert rows == len(plan.ideas)
    assert len(images) == len(charts)
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
