"""Candlestick charts as self-contained SVG: candles, volume, overlay lines and price levels."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

OVERLAY_COLORS = ("#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
LEVEL_COLORS = {"entry": "#2563eb", "stop": "#dc2626", "target": "#16a34a"}
# Legend layout at font-size 11: a generous glyph width so estimated boxes never run into each
# other (an idea with several AVWAPs has long labels), and a row pitch above the text height.
LEGEND_CHAR_W, LEGEND_ROW_H, LEGEND_SWATCH = 7.0, 15, 14


def legend_layout(labels: list[str], left: float, right: float, top: float
                  ) -> tuple[list[tuple[float, float]], float]:
    """Place legend entries left to right, wrapping into rows, so no two boxes intersect.

    Returns:
        ``([(x, baseline y) per label], bottom)``: where each entry starts and the y below the
        last row (the price pane starts there, so the legend never covers a candle).
    """
    spots: list[tuple[float, float]] = []
    x, row = left, 0
    for label in labels:
        width = LEGEND_SWATCH + LEGEND_CHAR_W * len(label)
        if x > left and x + width > right:
            x, row = left, row + 1
        spots.append((x, top + LEGEND_ROW_H * row + 11))
        x += width + 12
    rows = row + 1 if labels else 0
    return spots, top + LEGEND_ROW_H * rows


@dataclass(frozen=True)
class _Scale:
    """Where prices and bars land in the chart's pixels."""

    left: float  # x of the plot's left edge
    right: float  # x of the plot's right edge (the price labels sit past it)
    top: float  # y of the price pane's top
    height: float  # price pane height
    lo: float  # price at the pane's bottom
    hi: float  # price at the pane's top
    step: float  # pixels per bar

    def y(self, price: float) -> float:
        """Pixel row of ``price``."""
        return self.top + (self.hi - price) / (self.hi - self.lo) * self.height

    def x(self, i: int) -> float:
        """Pixel column of the middle of bar ``i``."""
        return self.left + (i + 0.5) * self.step


def render_candles_svg(
    bars: pd.DataFrame,
    title: str,
    overlays: Mapping[str, pd.Series] | None = None,
    levels: Mapping[str, float] | None = None,
    width: int = 640,
    height: int = 320,
) -> str:
    """Draw ``bars`` (canonical columns) as an SVG candlestick chart with a volume pane.

    Args:
        bars: Canonical bars, oldest first (the last ~120 are drawn).
        title: Chart title (escaped).
        overlays: Lines aligned to ``bars`` rows (AVWAPs, EMA), by label.
        levels: Horizontal price lines by label; labels starting with ``entry``, ``stop`` or
            ``target`` get their conventional colours.
        width: Pixel width.
        height: Pixel height.

    Returns:
        An ``<svg>`` document string with every text escaped.
    """
    bars = bars.tail(120).reset_index(drop=True)
    overlays = {k: pd.Series(v).tail(len(bars)).reset_index(drop=True)
                for k, v in (overlays or {}).items()}
    levels = {k: float(v) for k, v in (levels or {}).items() if v and math.isfinite(float(v))}
    pad_l, pad_r = 8, 64
    legend, pad_t = legend_layout(list(overlays), pad_l, width - pad_r, 20)
    pad_t += 4
    price_h = int(height * 0.72) - pad_t
    vol_top = pad_t + price_h + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{pad_l}" y="15" font-weight="bold">{escape(title)}</text>',
    ]
    if bars.empty:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no data</text>')
        return "".join(parts) + "</svg>"
    lo, hi = _price_range(bars, overlays, levels)
    scale = _Scale(pad_l, width - pad_r, pad_t, price_h, lo, hi,
                   (width - pad_l - pad_r) / len(bars))
    parts += _price_grid(scale)
    parts += _candles(bars, scale, vol_top, height - vol_top - 6)
    parts += _overlay_lines(overlays, legend, scale)
    parts += _level_lines(levels, scale)
    return "".join(parts) + "</svg>"


