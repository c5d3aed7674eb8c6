"""Equity curves in R as self-contained SVG: one line per screener over the exit dates."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import numpy as np
import pandas as pd

from tradingstation.dashboard.charts import OVERLAY_COLORS


def render_equity_svg(curves: Mapping[str, pd.Series], title: str, width: int = 640,
                      height: int = 300) -> str:
    """Cumulative R of each screener (a Series indexed by exit date) on one shared date axis.

    Returns:
        An ``<svg>`` document string with every text escaped; "no closed trades" when empty.
    """
    pad_l, pad_r, pad_t, pad_b = 8, 64, 24, 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{pad_l}" y="15" font-weight="bold">{escape(title)}</text>',
    ]
    curves = {k: v.dropna() for k, v in curves.items() if len(v.dropna())}
    if not curves:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">'
                     "no closed trades yet</text>")
        return "".join(parts) + "</svg>"
    stamps = np.concatenate([pd.DatetimeIndex(v.index).asi8 for v in curves.values()])
    t0, t1 = int(stamps.min()), int(stamps.max())
    values = np.concatenate([v.to_numpy("float64") for v in curves.values()] + [np.zeros(1)])
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        hi, lo = hi + 1, lo - 1
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b

    def x(stamp: int) -> float:
        return pad_l + (stamp - t0) / max(t1 - t0, 1) * plot_w

    def y(value: float) -> float:
        return pad_t + (hi - value) / (hi - lo) * plot_h

    for value in np.linspace(lo, hi, 5):
        parts.append(f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="#eeeeee"/><text x="{width - pad_r + 4}" '
                     f'y="{y(value) + 4:.1f}" fill="#666666">{value:+.1f}R</text>')
    parts.append(f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
                 'stroke="#9ca3af"/>')
    for label, stamp in (("start", t0), ("end", t1)):
        anchor = "start" if label == "start" else "end"
        parts.append(f'<text x="{x(stamp):.1f}" y="{height - 6}" text-anchor="{anchor}" '
                     f'fill="#666666">{pd.Timestamp(stamp).date().isoformat()}</text>')
    for n, (name, series) in enumerate(sorted(curves.items())):
        color = OVERLAY_COLORS[n % len(OVERLAY_COLORS)]
        xs = pd.DatetimeIndex(series.index).asi8
        points = [f"{x(int(s)):.1f},{y(float(v)):.1f}"
                  for s, v in zip(xs, series.to_numpy("float64"), strict=True)]
        if len(points) == 1:
            points.append(points[0])
        parts.append(f'<polyline class="equity" points="{" ".join(points)}" fill="none" '
                     f'stroke="{color}" stroke-width="1.5"/>')
        parts.append(f'<text x="{pad_l + 4}" y="{pad_t + 12 + 12 * n}" fill="{color}">'
                     f'{escape(name)} {float(series.iloc[-1]):+.1f}R</text>')
    return "".join(parts) + "</svg>"
