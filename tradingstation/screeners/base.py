"""Screener contract: the screening input, the Screener base class and the signal builder."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from tradingstation.calendar import NY
from tradingstation.data import point_in_time
from tradingstation.data.panel import Panel
from tradingstation.errors import InputError
from tradingstation.signals import Signal, make_signal_id


@dataclass(frozen=True)
class ScreenInput:
    """Everything a screener may look at, read once for the whole universe.

    Attributes:
        session: The trading session being screened (New York calendar date).
        as_of: The moment of the screen (UTC, tz-aware). Nothing newer is looked at: the
            inputs are cut to ``as_of`` on construction (:mod:`tradingstation.data.point_in_time`),
            so every screener sees exactly what existed at ``as_of``.
        daily: Daily bars (timestamp = session date 00:00 UTC). A bar counts only once its
            session has closed at ``as_of``; during ``session`` today's bar is built from
            ``intraday_1min``, or from ``session_quotes`` for a symbol without 1-min bars of
            the session. Bars dated after ``session`` are ignored.
        intraday_1min: Extended-hours 1-min bars (may span several sessions), or None.
        quotes: Premarket quotes, columns ``symbol, timestamp, price, volume``, or None (what
            ORB and Gap & Go read for a price before the open).
        session_quotes: Session quotes (``SESSION_QUOTE_COLUMNS``: the regular session's open,
            running high/low and volume), or None: the market cycle's source of today's
            developing daily bar for the symbols it fetches no 1-min bars for.
        anchors: AVWAP anchors from :func:`tradingstation.anchors.find_anchors`, or None
            (screeners that need them compute them from ``daily``). Only anchors dated
            before ``session`` are kept.
        demo: True when the data comes from the demo market; copied onto every signal.
        volume_profiles: Stored premarket volume profiles by symbol
            (:func:`tradingstation.data.volume_profile.load_volume_profiles`): the sessions
            older than the 1-min bars still hold, for Gap & Go's relative volume. Only sessions
            before ``session`` are used.
    """

    session: date
    as_of: datetime
    daily: Panel
    intraday_1min: Panel | None = None
    quotes: pd.DataFrame | None = None
    anchors: pd.DataFrame | None = None
    demo: bool = False
    volume_profiles: Mapping[str, pd.DataFrame] | None = None
    session_quotes: pd.DataFrame | None = None
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.session, date) or isinstance(self.session, datetime):
            raise InputError(f"screen session must be a date, got {self.session!r}")
        if not isinstance(self.as_of, datetime) or self.as_of.tzinfo is None:
            raise InputError("screen as_of must be a timezone-aware datetime (UTC)")
        # The one place a screen's inputs are cut to what existed at as_of (frozen: set once).
        cut = {
            "daily": point_in_time.cut_daily(self.daily, self.as_of),
            "intraday_1min": None if self.intraday_1min is None
            else point_in_time.cut_intraday(self.intraday_1min, self.as_of),
            "quotes": point_in_time.cut_quotes(self.quotes, self.as_of),
            "session_quotes": point_in_time.cut_quotes(self.session_quotes, self.as_of),
            "anchors": point_in_time.cut_anchors(self.anchors, self.session),
        }
        for name, value in cut.items():
            object.__setattr__(self, name, value)

    def memo[T](self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per input and ``key``.

        Several screeners of one screen share the daily view and its ATR. The inputs are fixed after
        the as-of cut, so a value cannot go stale; callers must not mutate what they get.
        """
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def as_of_ts(self) -> pd.Timestamp:
        """``as_of`` as a UTC pandas Timestamp."""
        return pd.Timestamp(self.as_of).tz_convert("UTC")


