"""Assemble a quarterly board pack from the store: its content as blocks, no PDF yet.

:func:`assemble_pack` reads one :class:`~ssp_desktop.domain.records.BoardPack` (cover
fields, sections and their order), its meeting and plan, and the plan as at the pack's
quarter, and returns a :class:`~ssp_desktop.reports.blocks.PackDocument`. The layout
follows the council's report format (summary sheet first: subject, meeting and date,
report of, key decision, summary, recommendations, contact officer) and DESIGN.md
section 5. Figures come from the same functions as the app's screens
(:func:`~ssp_desktop.queries.performance.scorecard`, ``rag_by_priority``,
:func:`~ssp_desktop.queries.quarter_changes.quarter_changes`,
:func:`~ssp_desktop.reports.chart.measure_chart`), so the paper and the screen agree.

Whatever is missing - a cover field, updates, values, a whole section's data - is said
in the pack rather than left blank, so a pack can always be made.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import ActionStatus, Frequency, Polarity, Rag, ToleranceMode
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    DEFAULT_PACK_SECTIONS,
    Action,
    ActionUpdate,
    BoardMeeting,
    BoardPack,
    FundingAllocation,
    FundingAward,
    FundingStream,
    Measure,
    MeasureValue,
    Organisation,
    Partnership,
    Person,
    Plan,
    Priority,
    PriorityArea,
    Risk,
)
from ssp_desktop.domain.rules import FlagKind, action_flags
from ssp_desktop.queries.performance import (
    ACTION_STANDINGS,
    MEASURE_STANDINGS,
    SPARK_QUARTERS,
    Counts,
    PriorityPerformance,
    ScorecardRow,
    Standing,
    action_standings,
    quarter_updates,
    rag_by_priority,
    scorecard,
)
from ssp_desktop.queries.quarter_changes import QuarterChanges, quarter_changes
from ssp_desktop.reports.blocks import (
    SECTION_TITLES,
    Block,
    BulletList,
    Cell,
    CellValue,
    Contents,
    Fields,
    Figure,
    Furniture,
    Heading,
    KeepTogether,
    Metadata,
    NewPage,
    PackDocument,
    Paragraph,
    Section,
    Spark,
    Table,
    TextStyle,
)
from ssp_desktop.reports.chart import ChartDescription, measure_chart

__all__ = ["SAMPLE_BANNER", "assemble_pack", "long_date", "section_order"]

SAMPLE_BANNER = "Sample data - illustrative only"
NOT_GIVEN = "Not given"

StepFn = Callable[[str], None]


def long_date(d: dt.date) -> str:
    """The way council papers write a date: "21 November 2024"."""
    return f"{d.day} {d:%B %Y}"


def short_date(d: dt.date | None) -> str:
    return f"{d.day} {d:%b %Y}" if d is not None else ""


def money(amount: Decimal | float) -> str:
    value = Decimal(amount)
    return f"£{value:,.0f}" if value == value.to_integral_value() else f"£{value:,.2f}"


def _plural(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def section_order(sections: Sequence[dict[str, Any]] | None) -> list[tuple[str, bool]]:
    """The pack's sections as (key, enabled), in the stored order; unknown keys are
    dropped and sections the stored list lacks (added in a later version) come last,
    switched on."""
    seen: list[tuple[str, bool]] = []
    for item in sections or []:
        key = str(item.get("key", ""))
        if key in SECTION_TITLES and key not in {k for k, _ in seen}:
            seen.append((key, bool(item.get("enabled", True))))
    for item in DEFAULT_PACK_SECTIONS:
        if item["key"] not in {k for k, _ in seen}:
            seen.append((item["key"], True))
    return seen


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _ActionInfo:
    id: uuid.UUID
    ref: str
    title: str
    priority_id: uuid.UUID
    area: str
    lead: str
    start: dt.date | None
    due: dt.date | None
    status: ActionStatus
    closed: bool
    standing: Standing
    rag: Rag | None
    narrative: str
    complete: bool


@dataclass(frozen=True)
class _PriorityInfo:
    id: uuid.UUID
    code: str
    title: str
    description: str
    lead: str


class _Context:
    """Everything the sections read, fetched once."""

    def __init__(self, session: Session, pack: BoardPack, is_sample: bool) -> None:
        self.session = session
        self.pack = pack
        self.is_sample = is_sample
        meeting = session.get(BoardMeeting, pack.meeting_id)
        plan = session.get(Plan, pack.plan_id)
        if meeting is None or plan is None or plan.deleted_at is not None:
            raise DomainError(
                "This board pack's meeting or plan is no longer in the store, so the pack "
                "cannot be made. Choose another plan or meeting."
            )
        self.meeting = meeting
        self.plan = plan
        partnership = session.get(Partnership, plan.partnership_id)
        self.partnership = partnership.name if partnership is not None else ""
        self.quarter: Quarter = pack.quarter
        self.today = dt.date.today()
        self.rows: list[ScorecardRow] = scorecard(session, plan.id, self.quarter)
        self.performance: list[PriorityPerformance] = rag_by_priority(
            session, plan.id, self.quarter, self.rows
        )
        self.people = {p.id: (p.role_title or p.name) for p in session.scalars(select(Person))}
        self.orgs = {o.id: (o.short_name or o.name) for o in session.scalars(select(Organisation))}
        self.priorities = [
            _PriorityInfo(
                p.id,
                p.code,
                p.title,
                p.description,
                self.people.get(p.lead_person_id, "") if p.lead_person_id else "",
            )
            for p in session.scalars(
                select(Priority)
                .where(Priority.plan_id == plan.id, Priority.deleted_at.is_(None))
                .order_by(Priority.position, Priority.code)
            )
        ]
        self.actions = self._actions()
        self._changes: QuarterChanges | None = None

    @property
    def meeting_text(self) -> str:
        return f"{self.meeting.title}, {long_date(self.meeting.meeting_date)}"

    @property
    def changes(self) -> QuarterChanges:
        if self._changes is None:
            self._changes = quarter_changes(
                self.session,
                self.plan.id,
                self.quarter,
                until=self.meeting.meeting_date,
                rows=self.rows,
            )
        return self._changes

    def _actions(self) -> list[_ActionInfo]:
        standings = action_standings(self.session, self.plan.id, self.quarter)
        updates = {
            u.action_id: u
            for u in self.session.scalars(quarter_updates(self.plan.id, self.quarter, ActionUpdate))
        }
        out = []
        for action, area_title in self.session.execute(
            select(Action, PriorityArea.title)
            .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
            .where(Action.plan_id == self.plan.id, Action.deleted_at.is_(None))
            .order_by(PriorityArea.position, Action.position, Action.ref)
        ).tuples():
            priority_id, standing = standings[action.id]
            update = updates.get(action.id)
            lead = " – ".join(
                x
                for x in (
                    self.orgs.get(action.lead_organisation_id, "")
                    if action.lead_organisation_id
                    else "",
                    self.people.get(action.lead_person_id, "") if action.lead_person_id else "",
                )
                if x
            )
            out.append(
                _ActionInfo(
                    id=action.id,
                    ref=action.ref,
                    title=action.title,
                    priority_id=priority_id,
                    area=area_title,
                    lead=lead,
                    start=action.start_date,
                    due=action.due_date,
                    status=action.status,
                    closed=action.status.is_closed,
                    standing=standing,
                    rag=update.rag if update is not None else None,
                    narrative=update.narrative.strip() if update is not None else "",
                    complete=action.status is ActionStatus.COMPLETE,
                )
            )
        out.sort(key=lambda a: _ref_key(a.ref))
        return out


def _ref_key(ref: str) -> tuple[Any, ...]:
    # "PVP-10" after "PVP-9": compare the digits as numbers.
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", ref))


# --------------------------------------------------------------------------- helpers


def _rag_cell(standing: Standing) -> Cell:
    return Cell(standing.word, standing=standing, align="centre")


def _num(n: int, *, bold: bool = False) -> Cell:
    return Cell(f"{n:,}", align="right", bold=bold)


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


def _counts_sentence(counts: Counts, standings: Iterable[Standing]) -> str:
    parts = [f"{counts[s]} {s.word}" for s in standings if counts[s]]
    return ", ".join(parts) if parts else "none"


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


# --------------------------------------------------------------------------- sections


def _cover(ctx: _Context) -> tuple[Block, ...]:
    pack = ctx.pack
    missing = [
        label
        for label, value in (
            ("Subject", pack.subject),
            ("Report of", pack.report_of),
            ("Summary", pack.summary),
            ("Recommendations", pack.recommendations),
            ("Contact officer", pack.contact_officer),
        )
        if not value.strip()
    ]
    subject = pack.subject.strip() or (
        f"{ctx.plan.title}: quarterly performance report, {ctx.quarter.label}"
    )
    blocks: list[Block] = [
        Paragraph(ctx.partnership.upper() or "COMMUNITY SAFETY PARTNERSHIP", TextStyle.KICKER),
        Heading(f"Report to {ctx.meeting.title}: summary sheet", 1, "sec-cover"),
        Fields(
            (
                ("Subject", subject),
                ("Meeting", ctx.meeting.title),
                ("Date", long_date(ctx.meeting.meeting_date)),
                ("Reporting period", f"{ctx.quarter.label} ({ctx.quarter.months_label})"),
                ("Report of", pack.report_of.strip() or NOT_GIVEN),
                ("Key decision", "Yes" if pack.key_decision else "No"),
                ("Contact officer", " ".join(pack.contact_officer.split()) or NOT_GIVEN),
                ("Protective marking", pack.protective_marking.strip() or "OFFICIAL"),
            ),
            caption="The report's subject, meeting, author and status",
        ),
    ]
    if missing:
        blocks.append(
            Paragraph(
                "This summary sheet is incomplete: "
                + _join_words(missing)
                + f" {'is' if len(missing) == 1 else 'are'} not filled in yet. Add "
                + ("it" if len(missing) == 1 else "them")
                + " in the board pack builder before the pack is circulated.",
                TextStyle.NOTE,
            )
        )
    if ctx.is_sample:
        blocks.append(
            Paragraph(
                f"{SAMPLE_BANNER}. This pack is made from the app's built-in sample plan; "
                "its figures and narratives are made up for demonstration.",
                TextStyle.NOTE,
            )
        )
    blocks.append(Heading("Summary", 2, "cover-summary", in_contents=False))
    blocks += _paragraphs(pack.summary, "No summary has been written for this pack.")
    blocks.append(Heading("Recommendations", 2, "cover-recommendations", in_contents=False))
    blocks += _paragraphs(pack.recommendations, "No recommendations have been written.")
    return tuple(blocks)


def _join_words(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _paragraphs(text: str, empty: str) -> list[Block]:
    parts = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text.strip()) if p.strip()]
    if not parts:
        return [Paragraph(empty, TextStyle.NOTE)]
    return [Paragraph(p) for p in parts]


def _contents(_ctx: _Context) -> tuple[Block, ...]:
    return (Heading("Contents", 1, "sec-contents", in_contents=False), Contents(depth=2))


def _refs(refs: Sequence[str], where: str, limit: int = 24) -> str:
    """A list of refs, cut short on a big plan (the rest are in ``where``)."""
    if len(refs) <= limit:
        return ", ".join(refs)
    return ", ".join(refs[:limit]) + f" and {len(refs) - limit:,} more (see {where})"


def _capped(items: list[str], limit: int = 40) -> tuple[str, ...]:
    """At most ``limit`` bullets: a big plan's gaps are all in the trackers anyway."""
    if len(items) <= limit:
        return tuple(items)
    more = len(items) - limit + 1
    return (
        *items[: limit - 1],
        f"…and {more:,} more, marked in the action trackers and scorecard.",
    )


