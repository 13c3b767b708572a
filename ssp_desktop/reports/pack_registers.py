"""The board pack's closing sections: funding, risks and forward look, definitions.

Each lists one of the plan's registers (funding streams and awards, the risk register,
the measures' definitions) as at the pack's quarter.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select

from ssp_desktop.domain.enums import Frequency, Polarity, ToleranceMode
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import FundingAllocation, FundingAward, FundingStream, Measure, Risk
from ssp_desktop.reports.blocks import (
    Block,
    Cell,
    CellValue,
    Fields,
    Heading,
    Paragraph,
    Table,
    TextStyle,
)
from ssp_desktop.reports.pack_context import PackContext, ref_key
from ssp_desktop.reports.pack_text import NOT_GIVEN, rag_cell, short_date


def money(amount: Decimal | float) -> str:
    value = Decimal(amount)
    return f"£{value:,.0f}" if value == value.to_integral_value() else f"£{value:,.2f}"


def funding_section(ctx: PackContext) -> tuple[Block, ...]:
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
    blocks += awards_against_allocations(streams, allocations, awards, fy)
    return tuple(blocks)


def awards_against_allocations(
    streams: Sequence[FundingStream],
    allocations: dict[tuple[uuid.UUID, FinancialYear], Decimal],
    awards: Sequence[FundingAward],
    fy: FinancialYear,
) -> list[Block]:
    """Each stream's awards for the year totalled against its allocation, and a stream
    awarded more than it was allocated said in words, not left for the reader to add up."""
    if not streams:
        return []
    awarded: dict[uuid.UUID, Decimal] = {}
    for a in awards:
        awarded[a.stream_id] = awarded.get(a.stream_id, Decimal(0)) + a.amount
    rows: list[tuple[CellValue, ...]] = []
    over: list[str] = []
    for stream in streams:
        allocated = allocations.get((stream.id, fy))
        total = awarded.get(stream.id, Decimal(0))
        if allocated is None and not total:
            continue
        if allocated is None:
            left = "No allocation recorded"
            over.append(f"{stream.name}: {money(total)} awarded with no allocation recorded")
        elif total > allocated:
            left = f"Over by {money(total - allocated)}"
            over.append(
                f"{stream.name}: {money(total)} awarded against an allocation of "
                f"{money(allocated)}, over by {money(total - allocated)}"
            )
        else:
            left = money(allocated - total)
        rows.append(
            (
                stream.name,
                Cell(money(allocated) if allocated is not None else "None", align="right"),
                Cell(money(total), align="right"),
                Cell(left, align="right", bold=left.startswith(("Over", "No "))),
            )
        )
    if not rows:
        return []
    blocks: list[Block] = [
        Heading(f"Awards against allocations, {fy.label}", 2, "funding-balance"),
        Table(
            header=(("Funding stream", "Allocation", "Awarded", "Remaining"),),
            rows=tuple(rows),
            widths=(3.6, 1.9, 1.9, 2.4),
            caption=f"Each funding stream's awards in {fy.label} against its allocation",
            row_headers=True,
        ),
    ]
    if over:
        blocks.append(
            Paragraph("Awarded beyond the allocation: " + "; ".join(over) + ".", TextStyle.NOTE)
        )
    return blocks


def _risk_level(score: int) -> str:
    return "High" if score >= 15 else "Medium" if score >= 8 else "Low"


def risks_section(ctx: PackContext) -> tuple[Block, ...]:
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
                    (a.ref, a.title, a.lead or NOT_GIVEN, short_date(a.due), rag_cell(a.standing))
                    for a in due
                ),
                widths=(1.1, 6.0, 3.6, 1.5, 1.6),
                caption=f"Open actions due in {nxt.label}",
            )
        )
    return tuple(blocks)


def appendix_section(ctx: PackContext) -> tuple[Block, ...]:
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
    for m in sorted(measures, key=lambda m: (order.get(m.id, len(order)), ref_key(m.ref))):
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
