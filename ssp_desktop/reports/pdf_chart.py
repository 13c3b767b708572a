"""Draw a :class:`~ssp_desktop.reports.chart.ChartDescription` as a ReportLab vector
drawing, and a scorecard sparkline.

The drawing follows the description exactly, so the PDF says what the screen says:
one line per series with its own dash pattern and marker (so it reads in greyscale and
for colour-blind readers), hollow markers for provisional values, the tolerance band
filled behind the lines, the target stepping per financial year, axis titles with
units, and a legend. Every label is set in the pack's embedded TTF font.

ReportLab is imported here at module level: only the renderer imports this module, and
it is itself imported lazily by the CLI and the UI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reportlab.graphics.shapes import (
    Circle,
    Drawing,
    Group,
    Line,
    Polygon,
    PolyLine,
    Rect,
    String,
)
from reportlab.lib.colors import Color, HexColor, white
from reportlab.pdfbase.pdfmetrics import stringWidth

from ssp_desktop.domain.enums import Unit
from ssp_desktop.queries.lists import format_value
from ssp_desktop.reports import fonts
from ssp_desktop.reports.chart import ChartDescription, LineStyle, Marker, Series, SeriesKind

INK = HexColor("#0b0c0c")
SECONDARY_INK = HexColor("#505a5f")
GRID = HexColor("#d8dadb")
AXIS = HexColor("#505a5f")

LABEL_SIZE = 8.5
TITLE_SIZE = 9.0
LEGEND_SIZE = 9.0

DASHES: dict[LineStyle, list[float] | None] = {
    LineStyle.SOLID: None,
    LineStyle.DASH: [6, 3],
    LineStyle.DOT: [1.2, 2.4],
    LineStyle.DASH_DOT: [6, 2.2, 1.2, 2.2],
    LineStyle.DASH_DOT_DOT: [6, 2.2, 1.2, 2.2, 1.2, 2.2],
    LineStyle.NONE: None,
}


def _drawing(width: float, height: float) -> Drawing:
    # The renderer's initial state would otherwise name Helvetica, which is never
    # embedded, even in a drawing without text.
    fonts.register_fonts()
    d = Drawing(width, height)
    d.initialFontName = fonts.REGULAR
    d.initialFontSize = LABEL_SIZE
    return d


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values covering lo..hi: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, target)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def tick_label(value: float, unit: Unit, step: float) -> str:
    decimals = 0 if step >= 1 else max(0, -math.floor(math.log10(step)) + (step * 10 % 1 > 0))
    return format_value(value, unit, decimals)


def _segments(xs: Sequence[float], ys: Sequence[float]) -> list[list[tuple[float, float]]]:
    """Runs of points between gaps (NaN)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if math.isnan(y):
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [r for r in runs if r]


def _marker(kind: Marker, x: float, y: float, colour: Color, hollow: bool, r: float = 3.2) -> Group:
    fill = white if hollow else colour
    g = Group()
    if kind is Marker.CIRCLE:
        g.add(Circle(x, y, r, fillColor=fill, strokeColor=colour, strokeWidth=1.2))
    elif kind is Marker.SQUARE:
        g.add(Rect(x - r, y - r, 2 * r, 2 * r, fillColor=fill, strokeColor=colour, strokeWidth=1.2))
    elif kind is Marker.TRIANGLE:
        g.add(
            Polygon(
                [x - r * 1.1, y - r * 0.9, x + r * 1.1, y - r * 0.9, x, y + r * 1.2],
                fillColor=fill,
                strokeColor=colour,
                strokeWidth=1.2,
            )
        )
    elif kind is Marker.DIAMOND:
        g.add(
            Polygon(
                [x, y - r * 1.3, x + r * 1.1, y, x, y + r * 1.3, x - r * 1.1, y],
                fillColor=fill,
                strokeColor=colour,
                strokeWidth=1.2,
            )
        )
    return g


def _line(
    points: list[tuple[float, float]], colour: Color, style: LineStyle, width: float
) -> PolyLine:
    flat = [c for p in points for c in p]
    line = PolyLine(flat, strokeColor=colour, strokeWidth=width, strokeLineJoin=1)
    dash = DASHES.get(style)
    if dash:
        line.strokeDashArray = dash
    return line