def _missing_summary(ctx: _Context) -> list[str]:
    changes = ctx.changes
    missing = []
    if not ctx.actions:
        missing.append("The plan has no actions yet.")
    elif changes.missing_updates:
        missing.append(
            f"{_plural(len(changes.missing_updates), 'action')} that "
            f"{'has' if len(changes.missing_updates) == 1 else 'have'} started "
            f"{'has' if len(changes.missing_updates) == 1 else 'have'} no update for "
            f"{ctx.quarter.label}: "
            + _refs([c.ref for c in changes.missing_updates], "the action trackers")
            + "."
        )
    if not ctx.rows:
        missing.append("The plan has no measures yet.")
    elif changes.missing_values:
        missing.append(
            f"{_plural(len(changes.missing_values), 'quarterly measure')} "
            f"{'has' if len(changes.missing_values) == 1 else 'have'} no value for "
            f"{ctx.quarter.label}: "
            + _refs([m.ref for m in changes.missing_values], "the scorecard")
            + "."
        )
    untargeted = [
        r.ref for r in ctx.rows if r.polarity is not Polarity.TRACKER and r.target is None
    ]
    if untargeted:
        missing.append(
            f"{_plural(len(untargeted), 'measure')} "
            f"{'has' if len(untargeted) == 1 else 'have'} no target for the year of "
            "its latest value: " + _refs(untargeted, "the scorecard") + "."
        )
    return missing


