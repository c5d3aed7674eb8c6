"""Regenerate ``docs/dashboard.png`` (the README's picture) from a real demo session.

    .venv/bin/python docs/make_screenshot.py                 # session 2025-11-24
    .venv/bin/python docs/make_screenshot.py --session 2025-11-25 --out /tmp/dashboard.png

Runs the premarket, market and postmarket flows of one session on the demo market (Prefect
ephemeral mode, a temporary data directory, nothing of yours is touched), loads the dashboard the
postmarket flow published and screenshots it in headless Chromium (``./dev setup`` installs it).
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "dashboard.png"
# Each mode at its usual time, New York; the postmarket run publishes the dashboard.
RUNS = (("premarket", 8, 45), ("market", 11, 0), ("postmarket", 17, 0))
CLIP_HEIGHT = 1100


def _isolate(work: Path) -> None:
    """Demo market, temporary data and Prefect home: set before Prefect is imported."""
    for name in [n for n in os.environ if n.startswith("TS_") or n == "PREFECT_API_URL"]:
        del os.environ[name]
    os.environ.update({
        "TS_DATA_DIR": str(work / "data"), "TS_PROVIDER": "demo", "TS_DEMO_SYMBOLS": "80",
        "PREFECT_HOME": str(work / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    })


def make_screenshot(session: date, out: Path) -> Path:
    """Run the session, screenshot its dashboard to ``out`` and return ``out``."""
    work = Path(tempfile.mkdtemp(prefix="ts-screenshot-"))
    try:
        _isolate(work)
        sys.path.insert(0, str(ROOT))
        import importlib

        from flows.ephemeral import run_once
        from tests.support.browser import Browser, find_chromium
        from tradingstation.calendar import NY
        from tradingstation.dashboard.publish import load_latest
        from tradingstation.storage.local import LocalStore

        binary = find_chromium()
        if binary is None:
            raise SystemExit("error: Chromium is needed: ./dev setup installs it")
        for mode, hour, minute in RUNS:
            flow_fn = getattr(importlib.import_module(f"flows.{mode}"), mode)
            as_of = datetime(session.year, session.month, session.day, hour, minute, tzinfo=NY)
            result = run_once(flow_fn, as_of=as_of.astimezone(UTC), force=False)
            if result.get("status") != "completed":
                raise SystemExit(f"error: {mode} {session}: {result.get('message')}")
        store = LocalStore(work / "data")
        page = work / "index.html"
        page.write_bytes(store.get_bytes(load_latest(store)["files"]["index.html"]["key"]))
        with Browser(binary) as browser:
            browser.open(page.as_uri())
            # The top of the page (banner, status, the ranked plan), as a reader first sees it.
            shot = browser.send("Page.captureScreenshot", format="png", clip={
                "x": 0, "y": 0, "width": 1280, "height": CLIP_HEIGHT, "scale": 1})
            out.write_bytes(base64.b64decode(shot["data"]))
        if browser.console_errors:
            raise SystemExit(f"error: the dashboard logged {browser.console_errors[:3]}")
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--session YYYY-MM-DD`` (a trading day), ``--out PATH``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--session", default="2025-11-24", type=date.fromisoformat)
    parser.add_argument("--out", default=OUT, type=Path)
    args = parser.parse_args(argv)
    print(f"wrote {make_screenshot(args.session, args.out)}")


if __name__ == "__main__":
    main()
