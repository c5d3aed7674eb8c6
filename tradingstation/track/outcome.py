"""Outcome model: what a signal would have earned, in R, from the bars that followed it.

Pure and vectorised: :func:`resolve_outcomes` takes the forward *paths* of many signals at once
(one row per signal, one column per bar, NaN-padded) and decides for every row, with numpy only:

* **Fill.** A ``triggered`` signal is filled at its entry when it was published (its path starts
  with the first bar after it). A ``watch`` signal fills on the first bar that trades through
  its entry (long: high >= entry; short: low <= entry) within ``fill_sessions`` sessions; the
  fill price is the entry, or the bar's open when the bar opens beyond it (a gap fills worse).
  Not filled within the window: ``not_filled``.
* **Exit** (from the fill bar on, for ``time_stop_sessions`` sessions counting the fill
  session): the first bar that touches the stop (long: low <= stop) or the first target (long:
  high >= target). **A bar touching both counts the stop** (bars do not say which came first;
  the conservative reading). A stop or target the bar *opens* beyond exits at the open (a gap
  through the stop loses more; a gap over the target earns more); on the fill bar itself the
  stop and target exit at their level. Neither within the window: the **time stop** exits at
  the close of the last session of the window.
* **Scale-out** (optional, ``scale_out`` > 0): that fraction closes at the first target; the
  rest runs on from the next bar with its stop at the fill price (break-even) toward the second
  target, within the same window (time stop likewise). R weighs both parts.
* **Pending.** A path that ends before the fill window or the holding window is over gives
  ``open``: not counted in statistics, filled in later as bars arrive.
* **R** = ``(exit - fill) x side / risk_per_share`` after costs: ``slippage_bps`` against the
  trade on both fills and ``commission_per_share`` on both sides; ``risk_per_share`` is the
  planned ``|entry - stop|`` (the unit the plan sizes positions in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradingstation.errors import InputError

# Outcome labels (the ``exit_reason`` column).
TARGET, STOP, TIME, NOT_FILLED, OPEN = "target", "stop", "time", "not_filled", "open"
CLOSED = (TARGET, STOP, TIME)


@dataclass(frozen=True)
class OutcomeRules:
    """The documented assumptions of the outcome model.

    Attributes:
        fill_sessions: Sessions a ``watch`` signal has to trade through its entry (counting
            the session of the first bar after the signal).
        time_stop_sessions: Sessions a filled trade is held at most (counting the fill
            session); it exits at the close of the last one.
        slippage_bps: Slippage against the trade on entry and on exit, in basis points of price.
        commission_per_share: Commission per share on each side, in dollars.
        scale_out: Fraction of the position closed at the first target (0 = off: all of it).
            The rest runs on with its stop moved to the fill price (break-even) toward the
            second target, within the same holding window.
    """

    fill_sessions: int = 1
    time_stop_sessions: int = 10
    slippage_bps: float = 5.0
    commission_per_share: float = 0.005
    scale_out: float = 0.0

    def __post_init__(self) -> None:
        for name in ("fill_sessions", "time_stop_sessions"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
                raise InputError(f"invalid {name} {value!r}: a whole number of sessions, 1-100")
        for name in ("slippage_bps", "commission_per_share"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value <= 500):
                raise InputError(f"invalid {name} {value!r}: must be in [0, 500]")
        if not (isinstance(self.scale_out, int | float) and 0 <= self.scale_out < 1):
            raise InputError(f"invalid scale_out {self.scale_out!r}: a fraction in [0, 1)")

    @property
    def horizon(self) -> int:
        """Most sessions a path needs: the fill window plus the holding window."""
        return self.fill_sessions + self.time_stop_sessions


@dataclass(frozen=True)
class Paths:
    """Forward bars of ``n`` signals, NaN-padded to ``length`` bars (arrays of shape (n, L)).

    Attributes:
        open, high, low, close: Prices (NaN where a row has no bar).
        session: Session ordinal of each bar on its row (0 = the session of the first bar
            after the signal; minute bars of one session share one ordinal); -1 on padding.
        complete: Per row, how many sessions of the path are complete (a session whose bars
            may still grow does not count).
    """

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    session: np.ndarray
    complete: np.ndarray


@dataclass(frozen=True)
class Levels:
    """What each of the ``n`` signals asks for (1-D arrays).

    Attributes:
        side: +1 long, -1 short.
        triggered: True for ``triggered`` (filled at entry), False for ``watch``.
        entry, stop: Prices.
        target: First target (NaN: none, so only the stop or the time stop can exit).
        target2: Second target, for a scale-out's rest (None or NaN: none).
    """

    side: np.ndarray
    triggered: np.ndarray
    entry: np.ndarray
    stop: np.ndarray
    target: np.ndarray
    target2: np.ndarray | None = None

    def second_target(self) -> np.ndarray:
        """``target2``, NaN where there is none."""
        if self.target2 is None:
            return np.full(len(self.entry), np.nan)
        return self.target2.astype("float64")


def _first(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first True per row, and whether there is one."""
    return mask.argmax(axis=1), mask.any(axis=1)


