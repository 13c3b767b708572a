"""A measure's chart as plain data: one description, drawn by pyqtgraph and by the PDF.

:func:`measure_chart` reads a measure and returns a :class:`ChartDescription`: the
quarters along the x axis (labelled "2023/24 Q2"), the value series with each point
marked final or provisional, the target stepping per financial year, the tolerance band
beside it, comparator series (GM average, England, ...), the baseline, the axis labels
with units, a plain-English alt text and a small data table. Nothing here knows how it
is drawn: ``ui/charts.py`` draws it on screen and the board pack draws it as a vector
figure, so both say the same thing.

Series are told apart by line style and marker as well as colour, so the chart reads in
greyscale and for colour-blind readers. Colours are from the GOV.UK palette.

x positions are quarter indices 0..n-1 into ``quarters``. A missing value is NaN, which
both renderers draw as a gap in the line.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import (
    Frequency,
    Polarity,
    ToleranceMode,
    Unit,
    UpdateState,
    ValueStatus,
)
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import Measure, MeasureTarget, MeasureValue
from ssp_desktop.domain.rules import measure_rag
from ssp_desktop.queries.lists import format_value

NAN = math.nan

# GOV.UK design system colours (text-safe on white where used for lines).
BLUE = "#1d70b8"
BLACK = "#0b0c0c"
PURPLE = "#4c2c92"
DARK_GREY = "#505a5f"
TURQUOISE = "#28a197"
BROWN = "#b58840"
BAND_FILL = "#f9e1a8"  # a light amber: the tolerance band sits behind the lines


class LineStyle(enum.StrEnum):
    SOLID = "solid"
    DASH = "dash"
    DOT = "dot"
    DASH_DOT = "dash_dot"
    DASH_DOT_DOT = "dash_dot_dot"
    NONE = "none"


class Marker(enum.StrEnum):
    CIRCLE = "circle"
    SQUARE = "square"
    TRIANGLE = "triangle"
    DIAMOND = "diamond"
    NONE = "none"


class SeriesKind(enum.StrEnum):
    VALUE = "value"
    TARGET = "target"
    COMPARATOR = "comparator"
    BASELINE = "baseline"


@dataclass(frozen=True)
class Series:
    """One line on the chart. ``x`` and ``y`` have equal length; NaN in ``y`` is a gap.

    ``provisional`` (value series only) marks points not yet final: drawn as hollow
    markers, listed as such in the table and the alt text.
    """

    name: str
    kind: SeriesKind
    x: tuple[float, ...]
    y: tuple[float, ...]
    colour: str
    line: LineStyle
    marker: Marker
    provisional: tuple[bool, ...] = ()

    def points(self) -> list[tuple[float, float]]:
        return [(x, y) for x, y in zip(self.x, self.y, strict=True) if not math.isnan(y)]


@dataclass(frozen=True)
class Band:
    """The tolerance band: filled between ``lower`` and ``upper`` over ``x``."""

    name: str
    x: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    colour: str


@dataclass(frozen=True)
class ChartDescription:
    """Everything a renderer needs to draw a measure's chart and to describe it."""

    measure_id: uuid.UUID | None
    title: str
    unit: Unit
    decimals: int
    quarters: tuple[Quarter, ...]
    x_title: str
    y_title: str
    series: tuple[Series, ...]
    band: Band | None
    alt_text: str
    table_headers: tuple[str, ...]
    table_rows: tuple[tuple[str, ...], ...]
    illustrative: bool = False
    y_range: tuple[float, float] = (0.0, 1.0)

    @property
    def x_labels(self) -> tuple[str, ...]:
        return tuple(q.label for q in self.quarters)

    @property
    def empty(self) -> bool:
        return not any(s.points() for s in self.series if s.kind is SeriesKind.VALUE)

    def series_of(self, kind: SeriesKind) -> list[Series]:
        return [s for s in self.series if s.kind is kind]

    def value_series(self) -> Series | None:
        found = self.series_of(SeriesKind.VALUE)
        return found[0] if found else None

    def fmt(self, value: float | None) -> str:
        return format_value(value, self.unit, self.decimals)


