"""Domain operations and queries that more than one part of the app needs.

Writes take a :class:`~ssp_desktop.models.changes.Transaction` so they are logged and
atomic with whatever else the caller is doing; reads take a plain ``Session``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ssp_desktop.models.changes import Transaction
from ssp_desktop.models.entities import (
    Action,
    ActionUpdate,
    FundingAllocation,
    Measure,
    MeasureTarget,
    MeasureValue,
    Person,
    Plan,
    PlanApproval,
    Priority,
    PriorityArea,
)
from ssp_desktop.models.enums import Rag, UpdateState, ValueStatus
from ssp_desktop.models.errors import DomainError
from ssp_desktop.models.periods import FinancialYear, Quarter


def add_action(tx: Transaction, area: PriorityArea, **fields: object) -> Action:
    """A new action under ``area``; its plan is taken from the area's priority."""
    priority = tx.get(Priority, area.priority_id)
    if priority is None:
        raise DomainError(f"{area.describe()} has no priority.")
    action = Action(plan_id=priority.plan_id, priority_area_id=area.id, **fields)
    return tx.add(action)


def write_update(
    tx: Transaction,
    action: Action,
    quarter: Quarter,
    *,
    rag: Rag | None,
    narrative: str,
    written_on: dt.date,
    author_person_id: uuid.UUID | None = None,
    state: UpdateState = UpdateState.DRAFT,
) -> ActionUpdate:
    """Record the action's update for ``quarter``.

    If the quarter already has an update, the new one supersedes it: the old stays in
    the store, marked not current, so the history of what was said is never lost.
    The action's own RAG follows its newest quarter's update.
    """
    if action.deleted_at is not None:
        raise DomainError(f"Cannot update {action.describe()}: it has been deleted.")
    previous = tx.session.scalar(
        select(ActionUpdate).where(
            ActionUpdate.action_id == action.id,
            ActionUpdate.quarter == quarter,
            ActionUpdate.is_current.is_(True),
            ActionUpdate.deleted_at.is_(None),
        )
    )
    if previous is not None:
        previous.is_current = False
        tx.flush()  # the old row must stop being current before the new one is inserted
    update = tx.add(
        ActionUpdate(
            action_id=action.id,
            quarter=quarter,
            rag=rag,
            narrative=narrative,
            written_on=written_on,
            author_person_id=author_person_id,
            state=state,
            supersedes_id=previous.id if previous else None,
            is_current=True,
        )
    )
    newest = tx.session.scalar(
        select(func.max(ActionUpdate.quarter)).where(
            ActionUpdate.action_id == action.id,
            ActionUpdate.is_current.is_(True),
            ActionUpdate.deleted_at.is_(None),
        )
    )
    if (newest is None or quarter >= newest) and action.rag != rag:
        action.rag = rag
    return update


def set_target(
    tx: Transaction, measure: Measure, year: FinancialYear, value: float
) -> MeasureTarget:
    """Set (or change) a measure's target for a financial year."""
    target_id = MeasureTarget.make_id(measure.id, year)
    target = tx.get(MeasureTarget, target_id)
    if target is None:
        return tx.add(MeasureTarget(id=target_id, measure_id=measure.id, year=year, value=value))
    if target.deleted_at is not None:
        target.deleted_at = None
    if target.value != value:
        target.value = value
    return target