def _pick(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    return values[np.arange(len(index)), index]


def _exit(paths: Paths, held: np.ndarray, long: np.ndarray, stop: np.ndarray,
          target: np.ndarray, no_gap_bar: np.ndarray,
          fill_price: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First bar of ``held`` touching the stop or the target (the stop when both).

    The exit fills at the level, or at the bar's open when the bar opens beyond it, except on
    ``no_gap_bar`` (the bar a watch signal filled on: its open came before the fill).

    Returns:
        ``(exit_bar, exited, by_stop, price)`` per row.
    """
    with np.errstate(invalid="ignore"):
        stop_hit = held & np.where(long[:, None], paths.low <= stop[:, None],
                                   paths.high >= stop[:, None])
        target_hit = held & np.where(long[:, None], paths.high >= target[:, None],
                                     paths.low <= target[:, None])
        exit_bar, exited = _first(stop_hit | target_hit)
        by_stop = exited & _pick(stop_hit, exit_bar)
        bar_open = _pick(paths.open, exit_bar)
        gapped = exit_bar > no_gap_bar
        stop_price = np.where(gapped, np.where(long, np.fmin(stop, bar_open),
                                               np.fmax(stop, bar_open)), stop)
        at_target = np.where(long, np.fmax(target, fill_price), np.fmin(target, fill_price))
        target_price = np.where(gapped, np.where(long, np.fmax(target, bar_open),
                                                 np.fmin(target, bar_open)), at_target)
    return exit_bar, exited, by_stop, np.where(by_stop, stop_price, target_price)


def resolve_outcomes(paths: Paths, levels: Levels, rules: OutcomeRules) -> dict[str, np.ndarray]:
    """Fill, exit and R of every row (see the module docstring for the rules).

    Returns:
        Arrays of length n: ``exit_reason`` (str), ``filled`` (bool), ``fill_bar`` and
        ``exit_bar`` (column index on the path, -1 when none), ``fill_price``, ``exit_price``,
        ``r_gross``, ``r`` (after costs; NaN unless closed), ``held_sessions`` (sessions from
        the fill session through the exit session, both counted; NaN unless closed).
    """
    if paths.high.shape[1] == 0:  # no bar yet: one empty column keeps the arithmetic uniform
        pad = np.full((paths.high.shape[0], 1), np.nan)
        paths = Paths(pad, pad, pad, pad, np.full(pad.shape, -1), paths.complete)
    n, width = paths.high.shape
    side, long = levels.side.astype("float64"), levels.side > 0
    entry, stop, target = levels.entry, levels.stop, levels.target
    valid = ~np.isnan(paths.close)
    sess = paths.session
    col = np.arange(width)[None, :]
    with np.errstate(invalid="ignore"):
        # --- fill
        through = np.where(long[:, None], paths.high >= entry[:, None],
                           paths.low <= entry[:, None])
        through &= valid & (sess >= 0) & (sess < rules.fill_sessions)
        watch_bar, watch_filled = _first(through)
        triggered = levels.triggered.astype(bool)
        filled = triggered | watch_filled
        fill_bar = np.where(triggered, 0, np.where(watch_filled, watch_bar, -1))
        gap_open = _pick(paths.open, np.maximum(fill_bar, 0))
        watch_price = np.where(long, np.fmax(entry, gap_open), np.fmin(entry, gap_open))
        fill_price = np.where(triggered, entry, np.where(watch_filled, watch_price, np.nan))
        fill_sess = np.where(triggered, 0, _pick(sess, np.maximum(fill_bar, 0)))
        last_sess = fill_sess + rules.time_stop_sessions - 1

        # --- exit
        held = valid & filled[:, None] & (col >= fill_bar[:, None]) & (sess <= last_sess[:, None])
        held &= sess >= 0
        # A gap applies unless the exit bar is the bar a watch signal filled on.
        exit_bar, exited, by_stop, first_price = _exit(
            paths, held, long, stop, target, np.where(triggered, -1, fill_bar), fill_price)
        by_target = exited & ~by_stop

        # --- time stop: the close of the last bar of the window, once that session is complete
        in_window = np.where(held, col, -1)
        last_bar = in_window.max(axis=1)
        window_done = paths.complete >= last_sess + 1
        timed = filled & ~exited & window_done & (last_bar >= 0)
        time_price = _pick(paths.close, np.maximum(last_bar, 0))

        # --- scale-out: the rest runs on from the bar after the first target, stop at the fill
        part = rules.scale_out if rules.scale_out > 0 else 0.0
        rest_bar, rest_exited, _, rest_price = _exit(
            paths, held & (col > exit_bar[:, None]), long, fill_price, levels.second_target(),
            exit_bar, fill_price)
        scaled = by_target & (part > 0)
        rest_timed = scaled & ~rest_exited & window_done & (last_bar >= 0)
        rest_price = np.where(rest_exited, rest_price, time_price)
        rest_bar = np.where(rest_exited, rest_bar, last_bar)
        rest_open = scaled & ~rest_exited & ~rest_timed

    reason = np.full(n, OPEN, dtype=object)
    reason[by_stop] = STOP
    reason[by_target & ~rest_open] = TARGET
    reason[timed] = TIME
    reason[~filled & (paths.complete >= rules.fill_sessions)] = NOT_FILLED
    closed = by_stop | (by_target & ~rest_open) | timed
    first_exit = np.where(exited, first_price, time_price)
    # with a scale-out, the part closed at the first target, then the rest at its own exit
    share = np.where(scaled, part, 1.0)
    last_exit = np.where(scaled, rest_price, first_exit)
    exit_bar = np.where(scaled, rest_bar, np.where(exited, exit_bar, np.where(timed, last_bar, -1)))
    exit_price = np.where(closed, last_exit, np.nan)
    risk = np.abs(entry - stop)
    slip = rules.slippage_bps / 10_000.0
    with np.errstate(invalid="ignore", divide="ignore"):
        moved = share * first_exit + (1.0 - share) * last_exit
        gross = side * (moved - fill_price)
        costs = slip * (fill_price + moved) + 2.0 * rules.commission_per_share
        exit_sess = _pick(sess, np.maximum(exit_bar, 0))
        return {
            "exit_reason": reason,
            "filled": filled,
            "fill_bar": np.where(filled, fill_bar, -1),
            "exit_bar": exit_bar,
            "fill_price": np.where(filled, fill_price, np.nan),
            "exit_price": np.where(closed, exit_price, np.nan),
            "r_gross": np.where(closed, gross / risk, np.nan),
            "r": np.where(closed, (gross - costs) / risk, np.nan),
            "held_sessions": np.where(closed, exit_sess - fill_sess + 1, np.nan),
        }