@dataclass
class MeasureFacts:
    """What a chart needs to know about a measure, without the ORM (for tests and
    benchmarks, and so the builder is one pure function)."""

    name: str
    ref: str = ""
    unit: Unit = Unit.COUNT
    decimals: int = 1
    polarity: Polarity = Polarity.HIGHER_BETTER
    frequency: Frequency = Frequency.QUARTERLY
    rate_basis: str = ""
    tolerance: float = 0.0
    tolerance_mode: ToleranceMode = ToleranceMode.ABSOLUTE
    baseline_value: float | None = None
    baseline_period: str = ""
    comparator_names: list[str] = field(default_factory=list)
    illustrative: bool = False
    measure_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Point:
    value: float | None
    status: ValueStatus = ValueStatus.FINAL
    comparators: Mapping[str, float] = field(default_factory=dict)
    # Submitted but not yet accepted: printed only when the pack builder asks, marked.
    awaiting_review: bool = False
    # Why there is no value (withheld, not yet available), from the value's note.
    note: str = ""


# --- words --------------------------------------------------------------------------

_NUMBER_WORDS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


def _count_words(n: int, noun: str) -> str:
    word = _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else f"{n:,}"
    return f"{word} {noun}{'' if n == 1 else 's'}"


def y_title(facts: MeasureFacts) -> str:
    if facts.unit is Unit.PERCENT:
        return "Per cent (%)"
    if facts.unit is Unit.RATE:
        return f"Rate ({facts.rate_basis})" if facts.rate_basis else "Rate"
    return "Number"


def alt_text(
    facts: MeasureFacts,
    quarters: Sequence[Quarter],
    points: Mapping[Quarter, Point],
    targets: Mapping[FinancialYear, float],
) -> str:
    """A sentence or three a screen reader can read for the chart, e.g.

    "Share of residents who feel safe, 2023/24 Q3 to 2024/25 Q2: rose from 88% to 92% over
    four quarters. Latest 92% in 2024/25 Q2; target 90% (Green). GM average 88%."
    """

    def fmt(v: float | None) -> str:
        return format_value(v, facts.unit, facts.decimals)

    known = [(q, points[q]) for q in quarters if q in points and points[q].value is not None]
    if not known:
        span = f", {quarters[0].label} to {quarters[-1].label}" if quarters else ""
        return f"{facts.name}{span}: no values recorded yet."
    first_q, first = known[0]
    last_q, last = known[-1]
    assert first.value is not None and last.value is not None
    sentences = []
    if len(known) == 1:
        sentences.append(f"{facts.name}: one value, {fmt(last.value)} in {last_q.label}.")
    else:
        n = _count_words(
            len(known), "value" if facts.frequency is not Frequency.QUARTERLY else "quarter"
        )
        if format_value(first.value, facts.unit, facts.decimals) == fmt(last.value):
            trend = f"level at {fmt(last.value)} over {n}"
        elif last.value > first.value:
            trend = f"rose from {fmt(first.value)} to {fmt(last.value)} over {n}"
        else:
            trend = f"fell from {fmt(first.value)} to {fmt(last.value)} over {n}"
        # First and last alone hide a peak or a trough in between, and a latest
        # movement against the overall one ("rose ... over eight quarters" for a
        # measure that peaked and is now falling): name both.
        inner = [(q, p.value) for q, p in known[1:-1] if p.value is not None]
        extremes = []
        if inner:
            peak_q, peak = max(inner, key=lambda qv: qv[1])
            low_q, low = min(inner, key=lambda qv: qv[1])
            if peak > max(first.value, last.value) and fmt(peak) != fmt(
                max(first.value, last.value)
            ):
                extremes.append(f"peaking at {fmt(peak)} in {peak_q.label}")
            if low < min(first.value, last.value) and fmt(low) != fmt(min(first.value, last.value)):
                extremes.append(f"with a low of {fmt(low)} in {low_q.label}")
        sentences.append(
            f"{facts.name}, {first_q.label} to {last_q.label}: {trend}"
            + "".join(f", {e}" for e in extremes)
            + "."
        )
        prev_q, prev = known[-2]
        assert prev.value is not None
        overall = (last.value > first.value) - (last.value < first.value)
        recent = (last.value > prev.value) - (last.value < prev.value)
        if (
            len(known) > 2
            and fmt(prev.value) != fmt(last.value)
            and (extremes or recent != overall)
        ):
            verb = "rose" if recent > 0 else "fell"
            sentences.append(
                f"Most recently it {verb} from {fmt(prev.value)} in {prev_q.label} "
                f"to {fmt(last.value)} in {last_q.label}."
            )

    latest = f"Latest {fmt(last.value)} in {last_q.label}"
    if last.status is ValueStatus.PROVISIONAL:
        latest += " (provisional)"
    if last.awaiting_review:
        latest += " (awaiting review)"
    target = targets.get(last_q.fy)
    if facts.polarity is Polarity.TRACKER:
        latest += "; monitored without a target"
    elif target is None:
        latest += f"; no target set for {last_q.fy.label}"
    else:
        rag = measure_rag(
            last.value, target, facts.polarity, facts.tolerance, facts.tolerance_mode
        ).rag
        direction = "higher" if facts.polarity is Polarity.HIGHER_BETTER else "lower"
        latest += f"; target {fmt(target)}, {direction} is better"
        if rag is not None:
            latest += f" ({rag.word})"
    sentences.append(latest + ".")

    comparators = [
        f"{name} {fmt(last.comparators[name])}"
        for name in facts.comparator_names
        if name in last.comparators
    ]
    if comparators:
        sentences.append(f"{'; '.join(comparators)} in {last_q.label}.")
    if facts.baseline_value is not None:
        when = f" ({facts.baseline_period})" if facts.baseline_period else ""
        sentences.append(f"Baseline {fmt(facts.baseline_value)}{when}.")
    gap = points.get(quarters[-1]) if quarters else None
    if gap is not None and gap.value is None and quarters[-1] > last_q:
        sentences.append(f"No value for {quarters[-1].label}: {missing_words(gap)}.")
    if facts.illustrative:
        sentences.append("Sample data, illustrative only.")
    return " ".join(sentences)


