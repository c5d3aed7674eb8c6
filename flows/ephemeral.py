"""Running a flow once in this process, leaving no temporary server behind.

Running a flow once in this process, in Prefect's ephemeral mode unless ``PREFECT_API_URL`` is set,
without leaving the temporary server behind when the process is killed.

Prefect 3 starts the ephemeral API as a separate ``uvicorn`` process and stops it from an
``atexit`` hook. A SIGKILLed (or OOM-killed) command runs no hook, so that server kept running
for good. Here each server process gets, as soon as it is created, a small watchdog process
holding the read end of a pipe from this process: when this process ends, however it ends, the
kernel closes the pipe and the watchdog stops the server (SIGTERM, then SIGKILL after a grace
period).
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

# Started with the server's pid; holds a pidfd to it, so a reused pid is never signalled.
_WATCHDOG = """
import os, select, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal: the parent decides
try:
    server = os.pidfd_open(int(sys.argv[1]))
except ProcessLookupError:
    sys.exit(0)
sys.stdin.buffer.read()  # returns at EOF: the parent process has ended
for sig, grace in ((signal.SIGTERM, float(sys.argv[2])), (signal.SIGKILL, 0)):
    try:
        signal.pidfd_send_signal(server, sig)
    except ProcessLookupError:
        break
    if grace and select.select([server], [], [], grace)[0]:
        break  # the server exited within the grace period
"""
STOP_GRACE_SECONDS = 5
STARTUP_TIMEOUT_SECONDS = 120  # the first start (migrations) can exceed Prefect's 20 s when busy

_watchdogs: dict[int, subprocess.Popen] = {}


def guard_server(pid: int) -> subprocess.Popen:
    """Start (once per ``pid``) the watchdog that stops process ``pid`` when this one ends."""
    if pid not in _watchdogs:
        _watchdogs[pid] = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(pid), str(STOP_GRACE_SECONDS)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    return _watchdogs[pid]


def start_ephemeral_server() -> int | None:
    """Start Prefect's ephemeral API server for this process, under a watchdog.

    Start Prefect's ephemeral API server for this process (the one its client would start), each of
    its processes under a watchdog from the moment it exists; the server's pid, or None when a
    server is configured (``PREFECT_API_URL``).
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None

    class GuardedServer(SubprocessASGIServer):
        def _run_uvicorn_command(self) -> subprocess.Popen:
            process = super()._run_uvicorn_command()
            guard_server(process.pid)  # before the server is even up: a kill may come any time
            return process

    # The class keeps one instance per port; the client's ``SubprocessASGIServer()`` (port None)
    # then returns this one, so the flow uses the guarded server.
    server = SubprocessASGIServer._instances.get(None) or GuardedServer()
    server.start(timeout=STARTUP_TIMEOUT_SECONDS)
    if server.server_process is None:
        return None
    guard_server(server.server_process.pid)  # once per pid: a server started before this too
    return server.server_process.pid


def api_ready() -> bool:
    """Whether this process reaches a Prefect API without starting one.

    ``PREFECT_API_URL`` is set, or the temporary server :func:`run_once` starts is up (a poller must
    not start a second, unguarded one).
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return True
    server = SubprocessASGIServer._instances.get(None)
    return bool(server is not None and server.running)


def run_once(flow_fn, /, **params: Any) -> Any:
    """Call a flow in this process (ephemeral Prefect unless ``PREFECT_API_URL`` is set).

    The one way the ``tradingstation`` commands and the ``python flows/<mode>.py`` scripts run a
    flow: the temporary server (if any) is started under a watchdog first, and logging follows
    ``TS_LOG_FORMAT`` from the run's first line. Returns what the flow returns.
    """
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as STARTUP
    from prefect.settings import temporary_settings

    from flows.runs import configure_run_logging
    from tradingstation.config import get_settings

    with temporary_settings({STARTUP: max(STARTUP.value(), STARTUP_TIMEOUT_SECONDS)}):
        start_ephemeral_server()
        # Prefect's import replaced the console handler: log as TS_LOG_FORMAT says from the
        # first line of the run (a JSON log must be JSON throughout).
        configure_run_logging(get_settings())
        return flow_fn(**params)