def chart_drawing(chart: ChartDescription, width: float, height: float = 210.0) -> Drawing:
    """The chart as a vector drawing ``width`` x ``height`` points."""
    font = fonts.REGULAR
    bold = fonts.BOLD
    fonts.register_fonts()
    d = _drawing(width, height)
    n = len(chart.quarters)
    lo, hi = chart.y_range
    ticks = nice_ticks(lo, hi)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    labels = [tick_label(t, chart.unit, step) for t in ticks]
    label_w = max((stringWidth(s, font, LABEL_SIZE) for s in labels), default=10)

    legend_items = _legend_items(chart)
    legend_rows = _legend_layout(legend_items, width - 8)
    legend_h = len(legend_rows) * 12 + 4
    right = width - 10
    bottom = 2 * (LABEL_SIZE + 2) + 20  # two-line quarter labels and the x title
    top = height - legend_h - 6
    # A y title longer than the plot is tall ("Rate (per 100,000 young people aged
    # 10-17)") would run through the legend and the x labels if turned up the side: it
    # goes across, above the plot, instead.
    title_w = stringWidth(chart.y_title, font, TITLE_SIZE)
    across = title_w > (top - bottom) - 6
    if across:
        top -= TITLE_SIZE + 6
        left = label_w + 10
    else:
        left = 16 + label_w + 6  # rotated y title, tick labels
    pw, ph = right - left, top - bottom

    def sx(x: float) -> float:
        return left + (x + 0.5) / max(n, 1) * pw

    def sy(y: float) -> float:
        return bottom + (y - lo) / (hi - lo or 1.0) * ph

    # Grid and y axis labels.
    for t, text in zip(ticks, labels, strict=True):
        if lo - 1e-9 <= t <= hi + 1e-9:
            y = sy(t)
            d.add(Line(left, y, right, y, strokeColor=GRID, strokeWidth=0.6))
            d.add(
                String(
                    left - 4,
                    y - LABEL_SIZE / 3,
                    text,
                    fontName=font,
                    fontSize=LABEL_SIZE,
                    fillColor=INK,
                    textAnchor="end",
                )
            )

    def clamp(y: float) -> float:
        return min(max(y, lo), hi)

    # Tolerance band behind everything else, cut to the plot.
    if chart.band is not None:
        lower_runs = _segments(chart.band.x, chart.band.lower)
        upper_runs = _segments(chart.band.x, chart.band.upper)
        for lower, upper in zip(lower_runs, upper_runs, strict=False):
            pts = [(sx(x), sy(clamp(y))) for x, y in lower] + [
                (sx(x), sy(clamp(y))) for x, y in reversed(upper)
            ]
            d.add(
                Polygon(
                    [c for p in pts for c in p],
                    fillColor=HexColor(chart.band.colour),
                    strokeColor=None,
                    strokeWidth=0,
                )
            )
    # Axes.
    d.add(Line(left, bottom, right, bottom, strokeColor=AXIS, strokeWidth=0.8))
    d.add(Line(left, bottom, left, top, strokeColor=AXIS, strokeWidth=0.8))
    for i, q in enumerate(chart.quarters):
        x = sx(i)
        d.add(Line(x, bottom, x, bottom - 3, strokeColor=AXIS, strokeWidth=0.8))
        year, quarter = q.fy.label, f"Q{q.q}"
        for k, text in enumerate((year, quarter)):
            d.add(
                String(
                    x,
                    bottom - 4 - (k + 1) * (LABEL_SIZE + 1),
                    text,
                    fontName=font,
                    fontSize=LABEL_SIZE,
                    fillColor=INK,
                    textAnchor="middle",
                )
            )
    d.add(
        String(
            left + pw / 2,
            3,
            chart.x_title,
            fontName=font,
            fontSize=TITLE_SIZE,
            fillColor=INK,
            textAnchor="middle",
        )
    )
    if across:
        size = TITLE_SIZE
        while size > 6 and stringWidth(chart.y_title, font, size) > width - 4:
            size -= 0.5
        d.add(
            String(
                2,
                top + 6,
                chart.y_title,
                fontName=font,
                fontSize=size,
                fillColor=INK,
                textAnchor="start",
            )
        )
    else:
        y_title = Group(
            String(
                0,
                0,
                chart.y_title,
                fontName=font,
                fontSize=TITLE_SIZE,
                fillColor=INK,
                textAnchor="middle",
            )
        )
        y_title.transform = (0, 1, -1, 0, 10, bottom + ph / 2)
        d.add(y_title)

    # Lines: baseline and comparators first, target, then the value on top.
    order = {
        SeriesKind.BASELINE: 0,
        SeriesKind.COMPARATOR: 1,
        SeriesKind.TARGET: 2,
        SeriesKind.VALUE: 3,
    }
    for series in sorted(chart.series, key=lambda s: order[s.kind]):
        colour = HexColor(series.colour)
        width_pt = 2.2 if series.kind is SeriesKind.VALUE else 1.5
        if series.line is not LineStyle.NONE:
            for run in _segments(series.x, series.y):
                pts = [(sx(x), sy(y)) for x, y in run]
                if len(pts) > 1:
                    d.add(_line(pts, colour, series.line, width_pt))
        if series.marker is not Marker.NONE:
            for i, (x, y) in enumerate(zip(series.x, series.y, strict=True)):
                if math.isnan(y):
                    continue
                hollow = bool(series.provisional and series.provisional[i])
                d.add(_marker(series.marker, sx(x), sy(y), colour, hollow))

    # Legend across the top.
    y = height - 12
    for row in legend_rows:
        x = 4.0
        for name, sample in row:
            d.add(_legend_sample(sample, x, y + 3))
            d.add(String(x + 26, y, name, fontName=font, fontSize=LEGEND_SIZE, fillColor=INK))
            x += 26 + stringWidth(name, font, LEGEND_SIZE) + 14
        y -= 12
    del bold
    return d