def _at_a_glance(ctx: _Context) -> tuple[Block, ...]:
    perf = ctx.performance
    actions_total = Counts()
    measures_total = Counts()
    for p in perf:
        for s in ACTION_STANDINGS:
            actions_total.by_standing[s] = actions_total[s] + p.actions[s]
        for s in MEASURE_STANDINGS:
            measures_total.by_standing[s] = measures_total[s] + p.measures[s]
    blocks: list[Block] = [
        Heading("At a glance", 1, "sec-at_a_glance"),
        Paragraph(
            f"Where the plan's {_plural(actions_total.total, 'action')} and "
            f"{_plural(measures_total.total, 'measure')} stand for {ctx.quarter.label} "
            f"({ctx.quarter.months_label}). An action is rated by its lead's update for the "
            "quarter; a measure by its latest value against the target for that year.",
            TextStyle.LEAD,
        ),
        BulletList(
            (
                f"Actions: {_counts_sentence(actions_total, ACTION_STANDINGS)}.",
                f"Measures: {_counts_sentence(measures_total, MEASURE_STANDINGS)}.",
            )
        ),
    ]
    if perf:
        names = [p.code or p.title for p in perf]
        for noun, standings, attr, total in (
            ("Actions", ACTION_STANDINGS, "actions", actions_total),
            ("Measures", MEASURE_STANDINGS, "measures", measures_total),
        ):
            rows: list[tuple[CellValue, ...]] = [
                (
                    _rag_cell(s),
                    *(_num(getattr(p, attr)[s]) for p in perf),
                    _num(total[s], bold=True),
                )
                for s in standings
            ]
            rows.append(
                (
                    Cell("Total", bold=True),
                    *(_num(getattr(p, attr).total, bold=True) for p in perf),
                    _num(total.total, bold=True),
                )
            )
            blocks.append(
                Table(
                    header=((noun, *names, "All"),),
                    rows=tuple(rows),
                    widths=(1.6, *([1.0] * len(perf)), 1.0),
                    caption=f"{noun} by RAG rating for each priority, {ctx.quarter.label}",
                    row_headers=True,
                    total_rows=(len(rows) - 1,),
                )
            )
        blocks.append(
            Paragraph(
                "Priorities: " + "; ".join(f"{p.code}: {p.title}" for p in perf if p.code) + "."
            )
        )
    else:
        blocks.append(Paragraph("The plan has no priorities yet.", TextStyle.NOTE))
    missing = _missing_summary(ctx)
    blocks.append(Heading("What is missing", 2, "glance-missing"))
    if missing:
        blocks.append(BulletList(tuple(missing)))
    else:
        blocks.append(
            Paragraph(
                f"Nothing: every started action has an update and every quarterly measure "
                f"has a value for {ctx.quarter.label}."
            )
        )
    return tuple(blocks)


