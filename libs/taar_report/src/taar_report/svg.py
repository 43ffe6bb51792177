"""Hand-written inline SVG charts: no plotting library, no external assets, no script.

Every chart is a standalone `<svg>` element (valid XML) with a `data-figure` name, so the
page test can find each figure in the rendered DOM.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"


@dataclass(frozen=True)
class Series:
    """One line of a line chart."""

    label: str
    values: Sequence[float]
    color: str


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw_step = (high - low) / max(target, 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def _fmt_tick(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        return f"{value:.1e}"
    return f"{value:g}"


def line_chart(
    x: Sequence[float],
    series: Sequence[Series],
    *,
    figure: str,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 760,
    height: int = 380,
) -> str:
    """A line chart of several series over shared x values, with axes, ticks and a legend."""
    left, right, top, bottom = 70, 20, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    ys = [v for s in series for v in s.values if math.isfinite(v)]
    xs = [v for v in x if math.isfinite(v)]
    x_ticks = nice_ticks(min(xs, default=0.0), max(xs, default=1.0))
    y_ticks = nice_ticks(min(0.0, min(ys, default=0.0)), max(ys, default=1.0))
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]

    def px(value: float) -> float:
        return left + (value - x0) / (x1 - x0) * plot_w

    def py(value: float) -> float:
        return top + plot_h - (value - y0) / (y1 - y0) * plot_h

    parts = [_open(figure, title, width, height), _title(title, width)]
    for tick in y_ticks:
        y = py(tick)
        parts.append(f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e3e3e3'/>")
        parts.append(f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end' font-size='11'>{_fmt_tick(tick)}</text>")
    for tick in x_ticks:
        x_px = px(tick)
        parts.append(
            f"<line x1='{x_px:.1f}' x2='{x_px:.1f}' y1='{top + plot_h}' y2='{top + plot_h + 4}' stroke='#555'/>"
        )
        parts.append(
            f"<text x='{x_px:.1f}' y='{top + plot_h + 17}' text-anchor='middle' font-size='11'>{_fmt_tick(tick)}</text>"
        )
    parts.append(
        f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='none' stroke='#555' stroke-width='1'/>"
    )
    for line in series:
        points = " ".join(
            f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, line.values, strict=False) if math.isfinite(a + b)
        )
        parts.append(
            f"<polyline points='{points}' fill='none' stroke='{line.color}' stroke-width='2'>"
            f"<title>{escape(line.label)}</title></polyline>"
        )
    for index, line in enumerate(series):
        lx, ly = left + plot_w - 230, top + 14 + index * 18
        parts.append(f"<rect x='{lx}' y='{ly - 9}' width='14' height='4' fill='{line.color}'/>")
        parts.append(f"<text x='{lx + 20}' y='{ly - 3}' font-size='12'>{escape(line.label)}</text>")
    parts.append(
        f"<text x='{left + plot_w / 2:.1f}' y='{height - 10}' text-anchor='middle' font-size='12'>"
        f"{escape(x_label)}</text>"
    )
    parts.append(
        f"<text transform='translate(16 {top + plot_h / 2:.1f}) rotate(-90)' text-anchor='middle' "
        f"font-size='12'>{escape(y_label)}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    figure: str,
    title: str,
    value_labels: Sequence[str] | None = None,
    color: str = "#3b6fb6",
    width: int = 560,
    label_width: int = 220,
    bar_height: int = 20,
) -> str:
    """Horizontal bars, one per label, scaled to the largest value; the value is printed beside each."""
    top, gap, value_room = 34, 6, 80
    height = top + len(labels) * (bar_height + gap) + 10
    plot_w = width - label_width - value_room
    largest = max((v for v in values if math.isfinite(v)), default=0.0)
    texts = value_labels or [_fmt_tick(v) for v in values]
    parts = [_open(figure, title, width, height), _title(title, width)]
    for index, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        y = top + index * (bar_height + gap)
        length = plot_w * value / largest if largest > 0 and math.isfinite(value) and value > 0 else 0.0
        shown = label if len(label) <= 32 else label[:31] + "…"
        parts.append(
            f"<text x='{label_width - 8}' y='{y + bar_height * 0.7:.1f}' text-anchor='end' font-size='12'>"
            f"<title>{escape(label)}</title>{escape(shown)}</text>"
        )
        parts.append(
            f"<rect x='{label_width}' y='{y}' width='{max(length, 1.0):.1f}' height='{bar_height}' fill='{color}'/>"
        )
        parts.append(
            f"<text x='{label_width + length + 6:.1f}' y='{y + bar_height * 0.7:.1f}' font-size='12'>"
            f"{escape(text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _open(figure: str, title: str, width: int, height: int) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' data-figure='{escape(figure)}' "
        f"role='img' aria-label='{escape(title)}' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' {FONT}>"
    )


def _title(title: str, width: int) -> str:
    return (
        f"<text x='{width / 2:.1f}' y='20' text-anchor='middle' font-size='14' font-weight='bold'>"
        f"{escape(title)}</text>"
    )
