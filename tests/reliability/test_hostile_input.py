"""Hostile input catalogue: every case gets one ``error:`` line naming the problem, a non-zero
exit, no traceback, and leaves the data directory (or bucket) exactly as it was.

Commands covered (those that exist): ``data rebuild-daily|fill-gaps|detect-gaps|restore|verify``,
``dashboard``, ``health``, ``run premarket``, ``storage check``, ``config show``; settings via
``TS_*`` variables. Data-level problems (corrupt objects, bad provider bars) are further down.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.reliability.cli_harness import invoke, run_script
from tests.reliability.conftest import snapshot_tree
from tests.support.fake_alphavantage import FakeAlphaVantage
from tests.support.fetching import fetch_job
from tests.support.frame_provider import FrameProvider
from tests.support.moto_server import (
    create_bucket,
    moto_auth_enforced,
    moto_client,
    running_moto_server,
    unused_local_port,
)
from tradingstation.calendar import NY
from tradingstation.config import Settings
from tradingstation.errors import DataError
from tradingstation.providers.alphavantage import AlphaVantageProvider
from tradingstation.providers.ratelimit import RateLimiter
from tradingstation.storage.local import LocalStore
from tradingstation.upkeep.verify import verify_store

# Realistic lengths: every configured secret is masked in all later output of the process.
KEY_ID, SECRET, API_KEY = "AKIAHOSTILETEST0001", "hostile-secret-0001-abcdef", "HOSTILEAVKEY0001"
BAD_TICKERS = {
    "dotdot": "../etc", "slash": "A/B", "nul": "A\x00B", "cyrillic": "\u0410APL",
    "fullwidth": "\uff21\uff21\uff30\uff2c", "long": "A" * 1000, "sql": "'; DROP TABLE bars;--",
    "subshell": "$(rm -rf /)", "backticks": "`id`", "semicolon": "AAPL;ls", "pipe": "AAPL|sh",
    "newline": "AAPL\nMSFT", "space": "AA PL", "dollar": "$HOME",
}
TICKER_CASES = [
    pytest.param(["data", "rebuild-daily", "--symbols", t], {}, "ticker", id=f"symbols-{name}")
    for name, t in BAD_TICKERS.items()
] + [
    pytest.param(["data", option, "--symbol", BAD_TICKERS[name]], {}, "ticker",
                 id=f"{option}-{name}")
    for option in ("fill-gaps", "detect-gaps")
    for name in ("dotdot", "nul", "cyrillic", "subshell")
]
NUMBER_CASES = [
    pytest.param(["dashboard", *args], {}, expect, id="dashboard" + "-".join(args))
    for args, expect in [
        (["--hours-lookback", "-1"], "hours-lookback"), (["--hours-lookback", "0"],
                                                          "hours-lookback"),
        (["--hours-lookback", "nan"], "hours-lookback"),
        (["--hours-lookback", "inf"], "hours-lookback"),
        (["--hours-lookback", "1e308"], "hours-lookback"),
        (["--hours-lookback", "ten"], "hours-lookback"),
        (["--equity", "-5"], "equity"), (["--equity", "0"], "equity"),
        (["--equity", "nan"], "equity"), (["--equity", "inf"], "equity"),
        (["--risk-per-trade", "nan"], "risk"), (["--risk-per-trade", "5"], "risk"),
        (["--max-position-pct", "-1"], "position"), (["--max-open-risk", "2"], "open"),
    ]
]
ENV_CASES = [
    pytest.param(["data", "verify"], {name: value}, name, id=f"{name}={value[:12]}")
    for name, value in [
        ("TS_RATE_LIMIT_PER_MINUTE", "-1"), ("TS_RATE_LIMIT_PER_MINUTE", "0"),
        ("TS_RATE_LIMIT_PER_MINUTE", "nan"), ("TS_RATE_LIMIT_PER_MINUTE", "1e30"),
        ("TS_RATE_LIMIT_PER_DAY", "-25"), ("TS_BATCH_SIZE", "0"), ("TS_BATCH_SIZE", "-5"),
        ("TS_BATCH_SIZE", "99999999"), ("TS_HTTP_TIMEOUT_SECONDS", "nan"),
        ("TS_HTTP_TIMEOUT_SECONDS", "-1"), ("TS_HTTP_CONCURRENCY", "100000"),
        ("TS_DEMO_SYMBOLS", "0"), ("TS_EQUITY", "-1"), ("TS_RISK_PER_TRADE", "nan"),
        ("TS_WATCHLIST_CAP", "-3"), ("TS_RETENTION_DAILY_SESSIONS", "0"),
        ("TS_STORAGE_BACKEND", "ftp"), ("TS_LOG_LEVEL", "LOUD"), ("TS_PROVIDER", "yahoo"),
        # Too short to mask without mangling messages ("f**********iled"): refused at load.
        ("TS_S3_ACCESS_KEY_ID", "a"), ("TS_S3_SECRET_ACCESS_KEY", "abc"),
        ("TS_ALPHAVANTAGE_API_KEY", "k"), ("TS_WEBHOOK_URL", "x"),
    ]
]
DATE_CASES = [
    pytest.param(argv, {}, expect, id="-".join(argv[:3]) + f"-{argv[-1][:16]}")
    for argv, expect in [
        (["data", "restore", "--date", "2025-02-30"], "2025-02-30"),
        (["data", "restore", "--date", "2025-13-01"], "2025-13-01"),
        (["data", "restore", "--date", "yesterday"], "yesterday"),
        (["data", "restore", "--date", "2025-11-22"], "backup"),  # a Saturday: none taken
        (["data", "restore", "--date", "2025-11-27"], "backup"),  # Thanksgiving: none taken
        (["data", "restore", "--date", "1900-01-01"], "backup"),
        (["data", "verify", "--as-of", "2025-02-30T10:00"], "as_of"),
        (["data", "rebuild-daily", "--symbols", "AAPL", "--as-of", "2025-11-24T25:00"],
         "as_of"),
        (["data", "fill-gaps", "--as-of", "Thanksgiving"], "as_of"),
        (["health", "--as-of", "not-a-time"], "as_of"),
        (["run", "premarket", "--as-of", "2025-13-01T08:00"], "as_of"),
        (["dashboard", "--as-of", "2025-11-31T08:00"], "as_of"),
        # Accepted once, and destructive: outside the calendar's years, or far in the future.
        (["data", "verify", "--as-of", "0001-01-01T00:00:00+00:00"], "supported years"),
        (["data", "verify", "--as-of", "9999-12-31T23:00:00-05:00"], "supported years"),
        (["data", "backup", "--as-of", "1800-01-01T00:00:00+00:00"], "supported years"),
        (["run", "premarket", "--as-of", "1800-01-01T08:45"], "supported years"),
        (["fetch", "daily", "--as-of", "1800-01-01T08:45"], "supported years"),
        (["data", "cleanup", "--as-of", "2100-01-01T00:00:00+00:00"], "future"),
        (["data", "backup", "--as-of", "2100-01-01T00:00:00+00:00"], "future"),
        (["data", "rebuild-ledger", "--as-of", "2100-01-01T00:00:00+00:00"], "future"),
        (["data", "rebuild-all", "--as-of", "2100-01-01T00:00:00+00:00"], "future"),
        (["data", "fill-gaps", "--as-of", "2100-01-01T00:00:00+00:00"], "future"),
        (["run", "daily", "--as-of", "2100-01-01T21:00:00-05:00"], "future"),
        (["data", "restore", "--date", "2025-11-21", "--as-of", "2100-01-01T00:00:00+00:00"],
         "future"),
    ]
]
# An empty filter once meant "everything": the whole universe fetched, every series filled.
EMPTY_FILTER_CASES = [
    pytest.param(argv, {}, "empty", id="-".join(argv[:2]) + "-empty")
    for argv in (["fetch", "daily", "--tickers", ""], ["fetch", "intraday_1min", "--tickers", " "],
                 ["data", "fill-gaps", "--symbol", ""], ["data", "detect-gaps", "--symbol", " "],
                 ["screen", "breakout", "--tickers", ""])
]
CONFIG_CASES = [
    pytest.param(["data", "verify"], {"TS_STORAGE_BACKEND": "s3"}, "TS_S3_BUCKET",
                 id="s3-without-bucket"),
    pytest.param(["storage", "check"], {"TS_STORAGE_BACKEND": "s3", "TS_S3_BUCKET": "b",
                                        "TS_S3_ACCESS_KEY_ID": KEY_ID,
                                        "TS_S3_SECRET_ACCESS_KEY": SECRET,
                                        "TS_S3_ENDPOINT_URL": "not-a-url"},
                 "endpoint", id="s3-endpoint-not-a-url"),
    pytest.param(["storage", "check"], {"TS_STORAGE_BACKEND": "s3", "TS_S3_BUCKET": "b",
                                        "TS_S3_ACCESS_KEY_ID": KEY_ID},
                 "TS_S3_SECRET_ACCESS_KEY", id="s3-missing-secret"),
    pytest.param(["data", "rebuild-daily", "--symbols", "AAPL"],
                 # a block name no test registers: the Secret block another test of this
                 # process saved under the default name would otherwise supply a key
                 {"TS_PROVIDER": "alphavantage",
                  "TS_ALPHAVANTAGE_SECRET_BLOCK": "no-such-key-block"},
                 "key", id="alphavantage-without-key"),
    pytest.param(["data", "rebuild-daily", "--symbols", "AAPL"],
                 {"TS_ALPHAVANTAGE_API_KEY": API_KEY, "TS_ALPHAVANTAGE_BASE_URL": "ftp://x"},
                 "url", id="alphavantage-base-url-ftp"),
]
CASES = TICKER_CASES + NUMBER_CASES + ENV_CASES + DATE_CASES + CONFIG_CASES + EMPTY_FILTER_CASES
# A representative subset also goes through the real console script in a subprocess.
SCRIPT_CASES = ["symbols-nul", "symbols-subshell", "symbols-cyrillic",
                "dashboard--hours-lookback-nan", "dashboard--hours-lookback-ten",
                "TS_BATCH_SIZE=0", "data-restore---date-2025-02-30",
                "alphavantage-base-url-ftp", "TS_S3_ACCESS_KEY_ID=a",
                "run-premarket---as-of-1800-01-01T08:45"]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory with something in it, so "nothing written" means something."""
    root = tmp_path / "data"
    store = LocalStore(root)
    bars = pd.DataFrame({
        "timestamp": pd.to_datetime(["2025-11-20", "2025-11-21"], utc=True),
        "open": [10.0, 11.0], "high": [11.5, 12.0], "low": [9.5, 10.5], "close": [11.0, 11.5],
        "volume": [1000, 1200],
    })
    store.put_frame("bars/daily/AAPL.parquet", bars)
    store.put_frame("universe/latest.parquet", pd.DataFrame({"symbol": ["AAPL"]}))
    monkeypatch.setenv("TS_DATA_DIR", str(root))
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return root