def _change_table(changes: Sequence[Any], caption: str, *, measures: bool = False) -> Table:
    header: tuple[CellValue, ...] = (
        "Ref",
        "Measure" if measures else "Action",
        "Before",
        "Now",
    )
    rows = tuple(
        (
            c.ref,
            c.name if measures else c.title,
            _rag_cell(c.before),
            _rag_cell(c.after),
        )
        for c in changes
    )
    return Table(
        header=(header,),
        rows=rows,
        widths=(1.3, 5.4, 1.5, 1.5),
        caption=caption,
    )


def _changes(ctx: _Context) -> tuple[Block, ...]:
    ch = ctx.changes
    prev, q = ch.previous.label, ch.quarter.label
    blocks: list[Block] = [
        Heading(f"What changed since {prev}", 1, "sec-changes"),
        Paragraph(
            f"The plan as at {q} compared with {prev}: ratings that moved, due dates that "
            "moved or passed, and updates and values still missing.",
            TextStyle.LEAD,
        ),
    ]

    quiet: list[str] = []

    def part(title: str, anchor: str, items: Sequence[Any], make: Callable[[], Block]) -> None:
        # Parts with nothing in them are named together at the end, in one sentence.
        if not items:
            quiet.append(title[0].lower() + title[1:])
            return
        blocks.append(Heading(title, 2, anchor, in_contents=False))
        blocks.append(make())

    new_reds = [*ch.new_red_actions]
    part(
        "New Red ratings: actions",
        "changes-new-red-actions",
        new_reds,
        lambda: _change_table(new_reds, f"Actions newly rated Red in {q}"),
    )
    part(
        "New Red ratings: measures",
        "changes-new-red-measures",
        ch.new_red_measures,
        lambda: _change_table(ch.new_red_measures, f"Measures newly Red in {q}", measures=True),
    )
    improved = [*ch.improved_actions]
    part(
        "Improvements",
        "changes-improved",
        [*improved, *ch.improved_measures],
        lambda: _improvements(improved, ch),
    )
    part(
        "Deteriorations (not Red)",
        "changes-worsened",
        [*ch.worsened_actions, *ch.worsened_measures],
        lambda: _worsened(ch),
    )
    dates = [*ch.moved_due_dates, *ch.missed_due_dates]
    part(
        "Due dates moved or missed",
        "changes-due-dates",
        dates,
        lambda: Table(
            header=(("Ref", "Action", "Was due", "Now due", "What happened"),),
            rows=tuple(
                (
                    c.ref,
                    c.title,
                    short_date(c.old_due),
                    short_date(c.new_due) if c.changed_on else "",
                    f"Moved later on {short_date(c.changed_on)}"
                    if c.changed_on
                    else f"Due in {q}, not complete",
                )
                for c in dates
            ),
            widths=(1.3, 4.0, 1.6, 1.6, 2.4),
            caption=f"Actions whose due date moved later, or passed in {q} without completion",
        ),
    )
    missing = [*ch.missing_updates]
    part(
        "Missing updates",
        "changes-missing-updates",
        [*missing, *ch.missing_values],
        lambda: BulletList(
            _capped(
                [f"{c.ref} {c.title}: no update for {q}." for c in missing]
                + [
                    f"{m.ref} {m.name}: no value for {q}"
                    + (
                        f" (latest {m.last_period.label})."
                        if m.last_period
                        else " (no values yet)."
                    )
                    for m in ch.missing_values
                ]
            )
        ),
    )
    if quiet:
        # Said in the opening paragraph rather than under headings of their own.
        lead = blocks[1]
        assert isinstance(lead, Paragraph)
        blocks[1] = Paragraph(
            f"{lead.text} Nothing to report this quarter under: {'; '.join(quiet)}.",
            lead.style,
        )
    return tuple(blocks)


