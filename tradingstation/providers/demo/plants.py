"""Planted setups of the demo market: for each screener, true setups and one-condition near-misses.

``PLANTED`` maps a setup name to its symbols; ``<name>_near_miss`` lists names that fall one
condition short. Daily setups end at the last session whose close is at or before ``now``;
Gap & Go and ORB setups live on the current session (the last session dated on or before
``now``'s New York date), so a premarket or market-hours run always sees them.

=========================  =================================================================
setup                      what is planted
=========================  =================================================================
gap_and_go                 gap +5.5-7.5 % / +7-9 % from 04:00 on, 1.3 M premarket shares
                           (120 k in the first minute); opens over the premarket high
gap_and_go_near_miss       GPSH: gap held at 3.8-3.9 %; THIN: gap +7 % on < 60 k shares
orb                        +2.5 % premarket move, 15-min range, 09:47 close above it on 3x
                           the range's average minute volume, trend up after
orb_near_miss              ORBW: 09:47 poke above on 1.1x volume then back inside the range;
                           ORBL: clean breakout but ATR14 about $0.20 (< $0.50)
breakout                   uptrend, 14-session base (depth ~7 %), close 3 % over the base high
                           on ~3x the 50-day volume
breakout_near_miss         BSHT: only a 4-session base after a 22 % range day;
                           BLOV: same breakout on 1.2x volume
ema_pullback               uptrend, 4-day pullback, low under EMA21, bullish close above it
ema_pullback_near_miss     EMAD: same candle in a downtrend (close < SMA50, EMA falling);
                           EMAF: uptrend pullback that stops 3 % above the EMA
exhaustion_reversal        XHST: 9 up days then a gap-up reversal closing in the low 15 % on
                           4x volume (short); XHSB: the mirror image (long)
exhaustion_reversal_near_  XHSV: the XHST pattern on 1.8x volume; XHSM: the XHST pattern
miss                       closing mid-range
avwap_reclaim              uptrend, +5 % gap day on 5x volume (anchor) 14 sessions back, a
                           dip below its AVWAP, close back 1.2 % above on 2.5x volume
avwap_reclaim_near_miss    AVWN: the same dip, but the last session only tests the AVWAP
                           (high just under it) and closes lower
=========================  =================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tradingstation.providers.demo.intraday_plants import gap_premarket, orb_regular
from tradingstation.providers.demo.series import DailyWindow
from tradingstation.providers.demo.universe import Profile

PLANTED: dict[str, list[str]] = {
    "gap_and_go": ["GPUP", "LEAP"],
    "gap_and_go_near_miss": ["GPSH", "THIN"],
    "orb": ["ORBX", "RNGE"],
    "orb_near_miss": ["ORBW", "ORBL"],
    "breakout": ["BRKO", "BASE"],
    "breakout_near_miss": ["BSHT", "BLOV"],
    "ema_pullback": ["EMAP", "PULB"],
    "ema_pullback_near_miss": ["EMAD", "EMAF"],
    "exhaustion_reversal": ["XHST", "XHSB"],
    "exhaustion_reversal_near_miss": ["XHSV", "XHSM"],
    "avwap_reclaim": ["RCLM", "AVWR"],
    "avwap_reclaim_near_miss": ["AVWN"],
}

# Pinned (level $, daily sigma, typical volume) of each planted name.
PROFILES: dict[str, tuple[float, float, float]] = {
    "GPUP": (28, 0.025, 3e6), "LEAP": (45, 0.025, 3e6), "GPSH": (36, 0.025, 3e6),
    "THIN": (22, 0.025, 8e5), "ORBX": (85, 0.022, 6e6), "RNGE": (62, 0.022, 6e6),
    "ORBW": (74, 0.022, 5e6), "ORBL": (12, 0.008, 3e6), "BRKO": (48, 0.018, 2.5e6),
    "BASE": (115, 0.018, 2.5e6), "BSHT": (52, 0.018, 2.5e6), "BLOV": (70, 0.018, 2.5e6),
    "EMAP": (64, 0.014, 2e6), "PULB": (140, 0.014, 2e6), "EMAD": (58, 0.014, 2e6),
    "EMAF": (90, 0.014, 2e6), "XHST": (38, 0.018, 2e6), "XHSB": (55, 0.018, 2e6),
    "XHSV": (42, 0.018, 2e6), "XHSM": (47, 0.018, 2e6), "RCLM": (72, 0.015, 2e6),
    "AVWR": (33, 0.015, 2e6), "AVWN": (50, 0.015, 2e6),
}

PLANTED_SYMBOLS: list[str] = [s for names in PLANTED.values() for s in names]
SETUP_OF: dict[str, str] = {s: name for name, names in PLANTED.items() for s in names}


class _Tail:
    """Writes a planted pattern over the last sessions of a window ending at index ``end``."""

    def __init__(self, w: DailyWindow, end: int, length: int, rng: np.random.Generator,
                 profile: Profile) -> None:
        self.w, self.end, self.rng, self.p = w, end, rng, profile
        self.start = end - length + 1
        self.i = self.start
        self.old_close = float(w.close[end])

    @property
    def last(self) -> float:
        return float(self.w.close[self.i - 1])

    def bar(self, o: float, h: float, lo: float, c: float, vmult: float) -> None:
        """Append one explicit bar."""
        w, i = self.w, self.i
        w.open[i], w.close[i], w.after[i] = o, c, c
        w.high[i], w.low[i] = max(h, o, c), min(lo, o, c)
        w.volume[i] = self.p.volume * vmult
        self.i += 1

    def walk(self, n: int, drift: float, vol: float, vmult: float = 1.0) -> None:
        """Append ``n`` sessions of a noisy trend."""
        for _ in range(n):
            z = self.rng.standard_normal(5)
            c = self.last * np.exp(drift + vol * z[0])
            o = self.last * np.exp(0.3 * vol * z[1])
            h = max(o, c) * np.exp(0.5 * vol * abs(z[2]))
            lo = min(o, c) * np.exp(-0.5 * vol * abs(z[3]))
            self.bar(o, h, lo, c, vmult * np.exp(0.2 * z[4]))

    def closes(self) -> pd.Series:
        return pd.Series(self.w.close[: self.i])

    def avg_volume(self, n: int) -> float:
        return float(np.mean(self.w.volume[self.i - n: self.i]))

    def finish(self) -> None:
        """Rescale the sessions after the pattern so the series continues without a jump."""
        assert self.i == self.end + 1, "planted pattern length mismatch"
        factor = float(self.w.close[self.end]) / self.old_close
        for name in ("open", "high", "low", "close", "after"):
            getattr(self.w, name)[self.end + 1:] *= factor


def _ema(closes: pd.Series, span: int = 21) -> pd.Series:
    return closes.ewm(span=span, adjust=False).mean()


def _breakout(t: _Tail, base_days: int, vol_ratio: float, wide_day: bool) -> None:
    climb_from = t.i
    t.walk(t.end - t.start + 1 - base_days - 1 - int(wide_day), 0.0025, 0.015)
    mid = t.last
    top, bottom = mid * 1.03, mid * 0.96
    # The climb stays under the base top, so the base high is the level the breakout clears.
    w = t.w
    for name, cap in (("high", 0.998), ("open", 0.99), ("close", 0.99)):
        getattr(w, name)[climb_from: t.i] = np.minimum(getattr(w, name)[climb_from: t.i],
                                                       top * cap)
    w.low[climb_from: t.i] = np.minimum(w.low[climb_from: t.i],
                                        np.minimum(w.open, w.close)[climb_from: t.i])
    w.after[climb_from: t.i] = w.close[climb_from: t.i]
    if wide_day:  # a 22 % range day right before a short base
        t.bar(mid, mid * 1.12, mid * 0.90, mid * 0.995, 2.0)
    for k in range(base_days):
        z = t.rng.uniform(-1, 1, 4)
        c = mid * (1 + 0.012 * z[0])
        o = mid * (1 + 0.012 * z[1])
        h = top if k == base_days // 2 else min(top, max(o, c) * (1 + 0.006 * abs(z[2])))
        lo = bottom if k == 1 else max(bottom, min(o, c) * (1 - 0.006 * abs(z[3])))
        t.bar(o, h, lo, c, 0.7)
    avg = t.avg_volume(50)
    close = top * 1.03
    t.bar(mid * 1.01, close * 1.004, mid * 1.0, close, vol_ratio * avg / t.p.volume)


def _ema_pullback(t: _Tail, drift: float, stop_above: float) -> None:
    t.walk(t.end - t.start + 1 - 5, drift, 0.010)
    # Four sessions drifting toward the EMA (toward it from below in a downtrend).
    for _ in range(4):
        ema = float(_ema(t.closes()).iloc[-1])
        target = ema * (1 + stop_above + 0.006) if drift > 0 else ema * 0.994
        c = t.last + (target - t.last) * 0.5
        o = t.last * (1 + 0.002 * t.rng.standard_normal())
        t.bar(o, max(o, c) * 1.004, min(o, c) * 0.996, c, 0.7)
    ema = float(_ema(t.closes()).iloc[-1])
    c = max(ema * (1 + stop_above + 0.018), t.last * 1.004)
    o = ema * (1 + stop_above + 0.003)
    ema_today = ema + (c - ema) * 2 / 22
    lo = ema_today * (0.993 + stop_above)
    t.bar(o, c * 1.004, lo, c, 1.2)


def _exhaustion(t: _Tail, up: bool, vol_ratio: float, close_frac: float) -> None:
    t.walk(t.end - t.start + 1 - 10, 0.0, 0.012)
    sign = 1 if up else -1
    for _ in range(9):
        c = t.last * np.exp(sign * 0.032)
        o = t.last * np.exp(sign * 0.004)
        t.bar(o, max(o, c) * 1.003, min(o, c) * 0.997, c, 1.4)
    avg = t.avg_volume(20)
    prev = t.last
    o = prev * (1 + 0.02 * sign)
    extreme = o * (1 + 0.025 * sign)
    other = prev * (1 - 0.035 * sign)
    h, lo = (extreme, other) if up else (other, extreme)
    # close_frac = distance of the close from the reversal side of the range, as a fraction.
    c = lo + close_frac * (h - lo) if up else h - close_frac * (h - lo)
    t.bar(o, h, lo, c, vol_ratio * avg / t.p.volume)


def _avwap(t: _Tail, anchor: int) -> float:
    return _avwap_to(t, anchor, t.i)


def _avwap_reclaim(t: _Tail, reclaim: bool) -> None:
    t.walk(t.end - t.start + 1 - 15, 0.003, 0.012)
    anchor = t.i
    prev = t.last
    t.bar(prev * 1.05, prev * 1.075, prev * 1.04, prev * 1.065, 5.0)
    t.walk(5, 0.008, 0.006, 1.5)
    # Four sessions slide under the anchored VWAP, four more stay under it.
    for k in range(8):
        c = t.last * 0.985 if k < 4 else min(t.last * 0.997, _avwap(t, anchor) * 0.985)
        o = t.last * 0.998
        t.bar(o, max(o, c) * 1.004, min(o, c) * 0.996, c, 0.9)
    o = t.last * 1.003
    if not reclaim:  # a failed test: up to just under the AVWAP, then a lower close
        level = _avwap(t, anchor)
        c = t.last * 0.995
        t.bar(o, level * 0.998, c * 0.995, c, 2.5)
        return
    c = t.last
    for _ in range(4):  # today's bar moves the AVWAP a little: iterate to the fixed point
        t.bar(o, c * 1.005, o * 0.993, c, 2.5)
        t.i -= 1
        c = _avwap_to(t, anchor, t.i + 1) * 1.012
    t.bar(o, c * 1.005, o * 0.993, c, 2.5)


def _avwap_to(t: _Tail, anchor: int, stop: int) -> float:
    w = t.w
    tp = (w.high[anchor:stop] + w.low[anchor:stop] + w.close[anchor:stop]) / 3
    vol = w.volume[anchor:stop]
    return float((tp * vol).sum() / vol.sum())


def _daily_plant(setup: str, symbol: str) -> tuple[int, Callable[[_Tail], None]]:
    """(pattern length, writer) of a daily planted symbol."""
    table: dict[str, tuple[int, Callable[[_Tail], None]]] = {
        "BRKO": (110, lambda t: _breakout(t, 14, 3.0, False)),
        "BASE": (110, lambda t: _breakout(t, 12, 2.8, False)),
        "BSHT": (110, lambda t: _breakout(t, 4, 3.0, True)),
        "BLOV": (110, lambda t: _breakout(t, 14, 1.2, False)),
        "EMAP": (110, lambda t: _ema_pullback(t, 0.0045, 0.0)),
        "PULB": (110, lambda t: _ema_pullback(t, 0.0040, 0.0)),
        "EMAD": (110, lambda t: _ema_pullback(t, -0.0045, 0.0)),
        "EMAF": (110, lambda t: _ema_pullback(t, 0.0045, 0.03)),
        "XHST": (90, lambda t: _exhaustion(t, True, 4.0, 0.15)),
        "XHSB": (90, lambda t: _exhaustion(t, False, 4.0, 0.15)),
        "XHSV": (90, lambda t: _exhaustion(t, True, 1.8, 0.15)),
        "XHSM": (90, lambda t: _exhaustion(t, True, 4.0, 0.55)),
        "RCLM": (130, lambda t: _avwap_reclaim(t, True)),
        "AVWR": (130, lambda t: _avwap_reclaim(t, True)),
        "AVWN": (130, lambda t: _avwap_reclaim(t, False)),
    }
    return table[symbol]


def apply_plants(symbol: str, profile: Profile, window: DailyWindow, last_done: int,
                 current: int, regular_minutes: int, rng: np.random.Generator,
                 seed_key: int) -> None:
    """Write ``symbol``'s planted setup (if any) into ``window`` in place.

    Args:
        symbol: The symbol.
        profile: Its profile.
        window: Its daily window (unrounded), changed in place.
        last_done: Window index of the last completed session (daily setups end here).
        current: Window index of the current session (Gap & Go and ORB live here).
        regular_minutes: Regular-session minutes of the current session (390, or 210).
        rng: Generator for the pattern noise.
        seed_key: Seed for the planted intraday minutes of the current session.
    """
    setup = SETUP_OF.get(symbol)
    if setup is None:
        return
    base = setup.removesuffix("_near_miss")
    if base in ("gap_and_go", "orb"):
        _intraday_plant(symbol, profile, window, current, regular_minutes, rng, seed_key)
        return
    length, writer = _daily_plant(base, symbol)
    tail = _Tail(window, last_done, length, rng, profile)
    writer(tail)
    tail.finish()


def _intraday_plant(symbol: str, profile: Profile, w: DailyWindow, i: int, nreg: int,
                    rng: np.random.Generator, seed_key: int) -> None:
    prev = float(w.close[i - 1])
    w.after[i - 1] = prev
    spec: dict[str, Any] = {}
    if symbol in PLANTED["gap_and_go"] + PLANTED["gap_and_go_near_miss"]:
        band = {"GPUP": (0.055, 0.075), "LEAP": (0.07, 0.09), "GPSH": (0.038, 0.039),
                "THIN": (0.06, 0.08)}[symbol]
        volume, first = (45_000, 3_000) if symbol == "THIN" else (1_300_000, 120_000)
        args = {"prev_close": prev, "band": band, "volume": volume, "first": first,
                "decimals": profile.decimals}
        spec["premarket"] = {"build": gap_premarket, "args": args}
        if symbol in PLANTED["gap_and_go"]:
            # Opens over the premarket range and holds above it: the setup triggers at once.
            o = round(prev * (1 + band[1] + 0.004), profile.decimals)
            _plant_regular(w, i, spec, {"seed_key": seed_key, "o": o, "n": nreg, "mode": "go",
                                        "volume": profile.volume * 3.0, "width": 0.003,
                                        "decimals": profile.decimals})
        else:  # the open stays inside the near-miss band too
            o = prev * (1 + band[1] - 0.002)
            c = o * np.exp(0.01 * rng.standard_normal())
            w.open[i], w.close[i] = o, c
            w.high[i] = max(o, c) * (1 + 0.015 * abs(rng.standard_normal()))
            w.low[i] = min(o, c) * (1 - 0.015 * abs(rng.standard_normal()))
            w.volume[i] = profile.volume * 3.0
    else:
        o = round(prev * 1.025, profile.decimals)
        _plant_regular(w, i, spec, {"seed_key": seed_key, "o": o, "n": nreg,
                                    "mode": "weak" if symbol == "ORBW" else "go",
                                    "volume": profile.volume * 1.8, "decimals": profile.decimals})
        pre_args = {"prev_close": prev, "band": (0.022, 0.028), "volume": 350_000,
                    "first": 8_000, "decimals": profile.decimals}
        spec["premarket"] = {"build": gap_premarket, "args": pre_args}
    w.specs[i] = spec


def _plant_regular(w: DailyWindow, i: int, spec: dict[str, Any], args: dict[str, Any]) -> None:
    """Plant an ORB-shaped regular session and make the daily bar its exact aggregation."""
    spec["regular"] = {"build": orb_regular, "args": args}
    bars = orb_regular(**args)
    w.open[i], w.close[i] = bars["open"][0], bars["close"][-1]
    w.high[i], w.low[i] = bars["high"].max(), bars["low"].min()
    w.volume[i] = bars["volume"].sum()
