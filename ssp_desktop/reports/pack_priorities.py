"""The board pack's scorecard and its pages for each strategic priority.

The scorecard prints one row per measure (the same rows as the app's scorecard screen).
Each priority gets key achievements, exceptions, an action tracker and a chart per
measure with its data table beside it (:func:`~ssp_desktop.reports.chart.measure_chart`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import select

from ssp_desktop.domain.enums import Rag
from ssp_desktop.domain.records import MeasureValue
from ssp_desktop.domain.rules import FlagKind, action_flags
from ssp_desktop.queries.performance import (
    ACTION_STANDINGS,
    MEASURE_STANDINGS,
    SPARK_QUARTERS,
    PriorityPerformance,
    ScorecardRow,
    Standing,
)
from ssp_desktop.reports.blocks import (
    Block,
    BulletList,
    Cell,
    CellValue,
    Figure,
    Heading,
    KeepTogether,
    NewPage,
    Paragraph,
    Spark,
    Table,
    TextStyle,
)
from ssp_desktop.reports.chart import ChartDescription, measure_charts
from ssp_desktop.reports.pack_context import ActionInfo, PackContext, PriorityInfo, ref_key
from ssp_desktop.reports.pack_text import (
    NOT_GIVEN,
    comparator_sentence,
    counts_sentence,
    paragraphs,
    rag_cell,
    rag_sentence,
    short_date,
    with_unit,
)

ACHIEVEMENTS_SHOWN = 8
"""Key achievements listed in full per priority; the rest are counted ("and 3 more")."""

# Called with a step's name before each section and each priority's charts.
StepFn = Callable[[str], None]


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def _spark(row: ScorecardRow) -> Spark:
    known = [(q, v) for q, v in zip(row.spark_quarters, row.spark, strict=True) if v is not None]
    if not known:
        alt = "No values in the last two years."
    elif len(known) == 1:
        alt = f"One value in the last two years: {row.fmt(known[0][1])} in {known[0][0].label}."
    else:
        (q0, v0), (q1, v1) = known[0], known[-1]
        alt = f"Trend from {row.fmt(v0)} in {q0.label} to {row.fmt(v1)} in {q1.label}."
    return Spark(row.spark, alt)


def _chart_table(chart: ChartDescription) -> Table:
    """The chart's data: one row per quarter, printed beside the chart."""
    extra = len(chart.table_headers) - 4
    return Table(
        header=(chart.table_headers,),
        rows=tuple(
            (
                Cell(r[0], bold=True),
                Cell(r[1], align="right"),
                r[2],
                Cell(r[3], align="right"),
                *(Cell(v, align="right") for v in r[4:]),
            )
            for r in chart.table_rows
        ),
        widths=(1.65, 1.15, 1.35, 1.1, *([1.2] * extra)),
        caption=f"Data for the chart of {chart.title}",
        row_headers=True,
        compact=True,
    )


SCORECARD_HEADER: tuple[str, ...] = (
    "Ref",
    "Measure",
    "Period",
    "Latest value",
    "Target",
    "RAG",
    "Direction of travel",
    "Comparator",
    f"Last {SPARK_QUARTERS} quarters",
)


def measure_label(row: ScorecardRow) -> str:
    """The measure's name with a rate's basis, so "6.43" is read per what."""
    return f"{row.name} ({row.rate_basis})" if row.rate_basis else row.name


def scorecard_comparators(row: ScorecardRow) -> str:
    """Every comparator of the value, then significance and rank, as short sentences."""
    # The measure column already names a rate's basis.
    sentence = comparator_sentence(row, units=False)
    for prefix in ("Comparators: ", "Comparator: "):
        sentence = sentence.removeprefix(prefix)
    return sentence


def measure_rag_cell(row: ScorecardRow) -> Cell:
    """The RAG word; a measure whose latest value is missing says why it is not rated."""
    if row.missing:
        return Cell(row.rag_reason, standing=row.standing, align="centre")
    return rag_cell(row.standing)


