"""SVG charts drawn here, not by a charting library: the report must be one file that opens
offline and prints cleanly, and server-side SVG needs no script to show its data (a library
would add ~50-200 KiB of inlined JavaScript and draw only once a script has run). The charts
are plain: lines over a linear or percentile axis, and horizontal bars."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 260
SMALL = 480  # the width of a chart drawn two abreast, so that its text keeps its size
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_BOTTOM = 64, 16, 40
TITLE_HEIGHT, LEGEND_ROW = 24, 15
# Colour-blind-safe (Okabe-Ito), distinct in greyscale print by dash pattern too.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "6 3", "2 2", "8 3 2 3", "4 4", "1 3", "10 4")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k) covering [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = [round(first, 10)]
    while ticks[-1] < high - step * 1e-9:  # the last tick covers the highest value
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.3g}"
    return f"{value:.2g}"


def _frame(
    title: str, body: list[str], *, kind: str, points: int, height: int, width: int = WIDTH
) -> str:
    return (
        f'<svg class="chart" data-kind="{kind}" data-points="{points}" role="img" '
        f'viewBox="0 0 {width} {height}" style="max-width:{width}px" '
        'xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<text class="chart-title" x="8" y="16">{escape(title)}</text>' + "".join(body) + "</svg>"
    )


def empty_chart(title: str, why: str, *, width: int = WIDTH) -> str:
    body = [
        f'<text class="chart-empty" x="{width / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
        f"{escape(why)}</text>"
    ]
    return _frame(title, body, kind="empty", points=0, height=HEIGHT, width=width)


def _legend_rows(names: Sequence[str], width: int) -> list[list[tuple[int, float]]]:
    """Legend entries (series index, x) laid out in rows that fit the width."""
    rows: list[list[tuple[int, float]]] = [[]]
    x = 8.0
    for index, name in enumerate(names):
        needed = 30 + 6.5 * len(name)
        if rows[-1] and x + needed > width - MARGIN_RIGHT:
            rows.append([])
            x = 8.0
        rows[-1].append((index, x))
        x += needed
    return rows


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    y_min: float | None = 0.0,
    y_max: float | None = None,
    markers: Sequence[tuple[float, str]] = (),
    y_format: str = "",
    width: int = WIDTH,
) -> str:
    """Lines over x; `x_ticks` gives (value, label) pairs for a transformed axis."""
    drawn = [s for s in series if s.points]
    total = sum(len(s.points) for s in drawn)
    if not total:
        return empty_chart(title, "no data in this run / không có dữ liệu", width=width)
    legend = _legend_rows([s.name for s in drawn], width)
    top = TITLE_HEIGHT + LEGEND_ROW * len(legend) + 8
    height = HEIGHT + LEGEND_ROW * (len(legend) - 1)
    xs = [x for s in drawn for x, _ in s.points] + [m for m, _ in markers]
    ys = [y for s in drawn for _, y in s.points]
    x_low, x_high = min(xs), max(xs)
    if x_high == x_low:
        x_high = x_low + 1
    y_low = min(ys) if y_min is None else y_min
    y_high = max(ys) if y_max is None else y_max
    y_ticks = nice_ticks(y_low, y_high if y_high > y_low else y_low + 1)
    y_low, y_high = y_ticks[0], y_ticks[-1]
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = height - top - MARGIN_BOTTOM

    def px(x: float) -> float:
        return MARGIN_LEFT + (x - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (y - y_low) / (y_high - y_low) * plot_h

    body: list[str] = []
    for tick in y_ticks:
        y = py(tick)
        label = f"{tick:.0%}" if y_format == "%" else number(tick)
        body.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}"/><text class="tick" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{label}</text>'
        )
    ticks = x_ticks or [
        (t, number(t)) for t in nice_ticks(x_low, x_high, 8 if width == WIDTH else 5)
    ]
    for value, label in ticks:
        if x_low - 1e-9 <= value <= x_high + 1e-9:
            x = px(value)
            body.append(
                f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" '
                f'y2="{top + plot_h + 4}"/><text class="tick" x="{x:.1f}" '
                f'y="{top + plot_h + 16}" text-anchor="middle">{escape(label)}</text>'
            )
    body.append(
        f'<line class="axis" x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" '
        f'y1="{top + plot_h}" y2="{top + plot_h}"/>'
        f'<text class="label" x="{MARGIN_LEFT + plot_w / 2}" y="{height - 4}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
        f'<text class="label" transform="translate(12 {top + plot_h / 2}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    for number_of, (value, label) in enumerate(markers):
        x = px(value)
        # A label near the right edge goes on the left of its line; each label its own row.
        anchor, dx = ("end", -4) if x > width - 120 else ("start", 4)
        body.append(
            f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" '
            f'y2="{top + plot_h}"/><text class="marker-label" x="{x + dx:.1f}" '
            f'y="{top + 10 + 12 * number_of}" text-anchor="{anchor}">{escape(label)}</text>'
        )
    place = {
        index: (x, TITLE_HEIGHT + 8 + row * LEGEND_ROW)
        for row, entries in enumerate(legend)
        for index, x in entries
    }
    for index, line in enumerate(drawn):
        colour, dash = COLOURS[index % len(COLOURS)], DASHES[index % len(DASHES)]
        path = " ".join(f"{px(x):.1f},{py(min(y, y_high)):.1f}" for x, y in line.points)
        body.append(
            f'<polyline class="series" data-series="{escape(line.name)}" fill="none" '
            f'stroke="{colour}" stroke-width="1.8" stroke-dasharray="{dash}" points="{path}"/>'
        )
        if len(line.points) == 1:
            x, y = line.points[0]
            body.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        legend_x, legend_y = place[index]
        body.append(
            f'<line x1="{legend_x}" x2="{legend_x + 18}" y1="{legend_y - 4}" '
            f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="{dash}"/><text class="legend" x="{legend_x + 22}" '
            f'y="{legend_y}">{escape(line.name)}</text>'
        )
    return _frame(title, body, kind="line", points=total, height=height, width=width)


def bar_chart(
    title: str, bars: Sequence[tuple[str, float | None, str]], *, maximum: float = 1.0
) -> str:
    """Horizontal bars: (label, value or None, annotation), values from 0 to `maximum`."""
    shown = [b for b in bars if b[1] is not None]
    if not shown:
        return empty_chart(title, "no data in this run / không có dữ liệu")
    row = 22
    height = TITLE_HEIGHT + 8 + row * len(bars) + 12
    left, plot_w = 190, WIDTH - 190 - 120
    body: list[str] = []
    for index, (label, value, note) in enumerate(bars):
        y = TITLE_HEIGHT + 8 + index * row
        body.append(
            f'<text class="tick" x="{left - 8}" y="{y + 14}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        if value is not None:
            width = max(0.0, min(1.0, value / maximum)) * plot_w
            body.append(
                f'<rect class="bar" x="{left}" y="{y + 3}" width="{width:.1f}" height="{row - 8}" '
                f'fill="{COLOURS[0]}"/>'
            )
        body.append(
            f'<text class="legend" x="{left + plot_w + 8}" y="{y + 14}">{escape(note)}</text>'
        )
    return _frame(title, body, kind="bar", points=len(shown), height=height)


SPECTRUM_TICKS = ((0.0, "0"), (1.0, "90"), (2.0, "99"), (3.0, "99.9"), (4.0, "99.99"))


def spectrum_x(percentile: float) -> float:
    """A percentile on HdrHistogram's axis: each 9 after the point is one step to the right."""
    return min(4.0, -math.log10(max(1e-4, 1 - percentile / 100)))