class ScreenerParams(BaseModel):
    """Base of every screener's parameter model.

    Unknown names are errors, values immutable, numbers finite (``inf`` would silently turn a bound
    off, ``nan`` every comparison false).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _param_error(screener: str, exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    name = ".".join(str(p) for p in err.get("loc", ())) or "parameters"
    if err.get("type") == "extra_forbidden":
        return InputError(f"{screener}: unknown parameter {name!r}")
    value = err.get("input")
    shown = "" if isinstance(value, dict) else f" (got {str(value)[:30]!r})"
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return InputError(f"{screener}: invalid {name}{shown}: {message}")


class Screener(ABC):
    """One screening strategy, computed for the whole universe at once.

    Subclasses set ``name``, ``params_model`` (a :class:`ScreenerParams` subclass whose field
    constraints are the validation ranges) and ``summary``, and implement :meth:`find`.
    Conditions are computed as wide frames / per-symbol vectors; Signals are built only for the
    symbols that pass.
    """

    name: ClassVar[str]
    params_model: ClassVar[type[ScreenerParams]]
    summary: ClassVar[str] = ""

    def parse_params(self, **params: Any) -> ScreenerParams:
        """Validate parameters (``None`` means "use the default").

        Raises:
            InputError: one line naming the bad parameter and the allowed range.
        """
        given = {k: v for k, v in params.items() if v is not None}
        try:
            return self.params_model(**given)
        except ValidationError as exc:
            raise _param_error(self.name, exc) from None

    def screen(self, data: ScreenInput, **params: Any) -> list[Signal]:
        """Run the screen; signals sorted by score (best first), then symbol.

        Raises:
            InputError: on a bad parameter (before anything is computed).
        """
        parsed = self.parse_params(**params)
        return rank_signals(self.find(data, parsed))

    @abstractmethod
    def find(self, data: ScreenInput, params: Any) -> list[Signal]:
        """Compute the signals for validated ``params``."""


# ---------------------------------------------------------------------------------------------
# Signal building


def rank_signals(signals: Iterable[Signal]) -> list[Signal]:
    """A screen's signals in the order it reports them: by score (best first), then symbol."""
    return sorted(signals, key=lambda s: (-s.score, s.symbol, s.direction))


def round_price(value: float) -> float:
    """Round a price to cents."""
    return round(float(value) + 0.0, 2)


@dataclass(frozen=True)
class Setup:
    """The tradeable numbers of one signal as a screener computed them.

    The tradeable numbers of one signal as a screener computed them (before :func:`build_signal`
    rounds and checks them); the screener's text is written around it.

    ``targets`` None means the default 1R/2R/3R targets.
    """

    symbol: str
    direction: Literal["long", "short"]
    score: float
    entry: float
    stop: float
    trigger: str
    targets: Sequence[float] | None = None


@dataclass(frozen=True)
class Levels:
    """A signal's cent-rounded entry, stop, risk per share and targets (nearest first)."""

    entry: float
    stop: float
    risk: float
    targets: list[float]


def signal_levels(direction: Literal["long", "short"], entry: float, stop: float,
                  targets: Iterable[float] | None = None,
                  r_multiples: Sequence[float] = (1.0, 2.0, 3.0)) -> Levels | None:
    """The rounded levels of a setup, or None when it has no defined risk.

    The rounded levels of a setup, or None when it has no defined risk (see :func:`build_signal`).
    """
    entry_r, stop_r = round_price(entry), round_price(stop)
    sign = 1.0 if direction == "long" else -1.0
    risk = round((entry_r - stop_r) * sign, 2)
    if not (math.isfinite(entry_r) and math.isfinite(stop_r)) or risk <= 0 or stop_r <= 0:
        return None
    if targets is None:
        levels = [entry_r + sign * k * risk for k in r_multiples]
    else:
        levels = [t for t in targets if t is not None and math.isfinite(float(t))]
    picked = sorted(
        {round_price(t) for t in levels if (round_price(t) - entry_r) * sign > 0},
        key=lambda t: (t - entry_r) * sign,
    )
    return Levels(entry_r, stop_r, risk, picked)


def signal_score(score: float) -> float:
    """A signal's score: clipped to 0-10, one decimal."""
    return round(min(10.0, max(0.0, float(score))), 1)


