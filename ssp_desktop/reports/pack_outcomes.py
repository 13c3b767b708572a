"""The board pack's outcomes section: the plan's alignment to the outcome frameworks it
serves (GM "Standing Together", the One Stockport Borough Plan, ...).

For each framework, one row per outcome the plan serves: the priorities linked to it, the
actions that serve it (directly or through their priority), and the measures linked to
it with where each stands at the pack's quarter, from the same scorecard as the rest of
the pack. Outcomes nothing in the plan serves are named in one sentence, so a gap in the
alignment is seen rather than hidden.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select

from ssp_desktop.domain.records import (
    Action,
    ActionOutcome,
    Measure,
    MeasureOutcome,
    Outcome,
    OutcomeFramework,
    PriorityOutcome,
)
from ssp_desktop.queries.performance import MEASURE_STANDINGS, Counts
from ssp_desktop.reports.blocks import Block, CellValue, Heading, Paragraph, Table, TextStyle
from ssp_desktop.reports.pack_context import PackContext, ref_key
from ssp_desktop.reports.pack_text import counts_sentence

REFS_SHOWN = 8
"""Action refs listed per outcome before the rest are counted ("and 12 more")."""


def _refs(refs: list[str]) -> str:
    refs = sorted(set(refs), key=ref_key)
    if len(refs) <= REFS_SHOWN:
        return ", ".join(refs)
    return ", ".join(refs[:REFS_SHOWN]) + f" and {len(refs) - REFS_SHOWN} more"


def outcomes_section(ctx: PackContext) -> tuple[Block, ...]:
    s = ctx.session
    plan_id = ctx.plan.id
    blocks: list[Block] = [
        Heading("Outcomes", 1, "sec-outcomes"),
        Paragraph(
            "The outcomes of the frameworks this plan serves: for each, the priorities "
            "and actions that serve it and how its measures stand at "
            f"{ctx.quarter.label}.",
            TextStyle.LEAD,
        ),
    ]
    frameworks = s.scalars(
        select(OutcomeFramework)
        .where(
            OutcomeFramework.partnership_id == ctx.plan.partnership_id,
            OutcomeFramework.deleted_at.is_(None),
        )
        .order_by(OutcomeFramework.name)
    ).all()
    outcomes = s.scalars(
        select(Outcome)
        .where(
            Outcome.framework_id.in_([f.id for f in frameworks]),
            Outcome.deleted_at.is_(None),
        )
        .order_by(Outcome.position, Outcome.code)
    ).all()
    priority_codes = {p.id: p.code for p in ctx.priorities}
    action_refs = {a.id: a.ref for a in ctx.actions}
    action_priority = {a.id: a.priority_id for a in ctx.actions}
    rows_by_measure = {r.measure_id: r for r in ctx.rows}

    by_priority: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for priority_id, outcome_id in s.execute(
        select(PriorityOutcome.priority_id, PriorityOutcome.outcome_id).where(
            PriorityOutcome.deleted_at.is_(None)
        )
    ):
        if priority_id in priority_codes:
            by_priority[outcome_id].add(priority_id)
    by_action: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for action_id, outcome_id in s.execute(
        select(ActionOutcome.action_id, ActionOutcome.outcome_id)
        .join(Action, Action.id == ActionOutcome.action_id)
        .where(ActionOutcome.deleted_at.is_(None), Action.plan_id == plan_id)
    ):
        if action_id in action_refs:
            by_action[outcome_id].add(action_id)
    by_measure: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for measure_id, outcome_id in s.execute(
        select(MeasureOutcome.measure_id, MeasureOutcome.outcome_id)
        .join(Measure, Measure.id == MeasureOutcome.measure_id)
        .where(MeasureOutcome.deleted_at.is_(None), Measure.plan_id == plan_id)
    ):
        if measure_id in rows_by_measure:
            by_measure[outcome_id].add(measure_id)

    if not outcomes:
        blocks.append(
            Paragraph(
                "No outcome frameworks are recorded, so the plan's alignment to them "
                "cannot be shown. Add them under Outcome frameworks.",
                TextStyle.NOTE,
            )
        )
        return tuple(blocks)
    for framework in frameworks:
        served: list[tuple[CellValue, ...]] = []
        unserved: list[str] = []
        for o in (o for o in outcomes if o.framework_id == framework.id):
            priorities = by_priority.get(o.id, set())
            actions = by_action.get(o.id, set())
            measures = by_measure.get(o.id, set())
            if not (priorities or actions or measures):
                unserved.append(o.code)
                continue
            # Actions serve an outcome directly or through their priority's link.
            through = {a for a, p in action_priority.items() if p in priorities}
            counts = Counts()
            for m in measures:
                counts.add(rows_by_measure[m].standing)
            measure_text = (
                "; ".join(
                    f"{rows_by_measure[m].ref} {rows_by_measure[m].standing.word}"
                    for m in sorted(measures, key=lambda m: ref_key(rows_by_measure[m].ref))
                )
                + f" ({counts_sentence(counts, MEASURE_STANDINGS)})"
                if measures
                else "No measures linked"
            )
            served.append(
                (
                    f"{o.code}: {o.title}",
                    ", ".join(sorted(priority_codes[p] for p in priorities)) or "None linked",
                    (
                        f"{len(actions | through)}: "
                        + _refs([action_refs[a] for a in actions | through])
                    )
                    if actions | through
                    else "None",
                    measure_text,
                )
            )
        title = framework.name + (f" ({framework.short_name})" if framework.short_name else "")
        blocks.append(Heading(title, 2, f"outcomes-{framework.id.hex[:8]}"))
        if served:
            blocks.append(
                Table(
                    header=(("Outcome", "Priorities", "Actions serving it", "Measures"),),
                    rows=tuple(served),
                    widths=(4.0, 1.6, 3.0, 3.4),
                    caption=f"Outcomes of {framework.name} the plan serves, with their "
                    f"measures' ratings at {ctx.quarter.label}",
                    row_headers=True,
                )
            )
        else:
            blocks.append(
                Paragraph(f"Nothing in the plan is linked to {framework.name}.", TextStyle.NOTE)
            )
        if unserved and served:
            blocks.append(
                Paragraph(
                    f"Outcomes of {framework.short_name or framework.name} no priority, "
                    f"action or measure is linked to: {', '.join(unserved)}."
                )
            )
    return tuple(blocks)
