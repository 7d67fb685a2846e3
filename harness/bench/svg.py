"""A small SVG writer for the benchmark plots: grouped horizontal bars on a log axis.

One row per app, one bar per FastAPI version, the interquartile band as a whisker, the value printed
at the bar's end, a reference line at the raw baseline (1), a title that says what is plotted and
that lower is better, and a legend: readable without the table. All text is escaped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

__all__ = ["Series", "bar_chart"]

PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C")
CHAR_W = 6.6  # px per character of 11 px sans-serif, for layout
BAR_H, BAR_GAP, ROW_GAP = 13, 2, 10
PLOT_W = 560


@dataclass
class Series:
    """One bar per category: ``values[category] = (value, low, high)``."""

    name: str
    values: dict[str, tuple[float, float, float]] = field(default_factory=dict)


def _ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks per decade; within less than a decade, 1-1.5-2-3-5-7."""
    steps = (1, 2, 5) if hi / lo > 12 else (1, 1.5, 2, 3, 5, 7)
    out = []
    for exp in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in steps:
            t = m * 10 ** exp
            if lo <= t <= hi:
                out.append(t)
    return out


def _fmt(v: float) -> str:
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def _text(x: float, y: float, s: str, size: int = 11, anchor: str = "start", weight: str = "normal",
          fill: str = "#222") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
            f'fill="{fill}">{escape(s)}</text>')


def bar_chart(title: str, subtitle: str, x_label: str, categories: list[str], series: list[Series],
              reference: float = 1.0, reference_label: str = "raw ASGI baseline = 1") -> str:
    """The SVG document (a string) of a grouped horizontal bar chart with a log x axis."""
    values = [v for s in series for v in s.values.values()]
    lo = min([reference] + [min(v[0], v[1]) for v in values]) / 1.25
    hi = max([reference] + [max(v[0], v[2]) for v in values]) * 1.3
    left = 16 + CHAR_W * max([len(c) for c in categories] + [8])
    top = 74
    row_h = len(series) * (BAR_H + BAR_GAP) + ROW_GAP
    height = top + row_h * len(categories) + 56
    width = max(left + PLOT_W + 70, 24 + 9.0 * len(title), 24 + CHAR_W * len(subtitle))  # the title must fit

    def x(v: float) -> float:
        return left + (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) * PLOT_W

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans, Arial, sans-serif">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<title>{escape(title)}</title>',
           _text(12, 22, title, 15, weight="bold"), _text(12, 40, subtitle, 11, fill="#555")]
    lx = 12.0
    for i, s in enumerate(series):  # legend
        color = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{lx:.1f}" y="51" width="12" height="12" fill="{color}"/>')
        out.append(_text(lx + 16, 61, s.name))
        lx += 28 + CHAR_W * len(s.name)
    plot_bottom = top + row_h * len(categories)
    for t in _ticks(lo, hi):  # grid and tick labels
        out.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{plot_bottom:.1f}" '
                   f'stroke="#e3e3e3" stroke-width="1"/>')
        out.append(_text(x(t), plot_bottom + 15, f"{t:g}", 10, "middle", fill="#444"))
    out.append(_text(left + PLOT_W / 2, plot_bottom + 34, x_label, 11, "middle"))
    for r, cat in enumerate(categories):
        y0 = top + r * row_h
        if r % 2:
            out.append(f'<rect x="4" y="{y0 - ROW_GAP / 2 + 1:.1f}" width="{width - 8:.0f}" height="{row_h:.0f}" '
                       f'fill="#f7f7f7"/>')
        out.append(_text(left - 8, y0 + row_h / 2 - ROW_GAP / 2 + 4, cat, 11, "end"))
        for i, s in enumerate(series):
            if cat not in s.values:
                continue
            v, low, high = s.values[cat]
            yb = y0 + i * (BAR_H + BAR_GAP)
            color = PALETTE[i % len(PALETTE)]
            out.append(f'<rect x="{x(lo):.1f}" y="{yb:.1f}" width="{max(1.0, x(v) - x(lo)):.1f}" height="{BAR_H}" '
                       f'fill="{color}"><title>{escape(f"{cat} / {s.name}: {_fmt(v)}x (IQR {_fmt(low)}-{_fmt(high)})")}'
                       f'</title></rect>')
            ym = yb + BAR_H / 2
            for x1, y1, x2, y2 in ((x(low), ym, x(high), ym), (x(low), ym - 3, x(low), ym + 3),
                                   (x(high), ym - 3, x(high), ym + 3)):  # the band, with end caps
                out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#222" '
                           f'stroke-width="1"/>')
            out.append(_text(max(x(v), x(high)) + 4, ym + 4, f"{_fmt(v)}x", 10, fill="#333"))
    xr = x(reference)
    out.append(f'<line x1="{xr:.1f}" y1="{top - 8}" x2="{xr:.1f}" y2="{plot_bottom:.1f}" stroke="#000" '
               f'stroke-width="1.5" stroke-dasharray="5,3"/>')
    out.append(_text(xr + 4, top - 10, reference_label, 10, fill="#000"))
    out.append(f'<line x1="{left:.1f}" y1="{plot_bottom:.1f}" x2="{left + PLOT_W:.1f}" y2="{plot_bottom:.1f}" '
               f'stroke="#444"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