def build_signal(
    *,
    screener: str,
    symbol: str,
    data: ScreenInput,
    direction: Literal["long", "short"],
    status: Literal["watch", "triggered"],
    score: float,
    entry: float,
    stop: float,
    trigger: str,
    reasons: Sequence[str],
    metrics: Mapping[str, Any],
    data_as_of: datetime | pd.Timestamp | None,
    targets: Iterable[float] | None = None,
    r_multiples: Sequence[float] = (1.0, 2.0, 3.0),
    timestamp: datetime | pd.Timestamp | None = None,
) -> Signal | None:
    """Build a Signal with cent-rounded prices, or None when it is not tradeable.

    ``risk_per_share`` is ``|entry - stop|`` after rounding; a setup whose stop rounds onto
    (or past) its entry has no defined risk and is dropped (None). Without explicit
    ``targets`` the targets are ``entry ± k·risk`` for k in ``r_multiples`` (1R/2R/3R).
    Explicit targets on the wrong side of entry are dropped; what remains is ordered nearest
    first. The id is ``make_signal_id(screener, symbol, session, trigger)``.
    """
    levels = signal_levels(direction, entry, stop, targets, r_multiples)
    if levels is None:
        return None
    clean = {
        k: round(float(v), 6)
        for k, v in metrics.items()
        if v is not None and math.isfinite(float(v))
    }
    as_of = data.as_of_ts if data_as_of is None else pd.Timestamp(data_as_of)
    when = data.as_of_ts if timestamp is None else pd.Timestamp(timestamp)
    return Signal(
        id=make_signal_id(screener, symbol, data.session, trigger),
        screener=screener,
        symbol=symbol,
        session=data.session,
        timestamp=when.to_pydatetime(),
        direction=direction,
        status=status,
        score=signal_score(score),
        entry=levels.entry,
        stop=levels.stop,
        targets=levels.targets,
        risk_per_share=levels.risk,
        reasons=list(reasons),
        metrics=clean,
        data_as_of=as_of.to_pydatetime(),
        demo=data.demo,
    )


def build_setup(setup: Setup, *, screener: str, data: ScreenInput, reasons: Sequence[str],
                metrics: Mapping[str, Any], data_as_of: datetime | pd.Timestamp | None,
                status: Literal["watch", "triggered"] = "triggered") -> Signal | None:
    """:func:`build_signal` of a :class:`Setup`."""
    return build_signal(screener=screener, symbol=setup.symbol, data=data,
                        direction=setup.direction, status=status, score=setup.score,
                        entry=setup.entry, stop=setup.stop, trigger=setup.trigger,
                        reasons=reasons, metrics=metrics, data_as_of=data_as_of,
                        targets=setup.targets)


# ---------------------------------------------------------------------------------------------
# Scoring and formatting


def ramp(value: Any, low: float, high: float, points: float) -> Any:
    """``points`` scaled linearly from 0 at ``low`` to ``points`` at ``high`` (clipped).

    Works on scalars, numpy arrays and pandas objects; NaN scores 0.
    """
    span = (high - low) if high != low else 1.0
    scaled = np.clip((np.asarray(value, dtype="float64") - low) / span, 0.0, 1.0)
    result = np.nan_to_num(scaled, nan=0.0) * points
    if isinstance(value, pd.Series):
        return pd.Series(result, index=value.index)
    return float(result) if np.ndim(result) == 0 else result


def fmt_volume(value: float) -> str:
    """Compact share count: ``950``, ``412k``, ``1.2M``, ``3.4B``."""
    v = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(v) >= size:
            return f"{v / size:.1f}{suffix}"
    if abs(v) >= 1e3:
        return f"{v / 1e3:.0f}k"
    return f"{v:.0f}"


def fmt_pct(fraction: float, digits: int = 1) -> str:
    """Signed percentage of a fraction: ``0.062`` → ``+6.2%``."""
    return f"{float(fraction) * 100:+.{digits}f}%"


def fmt_price(value: float) -> str:
    """Price with cents: ``101.3`` → ``101.30``."""
    return f"{float(value):.2f}"


def fmt_mult(value: float) -> str:
    """Multiple: ``3.42`` → ``3.4x``."""
    return f"{float(value):.1f}x"


def fmt_time(ts: datetime | pd.Timestamp) -> str:
    """New York wall-clock time ``HH:MM`` of a UTC timestamp."""
    return pd.Timestamp(ts).tz_convert(NY).strftime("%H:%M")


def fmt_date(ts: datetime | pd.Timestamp | date) -> str:
    """ISO date of a timestamp or date."""
    if type(ts) is date:  # anchor dates, one per AVWAP signal: no Timestamp needed
        return ts.isoformat()
    return pd.Timestamp(ts).strftime("%Y-%m-%d")