def _check_refused(result, expect: str) -> None:
    assert result.code != 0, result.stdout[-300:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    line = result.last_line
    assert line.startswith("error: "), result.stderr[-500:]
    assert expect.lower() in line.lower(), line
    assert "\x00" not in line and len(line) < 600


@pytest.mark.parametrize(("argv", "env", "expect"), CASES)
def test_refused_with_one_line_and_nothing_written(
    argv: list[str], env: dict[str, str], expect: str, data_dir: Path,
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = snapshot_tree(data_dir)
    _check_refused(invoke(argv), expect)
    if request.node.callspec.id in SCRIPT_CASES:
        if "\x00" in " ".join(argv):  # execve cannot pass NUL: the OS refuses before we run
            argv = [a.replace("\x00", "\\x00") for a in argv]
        _check_refused(run_script(argv, {"TS_DATA_DIR": str(data_dir), **env}), expect)
    assert snapshot_tree(data_dir) == before


def test_catalogue_size(record_figures) -> None:
    assert len(CASES) >= 50
    assert len(SCRIPT_CASES) == len({p.id for p in CASES} & set(SCRIPT_CASES))
    record_figures("hostile_cli", {"cases": len(CASES), "through_real_script": len(SCRIPT_CASES)})


# --- bad credentials against a real S3 endpoint ---------------------------------------------


def test_rejected_s3_credentials_fail_in_one_line_and_write_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_moto_server() as endpoint:
        bucket = create_bucket(endpoint)
        monkeypatch.setenv("TS_STORAGE_BACKEND", "s3")
        monkeypatch.setenv("TS_S3_BUCKET", bucket)
        monkeypatch.setenv("TS_S3_ENDPOINT_URL", endpoint)
        monkeypatch.setenv("TS_S3_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG1")
        monkeypatch.setenv("TS_S3_SECRET_ACCESS_KEY", "wrong-secret-wrong-secret")
        with moto_auth_enforced(endpoint):
            result = invoke(["storage", "check"])
        _check_refused(result, "access key")
        assert "wrong-secret" not in result.stderr + result.stdout
        assert moto_client(endpoint).list_objects_v2(Bucket=bucket).get("KeyCount") == 0
        monkeypatch.setenv("TS_S3_ENDPOINT_URL", f"http://127.0.0.1:{unused_local_port()}")
        _check_refused(invoke(["storage", "check"]), "s3")


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


# --- data-level hostility: bad provider bars and corrupt stored objects -----------------------

NOW = datetime(2025, 11, 24, 20, 30, tzinfo=NY)


def _good_daily() -> pd.DataFrame:
    days = pd.bdate_range(end="2025-11-24", periods=30, tz="UTC")
    close = np.linspace(20.0, 30.0, len(days))
    return pd.DataFrame({"timestamp": days, "open": close, "high": close + 1, "low": close - 1,
                         "close": close, "volume": np.full(len(days), 1000, dtype="int64")})


def _negative(f: pd.DataFrame) -> pd.DataFrame:
    f.loc[5, ["open", "low", "close"]] = [-3.0, -4.0, -3.5]
    return f


def _inverted(f: pd.DataFrame) -> pd.DataFrame:
    f.loc[7, ["high", "low"]] = [f.loc[7, "low"] - 2, f.loc[7, "high"] + 2]
    return f


def _duplicated(f: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([f, f.iloc[[10]]]).sort_values("timestamp", kind="stable"
                                                    ).reset_index(drop=True)


def _unsorted(f: pd.DataFrame) -> pd.DataFrame:
    return f.iloc[[*range(0, 12), 13, 12, *range(14, len(f))]].reset_index(drop=True)


# Served by the fake Alpha Vantage (JSON); duplicates cannot be expressed in its JSON object,
# so they come from a provider handing over frames.
BAD_BARS = {"av-negative-price": (_negative, True), "av-high-below-low": (_inverted, True),
            "frames-negative-price": (_negative, False),
            "frames-duplicate-timestamps": (_duplicated, False)}


@pytest.mark.parametrize(("spoil", "via_http"), BAD_BARS.values(), ids=BAD_BARS.keys())
@pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition
def test_bad_provider_bars_are_quarantined_never_merged(spoil, via_http, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "data")
    stored = _good_daily().iloc[:20].reset_index(drop=True)
    store.put_frame("bars/daily/BADX.parquet", stored)
    before = snapshot_tree(tmp_path / "data" / "bars")
    if via_http:
        with FakeAlphaVantage(API_KEY, now=lambda: NOW) as fake:
            fake.set_daily("BADX", spoil(_good_daily()))
            provider = AlphaVantageProvider(API_KEY, fake.url, RateLimiter(per_minute=600),
                                            timeout=5)
            report = fetch_job("daily", store, provider, NOW, Settings(), tickers=["BADX"])
    else:
        provider = FrameProvider(daily={"BADX": spoil(_good_daily())})
        report = fetch_job("daily", store, provider, NOW, Settings(), tickers=["BADX"])
    (outcome,) = report.outcomes
    assert outcome.outcome == "failed" and "BADX" in outcome.reason
    assert snapshot_tree(tmp_path / "data" / "bars") == before  # nothing merged
    quarantined = store.list_objects("quarantine/")
    assert [i.key for i in quarantined] == report.quarantined and len(quarantined) == 1


@pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition
def test_unsorted_provider_bars_are_put_in_order_not_rejected(tmp_path: Path) -> None:
    # Alpha Vantage answers newest first: order is normalised at the boundary, not an error.
    store = LocalStore(tmp_path / "data")
    provider = FrameProvider(daily={"ORDR": _unsorted(_good_daily())})
    report = fetch_job("daily", store, provider, NOW, Settings(), tickers=["ORDR"])
    assert report.outcomes[0].outcome == "ok"
    stored = store.get_frame("bars/daily/ORDR.parquet")
    assert stored["timestamp"].is_monotonic_increasing and stored["timestamp"].is_unique


@pytest.mark.usefixtures("flow_runs")  # fetch_job runs the flows' composition
def test_corrupt_stored_bars_are_reported_by_key_and_left_alone(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "data")
    key = "bars/daily/CORR.parquet"
    store.put_bytes(key, b"PAR1 this is not parquet at all PAR1")
    store.put_bytes("ledger/daily.parquet", _parquet_bytes(_good_daily())[:50])
    before = snapshot_tree(tmp_path / "data")
    report = verify_store(store, NOW, Settings())
    assert {p.key for p in report.problems if p.kind == "unreadable"} >= {key}
    provider = FrameProvider(daily={"CORR": _good_daily()})
    with pytest.raises(DataError, match=r"ledger/daily\.parquet"):
        fetch_job("daily", store, provider, NOW, Settings(), tickers=["CORR"])
    store.delete("ledger/daily.parquet")
    before = snapshot_tree(tmp_path / "data")
    fetch = fetch_job("daily", store, provider, NOW, Settings(), tickers=["CORR"])
    (outcome,) = fetch.outcomes
    assert outcome.outcome == "failed" and key in outcome.reason and "\n" not in outcome.reason
    assert store.get_bytes(key) == b"PAR1 this is not parquet at all PAR1"
    assert set(snapshot_tree(tmp_path / "data")) - set(before) <= {
        "ledger/daily.parquet", ".meta/ledger/daily.parquet"}
