"""Key naming: symbol validation and the exact key every function builds."""

from __future__ import annotations

from datetime import date

import pytest

from tradingstation.errors import InputError
from tradingstation.storage import keys

DAY = date(2025, 1, 2)
STAMP = "20250102T133000Z"


@pytest.mark.parametrize(
    "bad",
    [
        "../X",
        "A/B",
        "A B",
        " AAPL",
        "AAPL ",
        "aapl",
        "Aapl",
        "",
        "A\x00",
        "\u0410",  # Cyrillic capital A, looks like "A"
        "\u0410APL",
        "AAPL\uff0e",  # fullwidth full stop
        "ABCDEFGHIJK",
        "1ABC",
        ".A",
        "-A",
        "A\\B",
        "A\nB",
        "A_B",
        None,
        7,
        b"AAPL",
        ["AAPL"],
    ],
)
def test_validate_symbol_rejects(bad: object) -> None:
    with pytest.raises(InputError, match="invalid ticker"):
        keys.validate_symbol(bad)


@pytest.mark.parametrize("good", ["A", "BRK.B", "BF-B", "AAPL", "ABCDEFGHIJ", "X1"])
def test_validate_symbol_accepts_and_returns_unchanged(good: str) -> None:
    assert keys.validate_symbol(good) == good


def test_validate_symbol_error_is_one_line_and_bounded() -> None:
    with pytest.raises(InputError) as caught:
        keys.validate_symbol("A" * 500 + "\n")
    message = str(caught.value)
    assert "\n" not in message and len(message) < 200


def test_parse_symbols_upper_cases_trims_dedups_and_sorts() -> None:
    assert keys.parse_symbols("nvda, AAPL ,aapl,brk.b") == ["AAPL", "BRK.B", "NVDA"]
    assert keys.parse_symbols("bf-b") == ["BF-B"]


@pytest.mark.parametrize("text", [None, "", "   "])
def test_parse_symbols_empty_means_no_filter(text: str | None) -> None:
    assert keys.parse_symbols(text) is None


@pytest.mark.parametrize(
    "text", ["AAPL,,MSFT", "AAPL,../X", "AAPL,A/B", "AAPL,TOOLONGTICKER", "\u0430apl", "AA PL"]
)
def test_parse_symbols_rejects_bad_items(text: str) -> None:
    with pytest.raises(InputError):
        keys.parse_symbols(text)


def test_key_builders_produce_the_documented_layout() -> None:
    assert keys.bars_key("daily", "BRK.B") == "bars/daily/BRK.B.parquet"
    assert keys.bars_key("1min", "A") == "bars/1min/A.parquet"
    assert keys.bars_prefix("30min") == "bars/30min/"
    assert keys.symbol_from_bars_key("bars/daily/BF-B.parquet") == "BF-B"
    assert keys.ledger_key("30min") == "ledger/30min.parquet"
    assert keys.universe_key() == "universe/latest.parquet"
    assert keys.universe_history_key(DAY) == "universe/history/2025-01-02.parquet"
    assert keys.quotes_key(DAY) == "quotes/2025-01-02/premarket.parquet"
    assert keys.anchors_key(DAY) == "anchors/2025-01-02.parquet"
    assert keys.signals_key(DAY, "gap_up") == "signals/2025-01-02/gap_up.json"
    assert keys.signals_prefix() == "signals/"
    assert keys.signals_prefix(DAY) == "signals/2025-01-02/"
    assert (
        keys.dashboard_key(DAY, STAMP, "index.html")
        == "dashboards/2025-01-02/20250102T133000Z/index.html"
    )
    assert keys.dashboard_prefix() == "dashboards/"
    assert keys.dashboard_prefix(DAY) == "dashboards/2025-01-02/"
    assert keys.dashboard_latest_key() == "dashboards/latest.json"
    assert keys.api_usage_key(DAY) == "usage/api/2025-01-02.json"
    assert (
        keys.quarantine_key("daily", "AAPL", STAMP)
        == "quarantine/daily/AAPL/20250102T133000Z.parquet"
    )
    assert keys.backup_label(DAY) == "2025-01-02"
    assert keys.backup_prefix(keys.backup_label(DAY)) == "backups/2025-01-02/"
    assert keys.backup_manifest_key("2025-01-02") == "backups/2025-01-02/manifest.json"
    assert keys.safety_backup_label(STAMP) == "pre-restore-20250102T133000Z"
    assert keys.backup_prefix(keys.safety_backup_label(STAMP)) == (
        "backups/pre-restore-20250102T133000Z/"
    )
    assert keys.staging_prefix("run-1") == "staging/run-1/"
    assert keys.probe_key("abc_123") == "_probe/abc_123"


@pytest.mark.parametrize(
    "build",
    [
        lambda: keys.bars_key("daily", "../etc"),
        lambda: keys.bars_key("weekly", "AAPL"),
        lambda: keys.bars_prefix("../"),
        lambda: keys.ledger_key("5min"),
        lambda: keys.symbol_from_bars_key("bars/daily/aapl.parquet"),
        lambda: keys.universe_history_key("2025-01-02"),
        lambda: keys.quotes_key(None),
        lambda: keys.signals_key(DAY, "../x"),
        lambda: keys.signals_key(DAY, "Gap Up"),
        lambda: keys.dashboard_key(DAY, "now", "index.html"),
        lambda: keys.dashboard_key(DAY, STAMP, "../index.html"),
        lambda: keys.dashboard_key(DAY, STAMP, "evil.exe"),
        lambda: keys.quarantine_key("daily", "AAPL", "../../x"),
        lambda: keys.quarantine_key("daily", "a/b", STAMP),
        lambda: keys.backup_prefix("../2025-01-02"),
        lambda: keys.backup_prefix("latest"),
        lambda: keys.backup_manifest_key(DAY),
        lambda: keys.safety_backup_label("../x"),
        lambda: keys.staging_prefix("../run"),
        lambda: keys.staging_prefix(""),
        lambda: keys.probe_key("a/b"),
    ],
)
def test_key_builders_reject_bad_parts(build) -> None:
    with pytest.raises(InputError):
        build()


def test_every_data_prefix_is_a_top_level_folder() -> None:
    assert all(p.endswith("/") and p.count("/") == 1 for p in keys.DATA_PREFIXES)
    assert keys.DATASETS == ("daily", "1min", "30min")
