"""Which watchlist symbols a market cycle fetches 1-min bars for (issue 18 #4).

A market cycle quotes the whole watchlist in bulk (session quotes, 100 symbols a call) and
builds each symbol's developing daily bar from its quote
(:func:`tradingstation.data.point_in_time.quote_daily_bar`): Breakout, EMA Pullback and AVWAP
Reclaim read that bar. It fetches 1-min bars only for the symbols a screener needs minutes of:

* **ORB candidates** (:meth:`OpeningRangeBreakout.in_play`), within the ORB window only (up to
  ORB's expiry, 11:30 New York: :func:`orb_window_open`): the symbols passing ORB's daily
  filters (price > 5, 14-day ADV >= 1 M, ATR14 > 0.50) that moved at least ``watch_min_gap``
  (2 %) from the prior close at their newest premarket quote or their newest session quote.
  ORB needs their minutes for the opening range, its breakout bar and the range's relative
  volume. After the window the market cycle does not run ORB (an ORB idea is no longer
  actionable: the watcher expires it then), so the session's ORB signals stay as its last
  cycle in the window published them.
* **AVWAP Reclaim confirmations**: the symbols AVWAP Reclaim, run on the quote-built bar with
  ``min_score`` 0, reports as reclaiming an anchored VWAP (closed below it within
  ``reclaim_days`` sessions, the session quote now above it). Their bar is rebuilt from the
  complete 1-min bars (the last complete minute's close, the regular session's volume minute by
  minute), so a reclaim is confirmed on minute bars before it is reported.

Everything here is a function of the data as known at ``as_of`` (quotes and bars stamped at or
before it), so a replay at ``as_of`` picks the same symbols as the live cycle did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tradingstation.live.triggers import expiry_for
from tradingstation.screeners.avwap_reclaim import AvwapReclaim
from tradingstation.screeners.base import ScreenInput
from tradingstation.screeners.orb import OpeningRangeBreakout


@dataclass(frozen=True)
class MinuteNeeds:
    """The symbols a market cycle fetches 1-min bars for, by the screener that needs them.

    Attributes:
        orb: ORB candidates.
        avwap_reclaim: AVWAP Reclaim reclaims to confirm on minute bars.
    """

    orb: list[str]
    avwap_reclaim: list[str]

    @property
    def symbols(self) -> list[str]:
        """Every symbol needing 1-min bars, sorted."""
        return sorted({*self.orb, *self.avwap_reclaim})

    def summary(self) -> str:
        """One line for the run summary."""
        return (f"1-min bars for {len(self.symbols)} symbols: {len(self.orb)} ORB candidates, "
                f"{len(self.avwap_reclaim)} AVWAP reclaims to confirm; the rest of the "
                "watchlist screened on session quotes")


def orb_window_open(session: date, as_of: datetime) -> bool:
    """Whether a market cycle at ``as_of`` still runs ORB.

    Until ORB's expiry (11:30 New York, :data:`tradingstation.live.triggers.EXPIRY_TIMES`, the close
    on a half day before it).
    """
    return as_of <= expiry_for(["orb"], session)


def minute_needs(data: ScreenInput, watchlist: Sequence[str]) -> MinuteNeeds:
    """The watchlist symbols needing 1-min bars at ``data.as_of`` (see the module docstring).

    Args:
        data: The screening input built from quotes only: ``daily`` (the watchlist's is
            enough), ``quotes`` (premarket), ``session_quotes``; ``intraday_1min`` None, so
            every developing bar comes from the session quotes.
        watchlist: The session's watchlist; symbols outside it are never picked.
    """
    wanted = set(watchlist)
    orb = ([s for s in OpeningRangeBreakout().in_play(data) if s in wanted]
           if orb_window_open(data.session, data.as_of) else [])
    reclaims = AvwapReclaim().screen(data, min_score=0.0)
    avwap = sorted({s.symbol for s in reclaims if s.symbol in wanted})
    return MinuteNeeds(orb=orb, avwap_reclaim=avwap)
