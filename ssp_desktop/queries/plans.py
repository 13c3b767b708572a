"""Plans as the start screen, the navigator and the tracker read them (Qt-free)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import PlanStatus
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    MeasureTarget,
    MeasureValue,
    Partnership,
    Person,
    Plan,
    PlanApproval,
    Priority,
    PriorityArea,
    plan_period_label,
)


@dataclass(frozen=True)
class ActionRow:
    """An action with its latest current update: one row of an action tracker."""

    action: Action
    latest: ActionUpdate | None


def plans(session: Session) -> Sequence[Plan]:
    return session.scalars(
        select(Plan).where(Plan.deleted_at.is_(None)).order_by(Plan.start_year.desc())
    ).all()


@dataclass(frozen=True)
class PlanChoice:
    """A plan as the window's plan picker names it."""

    plan_id: uuid.UUID
    title: str
    period: str
    status: PlanStatus


def plan_choices(session: Session) -> list[PlanChoice]:
    """Every live plan, newest first (as :func:`plans`), read in one plain select of
    the columns the picker shows: the window's first view waits for it."""
    # The mapped attributes, not the table's columns: a select of mapped attributes is
    # an ORM statement, so a store holding several partnerships keeps it to the one it
    # is open for (store.partnerships' loader criteria), and it still loads no records.
    rows = session.execute(
        select(Plan.id, Plan.title, Plan.start_year, Plan.end_year, Plan.status)
        .where(Plan.deleted_at.is_(None))
        .order_by(Plan.start_year.desc())
    )
    return [
        PlanChoice(plan_id, title, plan_period_label(start, end), status)
        for plan_id, title, start, end, status in rows
    ]


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


def partnership_name(session: Session) -> str | None:
    return session.scalar(select(Partnership.name).where(Partnership.deleted_at.is_(None)).limit(1))