_LegendSample = tuple[str, object]


def _legend_items(chart: ChartDescription) -> list[tuple[str, object]]:
    items: list[tuple[str, object]] = []
    for s in chart.series:
        items.append((s.name, s))
        if s.kind is SeriesKind.VALUE and any(s.provisional):
            items.append(("Provisional value", ("hollow", s)))
    if chart.band is not None:
        items.append((chart.band.name, ("band", chart.band.colour)))
    return items


def _legend_layout(items: list[tuple[str, object]], width: float) -> list[list[tuple[str, object]]]:
    rows: list[list[tuple[str, object]]] = [[]]
    x = 0.0
    for name, sample in items:
        w = 26 + stringWidth(name, fonts.REGULAR, LEGEND_SIZE) + 14
        if rows[-1] and x + w > width:
            rows.append([])
            x = 0.0
        rows[-1].append((name, sample))
        x += w
    return rows


def _legend_sample(sample: object, x: float, y: float) -> Group:
    g = Group()
    if isinstance(sample, Series):
        colour = HexColor(sample.colour)
        if sample.line is not LineStyle.NONE:
            g.add(
                _line(
                    [(x, y), (x + 22, y)],
                    colour,
                    sample.line,
                    2.2 if sample.kind is SeriesKind.VALUE else 1.5,
                )
            )
        if sample.marker is not Marker.NONE:
            g.add(_marker(sample.marker, x + 11, y, colour, hollow=False))
    elif isinstance(sample, tuple) and sample[0] == "hollow" and isinstance(sample[1], Series):
        s = sample[1]
        g.add(_marker(s.marker, x + 11, y, HexColor(s.colour), hollow=True))
    elif isinstance(sample, tuple) and sample[0] == "band":
        g.add(Rect(x, y - 4, 22, 8, fillColor=HexColor(str(sample[1])), strokeColor=None))
    return g


def sparkline(values: Sequence[float | None], width: float = 64.0, height: float = 16.0) -> Drawing:
    """A small line of ``values`` (None: gap), the newest point marked."""
    d = _drawing(width, height)
    known = [v for v in values if v is not None]
    if not known:
        d.add(Line(2, height / 2, width - 2, height / 2, strokeColor=GRID, strokeWidth=0.8))
        return d
    lo, hi = min(known), max(known)
    span = hi - lo or 1.0
    n = len(values)

    def sx(i: int) -> float:
        return 3 + i / max(n - 1, 1) * (width - 6)

    def sy(v: float) -> float:
        return 3 + (v - lo) / span * (height - 6) if hi != lo else height / 2

    ys = [math.nan if v is None else v for v in values]
    for run in _segments([float(i) for i in range(n)], ys):
        pts = [(sx(int(x)), sy(y)) for x, y in run]
        if len(pts) > 1:
            d.add(_line(pts, INK, LineStyle.SOLID, 1.2))
    last = max(i for i, v in enumerate(values) if v is not None)
    last_value = values[last]
    assert last_value is not None
    d.add(Circle(sx(last), sy(last_value), 2.0, fillColor=INK, strokeColor=INK, strokeWidth=0.5))
    return d
