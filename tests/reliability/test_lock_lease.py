"""With a Prefect server, a killed holder's write slot is reclaimed once its lease expires.

A real ``prefect server start`` (its repossessor checks every second here instead of 15 s), a
process holding ``tasks.locks.dataset_lock("daily")`` SIGKILLed, then another process taking the
same lock: the slot is still taken right after the kill (nothing renews or releases it), and
the second process gets it within the lease plus a margin, not after its 3,600 s timeout.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

from tasks.locks import LEASE_SECONDS, lock_name

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
MARGIN_SECONDS = 45  # the repossessor's pass, the follower's start and polling, a busy machine

LOCKER = textwrap.dedent("""
    import sys
    from tasks.locks import dataset_lock
    from tradingstation.storage.local import LocalStore

    with dataset_lock("daily", store=LocalStore(sys.argv[1]), timeout_seconds=float(sys.argv[2])):
        print("held", flush=True)
        if sys.argv[3] == "hold":
            sys.stdin.read()  # until killed
""")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _active_slots(api: str, name: str) -> int:
    response = httpx.get(f"{api}/v2/concurrency_limits/{name}", timeout=10)
    response.raise_for_status()
    return response.json()["active_slots"]


def test_killed_holder_frees_its_slot_within_the_lease(tmp_path: Path) -> None:
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TS_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_API_URL=api,
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PYTHONPATH=str(ROOT),
               PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS="1")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
         "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the Prefect server did not start"
            threading.Event().wait(0.5)
        data = str(tmp_path / "data")
        holder = subprocess.Popen([sys.executable, "-c", LOCKER, data, "60", "hold"], env=env,
                                  cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        assert holder.stdout.readline().strip() == "held"
        holder.kill()
        holder.wait(timeout=30)
        assert _active_slots(api, lock_name("daily")) == 1  # leaked until the lease runs out
        follower = subprocess.run(
            [sys.executable, "-c", LOCKER, data, str(LEASE_SECONDS + MARGIN_SECONDS), "go"],
            env=env, cwd=ROOT, capture_output=True, text=True,
            timeout=LEASE_SECONDS + MARGIN_SECONDS + 60)
        assert follower.returncode == 0 and "held" in follower.stdout, follower.stderr[-2000:]
        assert _active_slots(api, lock_name("daily")) == 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
