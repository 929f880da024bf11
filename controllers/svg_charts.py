"""Charts as geometry for SVG: scales, ticks, bars and lines, in plain Python (no web imports).
The templates draw them (templates/catalogue/dashboard/_chart.html), so every label, a model's
name included, is escaped by Jinja's autoescape. Colours are CSS classes (static/app.css)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Format = Callable[[float], str]

WIDTH = 640  # the viewBox; the SVG scales to its box (CSS)
HEIGHT = 240


@dataclass(frozen=True)
class Tick:
    pos: float  # the coordinate along its axis
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # what the bar is (a run, a model): its tooltip with the value
    value: str
    text_x: float = 0.0  # where its name is written (horizontal bars), or 0
    text_y: float = 0.0


@dataclass(frozen=True)
class Line:
    name: str
    css: str  # the class suffix that colours it: chart-series-<css>
    points: str  # "x,y x,y ..." for <polyline>
    end_x: float
    end_y: float
    end_label: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    desc: str
    width: int
    height: int
    left: float  # the plot area
    top: float
    right: float
    bottom: float
    y_ticks: tuple[Tick, ...] = ()  # gridlines across (vertical value axis)
    x_ticks: tuple[Tick, ...] = ()  # labels under the plot
    bars: tuple[Bar, ...] = ()
    lines: tuple[Line, ...] = ()
    horizontal: bool = False  # bars grow rightwards; value ticks along the bottom
    caption: str = ""  # a visible name, where several charts share one heading


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) cutting `span` into at most `count`."""
    if span <= 0:
        return 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def ticks(maximum: float, count: int = 4, integer: bool = False) -> list[float]:
    """0 up to the first round value at or above `maximum`: the scale's ticks."""
    step = nice_step(maximum, count)
    if integer:
        step = max(1.0, math.ceil(step))
    top = step * max(1, math.ceil(maximum / step))
    return [i * step for i in range(round(top / step) + 1)]


def shorten(text: str, limit: int) -> str:
    """A label fitting the chart; the full text is in its tooltip and the table."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def columns(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[float],
    fmt: Format,
    *,
    integer: bool = False,
    height: int = 180,
) -> Chart:
    """Vertical bars, one a label, on a value axis from 0."""
    left, top, right, bottom = 56.0, 12.0, WIDTH - 8.0, height - 28.0
    scale = ticks(max(values, default=0), integer=integer)
    high = scale[-1] or 1.0
    slot = (right - left) / max(1, len(values))
    width = min(48.0, slot - min(8.0, slot * 0.25))  # a lone run is a bar, not a wall
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = (bottom - top) * value / high
        x = left + (i + 0.5) * slot - width / 2
        bars.append(Bar(x, bottom - h, width, h, label, fmt(value)))
    every = max(1, math.ceil(len(labels) / 10))  # at most ten labels under the plot
    x_ticks = tuple(
        Tick(left + (i + 0.5) * slot, label) for i, label in enumerate(labels) if i % every == 0
    )
    y_ticks = tuple(Tick(bottom - (bottom - top) * v / high, fmt(v)) for v in scale)
    return Chart(
        chart_id,
        title,
        desc,
        WIDTH,
        height,
        left,
        top,
        right,
        bottom,
        y_ticks,
        x_ticks,
        tuple(bars),
    )


def bars(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[float],
    fmt: Format,
) -> Chart:
    """Horizontal bars, biggest as given, names on the left (shortened; full in the tooltip)."""
    row = 24.0
    left, top, right = 180.0, 8.0, WIDTH - 16.0
    bottom = top + row * max(1, len(values))
    height = int(bottom + 24)
    scale = ticks(max(values, default=0))
    high = scale[-1] or 1.0
    shapes = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        w = (right - left) * value / high
        shapes.append(Bar(left, y + 4, w, row - 8, label, fmt(value), left - 8, y + row / 2))
    x_ticks = tuple(Tick(left + (right - left) * v / high, fmt(v)) for v in scale)
    return Chart(
        chart_id,
        title,
        desc,
        WIDTH,
        height,
        left,
        top,
        right,
        bottom,
        x_ticks=x_ticks,
        bars=tuple(shapes),
        horizontal=True,
    )


def lines(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    fmt: Format,
    *,
    height: int = 220,
) -> Chart:
    """One polyline per (name, css class, values), over shared labels, on one axis from 0."""
    left, top, right, bottom = 56.0, 12.0, WIDTH - 96.0, height - 28.0
    scale = ticks(max((v for _, _, values in series for v in values), default=0), integer=True)
    high = scale[-1] or 1.0
    step = (right - left) / max(1, len(labels) - 1)

    def at(i: int, v: float) -> tuple[float, float]:
        return round(left + i * step, 1), round(bottom - (bottom - top) * v / high, 1)

    drawn = []
    for name, css, values in series:
        points = [at(i, v) for i, v in enumerate(values)]
        end_x, end_y = points[-1] if points else (left, bottom)
        drawn.append(
            Line(
                name,
                css,
                " ".join(f"{x},{y}" for x, y in points),
                end_x,
                end_y,
                f"{name} {fmt(values[-1])}" if values else name,
            )
        )
    every = max(1, math.ceil(len(labels) / 6))
    x_ticks = tuple(
        Tick(at(i, 0)[0], label)
        for i, label in enumerate(labels)
        if (len(labels) - 1 - i) % every == 0
    )
    y_ticks = tuple(Tick(at(0, v)[1], fmt(v)) for v in scale)
    return Chart(
        chart_id,
        title,
        desc,
        WIDTH,
        height,
        left,
        top,
        right,
        bottom,
        y_ticks,
        x_ticks,
        lines=_apart(tuple(drawn)),
    )


def _apart(drawn: tuple[Line, ...], gap: float = 14.0) -> tuple[Line, ...]:
    """Moves the lines' end labels apart vertically so they do not overlap."""
    order = sorted(range(len(drawn)), key=lambda i: drawn[i].end_y)
    placed: dict[int, float] = {}
    last = -math.inf
    for i in order:
        y = max(drawn[i].end_y, last + gap)
        placed[i] = y
        last = y
    out = []
    for i, line in enumerate(drawn):
        out.append(Line(line.name, line.css, line.points, line.end_x, placed[i], line.end_label))
    return tuple(out)


def count(value: float) -> str:
    """1234 as 1,234; a million as 1.2M: axis labels stay short."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}"


def size(value: float) -> str:
    """Bytes in the binary units people read (KiB, MiB, GiB, TiB)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def seconds(value: float) -> str:
    if value >= 3600:
        return f"{value / 3600:.1f} h"
    if value >= 60:
        return f"{value / 60:.1f} min"
    return f"{value:.1f} s" if value < 10 and value != int(value) else f"{value:.0f} s"
