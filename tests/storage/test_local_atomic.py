"""Local store crash safety: a killed writer leaves the old or the new object, never a torn one."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tradingstation.errors import DataError, InputError
from tradingstation.storage.local import LocalStore

REPO_ROOT = Path(__file__).resolve().parents[2]
OBJECT_SIZE = 2 * 1024 * 1024
KEY = "bars/1min/BIG.parquet"
TRIALS = 12

# The writer imports ``version`` from this module so both sides agree on every version's bytes.
WRITER = """
import sys
from tests.storage.test_local_atomic import version
from tradingstation.storage.local import LocalStore
store, key, number = LocalStore(sys.argv[1]), sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
while True:
    data = version(number)
    print(f"writing {number}", flush=True)
    store.put_bytes(key, data)
    number += 1
"""


def version(number: int) -> bytes:
    """Content of version ``number``: OBJECT_SIZE bytes, different for every number."""
    return hashlib.sha256(str(number).encode()).digest() * (OBJECT_SIZE // 32)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def spawn_writer(root: Path, first_version: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), KEY, str(first_version)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process


def expect_line(process: subprocess.Popen[str], prefix: str) -> str:
    line = process.stdout.readline()
    if not line.startswith(prefix):
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"writer said {line!r} instead of {prefix!r}; stderr: {err[-2000:]}")
    return line


def kill_mid_write(process: subprocess.Popen[str], rng: random.Random) -> set[int]:
    """Let the writer finish at least one write, kill it at a random point of a later write and
    return the numbers of every version it started."""
    expect_line(process, "ready")
    process.stdin.write("go\n")
    process.stdin.flush()
    started = {int(expect_line(process, "writing").split()[1])}
    before = time.monotonic()
    # The second announcement proves the first version is complete on disk.
    started.add(int(expect_line(process, "writing").split()[1]))
    cycle = time.monotonic() - before
    time.sleep(rng.uniform(0, cycle * 1.5))  # only spreads the kill over the write cycle
    process.kill()
    rest, _ = process.communicate()
    started.update(int(line.split()[1]) for line in rest.splitlines() if line.startswith("writing"))
    return started


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kill_during_write_leaves_a_complete_version(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = LocalStore(root)
    store.put_bytes(KEY, version(-1))
    rng = random.Random(20250102)
    # The next writer imports while the current one runs, so trials do not wait on start-up.
    upcoming = spawn_writer(root, 0)
    changed = 0
    previous = sha(version(-1))
    for trial in range(TRIALS):
        current = upcoming
        upcoming = spawn_writer(root, (trial + 1) * 1000) if trial + 1 < TRIALS else None
        try:
            started = kill_mid_write(current, rng)
        finally:
            if current.poll() is None:
                current.kill()
                current.communicate()
        data = store.get_bytes(KEY)
        allowed = {sha(version(n)): n for n in started}
        assert len(data) == OBJECT_SIZE, f"trial {trial}: torn object of {len(data)} bytes"
        assert sha(data) in allowed, f"trial {trial}: content is none of versions {sorted(started)}"
        recorded = store.head(KEY).sha256
        assert recorded in (None, sha(data)), f"trial {trial}: recorded sha256 does not match"
        assert [info.key for info in store.list_objects()] == [KEY]
        changed += sha(data) != previous
        previous = sha(data)
    # Every trial waited for a completed write, so every trial must have replaced the object.
    assert changed == TRIALS
    # Whatever temp files the kills left behind, the store still works normally.
    store.put_bytes(KEY, b"after")
    assert store.get_bytes(KEY) == b"after"
    assert store.head(KEY).sha256 == sha(b"after")


def test_leftover_temp_and_meta_files_stay_hidden(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("bars/daily/A.parquet", b"data")
    (tmp_path / "bars" / "daily" / ".A.parquet.abc123.tmp").write_bytes(b"torn")
    (tmp_path / ".meta" / "orphan").write_text("x")
    assert [i.key for i in store.list_objects()] == ["bars/daily/A.parquet"]
    assert store.usage() == {"bars/": {"objects": 1, "bytes": 4}}


def test_sidecar_that_does_not_match_the_file_reads_as_unknown(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("k/obj", b"version one")
    assert store.head("k/obj").sha256 == sha(b"version one")
    # As if the process died between renaming the data and renaming its sidecar.
    (tmp_path / "k" / "obj").write_bytes(b"version two!")
    assert store.head("k/obj").sha256 is None
    assert store.list_objects("k/")[0].sha256 is None
    info = store.copy("k/obj", "k/copy")
    assert info.sha256 == sha(b"version two!")
    assert store.head("k/copy").sha256 == sha(b"version two!")


def test_copy_refuses_a_source_that_fails_its_recorded_hash(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("k/obj", b"good bytes")
    path = tmp_path / "k" / "obj"
    stat = path.stat()
    # Silent corruption: same size and mtime, different content.
    path.write_bytes(b"evil bytes")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert store.head("k/obj").sha256 == sha(b"good bytes")
    with pytest.raises(DataError, match="recorded sha256"):
        store.copy("k/obj", "k/copy")
    assert not store.exists("k/copy")


def test_delete_removes_sidecar_and_empty_folders(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("a/b/c", b"1")
    store.put_bytes("a/d", b"2")
    store.delete("a/b/c")
    assert not (tmp_path / "a" / "b").exists()
    assert not (tmp_path / ".meta" / "a" / "b").exists()
    assert (tmp_path / "a" / "d").read_bytes() == b"2"
    store.put_bytes("a/b/c", b"3")
    assert store.head("a/b/c").sha256 == sha(b"3")


def test_data_is_written_with_readable_permissions(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("x/y", b"1")
    assert (tmp_path / "x" / "y").stat().st_mode & 0o777 == 0o644
    assert store.describe() == f"local directory {tmp_path}"


def test_key_colliding_with_a_folder_or_file_is_refused_cleanly(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("a/b", b"1")
    with pytest.raises(InputError, match="collides"):
        store.put_bytes("a", b"2")
    with pytest.raises(InputError, match="collides"):
        store.put_bytes("a/b/c", b"3")
    assert [(i.key, i.sha256) for i in store.list_objects()] == [("a/b", sha(b"1"))]
