"""Dataset write locks: what they exclude, and that a SIGKILLed holder never blocks the next
writer.

The kill trials run real bar writers (a forced daily fetch, cleanup, a restore, a rebuild) in
separate OS processes, each under the dataset locks the flows take for it without a Prefect
server (``tasks.locks.dataset_locks`` is then the OS file lock alone, as the first test shows).
Each trial is one session later than the last, so every writer has objects to change. Each is
killed after a random number of its object writes; the next writer must then get the locks and
finish within a bounded time (with a lock that outlives its holder it would wait for its whole
lock timeout and fail). A killed holder of a Prefect slot in ephemeral mode was the defect: its
lease lived in the dead process, and the slot stayed taken forever.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from tasks.locks import dataset_locks
from tests.support.fetching import fetch_job
from tradingstation.calendar import NY, get_calendar
from tradingstation.config import Settings
from tradingstation.data.universe import load_universe
from tradingstation.providers.demo.market import DemoMarket
from tradingstation.storage import keys
from tradingstation.storage.local import LocalStore
from tradingstation.storage.locks import hold_dataset_locks, lock_directory, lock_path
from tradingstation.upkeep.backup import create_backup

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 11, 24, 21, 0, tzinfo=NY)
SETTINGS = dict(batch_size=10, http_concurrency=4, demo_symbols=12)
KILLS = 12
# A following writer must finish within this: its own work (seconds) plus a margin. Without a
# crash-proof lock it would wait for the lock timeout given to it (LOCK_TIMEOUT) and fail.
FOLLOWER_TIMEOUT = 120
LOCK_TIMEOUT = 60

# One writer: ``op`` under the locks the flows take for it; prints "write" after each object
# it writes (the kill points) and "done" at the end.
DRIVER = textwrap.dedent("""
    import json, sys
    from datetime import datetime
    from tradingstation.config import Settings
    from tests.reliability.killable import write_fetch_job
    from tradingstation.upkeep.backup import restore_backup
    from tradingstation.upkeep.cleanup import cleanup
    from tradingstation.upkeep.rebuild import rebuild_symbols
    from tradingstation.providers.demo.market import DemoMarket
    from tradingstation.storage import keys
    from tradingstation.storage.local import LocalStore
    from tradingstation.storage.locks import hold_dataset_locks

    class Store(LocalStore):
        def put_bytes(self, key, data, content_type=None):
            info = super().put_bytes(key, data, content_type)
            print("write", flush=True)
            return info

    op, root, now, timeout = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3]), \\
        float(sys.argv[5])
    settings = Settings(**json.loads(sys.argv[4]))
    store = Store(root)
    print("ready", flush=True)
    provider = DemoMarket(seed=settings.demo_seed, n_symbols=settings.demo_symbols, now=now)
    if op == "rebuild":  # rebuild-daily of every symbol: staging, then the swap
        symbols = [i.key.split("/")[-1].removesuffix(".parquet")
                   for i in store.list_objects("bars/daily/")]
        with hold_dataset_locks(store, ["daily"], timeout):
            rebuild_symbols(store, provider, "daily", symbols, now, settings)
    elif op == "fetch":
        results = write_fetch_job("daily", store, provider, now, settings, refetch=True,
                                  lock_timeout=timeout)
        assert not [o for r in results for o in r.outcomes if o.outcome == "failed"]
    elif op == "cleanup":
        with hold_dataset_locks(store, keys.DATASETS, timeout):
            cleanup(store, now, settings)
    else:
        with hold_dataset_locks(store, keys.DATASETS, timeout):
            restore_backup(store, "2025-11-24", now)
    print("done", flush=True)