def missing_words(point: Point) -> str:
    """Why a period has no value: "withheld (GMP data not validated)"."""
    reason = " ".join(point.note.split()).rstrip(".")
    word = "withheld" if point.status is ValueStatus.WITHHELD else "not available"
    if reason.lower().startswith(("withheld", "not yet available", "not available")):
        return reason[0].lower() + reason[1:]
    return f"{word} ({reason})" if reason else word


# --- building -----------------------------------------------------------------------


def _steps(
    quarters: Sequence[Quarter], value_of: Mapping[FinancialYear, float]
) -> tuple[list[float], list[float]]:
    """x, y of a line stepping per financial year across the quarters: flat across each
    year's quarters (edge to edge, half a quarter either side), vertical between years,
    a gap (NaN) across a year without a value."""
    xs: list[float] = []
    ys: list[float] = []
    i = 0
    while i < len(quarters):
        year = quarters[i].fy
        j = i
        while j + 1 < len(quarters) and quarters[j + 1].fy == year:
            j += 1
        value = value_of.get(year)
        if value is None:
            if xs and not math.isnan(ys[-1]):
                xs.append(i - 0.5)
                ys.append(NAN)
        else:
            xs += [i - 0.5, j + 0.5]
            ys += [value, value]
        i = j + 1
    return xs, ys


def _band_bounds(facts: MeasureFacts, target: float) -> tuple[float, float] | None:
    width = (
        abs(target) * facts.tolerance / 100
        if facts.tolerance_mode is ToleranceMode.RELATIVE
        else facts.tolerance
    )
    if width <= 0 or facts.polarity is Polarity.TRACKER:
        return None
    if facts.polarity is Polarity.HIGHER_BETTER:
        return target - width, target
    return target, target + width