def record_value(
    tx: Transaction,
    measure: Measure,
    period: Quarter,
    value: float | None,
    *,
    comparators: Mapping[str, float] | None = None,
    status: ValueStatus = ValueStatus.PROVISIONAL,
    note: str = "",
    significant: bool | None = None,
    comparator_significant: bool | None = None,
) -> MeasureValue:
    """Enter a measure's value for a quarter. There is one record per measure and
    quarter (its id comes from both), so entering it again changes that record."""
    unknown = set(comparators or {}) - set(measure.comparator_names)
    if unknown:
        raise DomainError(
            f"{measure.describe()} has no comparator {', '.join(sorted(unknown))}; "
            f"it has {', '.join(measure.comparator_names) or 'none'}."
        )
    value_id = MeasureValue.make_id(measure.id, period)
    fields = {
        "value": value,
        "comparator_values": dict(comparators or {}),
        "status": status,
        "note": note,
        "significant": significant,
        "comparator_significant": comparator_significant,
    }
    existing = tx.get(MeasureValue, value_id)
    if existing is None:
        return tx.add(MeasureValue(id=value_id, measure_id=measure.id, period=period, **fields))
    if existing.deleted_at is not None:
        existing.deleted_at = None
    for key, new in fields.items():
        if getattr(existing, key) != new:
            setattr(existing, key, new)
    return existing


def set_allocation(
    tx: Transaction, stream_id: uuid.UUID, year: FinancialYear, amount: Decimal
) -> FundingAllocation:
    alloc_id = FundingAllocation.make_id(stream_id, year)
    alloc = tx.get(FundingAllocation, alloc_id)
    if alloc is None:
        return tx.add(FundingAllocation(id=alloc_id, stream_id=stream_id, year=year, amount=amount))
    alloc.deleted_at = None
    if alloc.amount != amount:
        alloc.amount = amount
    return alloc


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class ActionRow:
    """An action with its latest current update: one row of an action tracker."""

    action: Action
    latest: ActionUpdate | None


def plans(session: Session) -> Sequence[Plan]:
    return session.scalars(
        select(Plan).where(Plan.deleted_at.is_(None)).order_by(Plan.start_year.desc())
    ).all()


def actions_with_latest_update(session: Session, plan_id: uuid.UUID) -> list[ActionRow]:
    """Every live action of a plan with its newest current update, in ref order.

    Two queries whatever the plan's size: the newest quarter per action is found in
    SQL rather than by loading every update.
    """
    newest = (
        select(
            ActionUpdate.action_id.label("action_id"),
            func.max(ActionUpdate.quarter).label("quarter"),
        )
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(
            Action.plan_id == plan_id,
            ActionUpdate.is_current.is_(True),
            ActionUpdate.deleted_at.is_(None),
        )
        .group_by(ActionUpdate.action_id)
        .subquery()
    )
    latest: dict[uuid.UUID, ActionUpdate] = {
        u.action_id: u
        for u in session.scalars(
            select(ActionUpdate).join(
                newest,
                and_(
                    ActionUpdate.action_id == newest.c.action_id,
                    ActionUpdate.quarter == newest.c.quarter,
                    ActionUpdate.is_current.is_(True),
                    ActionUpdate.deleted_at.is_(None),
                ),
            )
        )
    }
    actions = session.scalars(
        select(Action)
        .where(Action.plan_id == plan_id, Action.deleted_at.is_(None))
        .order_by(Action.ref)
    ).all()
    return [ActionRow(a, latest.get(a.id)) for a in actions]


def measure_series(session: Session, measure_id: uuid.UUID) -> list[MeasureValue]:
    """A measure's live values, oldest quarter first."""
    return list(
        session.scalars(
            select(MeasureValue)
            .where(MeasureValue.measure_id == measure_id, MeasureValue.deleted_at.is_(None))
            .order_by(MeasureValue.period)
        )
    )


def target_for(session: Session, measure_id: uuid.UUID, year: FinancialYear) -> float | None:
    target = session.get(MeasureTarget, MeasureTarget.make_id(measure_id, year))
    return None if target is None or target.deleted_at is not None else target.value


@dataclass(frozen=True)
class PlanOverview:
    """A plan's headline figures, as the start screen lists them."""

    plan_id: uuid.UUID
    title: str
    period: str
    status: str
    priorities: int
    actions: int
    measures: int
    latest_quarter: Quarter | None