""")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TS_") and k != "PREFECT_API_URL"}
    return {**env, "PYTHONPATH": str(ROOT)}


def _start(op: str, root: Path, now: datetime) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, op, str(root), now.isoformat(), json.dumps(SETTINGS),
         str(LOCK_TIMEOUT)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env(),
    )


def _kill_after_writes(proc: subprocess.Popen, writes: int) -> tuple[int, bool]:
    """SIGKILL ``proc`` after its ``writes``-th object write; (writes seen, killed mid-run)."""
    seen = 0
    for line in proc.stdout:
        seen += line.strip() == "write"
        if line.strip() == "done":
            break
        if (line.strip() == "ready" and writes == 0) or seen == writes > 0:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return seen, True
    proc.wait(timeout=30)
    return seen, False


def _seed(root: Path) -> None:
    settings = Settings(**SETTINGS)
    store = LocalStore(root)
    provider = DemoMarket(seed=settings.demo_seed, n_symbols=settings.demo_symbols, now=NOW)
    for job in ("universe", "daily", "intraday_1min"):
        report = fetch_job(job, store, provider, NOW, settings)
        assert report.exit_code == 0, report.summary()
    create_backup(store, "2025-11-24", NOW)


def test_dataset_locks_exclude_other_holders_and_release(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "data")
    with dataset_locks("daily", "1min", "daily", store=store):
        for dataset in ("1min", "daily"):  # another holder (own open file) cannot get either
            with (pytest.raises(TimeoutError, match=r"still held by pid \d+"),
                  hold_dataset_locks(store, [dataset], timeout_seconds=0)):
                pass
        with hold_dataset_locks(store, ["30min"], timeout_seconds=0):  # others stay free
            pass
    with hold_dataset_locks(store, keys.DATASETS, timeout_seconds=0):  # released on exit
        pass
    assert lock_path(store, "daily").parent == tmp_path / "data" / ".locks"
    assert store.list_objects() == []  # lock files are not data: no listing, backup or verify


def test_waiting_writer_proceeds_when_the_holder_releases(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "data")
    held, release, got = threading.Event(), threading.Event(), []

    def holder() -> None:
        with dataset_locks("daily", store=store):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(30)

    def waiter() -> None:
        with hold_dataset_locks(store, ["daily"], timeout_seconds=30):
            got.append(release.is_set())

    waiting = threading.Thread(target=waiter)
    waiting.start()
    assert not got  # still held
    release.set()
    thread.join(30)
    waiting.join(30)
    assert got == [True]  # it got the lock, and only after the holder let go


def test_s3_locks_are_machine_local(tmp_path: Path) -> None:
    from tests.support.moto_server import moto_s3_config
    from tradingstation.storage.s3 import S3Store

    store = S3Store(moto_s3_config("http://127.0.0.1:9", "bucket-a"))
    other = S3Store(moto_s3_config("http://127.0.0.1:9", "bucket-b"))
    assert lock_directory(store) != lock_directory(other)
    assert not str(lock_directory(store)).startswith(str(tmp_path))


@pytest.mark.slow
@pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition
def test_sigkill_of_a_holder_never_blocks_the_next_writer(tmp_path: Path, record_figures) -> None:
    root = tmp_path / "data"
    _seed(root)
    rng = random.Random(20261203)
    ops = ["fetch", "cleanup", "restore", "rebuild"]
    killed_holding, day = 0, NOW.date()
    for trial in range(KILLS):
        day = get_calendar().next_session(day)
        now = datetime(day.year, day.month, day.day, 21, 0, tzinfo=NY)
        op = ops[trial % len(ops)]
        seen, killed = _kill_after_writes(_start(op, root, now), rng.randint(0, 12))
        killed_holding += killed and seen > 0  # it had written: it held the locks
        follower = ops[(trial + 1) % len(ops)]
        proc = _start(follower, root, now)
        try:
            out, err = proc.communicate(timeout=FOLLOWER_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"trial {trial}: {follower} after a killed {op} did not finish "
                        f"within {FOLLOWER_TIMEOUT}s")
        assert proc.returncode == 0 and "done" in out, (trial, op, follower, err[-2000:])
    assert killed_holding >= KILLS // 2, killed_holding  # most kills landed mid-write
    record_figures("lock_kills", {"kills": KILLS, "killed_while_holding": killed_holding,
                                  "followers_completed": KILLS, "followers_blocked": 0})


@pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition
def test_every_bars_writer_holds_its_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          prefect_api: str) -> None:
    """Each command that writes bars calls its core writer only while holding the locks of the
    datasets it writes (probed from another open file: it must find them taken). Cleanup held
    none before the fix."""
    import tasks.maintenance
    from tests.reliability.cli_harness import invoke
    from tradingstation.data import corporate_actions
    from tradingstation.data import fetch as fetch_module

    root = tmp_path / "data"
    store = LocalStore(root)
    settings = Settings(**SETTINGS)
    provider = DemoMarket(seed=settings.demo_seed, n_symbols=settings.demo_symbols, now=NOW)
    for job in ("universe", "daily"):
        assert fetch_job(job, store, provider, NOW, settings).exit_code == 0
    symbol = load_universe(store)[0]
    seen: list[tuple[str, str, bool]] = []

    def spy(module, name: str, datasets) -> None:
        real = getattr(module, name)

        def call(store_arg, *args, **kwargs):
            for dataset in datasets(args):
                try:
                    with hold_dataset_locks(store_arg, [dataset], timeout_seconds=0):
                        held = False
                except TimeoutError:
                    held = True
                seen.append((name, dataset, held))
            return real(store_arg, *args, **kwargs)

        monkeypatch.setattr(module, name, call)

    spy(fetch_module, "fetch_batch", lambda args: [args[1]])
    spy(tasks.maintenance, "cleanup", lambda args: keys.DATASETS)
    spy(tasks.maintenance, "fill_gaps", lambda args: ["daily", "1min"])
    spy(tasks.maintenance, "restore_backup", lambda args: keys.DATASETS)
    spy(tasks.maintenance, "rebuild_symbols", lambda args: [args[1]])
    spy(corporate_actions, "apply_verdicts", lambda args: keys.DATASETS)  # split adjustment
    env = {"TS_DATA_DIR": str(root), "TS_PROVIDER": "demo",
           "TS_DEMO_SYMBOLS": str(SETTINGS["demo_symbols"])}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = NOW.isoformat()
    for argv in (["fetch", "daily", "--refetch", "--as-of", at],
                 ["data", "cleanup", "--as-of", at],
                 ["data", "fill-gaps", "--as-of", at],
                 ["data", "backup", "--as-of", at],
                 ["data", "restore", "--date", "2025-11-24", "--as-of", at],
                 ["data", "rebuild-daily", "--symbols", symbol, "--as-of", at],
                 ["data", "splits", "--symbol", symbol, "--date", "2025-11-20", "--dismiss",
                  "--as-of", at],
                 ["run", "daily", "--allow-closed", "--as-of", at]):
        result = invoke(argv)
        assert result.code in (0, 1) and "Traceback" not in result.stderr, (argv, result.stderr)
    writers = {name for name, _, _ in seen}
    assert writers == {"fetch_batch", "cleanup", "fill_gaps", "restore_backup",
                       "rebuild_symbols", "apply_verdicts"}, writers
    assert [(n, d) for n, d, held in seen if not held] == []


def _group(pgid: int) -> list[str]:
    """Command lines of the live processes of process group ``pgid``."""
    out = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            if entry.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[2]) == pgid \
                    and stat.rsplit(")", 1)[1].split()[0] != "Z":
                out.append((entry / "cmdline").read_text().replace("\0", " ")[:120])
        except (OSError, IndexError, ValueError):
            continue
    return out


def _wait_group_gone(pgid: int, deadline_s: float) -> list[str]:
    end = time.monotonic() + deadline_s
    while (left := _group(pgid)) and time.monotonic() < end:
        threading.Event().wait(0.2)
    return left


@pytest.mark.slow
@pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition
def test_killed_command_leaves_no_server_and_blocks_nothing(tmp_path: Path) -> None:
    """The real command, in ephemeral mode (no PREFECT_API_URL), SIGKILLed while it holds the
    dataset lock: no temporary Prefect server outlives it (12 of 14 did), and the same command
    run next completes (it waited on a leaked slot for up to an hour)."""
    from tests.reliability.cli_harness import SCRIPT

    root = tmp_path / "data"
    _seed(root)
    env = {**_env(), "TS_DATA_DIR": str(root), "TS_PROVIDER": "demo",
           "TS_DEMO_SYMBOLS": str(SETTINGS["demo_symbols"]),
           "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    at = NOW.isoformat()
    # (command, a line printed while it holds its locks: the kill comes right after it). A
    # restore holds all three; "an interrupted restore can simply be rerun" hung before.
    trials = [(["data", "restore", "--date", "2025-11-24", "--as-of", at], "pre-restore-")]
    for argv, marker in trials:
        proc = subprocess.Popen([str(SCRIPT), *argv], env=env, cwd=ROOT, text=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if marker in line:
                break
        proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL, (argv, "".join(seen)[-2000:])
        assert "Starting temporary server" in "".join(seen)
        left = _wait_group_gone(proc.pid, 30)
        assert not left, f"{argv[:2]}: processes left after the kill: {left}"
        rerun = subprocess.run([str(SCRIPT), *argv], env=env, cwd=ROOT, text=True,
                               capture_output=True, timeout=FOLLOWER_TIMEOUT * 2)
        assert rerun.returncode == 0, (argv, rerun.stderr[-3000:])


SLOT_HOLDER = textwrap.dedent("""
    import sys
    from tasks.locks import dataset_lock
    from tradingstation.storage.local import LocalStore

    with dataset_lock("daily", store=LocalStore(sys.argv[1])):
        print("held", flush=True)
        sys.stdin.read()
""")


def test_a_killed_childs_slot_is_freed_before_the_next_test(tmp_path: Path, flow_runs: str
                                                            ) -> None:
    """The session's test server runs no repossessor: a child SIGKILLed while holding a
    dataset's slot would block every later writer of this pytest worker (it hung a CI run)."""
    from tests.support.write_slots import free_leaked_write_slots

    env = {**_env(), "PREFECT_API_URL": flow_runs}
    holder = subprocess.Popen([sys.executable, "-c", SLOT_HOLDER, str(tmp_path / "a")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env=env)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.communicate()
    with pytest.raises(TimeoutError), dataset_locks("daily", store=LocalStore(tmp_path / "b"),
                                                    timeout_seconds=2):
        pass
    assert free_leaked_write_slots() == ["tradingstation-write-daily"]
    with dataset_locks("daily", store=LocalStore(tmp_path / "b"), timeout_seconds=2):
        pass