def build_chart(
    facts: MeasureFacts,
    points: Mapping[Quarter, Point],
    targets: Mapping[FinancialYear, float],
    *,
    upto: Quarter | None = None,
    last: int | None = None,
) -> ChartDescription:
    """The chart of a measure's ``points`` (by quarter) and ``targets`` (by year).

    Quarterly measures show every quarter from the first value to ``upto`` (default: the
    newest value), missing ones as gaps; annual and survey measures show only the
    periods they have values for. ``last`` keeps the newest that many quarters.
    """
    periods = sorted(q for q in points if upto is None or q <= upto)
    if facts.frequency is Frequency.QUARTERLY and periods:
        end = upto if upto is not None else periods[-1]
        quarters = Quarter.range(periods[0], end)
    else:
        quarters = periods
    if last is not None and len(quarters) > last:
        quarters = quarters[-last:]
    xs = tuple(float(i) for i in range(len(quarters)))

    def fmt(v: float | None) -> str:
        return format_value(v, facts.unit, facts.decimals)

    values = tuple(
        NAN
        if q not in points or points[q].value is None or points[q].status is ValueStatus.WITHHELD
        else float(points[q].value or 0.0)
        for q in quarters
    )
    provisional = tuple(
        q in points and points[q].status is ValueStatus.PROVISIONAL for q in quarters
    )
    series: list[Series] = [
        Series(
            "Value", SeriesKind.VALUE, xs, values, BLUE, LineStyle.SOLID, Marker.CIRCLE, provisional
        )
    ]
    shown_targets = {q.fy: targets[q.fy] for q in quarters if q.fy in targets}
    if facts.polarity is not Polarity.TRACKER and shown_targets:
        tx, ty = _steps(quarters, shown_targets)
        series.append(
            Series(
                "Target",
                SeriesKind.TARGET,
                tuple(tx),
                tuple(ty),
                BLACK,
                LineStyle.DASH,
                Marker.NONE,
            )
        )
    styles = [
        (PURPLE, LineStyle.DOT, Marker.SQUARE),
        (DARK_GREY, LineStyle.DASH_DOT, Marker.TRIANGLE),
        (TURQUOISE, LineStyle.DASH_DOT_DOT, Marker.DIAMOND),
    ]
    for n, name in enumerate(facts.comparator_names):
        ys = tuple(
            float(points[q].comparators[name])
            if q in points and name in points[q].comparators
            else NAN
            for q in quarters
        )
        if all(math.isnan(y) for y in ys):
            continue
        colour, line, marker = styles[n % len(styles)]
        series.append(Series(name, SeriesKind.COMPARATOR, xs, ys, colour, line, marker))
    if facts.baseline_value is not None and quarters:
        label = f"Baseline ({facts.baseline_period})" if facts.baseline_period else "Baseline"
        series.append(
            Series(
                label,
                SeriesKind.BASELINE,
                (-0.5, len(quarters) - 0.5),
                (facts.baseline_value, facts.baseline_value),
                BROWN,
                LineStyle.DASH_DOT_DOT,
                Marker.NONE,
            )
        )

    band = None
    bounds = {
        year: b for year, t in shown_targets.items() if (b := _band_bounds(facts, t)) is not None
    }
    if bounds and facts.polarity is not Polarity.TRACKER:
        bx, lower = _steps(quarters, {y: b[0] for y, b in bounds.items()})
        _bx, upper = _steps(quarters, {y: b[1] for y, b in bounds.items()})
        band = Band("Tolerance (Amber)", tuple(bx), tuple(lower), tuple(upper), BAND_FILL)

    every = [y for s in series for y in s.y if not math.isnan(y)]
    if band is not None:
        every += [y for y in band.lower + band.upper if not math.isnan(y)]
    y_range = _nice_range(every, facts.unit)

    comparator_names = [s.name for s in series if s.kind is SeriesKind.COMPARATOR]
    headers = ("Quarter", "Value", "Status", "Target", *comparator_names)
    rows = []
    for q in quarters:
        p = points.get(q)
        value = p.value if p is not None else None
        status = "" if p is None or value is None else p.status.value.capitalize()
        if p is not None and value is None:
            status = missing_words(p)
            status = status[0].upper() + status[1:]
        if p is not None and value is not None and p.awaiting_review:
            status += ", awaiting review"
        target = targets.get(q.fy) if facts.polarity is not Polarity.TRACKER else None
        comps = [fmt(p.comparators.get(n)) if p is not None else "" for n in comparator_names]
        empty = "Withheld" if p is not None and p.status is ValueStatus.WITHHELD else "No value"
        rows.append((q.label, fmt(value) or empty, status, fmt(target), *comps))

    unit_words = {Unit.PERCENT: "%", Unit.RATE: facts.rate_basis or "rate", Unit.COUNT: "number"}
    title = f"{facts.ref} {facts.name}".strip()
    return ChartDescription(
        measure_id=facts.measure_id,
        title=f"{title} ({unit_words[facts.unit]})" if facts.unit is not Unit.COUNT else title,
        unit=facts.unit,
        decimals=facts.decimals,
        quarters=tuple(quarters),
        x_title="Quarter (financial year)",
        y_title=y_title(facts),
        series=tuple(series),
        band=band,
        alt_text=alt_text(facts, quarters, points, targets),
        table_headers=headers,
        table_rows=tuple(rows),
        illustrative=facts.illustrative,
        y_range=y_range,
    )