def scorecard_cells(row: ScorecardRow) -> tuple[CellValue, ...]:
    """One scorecard row as the pack prints it (tests compare these with the store)."""
    return (
        row.ref,
        measure_label(row),
        row.period.label if row.period is not None else "",
        Cell(row.value_text, align="right"),
        Cell(row.target_text, align="right"),
        measure_rag_cell(row),
        row.direction_text,
        scorecard_comparators(row),
        Cell("", spark=_spark(row)),
    )


def scorecard_section(ctx: PackContext) -> tuple[Block, ...]:
    blocks: list[Block] = [
        Heading("Performance scorecard", 1, "sec-scorecard"),
        Paragraph(
            f"Each measure's latest value at {ctx.quarter.label}, its target for that year, "
            "its RAG rating, the direction of travel since the previous period (a year "
            "earlier for annual measures), a comparator where there is one, and the last "
            f"{SPARK_QUARTERS} quarters. Provisional values are marked; a value withheld or "
            "not yet available says why, and such a measure is not rated on an older "
            "value. Definitions are in the appendix.",
            TextStyle.LEAD,
        ),
    ]
    if not ctx.rows:
        blocks.append(Paragraph("The plan has no measures yet.", TextStyle.NOTE))
        return tuple(blocks)
    by_priority: dict[uuid.UUID | None, list[ScorecardRow]] = defaultdict(list)
    for row in ctx.rows:
        by_priority[row.priority_id].append(row)
    groups: list[tuple[str, str, list[ScorecardRow]]] = [
        (f"{p.code}: {p.title}", f"scorecard-{p.code}", by_priority[p.id])
        for p in ctx.priorities
        if by_priority.get(p.id)
    ]
    if by_priority.get(None):
        groups.append(("Not under a priority", "scorecard-other", by_priority[None]))
    for title, anchor, rows in groups:
        blocks.append(Heading(title, 2, anchor, in_contents=False))
        blocks.append(
            Table(
                header=(SCORECARD_HEADER,),
                rows=tuple(scorecard_cells(r) for r in rows),
                widths=(1.45, 4.1, 1.55, 2.2, 1.3, 1.45, 2.0, 2.1, 1.6),
                caption=f"Scorecard for {title}, {ctx.quarter.label}",
            )
        )
    return tuple(blocks)


def _tracker_row(ctx: PackContext, a: ActionInfo) -> tuple[CellValue, ...]:
    if a.narrative:
        update = a.narrative
    elif a.closed:
        update = f"{a.status.label}; no update needed for {ctx.quarter.label}."
    elif a.start is not None and a.start > ctx.quarter.end_date:
        update = f"Not started yet (starts {short_date(a.start)})."
    else:
        update = f"No update for {ctx.quarter.label}."
    return (
        a.ref,
        a.title,
        a.lead or NOT_GIVEN,
        short_date(a.due) or "None set",
        rag_cell(a.standing),
        update,
    )


