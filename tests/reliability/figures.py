"""Print the figures the last reliability run recorded (for docs/RELIABILITY.md).

Usage: ``.venv/bin/python -m tests.reliability.figures`` after ``pytest tests/reliability``.
"""

from __future__ import annotations

import json
from pathlib import Path

CACHE = Path(__file__).resolve().parents[2] / ".pytest_cache" / "v" / "reliability"


def load_figures() -> dict[str, dict]:
    """``{test area: figures}`` recorded by the last run (areas that did not pass are absent)."""
    if not CACHE.exists():
        return {}
    return {path.name: json.loads(path.read_text()) for path in sorted(CACHE.iterdir())}


if __name__ == "__main__":
    print(json.dumps(load_figures(), indent=1))
