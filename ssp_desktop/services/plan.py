"""The plan's structure: plans, priorities, areas for action."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import (
    Outcome,
    Partnership,
    Plan,
    PlanApproval,
    Priority,
    PriorityArea,
)
from ssp_desktop.domain.validation import check_years
from ssp_desktop.services.core import create, invariant, service, unique_in
from ssp_desktop.services.numbering import free_code, next_position

invariant(Plan, "title")(unique_in("partnership_id", "partnership", "title"))
invariant(Priority, "code")(unique_in("plan_id", "plan", "code"))
invariant(Outcome, "code")(unique_in("framework_id", "framework", "code"))


@invariant(Plan, "start_year")
def _first_year(session: Session, plan: Plan, value: FinancialYear) -> None:
    check_years(value, plan.end_year)


@invariant(Plan, "end_year")
def _last_year(session: Session, plan: Plan, value: FinancialYear) -> None:
    check_years(plan.start_year, value)


@service
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
        partnership = create(tx, Partnership(name=partnership_name.strip(), area=area.strip()))
    return create(
        tx,
        Plan(
            partnership_id=partnership.id,
            title=title.strip(),
            start_year=start_year,
            end_year=end_year,
        ),
    )


def _live_plan(plan: Plan) -> Plan:
    if plan.deleted_at is not None:
        raise DomainError("The plan has been deleted.")
    return plan


@service
def add_priority(tx: Transaction, plan: Plan) -> Priority:
    """A new priority at the end of ``plan``, with the next free code (P1, P2, ...)."""
    where = Priority.plan_id == _live_plan(plan).id
    code = free_code(tx.session, Priority.code, "P", where, width=1)
    position = next_position(tx.session, Priority.position, where)
    return create(tx, Priority(plan_id=plan.id, code=code, title="New priority", position=position))


@service
def add_area(tx: Transaction, priority: Priority) -> PriorityArea:
    """A new priority area at the end of ``priority``."""
    if priority.deleted_at is not None:
        raise DomainError("The priority has been deleted.")
    position = next_position(
        tx.session, PriorityArea.position, PriorityArea.priority_id == priority.id
    )
    return create(
        tx, PriorityArea(priority_id=priority.id, title="New priority area", position=position)
    )


@service
def add_approval(tx: Transaction, plan: Plan, meeting_date: dt.date) -> PlanApproval:
    """A new entry at the end of ``plan``'s approval trail, for a meeting on ``meeting_date``."""
    position = next_position(
        tx.session, PlanApproval.position, PlanApproval.plan_id == _live_plan(plan).id
    )
    return create(
        tx,
        PlanApproval(
            plan_id=plan.id, body="New approval", meeting_date=meeting_date, position=position
        ),
    )