def _priority(
    ctx: PackContext,
    p: PriorityInfo,
    counts: PriorityPerformance | None,
    charts: dict[uuid.UUID, ChartDescription],
    notes: dict[uuid.UUID, str],
) -> list[Block]:
    q = ctx.quarter.label
    actions = [a for a in ctx.actions if a.priority_id == p.id]
    rows = [r for r in ctx.rows if r.priority_id == p.id]
    anchor = f"pri-{p.code}"
    blocks: list[Block] = [NewPage(), Heading(f"{p.code}: {p.title}", 1, anchor)]
    intro = []
    if p.lead:
        intro.append(f"Lead: {p.lead}.")
    if counts is not None:
        intro.append(
            f"Actions: {counts_sentence(counts.actions, ACTION_STANDINGS)}. "
            f"Measures: {counts_sentence(counts.measures, MEASURE_STANDINGS)}."
        )
    blocks.append(Paragraph(" ".join(intro) or p.title, TextStyle.LEAD))
    if p.description.strip():
        blocks += paragraphs(p.description, "")

    # Exceptions: Red and Amber actions, flagged ones, and Red or Amber measures.
    exceptions: list[Block] = []
    excepted: set[uuid.UUID] = set()
    for a in sorted(
        actions,
        key=lambda a: (-(a.standing.rag.severity if a.standing.rag else -1), ref_key(a.ref)),
    ):
        flags = action_flags(
            status=a.status,
            rag=a.rag,
            due=a.due,
            has_update_for_quarter=bool(a.narrative) or a.rag is not None,
            quarter=ctx.quarter,
            today=max(ctx.today, ctx.quarter.end_date + dt.timedelta(days=1)),
            start=a.start,
        )
        flags = [f for f in flags if f.kind is not FlagKind.NO_UPDATE]
        if a.standing not in (Standing.RED, Standing.AMBER) and not flags:
            continue
        excepted.add(a.id)
        exceptions.append(
            KeepTogether(
                (
                    Heading(f"{a.ref} {a.title} ({a.standing.word})", 3, f"exc-{a.ref}"),
                    *(
                        [Paragraph("Flag: " + "; ".join(f.message for f in flags) + ".")]
                        if flags
                        else []
                    ),
                    Paragraph(
                        f"Lead's commentary: {a.narrative}"
                        if a.narrative
                        else f"No commentary: no update for {q}.",
                        TextStyle.QUOTE,
                    ),
                )
            )
        )
    for r in rows:
        if r.missing:
            text = (
                f"{r.value_text}. {r.rag_reason} for {r.period.label if r.period else q}; "
                "it is not rated on an older value."
            )
            word = "Not rated"
        elif r.standing in (Standing.RED, Standing.AMBER):
            text = (
                f"Latest {with_unit(r, r.value)}{' (provisional)' if r.provisional else ''}"
                f"{' (awaiting review)' if r.awaiting_review else ''} "
                f"in {r.period.label if r.period else q} "
                f"against a target of {with_unit(r, r.target)}: {rag_sentence(r)}. "
                f"Direction of travel: {r.direction_text}."
            )
            word = r.standing.word
        else:
            continue
        comparators = comparator_sentence(r)
        if comparators:
            text += f" {comparators}"
        note = "" if r.missing else notes.get(r.measure_id, "")
        exceptions.append(
            KeepTogether(
                (
                    Heading(f"{r.ref} {r.name} ({word})", 3, f"exc-{r.ref}"),
                    Paragraph(text),
                    *([Paragraph(f"Data note: {note}", TextStyle.QUOTE)] if note else []),
                )
            )
        )

    # Key achievements: what the leads reported as done or on track this quarter; an
    # action listed under exceptions (overdue, say) is not also an achievement.
    achieved = [
        a
        for a in actions
        if a.narrative and a.complete and a.rag is Rag.GREEN and a.id not in excepted
    ]
    achieved += [
        a
        for a in actions
        if a.narrative and a.rag is Rag.GREEN and a not in achieved and a.id not in excepted
    ]
    blocks.append(Heading("Key achievements", 2, f"{anchor}-achievements"))
    if achieved:
        items = [
            f"{a.ref} {a.title}: {_first_sentence(a.narrative)}"
            + (" (Complete.)" if a.complete else "")
            for a in achieved[:ACHIEVEMENTS_SHOWN]
        ]
        rest = achieved[ACHIEVEMENTS_SHOWN:]
        if rest:
            items.append(
                f"…and {len(rest)} more Green "
                f"{'action' if len(rest) == 1 else 'actions'}: "
                + ", ".join(a.ref for a in rest)
                + " (see the action tracker)."
            )
        blocks.append(BulletList(tuple(items)))
    else:
        blocks.append(Paragraph(f"No actions were reported Green for {q}.", TextStyle.NOTE))

    blocks.append(Heading("Exceptions", 2, f"{anchor}-exceptions"))
    blocks += exceptions or [Paragraph(f"No exceptions for {q}.")]

    # The tracker and the charts on landscape pages: six columns of text need the
    # width, and each chart has its data table beside it. The summary comes first.
    blocks.append(NewPage(landscape=True))
    blocks.append(Heading("Action tracker", 2, f"{anchor}-tracker"))
    if actions:
        blocks.append(
            Table(
                header=(("Ref", "Action", "Lead", "Due", "RAG", f"Update for {q}"),),
                rows=tuple(_tracker_row(ctx, a) for a in actions),
                widths=(1.45, 4.2, 2.6, 1.35, 1.3, 7.0),
                caption=f"Actions under {p.code}: lead, due date, RAG and update for {q}",
            )
        )
    else:
        blocks.append(Paragraph("This priority has no actions.", TextStyle.NOTE))

    blocks.append(Heading("Measures", 2, f"{anchor}-measures"))
    if not rows:
        blocks.append(Paragraph("No measures are reported under this priority.", TextStyle.NOTE))
    for r in rows:
        chart = charts.get(r.measure_id)
        if chart is not None:
            blocks.append(_figure_block(r, chart, q))
    return blocks


