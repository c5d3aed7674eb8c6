"""The README documents every TS_ setting and starts with the two commands."""

from __future__ import annotations

import re
from pathlib import Path

from tradingstation.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `(TS_[A-Z0-9_]+)` \|", README, flags=re.M))
    expected = {f"TS_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split()[0:2] for line in first_block] == [["./dev", "premarket"],
                                                             ["./dev", "test"]]