def _nice_range(values: Sequence[float], unit: Unit) -> tuple[float, float]:
    """A y range with a little room, starting at zero when the data are not far from it,
    and never past 0-100 for a percentage."""
    if not values:
        return (0.0, 100.0 if unit is Unit.PERCENT else 1.0)
    lo, hi = min(values), max(values)
    span = hi - lo or abs(hi) or 1.0
    lo, hi = lo - span * 0.15, hi + span * 0.15
    if min(values) >= 0 and lo < 0:
        lo = 0.0
    if min(values) >= 0 and lo < (hi - lo) * 0.5:
        lo = 0.0  # close enough to zero that a zero baseline reads more honestly
    if unit is Unit.PERCENT:
        lo, hi = max(lo, 0.0), min(hi, 100.0)
        if hi <= lo:
            hi = lo + 1.0
    return (lo, hi)


def measure_facts(measure: Measure) -> MeasureFacts:
    return MeasureFacts(
        name=measure.name,
        ref=measure.ref,
        unit=measure.unit,
        decimals=measure.decimals,
        polarity=measure.polarity,
        frequency=measure.frequency,
        rate_basis=measure.rate_basis,
        tolerance=measure.tolerance,
        tolerance_mode=measure.tolerance_mode,
        baseline_value=measure.baseline_value,
        baseline_period=measure.baseline_period,
        comparator_names=list(measure.comparator_names or []),
        illustrative=measure.illustrative,
        measure_id=measure.id,
    )


def measure_chart(
    session: Session,
    measure_id: uuid.UUID,
    *,
    upto: Quarter | None = None,
    last: int | None = None,
) -> ChartDescription:
    """The chart of one measure from the store (three queries).
    Raises LookupError for a measure that does not exist or was deleted."""
    return measure_charts(session, [measure_id], upto=upto, last=last)[measure_id]


def measure_charts(
    session: Session,
    measure_ids: Sequence[uuid.UUID],
    *,
    upto: Quarter | None = None,
    last: int | None = None,
) -> dict[uuid.UUID, ChartDescription]:
    """The charts of several measures, by id, in three queries however many (the board
    pack draws fifty or more). Raises LookupError for a measure
    that does not exist or was deleted."""
    # One query for them all, not one each.
    loaded = {
        m.id: m for m in session.scalars(select(Measure).where(Measure.id.in_(list(measure_ids))))
    }
    measures = []
    for measure_id in measure_ids:
        measure = loaded.get(measure_id)
        if measure is None or measure.deleted_at is not None:
            raise LookupError(f"No measure with id {measure_id}.")
        measures.append(measure)
    if not measures:
        return {}
    ids = [m.id for m in measures]
    points: dict[uuid.UUID, dict[Quarter, Point]] = {i: {} for i in ids}
    for measure_id, period, value, status, comparators, state, note in session.execute(
        select(
            MeasureValue.measure_id,
            MeasureValue.period,
            MeasureValue.value,
            MeasureValue.status,
            MeasureValue.comparator_values,
            MeasureValue.state,
            MeasureValue.note,
        ).where(MeasureValue.measure_id.in_(ids), MeasureValue.deleted_at.is_(None))
    ):
        if value is None or not math.isnan(value):
            points[measure_id][period] = Point(
                None if status is ValueStatus.WITHHELD else value,
                status,
                dict(comparators or {}),
                state is UpdateState.SUBMITTED,
                note or "",
            )
    targets: dict[uuid.UUID, dict[FinancialYear, float]] = {i: {} for i in ids}
    for measure_id, year, value in session.execute(
        select(MeasureTarget.measure_id, MeasureTarget.year, MeasureTarget.value).where(
            MeasureTarget.measure_id.in_(ids), MeasureTarget.deleted_at.is_(None)
        )
    ):
        targets[measure_id][year] = value
    return {
        m.id: build_chart(measure_facts(m), points[m.id], targets[m.id], upto=upto, last=last)
        for m in measures
    }


__all__ = [
    "Band",
    "ChartDescription",
    "LineStyle",
    "Marker",
    "MeasureFacts",
    "Point",
    "Series",
    "SeriesKind",
    "alt_text",
    "build_chart",
    "measure_chart",
    "measure_charts",
    "measure_facts",
]
