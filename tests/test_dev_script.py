"""``./dev setup`` / ``./dev test`` on a machine without Chromium (issue 16 #13).

Measured: on a fresh machine ``./dev test`` failed a browser test deep in the suite because only
``.ci/run`` installed Chromium. Each case runs the real ``dev`` script with a PATH holding the
tools it needs but no browser; ``apt-get`` is a recording stand-in (tests must not install
packages on the machine that runs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("bash", "dirname", "cat", "sha256sum", "cut", "id", "env")
FAKE_APT = """#!/bin/bash
echo "$@" >> "{log}"
if [[ " $* " == *" install "* ]]; then
  printf '#!/bin/sh\\n' > "{bin}/chromium"; "{chmod}" +x "{bin}/chromium"
fi
"""


def _bin(tmp_path: Path, apt: bool) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        os.symlink(shutil.which(tool), bin_dir / tool)
    if apt:
        (bin_dir / "apt-get").write_text(FAKE_APT.format(log=tmp_path / "apt.log", bin=bin_dir,
                                                         chmod=shutil.which("chmod")))
        (bin_dir / "apt-get").chmod(0o755)
    return bin_dir


def _setup(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    # The checkout's .venv is current (the suite runs in it), so setup reaches the browser step.
    return subprocess.run([str(bin_dir / "bash"), str(ROOT / "dev"), "setup"], cwd=ROOT,
                          env={"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/tmp")},
                          capture_output=True, text=True, timeout=120)


def test_setup_without_a_way_to_install_stops_with_the_command_to_run(tmp_path: Path) -> None:
    proc = _setup(_bin(tmp_path, apt=False))
    assert proc.returncode == 3, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the tests need Chromium") and "apt-get install -y chromium" \
        in last


def test_setup_installs_chromium_with_apt_when_it_can(tmp_path: Path) -> None:
    bin_dir = _bin(tmp_path, apt=True)
    proc = _setup(bin_dir)
    if os.geteuid() != 0:  # apt needs root: the one command to run instead
        assert proc.returncode == 3 and "sudo apt-get install" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls[0] == "update -qq" and "install" in calls[1] and "chromium" in calls[1]
    assert (bin_dir / "chromium").exists()
    # Once installed, setup leaves it alone.
    assert _setup(bin_dir).returncode == 0
    assert len((tmp_path / "apt.log").read_text().splitlines()) == 2