def _improvements(actions: Sequence[Any], ch: QuarterChanges) -> Block:
    rows = [(c.ref, c.title, _rag_cell(c.before), _rag_cell(c.after)) for c in actions]
    rows += [(c.ref, c.name, _rag_cell(c.before), _rag_cell(c.after)) for c in ch.improved_measures]
    return Table(
        header=(("Ref", "Action or measure", "Before", "Now"),),
        rows=tuple(rows),
        widths=(1.3, 5.4, 1.5, 1.5),
        caption=f"Actions and measures whose rating improved in {ch.quarter.label}",
    )


def _worsened(ch: QuarterChanges) -> Block:
    rows = [(c.ref, c.title, _rag_cell(c.before), _rag_cell(c.after)) for c in ch.worsened_actions]
    rows += [(c.ref, c.name, _rag_cell(c.before), _rag_cell(c.after)) for c in ch.worsened_measures]
    return Table(
        header=(("Ref", "Action or measure", "Before", "Now"),),
        rows=tuple(rows),
        widths=(1.3, 5.4, 1.5, 1.5),
        caption=f"Actions and measures whose rating fell, but not to Red, in {ch.quarter.label}",
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


def scorecard_cells(row: ScorecardRow) -> tuple[CellValue, ...]:
    """One scorecard row as the pack prints it (tests compare these with the store)."""
    return (
        row.ref,
        row.name,
        row.period.label if row.period is not None else "",
        Cell(row.value_text, align="right"),
        Cell(row.target_text, align="right"),
        _rag_cell(row.standing),
        row.direction_text,
        row.comparator_text,
        Cell("", spark=_spark(row)),
    )


def _scorecard(ctx: _Context) -> tuple[Block, ...]:
    blocks: list[Block] = [
        Heading("Performance scorecard", 1, "sec-scorecard"),
        Paragraph(
            f"Each measure's latest value at {ctx.quarter.label}, its target for that year, "
            "its RAG rating, the direction of travel since the previous period (a year "
            "earlier for annual measures), a comparator where there is one, and the last "
            f"{SPARK_QUARTERS} quarters. Provisional values are marked; definitions are in "
            "the appendix.",
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


def _tracker_row(ctx: _Context, a: _ActionInfo) -> tuple[CellValue, ...]:
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
        _rag_cell(a.standing),
        update,
    )


def _priority(
    ctx: _Context,
    p: _PriorityInfo,
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
            f"Actions: {_counts_sentence(counts.actions, ACTION_STANDINGS)}. "
            f"Measures: {_counts_sentence(counts.measures, MEASURE_STANDINGS)}."
        )
    blocks.append(Paragraph(" ".join(intro) or p.title, TextStyle.LEAD))
    if p.description.strip():
        blocks += _paragraphs(p.description, "")

    # Key achievements: what the leads reported as done or on track this quarter.
    achieved = [a for a in actions if a.narrative and a.complete and a.rag is Rag.GREEN]
    achieved += [a for a in actions if a.narrative and a.rag is Rag.GREEN and a not in achieved]
    blocks.append(Heading("Key achievements", 2, f"{anchor}-achievements"))
    if achieved:
        blocks.append(
            BulletList(
                tuple(
                    f"{a.ref} {a.title}: {_first_sentence(a.narrative)}"
                    + (" (Complete.)" if a.complete else "")
                    for a in achieved[:8]
                )
            )
        )
    else:
        blocks.append(Paragraph(f"No actions were reported Green for {q}.", TextStyle.NOTE))

    # Exceptions: Red and Amber actions, flagged ones, and Red or Amber measures.
    blocks.append(Heading("Exceptions", 2, f"{anchor}-exceptions"))
    exceptions: list[Block] = []
    for a in sorted(
        actions,
        key=lambda a: (-(a.standing.rag.severity if a.standing.rag else -1), _ref_key(a.ref)),
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
        if r.standing not in (Standing.RED, Standing.AMBER):
            continue
        text = (
            f"Latest {r.value_text} in {r.period.label if r.period else q} against a target "
            f"of {r.target_text}: {r.rag_reason}. Direction of travel: {r.direction_text}."
        )
        if r.comparator_text:
            text += f" {r.comparator_text}."
        note = notes.get(r.measure_id, "")
        exceptions.append(
            KeepTogether(
                (
                    Heading(f"{r.ref} {r.name} ({r.standing.word})", 3, f"exc-{r.ref}"),
                    Paragraph(text),
                    *([Paragraph(f"Data note: {note}", TextStyle.QUOTE)] if note else []),
                )
            )
        )
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


def _priorities(ctx: _Context, step: StepFn) -> tuple[Block, ...]:
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
        charts = {}
        for r in ctx.rows:
            if r.priority_id == p.id:
                charts[r.measure_id] = measure_chart(
                    ctx.session, r.measure_id, upto=ctx.quarter, last=SPARK_QUARTERS
                )
        blocks += _priority(ctx, p, perf.get(p.id), charts, notes)
    others = [r for r in ctx.rows if r.priority_id is None]
    if others:
        step("Charts for measures outside the priorities")
        blocks += [
            NewPage(landscape=True),
            Heading("Measures not under a priority", 1, "pri-other"),
        ]
        for r in others:
            chart = measure_chart(ctx.session, r.measure_id, upto=ctx.quarter, last=SPARK_QUARTERS)
            blocks.append(_figure_block(r, chart, ctx.quarter.label))
    # The first priority's page break comes from the section itself.
    if blocks and isinstance(blocks[0], NewPage):
        blocks = blocks[1:]
    return tuple(blocks)


def _funding(ctx: _Context) -> tuple[Block, ...]:
    s = ctx.session
    years = [
        FinancialYear(y)
        for y in range(ctx.plan.start_year.start, ctx.quarter.fy.start + 1)
        if y <= ctx.plan.end_year.start
    ] or [ctx.quarter.fy]
    streams = s.scalars(
        select(FundingStream)
        .where(
            FundingStream.partnership_id == ctx.plan.partnership_id,
            FundingStream.deleted_at.is_(None),
        )
        .order_by(FundingStream.name)
    ).all()
    allocations = {
        (a.stream_id, a.year): a.amount
        for a in s.scalars(
            select(FundingAllocation).where(
                FundingAllocation.deleted_at.is_(None),
                FundingAllocation.year.in_(years),
            )
        )
    }
    blocks: list[Block] = [
        Heading("Funding", 1, "sec-funding"),
        Paragraph(
            f"Funding streams available to the partnership in the plan's years to date, "
            f"and the awards made from them in {ctx.quarter.fy.label}. Amounts in pounds.",
            TextStyle.LEAD,
        ),
        Heading("Allocations", 2, "funding-allocations"),
    ]
    if streams:
        rows: list[tuple[CellValue, ...]] = []
        totals = [Decimal(0)] * len(years)
        for stream in streams:
            cells: list[CellValue] = [stream.name, stream.funder or NOT_GIVEN]
            for i, y in enumerate(years):
                amount = allocations.get((stream.id, y))
                if amount is not None:
                    totals[i] += amount
                cells.append(Cell(money(amount) if amount is not None else "None", align="right"))
            rows.append(tuple(cells))
        rows.append(
            (
                Cell("Total", bold=True),
                "",
                *(Cell(money(t), align="right", bold=True) for t in totals),
            )
        )
        blocks.append(
            Table(
                header=(("Funding stream", "Funder", *(y.label for y in years)),),
                rows=tuple(rows),
                widths=(3.0, 2.4, *([1.75] * len(years))),
                caption="Funding allocations by stream and financial year",
                row_headers=True,
                total_rows=(len(rows) - 1,),
            )
        )
    else:
        blocks.append(Paragraph("No funding streams are recorded.", TextStyle.NOTE))

    fy = ctx.quarter.fy
    blocks.append(Heading(f"Awards in {fy.label}", 2, "funding-awards"))
    priority_codes = {p.id: p.code for p in ctx.priorities}
    stream_names = {st.id: st.name for st in streams}
    awards = s.scalars(
        select(FundingAward)
        .where(FundingAward.deleted_at.is_(None), FundingAward.year == fy)
        .order_by(FundingAward.project)
    ).all()
    awards = [a for a in awards if a.stream_id in stream_names]
    if awards:
        total = sum((a.amount for a in awards), Decimal(0))
        award_rows: list[tuple[CellValue, ...]] = [
            (
                a.project,
                (
                    ctx.orgs.get(a.recipient_organisation_id, "")
                    if a.recipient_organisation_id
                    else ""
                )
                or a.recipient_name
                or NOT_GIVEN,
                priority_codes.get(a.priority_id, "") if a.priority_id else "",
                stream_names[a.stream_id],
                Cell(money(a.amount), align="right"),
            )
            for a in awards
        ]
        award_rows.append(
            (Cell("Total", bold=True), "", "", "", Cell(money(total), align="right", bold=True))
        )
        blocks.append(
            Table(
                header=(("Project", "Recipient", "Priority", "Stream", "Amount"),),
                rows=tuple(award_rows),
                widths=(3.2, 2.2, 1.35, 2.5, 1.8),
                caption=f"Funding awards made in {fy.label}",
                total_rows=(len(award_rows) - 1,),
            )
        )
    else:
        blocks.append(Paragraph(f"No awards are recorded for {fy.label}.", TextStyle.NOTE))
    return tuple(blocks)


def _risk_level(score: int) -> str:
    return "High" if score >= 15 else "Medium" if score >= 8 else "Low"


def _risks(ctx: _Context) -> tuple[Block, ...]:
    risks = ctx.session.scalars(
        select(Risk)
        .where(Risk.plan_id == ctx.plan.id, Risk.deleted_at.is_(None))
        .order_by(Risk.ref)
    ).all()
    open_risks = sorted((r for r in risks if r.is_open), key=lambda r: (-r.score, r.ref))
    closed = [r for r in risks if not r.is_open]
    codes = {p.id: p.code for p in ctx.priorities}
    blocks: list[Block] = [
        Heading("Risks and forward look", 1, "sec-risks"),
        Heading("Risk register", 2, "risks-register"),
    ]
    if open_risks:
        blocks.append(
            Paragraph(
                "Open risks, highest score first. Score is likelihood times impact, each "
                "from 1 to 5: 15 or more is High, 8 to 12 Medium, below 8 Low."
            )
        )
        blocks.append(
            Table(
                header=(
                    (
                        "Ref",
                        "Risk",
                        "Priority",
                        "Owner",
                        "Likelihood",
                        "Impact",
                        "Score",
                        "Mitigation",
                    ),
                ),
                rows=tuple(
                    (
                        r.ref,
                        f"{r.title}. {r.description}".strip(),
                        codes.get(r.priority_id, "All") if r.priority_id else "All",
                        ctx.people.get(r.owner_person_id, NOT_GIVEN)
                        if r.owner_person_id
                        else NOT_GIVEN,
                        Cell(str(r.likelihood), align="right"),
                        Cell(str(r.impact), align="right"),
                        Cell(f"{r.score} {_risk_level(r.score)}", align="right"),
                        r.mitigation or NOT_GIVEN,
                    )
                    for r in open_risks
                ),
                widths=(0.9, 4.6, 1.35, 2.2, 1.65, 1.25, 1.55, 4.6),
                caption="Open risks with owner, likelihood, impact, score and mitigation",
            )
        )
    else:
        blocks.append(Paragraph("No open risks are recorded for this plan."))
    if closed:
        blocks.append(
            Paragraph("Closed risks: " + "; ".join(f"{r.ref} {r.title}" for r in closed) + ".")
        )
    nxt = ctx.quarter.next()
    due = [
        a
        for a in ctx.actions
        if not a.closed
        and a.due is not None
        and a.due <= nxt.end_date
        and a.due > ctx.quarter.end_date
    ]
    blocks.append(Heading(f"Forward look: {nxt.label}", 2, "risks-forward"))
    blocks.append(
        Paragraph(
            f"Updates and values for {nxt.label} ({nxt.months_label}) will be reported to the "
            f"next meeting. These actions are due to finish in {nxt.label}:"
            if due
            else f"No actions are due to finish in {nxt.label} ({nxt.months_label})."
        )
    )
    if due:
        blocks.append(
            Table(
                header=(("Ref", "Action", "Lead", "Due", f"RAG {ctx.quarter.label}"),),
                rows=tuple(
                    (a.ref, a.title, a.lead or NOT_GIVEN, short_date(a.due), _rag_cell(a.standing))
                    for a in due
                ),
                widths=(1.1, 6.0, 3.6, 1.5, 1.6),
                caption=f"Open actions due in {nxt.label}",
            )
        )
    return tuple(blocks)


def _appendix(ctx: _Context) -> tuple[Block, ...]:
    blocks: list[Block] = [
        Heading("Appendix: definitions", 1, "sec-appendix"),
        Heading("RAG ratings", 2, "appendix-rag"),
        Fields(
            (
                (
                    "Red",
                    "Actions: off track and needs the Board's attention. Measures: short "
                    "of the target by more than the measure's tolerance.",
                ),
                (
                    "Amber",
                    "Actions: at risk or slipping, with a plan to recover. Measures: "
                    "short of the target, but within the tolerance.",
                ),
                ("Green", "Actions: on track or complete. Measures: on or beyond the target."),
                ("No update", "An action that has started has no update for the quarter."),
                (
                    "Closed",
                    "An action complete or cancelled before the quarter, needing no update.",
                ),
                (
                    "Not rated",
                    "A measure that is a tracker (monitored without a target), or "
                    "has no value or no target yet.",
                ),
            ),
            caption="What each RAG rating means",
        ),
        Paragraph(
            "Ratings are always printed as words as well as colours. An action's rating is "
            "the one its lead gave in the quarter's update; a measure's is worked out from "
            "its latest value, the target for that value's financial year and the tolerance."
        ),
        Heading("Direction of travel", 2, "appendix-direction"),
        Fields(
            (
                (
                    "↑ or ↓ Improving",
                    "The value moved in the good direction by more than "
                    "the measure's threshold (by default 2% of the earlier value), or by a "
                    "change a survey calls significant.",
                ),
                (
                    "→ Stable",
                    "The change is within the threshold, or a survey says it is not significant.",
                ),
                (
                    "↑ or ↓ Worsening",
                    "The value moved in the bad direction by more than the threshold.",
                ),
                ("Increased, Decreased", "For trackers, which have no good direction."),
                ("– No comparison", "There is no earlier value to compare with."),
            ),
            caption="What each direction of travel means",
        ),
        Paragraph(
            "Arrows show which way the value moved; the word says whether that is good. For "
            "a measure where lower is better, ↓ Improving is good news. Quarterly measures "
            "are compared with the previous quarter, annual ones with a year earlier."
        ),
        Heading("Measure definitions", 2, "appendix-measures"),
    ]
    measures = ctx.session.scalars(
        select(Measure)
        .where(Measure.plan_id == ctx.plan.id, Measure.deleted_at.is_(None))
        .order_by(Measure.ref)
    ).all()
    if not measures:
        blocks.append(Paragraph("The plan has no measures yet.", TextStyle.NOTE))
        return tuple(blocks)
    rows: list[tuple[CellValue, ...]] = []
    order = {r.measure_id: n for n, r in enumerate(ctx.rows)}
    for m in sorted(measures, key=lambda m: (order.get(m.id, len(order)), _ref_key(m.ref))):
        unit = {"percent": "Per cent", "count": "Number", "rate": "Rate"}[m.unit.value]
        if m.rate_basis:
            unit += f" ({m.rate_basis})"
        tolerance = ""
        if m.polarity is not Polarity.TRACKER and m.tolerance:
            tolerance = (
                f"; tolerance {m.tolerance:g}% of target"
                if m.tolerance_mode is ToleranceMode.RELATIVE
                else f"; tolerance {m.tolerance:g}"
            )
        freq = {
            Frequency.QUARTERLY: "Quarterly",
            Frequency.ANNUAL: "Annual",
            Frequency.SURVEY_WAVE: "Survey waves",
        }[m.frequency]
        rows.append(
            (
                m.ref,
                f"{m.name}. {m.definition}".strip() if m.definition else m.name,
                f"{unit}; {m.polarity.label.lower()}; {freq.lower()}{tolerance}",
                m.data_source or NOT_GIVEN,
            )
        )
    blocks.append(
        Table(
            header=(("Ref", "Measure and definition", "Unit, polarity, frequency", "Source"),),
            rows=tuple(rows),
            widths=(1.2, 4.6, 2.4, 2.0),
            caption="Definitions of the plan's measures",
        )
    )
    return tuple(blocks)


_BUILDERS: dict[str, Callable[[_Context], tuple[Block, ...]]] = {
    "cover": _cover,
    "contents": _contents,
    "at_a_glance": _at_a_glance,
    "changes": _changes,
    "scorecard": _scorecard,
    "funding": _funding,
    "risks": _risks,
    "appendix": _appendix,
}
_LANDSCAPE = {"scorecard", "risks"}


def assemble_pack(
    session: Session,
    pack_id: uuid.UUID,
    *,
    is_sample: bool = False,
    step: StepFn | None = None,
) -> PackDocument:
    """The content of board pack ``pack_id``, its enabled sections in the chosen order.

    ``step(text)`` is called before each section and each priority's charts (the export
    reports progress and honours a cancel through it). Raises DomainError for a pack
    that does not exist or whose plan or meeting has gone."""
    pack = session.get(BoardPack, pack_id)
    if pack is None or pack.deleted_at is not None:
        raise DomainError("That board pack is not in this store (it may have been deleted).")
    ctx = _Context(session, pack, is_sample)
    report = step or (lambda _text: None)
    sections = []
    for key, enabled in section_order(pack.sections):
        if not enabled:
            continue
        report(SECTION_TITLES[key])
        blocks = _priorities(ctx, report) if key == "priorities" else _BUILDERS[key](ctx)
        sections.append(Section(key, SECTION_TITLES[key], blocks, landscape=key in _LANDSCAPE))
    if not sections:
        sections.append(
            Section(
                "empty",
                "No sections",
                (
                    Heading(f"Board pack for {ctx.quarter.label}", 1, "sec-empty"),
                    Paragraph(
                        "Every section of this pack is switched off. Switch some on in the "
                        "board pack builder.",
                        TextStyle.NOTE,
                    ),
                ),
            )
        )
    subject = pack.subject.strip() or (
        f"{ctx.plan.title}: quarterly performance report, {ctx.quarter.label}"
    )
    title = f"{ctx.partnership or ctx.plan.title}: board pack, {ctx.quarter.label}"
    return PackDocument(
        metadata=Metadata(
            title=title,
            author=pack.report_of.strip() or ctx.partnership or "ssp-desktop",
            subject=subject,
            keywords=(
                "board pack",
                "community safety partnership",
                ctx.partnership,
                ctx.plan.title,
                ctx.quarter.label,
                ctx.meeting.title,
                *((SAMPLE_BANNER,) if is_sample else ()),
            ),
        ),
        furniture=Furniture(
            marking=pack.protective_marking.strip() or "OFFICIAL",
            meeting=ctx.meeting_text,
            title=f"Quarterly performance report, {ctx.quarter.label}",
            sample_banner=SAMPLE_BANNER if is_sample else "",
        ),
        sections=tuple(sections),
    )