def _figure_block(r: ScorecardRow, chart: ChartDescription, quarter_label: str) -> Block:
    """A measure's heading (level 3, or 2 outside a priority) with its chart."""
    level = 3 if r.priority_id is not None else 2
    heading = Heading(f"{r.ref} {r.name}", level, f"measure-{r.ref}", in_contents=False)
    if chart.empty:
        return KeepTogether(
            (heading, Paragraph(f"No values recorded up to {quarter_label}.", TextStyle.NOTE))
        )
    figure = Figure(chart=chart, alt=chart.alt_text, caption=chart.title, table=_chart_table(chart))
    return KeepTogether((heading, figure))


def priorities_section(ctx: PackContext, step: StepFn) -> tuple[Block, ...]:
    perf = {p.priority_id: p for p in ctx.performance}
    notes: dict[uuid.UUID, str] = {}
    latest = {r.measure_id: r.period for r in ctx.rows if r.period is not None}
    if latest:
        for measure_id, period, note in ctx.session.execute(
            select(MeasureValue.measure_id, MeasureValue.period, MeasureValue.note).where(
                MeasureValue.measure_id.in_(list(latest)),
                MeasureValue.deleted_at.is_(None),
            )
        ):
            if latest.get(measure_id) == period and note:
                notes[measure_id] = note
    blocks: list[Block] = []
    if not ctx.priorities:
        return (
            Heading("Strategic priorities", 1, "sec-priorities"),
            Paragraph("The plan has no priorities yet.", TextStyle.NOTE),
        )
    for p in ctx.priorities:
        step(f"Charts for {p.code}")
        charts = measure_charts(
            ctx.session,
            [r.measure_id for r in ctx.rows if r.priority_id == p.id],
            upto=ctx.quarter,
            last=SPARK_QUARTERS,
        )
        blocks += _priority(ctx, p, perf.get(p.id), charts, notes)
    others = [r for r in ctx.rows if r.priority_id is None]
    if others:
        step("Charts for measures outside the priorities")
        blocks += [
            NewPage(landscape=True),
            Heading("Measures not under a priority", 1, "pri-other"),
        ]
        other_charts = measure_charts(
            ctx.session, [r.measure_id for r in others], upto=ctx.quarter, last=SPARK_QUARTERS
        )
        for r in others:
            blocks.append(_figure_block(r, other_charts[r.measure_id], ctx.quarter.label))
    # The first priority's page break comes from the section itself.
    if blocks and isinstance(blocks[0], NewPage):
        blocks = blocks[1:]
    return tuple(blocks)
