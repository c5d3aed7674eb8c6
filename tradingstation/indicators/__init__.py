"""Technical indicators over wide frames (rows = bars, columns = symbols); pandas-ta is reference.

Every function takes a Series (one symbol) or a wide DataFrame (index = bar timestamps, columns =
symbols) and returns the same shape, NaN where the value is undefined, computed for every column
at once. A column is computed on that symbol's own bars: NaN cells (a symbol not yet listed, or
without a bar at a timestamp) are skipped, exactly as if pandas-ta had been called on the symbol's
bars alone. Internally each column's valid values are packed to the top of an array, computed
there, and scattered back (``_Layout``).

Intentional differences from pandas-ta 0.4 (tested in tests/test_indicators.py):

* ``true_range``/``atr``: pandas-ta adds machine epsilon (2.2e-16) to *every* high-low range of a
  series as soon as one bar has high == low; we do not. Values differ by at most ~1e-15 absolute.
* ``vwap_session``: the session is the New York calendar date of each bar (the index is UTC);
  pandas-ta groups by the date of whatever wall clock the index carries.
* ``relative_volume_by_time``, ``pivots``, ``anchored_vwap`` have no pandas-ta counterpart.
"""

from tradingstation.indicators.layout import Frame
from tradingstation.indicators.trend import (
    adv,
    atr,
    average_volume,
    ema,
    pivots,
    rma,
    rolling_max,
    rolling_min,
    rsi,
    shift_bars,
    sma,
    true_range,
)
from tradingstation.indicators.vwap import (
    anchored_vwap,
    anchored_vwap_from,
    relative_volume_by_time,
    vwap_session,
)

__all__ = [
    "Frame",
    "adv",
    "anchored_vwap",
    "anchored_vwap_from",
    "atr",
    "average_volume",
    "ema",
    "pivots",
    "relative_volume_by_time",
    "rma",
    "rolling_max",
    "rolling_min",
    "rsi",
    "shift_bars",
    "sma",
    "true_range",
    "vwap_session",
]
