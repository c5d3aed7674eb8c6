"""The session benchmark's fake Alpha Vantage in its own process.

A real provider is remote: its CPU work (building and serialising answers) is not ours. Served
from the benchmark's own process, the fake would take the interpreter lock away from the code
under measurement, as an in-process moto would. The recorded requests and the fake's clock
(``bench_now``) travel over a pipe.
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import dataclass
from datetime import date

import pandas as pd


@dataclass(frozen=True)
class Seen:
    """One request as the fake recorded it (what the benchmark counts)."""

    function: str
    outcome: str
    at: float


def _serve(conn, world: dict, session: date, as_of: pd.Timestamp, rate: int, latency: float,
           key: str) -> None:
    import logging

    from bench.world import make_fake

    logging.getLogger().setLevel(logging.WARNING)
    fake = make_fake(world, session, as_of, rate, latency, key).start()
    conn.send(fake.url)
    try:
        while True:
            command, arg = conn.recv()
            if command == "requests":
                conn.send([Seen(r.function, r.outcome, r.at) for r in fake.requests[arg:]])
            elif command == "now":
                fake.bench_now = arg
                conn.send(True)
            else:
                break
    finally:
        fake.stop()
        conn.send(True)


class RemoteFake:
    """``bench.world.make_fake(...)`` served by a child process (use as a context manager)."""

    def __init__(self, world: dict, session: date, as_of: pd.Timestamp, rate: int,
                 latency: float, key: str) -> None:
        self._args = (world, session, as_of, rate, latency, key)
        self._conn = None
        self._proc = None
        self.url = ""

    def __enter__(self) -> RemoteFake:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, *self._args), daemon=True)
        self._proc.start()
        self.url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send(("stop", None))
            self._conn.recv()
        finally:
            self._proc.join(timeout=10)
            if self._proc.is_alive():
                self._proc.kill()

    @property
    def requests(self) -> list[Seen]:
        """Every request the fake has received so far, in order."""
        self._conn.send(("requests", 0))
        return self._conn.recv()

    @property
    def bench_now(self) -> pd.Timestamp:
        """Not readable from here; set it to move the fake's clock."""
        raise AttributeError("bench_now is write-only on a RemoteFake")

    @bench_now.setter
    def bench_now(self, value: pd.Timestamp) -> None:
        self._conn.send(("now", value))
        self._conn.recv()
