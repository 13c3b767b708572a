"""The region summary: each partnership's action RAG counts per priority.

The one read that looks across partnerships (a regional role's view of a region's
master copy): it opts out of the store's partnership filter, and on PostgreSQL sees
what the connecting role may read (row-level security), so an officer who runs it
sees only their own partnership. Each partnership is summarised from its current plan:
the newest plan that is not archived (the newest of all if every plan is archived).
RAG is given as words and counts, never as colour alone.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import PlanStatus, Rag
from ssp_desktop.domain.records import Action, Partnership, Plan, Priority, PriorityArea
from ssp_desktop.store.partnerships import ALL_PARTNERSHIPS, across_partnerships

# The columns of the summary, worst first; None: an action nobody has rated yet.
RAG_ORDER: tuple[Rag | None, ...] = (Rag.RED, Rag.AMBER, Rag.GREEN, None)


def rag_heading(rag: Rag | None) -> str:
    """A column's heading in words and shape, never colour alone."""
    return "Not rated" if rag is None else f"{rag.symbol} {rag.word}"


@dataclass(frozen=True)
class PriorityLine:
    code: str
    title: str
    counts: dict[Rag | None, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class PartnershipSummary:
    partnership_id: uuid.UUID
    name: str
    plan_title: str
    priorities: tuple[PriorityLine, ...] = field(default=())

    @property
    def counts(self) -> dict[Rag | None, int]:
        total: dict[Rag | None, int] = dict.fromkeys(RAG_ORDER, 0)
        for line in self.priorities:
            for rag, n in line.counts.items():
                total[rag] += n
        return total


def _current_plans(session: Session) -> dict[uuid.UUID, Plan]:
    plans = session.scalars(
        select(Plan)
        .where(Plan.deleted_at.is_(None))
        .order_by(Plan.start_year.desc(), Plan.title)
        .execution_options(**{ALL_PARTNERSHIPS: True})
    ).all()
    chosen: dict[uuid.UUID, Plan] = {}
    for plan in plans:  # newest first: the first live plan wins, else the newest
        held = chosen.get(plan.partnership_id)
        if held is None or (held.status == PlanStatus.ARCHIVED != plan.status):
            chosen[plan.partnership_id] = plan
    return chosen


def region_summary(session: Session) -> list[PartnershipSummary]:
    """Every partnership the session may read, by name, with its current plan's
    priorities in plan order and each one's live actions counted by RAG."""
    across_partnerships(session)
    every = {ALL_PARTNERSHIPS: True}
    partnerships = session.execute(
        select(Partnership.id, Partnership.name)
        .where(Partnership.deleted_at.is_(None))
        .order_by(Partnership.name, Partnership.id)
        .execution_options(**every)
    ).all()
    plans = _current_plans(session)
    plan_ids = [p.id for p in plans.values()]
    priorities: dict[uuid.UUID, list[tuple[uuid.UUID, str, str]]] = defaultdict(list)
    for pid, plan_id, code, title in session.execute(
        select(Priority.id, Priority.plan_id, Priority.code, Priority.title)
        .where(Priority.plan_id.in_(plan_ids), Priority.deleted_at.is_(None))
        .order_by(Priority.position, Priority.code)
        .execution_options(**every)
    ):
        priorities[plan_id].append((pid, code, title))
    counts: dict[uuid.UUID, dict[Rag | None, int]] = defaultdict(
        lambda: dict.fromkeys(RAG_ORDER, 0)
    )
    for priority_id, rag, n in session.execute(
        select(PriorityArea.priority_id, Action.rag, func.count(Action.id))
        .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
        .where(
            Action.plan_id.in_(plan_ids),
            Action.deleted_at.is_(None),
            PriorityArea.deleted_at.is_(None),
        )
        .group_by(PriorityArea.priority_id, Action.rag)
        .execution_options(**every)
    ):
        counts[priority_id][rag] += n
    result = []
    for partnership_id, name in partnerships:
        plan = plans.get(partnership_id)
        lines = tuple(
            PriorityLine(code, title, dict(counts[pid]))
            for pid, code, title in (priorities[plan.id] if plan else [])
        )
        result.append(PartnershipSummary(partnership_id, name, plan.title if plan else "", lines))
    return result


def summary_table(summaries: list[PartnershipSummary]) -> list[list[str]]:
    """The summary as rows of text: a heading row, then one row per priority and a
    total per partnership (for the command line and for copying)."""
    rows = [["Partnership", "Priority", *(rag_heading(r) for r in RAG_ORDER), "Actions"]]
    for s in summaries:
        if not s.priorities:
            rows.append([s.name, "(no plan yet)", *("" for _ in RAG_ORDER), "0"])
            continue
        for line in s.priorities:
            rows.append(
                [
                    s.name,
                    f"{line.code} {line.title}",
                    *(str(line.counts.get(r, 0)) for r in RAG_ORDER),
                    str(line.total),
                ]
            )
        total = s.counts
        rows.append(
            [
                s.name,
                "All priorities",
                *(str(total[r]) for r in RAG_ORDER),
                str(sum(total.values())),
            ]
        )
    return rows


__all__ = [
    "RAG_ORDER",
    "PartnershipSummary",
    "PriorityLine",
    "rag_heading",
    "region_summary",
    "summary_table",
]