def _price_range(bars: pd.DataFrame, overlays: Mapping[str, pd.Series],
                 levels: Mapping[str, float]) -> tuple[float, float]:
    """The prices at the bottom and top of the price pane: everything drawn, plus a margin."""
    values = [bars["low"].to_numpy(), bars["high"].to_numpy()]
    values += [s.to_numpy(dtype="float64") for s in overlays.values()]
    values.append(np.array(list(levels.values()), dtype="float64"))
    finite = np.concatenate([v[np.isfinite(v)] for v in values if len(v)])
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        hi, lo = hi + 1, lo - 1
    span = hi - lo
    return lo - span * 0.04, hi + span * 0.04


def _price_grid(scale: _Scale) -> list[str]:
    """Five horizontal grid lines with their prices at the right."""
    parts = []
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        price = scale.lo + (scale.hi - scale.lo) * frac
        y = scale.y(price)
        parts.append(
            f'<line x1="{scale.left}" x2="{scale.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#eeeeee"/><text x="{scale.right + 4}" y="{y + 4:.1f}" '
            f'fill="#666666">{price:.2f}</text>'
        )
    return parts


def _candles(bars: pd.DataFrame, scale: _Scale, vol_top: float, vol_h: float) -> list[str]:
    """One candle per bar, and its volume bar in the pane below."""
    parts = []
    x, y = scale.x, scale.y
    body_w = max(1.0, scale.step * 0.6)
    vmax = float(bars["volume"].max()) or 1.0
    for i, row in enumerate(bars.itertuples(index=False)):
        up = row.close >= row.open
        color = "#16a34a" if up else "#dc2626"
        top, bottom = y(max(row.open, row.close)), y(min(row.open, row.close))
        parts.append(
            f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(row.high):.1f}" y2="{y(row.low):.1f}" '
            f'stroke="{color}"/><rect x="{x(i) - body_w / 2:.1f}" y="{top:.1f}" '
            f'width="{body_w:.1f}" height="{max(bottom - top, 0.8):.1f}" fill="{color}"/>'
        )
        vh = row.volume / vmax * vol_h
        parts.append(
            f'<rect x="{x(i) - body_w / 2:.1f}" y="{vol_top + vol_h - vh:.1f}" '
            f'width="{body_w:.1f}" height="{vh:.1f}" fill="{color}" opacity="0.4"/>'
        )
    return parts


def _overlay_lines(overlays: Mapping[str, pd.Series], legend: list[tuple[float, float]],
                   scale: _Scale) -> list[str]:
    """Each overlay as a line (when it has two points) and its legend entry."""
    parts = []
    for n, (label, series) in enumerate(overlays.items()):
        color = OVERLAY_COLORS[n % len(OVERLAY_COLORS)]
        points = [f"{scale.x(i):.1f},{scale.y(v):.1f}" for i, v in enumerate(series)
                  if np.isfinite(v)]
        if len(points) >= 2:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{color}" '
                f'stroke-width="1.5"/>'
            )
        lx, ly = legend[n]
        parts.append(
            f'<g class="legend-item"><rect x="{lx:.1f}" y="{ly - 5:.1f}" width="10" height="3" '
            f'fill="{color}"/><text x="{lx + LEGEND_SWATCH:.1f}" y="{ly:.1f}" fill="{color}">'
            f'{escape(label)}</text></g>'
        )
    return parts


def _level_lines(levels: Mapping[str, float], scale: _Scale) -> list[str]:
    """Dashed price lines (entry, stop, targets), labelled at the right."""
    parts = []
    for label, price in levels.items():
        kind = next((k for k in LEVEL_COLORS if label.startswith(k)), "entry")
        color = LEVEL_COLORS[kind]
        y = scale.y(price)
        parts.append(
            f'<line x1="{scale.left}" x2="{scale.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{color}" stroke-dasharray="4 3"/><text x="{scale.right - 4}" '
            f'y="{y - 3:.1f}" fill="{color}" text-anchor="end" stroke="#ffffff" '
            f'stroke-width="3" paint-order="stroke">'
            f'{escape(label)} {price:.2f}</text>'
        )
    return parts
