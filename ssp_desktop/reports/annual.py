"""The annual report for scrutiny: the partnership's 12-month update to the council's
scrutiny committee (Communities & Housing Scrutiny in Stockport), in the council's
scrutiny-report format.

:func:`assemble_annual` reads a plan for one financial year and returns a
:class:`~ssp_desktop.reports.blocks.PackDocument`, drawn and tagged by the same renderer
as the quarterly pack (so the same checks apply): a summary sheet; numbered sections
for the purpose of the report, achievements over the year by priority, the measures
over the year's four quarters (rated at Q4 by the same scorecard as the app), funding
awarded against each stream's allocation, and the refreshed action plan for the next
year. Accepted updates only, as in the pack; nothing depends on the wall clock, so the
same store gives the same file.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import ActionStatus, Rag, UpdateState
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    BoardPack,
    FundingAllocation,
    FundingAward,
    FundingStream,
    Organisation,
    Partnership,
    Plan,
    Priority,
    PriorityArea,
)
from ssp_desktop.queries.performance import ScorecardRow, scorecard
from ssp_desktop.reports.blocks import (
    Block,
    BulletList,
    Cell,
    CellValue,
    Contents,
    Fields,
    Furniture,
    Heading,
    Metadata,
    PackDocument,
    Paragraph,
    Section,
    Table,
    TextStyle,
)
from ssp_desktop.reports.pack_context import ref_key
from ssp_desktop.reports.pack_priorities import measure_label, measure_rag_cell
from ssp_desktop.reports.pack_registers import awards_against_allocations, money
from ssp_desktop.reports.pack_text import NOT_GIVEN, SAMPLE_BANNER, numbered, short_date

DEFAULT_COMMITTEE = "Communities & Housing Scrutiny Committee"


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def assemble_annual(
    session: Session,
    plan: Plan,
    year: FinancialYear,
    *,
    committee: str | None = None,
    is_sample: bool = False,
) -> PackDocument:
    """The annual report on ``plan`` for ``year`` to the scrutiny ``committee`` (default:
    the one named on the plan's latest board pack, else Communities & Housing). A report
    made from the sample plan says so on every page, as the quarterly pack does."""
    quarters = [Quarter(year.start, q) for q in (1, 2, 3, 4)]
    partnership = session.get(Partnership, plan.partnership_id)
    partnership_name = partnership.name if partnership is not None else plan.title
    latest_pack = session.scalars(
        select(BoardPack)
        .where(BoardPack.plan_id == plan.id, BoardPack.deleted_at.is_(None))
        .order_by(BoardPack.quarter.desc())
        .limit(1)
    ).first()
    committee = (
        (committee or "").strip()
        or (latest_pack.scrutiny_committee.strip() if latest_pack else "")
        or DEFAULT_COMMITTEE
    )
    report_of = (latest_pack.report_of.strip() if latest_pack else "") or NOT_GIVEN
    contact = (latest_pack.contact_officer.strip() if latest_pack else "") or NOT_GIVEN
    priorities = list(
        session.scalars(
            select(Priority)
            .where(Priority.plan_id == plan.id, Priority.deleted_at.is_(None))
            .order_by(Priority.position, Priority.code)
        )
    )
    rows = scorecard(session, plan.id, quarters[-1])
    subject = f"{plan.title}: annual update {year.label}"

    cover: list[Block] = [
        Paragraph(partnership_name.upper(), TextStyle.KICKER),
        Heading(f"Report to {committee}", 1, "annual-cover"),
        Fields(
            (
                ("Subject", subject),
                ("Report of", report_of),
                (
                    "Reporting period",
                    f"{year.label} (April {year.start} to March {year.start + 1})",
                ),
                ("Contact officer", " ".join(contact.split())),
            ),
            caption="The report's subject, author and period",
        ),
        Heading("1. Purpose of the report", 2, "annual-purpose"),
        *numbered(
            [
                Paragraph(
                    f"This report gives the Committee the {partnership_name}'s annual update "
                    f"on {plan.title} for {year.label}: what was achieved under each "
                    "priority, how the plan's measures stood over the year's four "
                    "quarters, the funding awarded against each stream's allocation, and "
                    f"the refreshed action plan for {year.next().label}."
                ),
                Paragraph(
                    "The Committee is asked to note the report and comment on the "
                    "partnership's progress and plans."
                ),
            ],
            1,
        ),
        Contents(depth=1),
    ]
    sections = [
        Section("cover", "Summary sheet", tuple(cover)),
        Section(
            "achievements",
            "Achievements",
            tuple(_achievements(session, plan, priorities, quarters)),
        ),
        Section(
            "measures", "Measures", tuple(_measures(rows, priorities, quarters)), landscape=True
        ),
        Section("funding", "Funding", tuple(_funding(session, plan, year))),
        Section(
            "next_year",
            "Action plan",
            tuple(_next_year(session, plan, priorities, year)),
            landscape=True,
        ),
    ]
    return PackDocument(
        metadata=Metadata(
            title=f"{partnership_name}: annual update to scrutiny, {year.label}",
            author=report_of if report_of != NOT_GIVEN else partnership_name,
            subject=subject,
            keywords=("annual report", "scrutiny", partnership_name, plan.title, year.label),
        ),
        furniture=Furniture(
            marking=(latest_pack.protective_marking.strip() if latest_pack else "") or "OFFICIAL",
            meeting=committee,
            title=f"Annual update {year.label}",
            sample_banner=SAMPLE_BANNER if is_sample else "",
        ),
        sections=tuple(sections),
    )


def _achievements(
    session: Session, plan: Plan, priorities: list[Priority], quarters: list[Quarter]
) -> list[Block]:
    """Each priority's completed actions and those reported Green in the year, with the
    lead's words from their latest accepted update of the year."""
    latest: dict[uuid.UUID, tuple[Quarter, Rag | None, str]] = {}
    for action_id, quarter, rag, narrative in session.execute(
        select(
            ActionUpdate.action_id, ActionUpdate.quarter, ActionUpdate.rag, ActionUpdate.narrative
        )
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(
            Action.plan_id == plan.id,
            ActionUpdate.quarter.in_(quarters),
            ActionUpdate.is_current.is_(True),
            ActionUpdate.deleted_at.is_(None),
            ActionUpdate.state == UpdateState.ACCEPTED,
        )
    ):
        if action_id not in latest or quarter > latest[action_id][0]:
            latest[action_id] = (quarter, rag, narrative)
    actions = session.execute(
        select(Action.id, Action.ref, Action.title, Action.status, PriorityArea.priority_id)
        .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
        .where(Action.plan_id == plan.id, Action.deleted_at.is_(None))
    ).all()
    by_priority: dict[uuid.UUID, list[str]] = defaultdict(list)
    counts: dict[uuid.UUID, int] = defaultdict(int)
    for action_id, ref, title, status, priority_id in sorted(actions, key=lambda a: ref_key(a[1])):
        counts[priority_id] += 1
        found = latest.get(action_id)
        complete = status is ActionStatus.COMPLETE
        if found is None or not (complete or found[1] is Rag.GREEN):
            continue
        words = _first_sentence(found[2]) if found[2].strip() else "No commentary given."
        by_priority[priority_id].append(
            f"{ref} {title}: {words}" + (" (Complete.)" if complete else "")
        )
    blocks: list[Block] = [
        Heading(f"2. Achievements in {quarters[0].fy.label}", 1, "annual-achievements"),
        Paragraph(
            "Actions completed or reported Green in the year, by priority, in their leads' "
            "words from the latest accepted update of the year.",
            TextStyle.LEAD,
        ),
    ]
    if not priorities:
        blocks.append(Paragraph("The plan has no priorities yet.", TextStyle.NOTE))
    for n, p in enumerate(priorities, start=1):
        items = by_priority.get(p.id, [])
        blocks.append(Heading(f"2.{n} {p.code}: {p.title}", 2, f"annual-ach-{p.code}"))
        if items:
            blocks.append(Paragraph(f"{len(items)} of the priority's {counts[p.id]} actions."))
            blocks.append(BulletList(tuple(items)))
        else:
            blocks.append(
                Paragraph("No action was completed or reported Green this year.", TextStyle.NOTE)
            )
    return blocks


def _measures(
    rows: list[ScorecardRow], priorities: list[Priority], quarters: list[Quarter]
) -> list[Block]:
    """The measures over the year's four quarters, rated at Q4 (the scorecard's rules)."""
    q4 = quarters[-1]
    blocks: list[Block] = [
        Heading(f"3. Measures over {q4.fy.label}", 1, "annual-measures"),
        Paragraph(
            "Each measure's value in each quarter of the year, its target for the year and "
            f"its rating at {q4.label}. A blank quarter had no value; a withheld or missing "
            "latest value is not rated on an older one.",
            TextStyle.LEAD,
        ),
    ]
    codes = {p.id: f"{p.code}: {p.title}" for p in priorities}
    groups: dict[uuid.UUID | None, list[ScorecardRow]] = defaultdict(list)
    for r in rows:
        groups[r.priority_id].append(r)
    if not rows:
        blocks.append(Paragraph("The plan has no measures yet.", TextStyle.NOTE))
    order = [p.id for p in priorities if groups.get(p.id)] + ([None] if groups.get(None) else [])
    for n, pid in enumerate(order, start=1):
        title = codes.get(pid, "Not under a priority") if pid else "Not under a priority"
        blocks.append(Heading(f"3.{n} {title}", 2, f"annual-measures-{n}"))
        table_rows: list[tuple[CellValue, ...]] = []
        for r in groups[pid]:
            by_quarter = dict(zip(r.spark_quarters, r.spark, strict=True))
            table_rows.append(
                (
                    r.ref,
                    measure_label(r),
                    *(Cell(r.fmt(by_quarter.get(q)), align="right") for q in quarters),
                    Cell(r.target_text, align="right"),
                    measure_rag_cell(r),
                )
            )
        blocks.append(
            Table(
                header=(("Ref", "Measure", *(f"Q{q.q}" for q in quarters), "Target", "RAG"),),
                rows=tuple(table_rows),
                widths=(1.3, 5.0, 1.2, 1.2, 1.2, 1.2, 1.4, 1.6),
                caption=f"Measures for {title} in each quarter of {q4.fy.label}",
            )
        )
    return blocks


def _funding(session: Session, plan: Plan, year: FinancialYear) -> list[Block]:
    streams = session.scalars(
        select(FundingStream)
        .where(
            FundingStream.partnership_id == plan.partnership_id,
            FundingStream.deleted_at.is_(None),
        )
        .order_by(FundingStream.name)
    ).all()
    allocations = {
        (a.stream_id, a.year): a.amount
        for a in session.scalars(
            select(FundingAllocation).where(
                FundingAllocation.deleted_at.is_(None), FundingAllocation.year == year
            )
        )
    }
    awards = [
        a
        for a in session.scalars(
            select(FundingAward).where(FundingAward.deleted_at.is_(None), FundingAward.year == year)
        )
        if a.stream_id in {s.id for s in streams}
    ]
    total = sum((a.amount for a in awards), Decimal(0))
    allocated = sum(allocations.values(), Decimal(0))
    blocks: list[Block] = [
        Heading(f"4. Funding in {year.label}", 1, "annual-funding"),
        Paragraph(
            f"{money(total)} was awarded from the partnership's funding streams in "
            f"{year.label}, against allocations of {money(allocated)}.",
            TextStyle.LEAD,
        ),
    ]
    balance = awards_against_allocations(streams, allocations, awards, year)
    blocks += balance or [Paragraph("No funding streams are recorded.", TextStyle.NOTE)]
    return blocks


def _next_year(
    session: Session, plan: Plan, priorities: list[Priority], year: FinancialYear
) -> list[Block]:
    """The refreshed action plan: open actions due in the next year or later (or with no
    due date), and those starting then."""
    following = year.next()
    orgs = dict(
        session.execute(
            select(Organisation.id, Organisation.short_name).where(
                Organisation.partnership_id == plan.partnership_id
            )
        )
        .tuples()
        .all()
    )
    names = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.partnership_id == plan.partnership_id
            )
        )
        .tuples()
        .all()
    )
    codes = {p.id: p.code for p in priorities}
    actions = session.execute(
        select(
            Action.ref,
            Action.title,
            Action.lead_organisation_id,
            Action.start_date,
            Action.due_date,
            Action.status,
            PriorityArea.priority_id,
        )
        .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
        .where(Action.plan_id == plan.id, Action.deleted_at.is_(None))
    ).all()
    carried = [
        a
        for a in actions
        if not a.status.is_closed
        and (a.due_date is None or a.due_date >= following.start_date)
        and (a.start_date is None or a.start_date <= following.end_date)
    ]
    carried.sort(key=lambda a: ref_key(a.ref))
    blocks: list[Block] = [
        Heading(f"5. The action plan for {following.label}", 1, "annual-next"),
        Paragraph(
            f"The actions carried into or starting in {following.label}: open, and due "
            f"in {following.label} or later.",
            TextStyle.LEAD,
        ),
    ]
    if not carried:
        blocks.append(Paragraph(f"No open action runs into {following.label}.", TextStyle.NOTE))
        return blocks
    blocks.append(
        Table(
            header=(("Ref", "Action", "Priority", "Lead", "Starts", "Due"),),
            rows=tuple(
                (
                    a.ref,
                    a.title,
                    codes.get(a.priority_id, ""),
                    (orgs.get(a.lead_organisation_id) or names.get(a.lead_organisation_id) or "")
                    if a.lead_organisation_id
                    else NOT_GIVEN,
                    short_date(a.start_date) if a.start_date else "",
                    short_date(a.due_date) or "None set",
                )
                for a in carried
            ),
            widths=(1.3, 6.0, 1.3, 2.6, 1.6, 1.6),
            caption=f"Actions in the {following.label} action plan",
        )
    )
    return blocks
