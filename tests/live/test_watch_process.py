"""The watcher as an operator runs it: a separate process, Alpha Vantage (the local fake serving
a planted tape through REALTIME_BULK_QUOTES), alerts to a webhook on 127.0.0.1, a SIGKILL in
the middle of the session and a restart: every expected alert arrives exactly once."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.live.watch_support import planted_store
from tests.support import tape
from tests.support.fake_alphavantage import FakeAlphaVantage
from tests.support.webhook import WebhookReceiver
from tradingstation.calendar import ny_time

ROOT = Path(__file__).resolve().parents[2]
SPEED = 240.0  # four tape minutes per real second
START = ny_time(tape.SESSION, 9, 35)
UNTIL = "10:40"

pytestmark = pytest.mark.slow


class TapeClock:
    """The fake's clock: the replayed session time at ``SPEED``; it stands still while no
    watcher is running, so a slow process start does not skip part of the tape."""

    def __init__(self) -> None:
        self.at = START
        self.origin: float | None = None

    def __call__(self):
        if self.origin is None:
            return self.at
        return self.at + timedelta(seconds=(time.time() - self.origin) * SPEED)

    def run(self) -> None:
        self.origin = time.time()

    def pause(self) -> None:
        self.at, self.origin = self(), None


def _watcher(env: dict, as_of) -> tuple[subprocess.Popen, queue.Queue]:
    proc = subprocess.Popen(
        [sys.executable, "flows/watch.py", "--as-of", as_of.isoformat(), "--speed", str(SPEED),
         "--until", UNTIL],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # its own process group: the kill takes its children too
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.put(line.rstrip())
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def _wait_line(lines: queue.Queue, fragment: str, timeout: float) -> list[str]:
    seen: list[str] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            line = lines.get(timeout=max(0.1, end - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if fragment in line:
            return seen
    pytest.fail(f"no line with {fragment!r} within {timeout}s; output:\n" + "\n".join(seen[-40:]))


def test_alerts_arrive_exactly_once_across_a_sigkill_and_restart(tmp_path: Path) -> None:
    planted_store(tmp_path / "data")
    clock = TapeClock()
    with FakeAlphaVantage(now=clock) as fake, WebhookReceiver() as hook:
        for symbol, minutes in tape.tapes().items():
            fake.set_tape(symbol, minutes)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TS_", "PREFECT_API_URL"))}
        env.update({
            "TS_DATA_DIR": str(tmp_path / "data"), "TS_PROVIDER": "alphavantage",
            "TS_ALPHAVANTAGE_API_KEY": fake.api_key, "TS_ALPHAVANTAGE_BASE_URL": fake.url,
            "TS_WEBHOOK_URL": hook.url, "TS_RATE_LIMIT_PER_MINUTE": "600",
            "TS_LOG_LEVEL": "WARNING", "PREFECT_HOME": str(tmp_path / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(ROOT),
        })
        first, lines = _watcher(env, START)
        try:
            _wait_line(lines, "watching session", timeout=300)
            clock.run()
            _wait_line(lines, "alert sent", timeout=120)
        finally:
            # killed between polls, after the alerts of its last poll were journaled
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
            clock.pause()
        before = len(hook.received())
        assert 0 < before < len(tape.EXPECTED_ALERTS)  # some alerts are still to come
        second, lines = _watcher(env, clock())
        try:
            _wait_line(lines, "watching session", timeout=300)
            clock.run()
            assert second.wait(timeout=180) == 0, "\n".join(_drain(lines))
        finally:
            if second.poll() is None:
                os.killpg(second.pid, signal.SIGKILL)
        bodies = hook.received()
    fates = sorted(_fate(b) for b in bodies)
    assert fates == sorted(tape.EXPECTED_ALERTS)  # each expected alert once, nothing else
    assert all(fake.api_key not in b for b in bodies)
    calls = {r.function for r in fake.requests}
    assert calls == {"REALTIME_BULK_QUOTES"}


def _drain(lines: queue.Queue) -> list[str]:
    out = []
    while not lines.empty():
        item = lines.get()
        if item is not None:
            out.append(item)
    return out


def _fate(body: str) -> tuple[str, str]:
    import json

    text = json.loads(body)["text"]
    symbol, _, verb = text.split("\n")[0].split()[:3]
    return symbol, verb.lower()