def plan_overviews(session: Session) -> list[PlanOverview]:
    def count(model: type[Priority] | type[Action] | type[Measure], plan_id: uuid.UUID) -> int:
        return int(
            session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.plan_id == plan_id, model.deleted_at.is_(None))
            )
            or 0
        )

    out = []
    for plan in plans(session):
        latest = session.scalar(
            select(func.max(ActionUpdate.quarter))
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(Action.plan_id == plan.id, ActionUpdate.deleted_at.is_(None))
        )
        out.append(
            PlanOverview(
                plan_id=plan.id,
                title=plan.title,
                period=plan.period_label,
                status=plan.status.value.capitalize(),
                priorities=count(Priority, plan.id),
                actions=count(Action, plan.id),
                measures=count(Measure, plan.id),
                latest_quarter=latest,
            )
        )
    return out


@dataclass(frozen=True)
class PriorityOutline:
    code: str
    title: str
    lead: str
    areas: tuple[str, ...]
    actions: int


@dataclass(frozen=True)
class PlanOutline:
    """What a plan holds, for a reader: its priorities and how it was approved."""

    title: str
    period: str
    status: str
    in_force_from: dt.date | None
    priorities: tuple[PriorityOutline, ...]
    approvals: tuple[PlanApproval, ...]


def plan_outline(session: Session, plan_id: uuid.UUID) -> PlanOutline:
    plan = session.get(Plan, plan_id)
    if plan is None or plan.deleted_at is not None:
        raise DomainError("That plan is not in this store (it may have been deleted).")
    outlines = []
    for priority in session.scalars(
        select(Priority)
        .where(Priority.plan_id == plan_id, Priority.deleted_at.is_(None))
        .order_by(Priority.position, Priority.code)
    ):
        areas = session.scalars(
            select(PriorityArea.title)
            .where(PriorityArea.priority_id == priority.id, PriorityArea.deleted_at.is_(None))
            .order_by(PriorityArea.position, PriorityArea.title)
        ).all()
        actions = session.scalar(
            select(func.count())
            .select_from(Action)
            .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
            .where(PriorityArea.priority_id == priority.id, Action.deleted_at.is_(None))
        )
        lead = session.get(Person, priority.lead_person_id) if priority.lead_person_id else None
        outlines.append(
            PriorityOutline(
                code=priority.code,
                title=priority.title,
                lead=lead.role_title or lead.name if lead else "",
                areas=tuple(areas),
                actions=int(actions or 0),
            )
        )
    approvals = session.scalars(
        select(PlanApproval)
        .where(PlanApproval.plan_id == plan_id, PlanApproval.deleted_at.is_(None))
        .order_by(PlanApproval.meeting_date, PlanApproval.position)
    ).all()
    return PlanOutline(
        title=plan.title,
        period=plan.period_label,
        status=plan.status.value.capitalize(),
        in_force_from=plan.in_force_from,
        priorities=tuple(outlines),
        approvals=tuple(approvals),
    )


def start_plan(
    tx: Transaction,
    *,
    partnership_name: str,
    area: str,
    title: str,
    start_year: FinancialYear,
    end_year: FinancialYear,
) -> Plan:
    """A new draft plan, under the store's partnership (made if the store has none)."""
    from ssp_desktop.models.entities import Partnership

    if not title.strip():
        raise DomainError("The plan needs a title.")
    if end_year < start_year:
        raise DomainError("The plan's last year is before its first year.")
    partnership = tx.session.scalar(
        select(Partnership).where(Partnership.deleted_at.is_(None)).limit(1)
    )
    if partnership is None:
        if not partnership_name.strip():
            raise DomainError("The partnership needs a name.")
        partnership = tx.add(Partnership(name=partnership_name.strip(), area=area.strip()))
    return tx.add(
        Plan(
            partnership_id=partnership.id,
            title=title.strip(),
            start_year=start_year,
            end_year=end_year,
        )
    )


def partnership_name(session: Session) -> str | None:
    from ssp_desktop.models.entities import Partnership

    return session.scalar(select(Partnership.name).where(Partnership.deleted_at.is_(None)).limit(1))
