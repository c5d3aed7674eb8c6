"""Triage: the daily flow repairs ledger, retention and stale problems itself; the rest fail it."""

from __future__ import annotations

from tradingstation.upkeep.triage import SHOWN, triage
from tradingstation.upkeep.verify import Problem


def problem(kind: str, n: int = 0, dataset: str | None = "daily") -> Problem:
    return Problem(kind, f"bars/daily/S{n}.parquet", f"{kind} detail", f"repair {n}",
                   f"S{n}", dataset)


def test_self_repaired_kinds_do_not_fail_and_name_the_ledgers_to_rebuild():
    found = triage([problem("ledger"), problem("ledger", dataset="1min"),
                    problem("retention"), problem("stale"), problem("snapshot")])
    assert found.failure() is None
    assert found.ledger_datasets == ["1min", "daily"]


def test_the_rest_fail_naming_each_problem_and_its_repair():
    found = triage([problem("ledger"), problem("hash_mismatch", 1), problem("data_loss", 2)])
    assert [p.kind for p in found.unrepairable] == ["hash_mismatch", "data_loss"]
    text = found.failure()
    assert text.startswith("integrity: 2 problems need a person")
    assert "hash_mismatch bars/daily/S1.parquet: hash_mismatch detail (repair: repair 1)" in text
    many = triage([problem("unreadable", n) for n in range(SHOWN + 3)]).failure()
    assert f"S{SHOWN - 1}.parquet" in many and f"S{SHOWN}.parquet" not in many
    assert "and 3 more (`tradingstation data verify`)" in many
