"""Server-rendered SVG charts: no script, no third-party code, readable without colour.

Every chart is an `<svg role="img">` named by its title and described as a summary of the data
table beside it, which holds the exact figures (the chart is a picture of that table).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

W, H = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 44


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    css: str  # series-1 .. series-5: colour and dash pattern come from supervisor.css


def _nice_top(value: float, steps: int = 4, whole: bool = True) -> float:
    """The smallest top of the axis at or above `value` whose `steps` gridlines fall on round
    numbers (1, 2, 2.5 or 5 times a power of ten), so every tick label is exact. Counts
    (`whole`) never get gridlines between whole numbers."""
    if value <= 0:
        return float(steps)
    raw = max(value / steps, 1.0) if whole else value / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    for nice in (1, 2, 2.5, 5, 10):
        if raw <= nice * magnitude:
            return nice * magnitude * steps
    return 10 * magnitude * steps  # pragma: no cover - the loop always returns


def _frame(chart_id: str, title: str, desc: str, body: list[str], height: int = H) -> Markup:
    head = (
        f'<svg class="chart" viewBox="0 0 {W} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text part is escaped


def _axes(
    top: float, fmt: Callable[[float], str], labels: Sequence[str], steps: int = 4
) -> list[str]:
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    out = []
    for i in range(steps + 1):
        value = top * i / steps
        y = TOP + plot_h - plot_h * i / steps
        out.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(value))}</text>"
        )
    step = max(1, len(labels) // 12)  # at most ~12 labels fit under a 640-unit wide chart
    slot = plot_w / max(1, len(labels))
    for i, label in enumerate(labels):
        if i % step:
            continue
        x = LEFT + slot * (i + 0.5)
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="end" '
            f'transform="rotate(-40 {x:.1f} {H - BOTTOM + 16})">{escape(label[-3:])}</text>'
        )
    return out


def _legend(series: Sequence[Series]) -> str:
    """An HTML list under the chart: it wraps at any width, and a screen reader reads it once
    (the SVG itself is one image named by its title)."""
    items = "".join(
        f'<li><span class="swatch {s.css}" aria-hidden="true"></span>{escape(s.name)}</li>'
        for s in series
    )
    return f'<ul class="sv-legend">{items}</ul>'


def bar_chart(
    chart_id: str, title: str, desc: str, labels: Sequence[str], series: Sequence[Series],
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}", top: float | None = None,
    steps: int = 4,
) -> Markup:
    """Stacked vertical bars, one per label."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top = top or _nice_top(max(totals, default=0), steps)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    body = _axes(top, fmt, labels, steps)
    for i in range(len(labels)):
        base = 0.0
        for s in series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            height = plot_h * value / top
            y = TOP + plot_h - plot_h * base / top - height
            body.append(
                f'<rect class="bar {s.css}" x="{LEFT + slot * i + slot * 0.15:.1f}" '
                f'y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}"/>'
            )
            base += value
    legend = _legend(series) if len(series) > 1 else ""
    return _frame(chart_id, title, desc, body) + Markup(legend)  # noqa: S704 - escaped above


def line_chart(
    chart_id: str, title: str, desc: str, labels: Sequence[str], series: Sequence[Series],
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}", top: float | None = None,
    whole: bool = True,
) -> Markup:
    """One line per series; a missing value breaks the line."""
    values = [v for s in series for v in s.values if v is not None]
    top = top or _nice_top(max(values, default=0), whole=whole)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    body = _axes(top, fmt, labels)
    for s in series:
        runs: list[list[str]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            x, y = LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * min(value, top) / top
            runs[-1].append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle class="dot {s.css}" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
        for run in runs:
            if len(run) > 1:
                body.append(f'<polyline class="line {s.css}" points="{" ".join(run)}"/>')
    return _frame(chart_id, title, desc, body) + Markup(_legend(series))  # noqa: S704


def hbar_chart(
    chart_id: str, title: str, desc: str, items: Sequence[tuple[str, float]], limit: int = 8
) -> Markup:
    """Horizontal bars for the largest `limit` items (the table beside lists them all)."""
    items = list(items)[:limit]
    top = _nice_top(max((v for _, v in items), default=0))
    row = 28.0
    label_w = 150
    body = []
    for i, (name, value) in enumerate(items):
        y = 8 + row * i
        width = (W - label_w - RIGHT - 60) * value / top
        body.append(
            f'<text class="tick" x="{label_w - 6}" y="{y + row * 0.6:.1f}" text-anchor="end">'
            f"{escape(name[:22])}</text>"
        )
        body.append(
            f'<rect class="bar series-1" x="{label_w}" y="{y + row * 0.15:.1f}" '
            f'width="{width:.1f}" height="{row * 0.7:.1f}"/>'
        )
        body.append(
            f'<text class="tick" x="{label_w + width + 4:.1f}" y="{y + row * 0.6:.1f}">'
            f"{value:,.0f}</text>"
        )
    return _frame(chart_id, title, desc, body, height=int(16 + row * max(1, len(items))))
