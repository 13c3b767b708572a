"""The partnership's sign-off cycle: submit, accept, return; archive and reopen a plan.

An update (or a measure's value for a quarter) goes draft -> submitted -> accepted,
or returned with a reason -> submitted again. The lead submits on their copy; only the
master copy accepts or returns (``services.authority`` refuses it elsewhere, whoever
asks). The board pack prints accepted ones.

Reviewing is a change like any other: it is change-logged (who accepted what, when),
travels back to the lead in their next snapshot, and is undoable on the master.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import PlanStatus, Rag, UpdateState
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import Action, ActionUpdate, MeasureValue, Plan
from ssp_desktop.domain.rules import submission_problem
from ssp_desktop.domain.validation import ValidationError
from ssp_desktop.services import authority
from ssp_desktop.services.actions import write_update
from ssp_desktop.services.core import edit, service

Reviewed = ActionUpdate | MeasureValue

REASON_LIMIT = 2000


def _live(record: Reviewed) -> None:
    if record.deleted_at is not None:
        raise DomainError(f"The {record.describe()} has been deleted. Nothing was changed.")
    if isinstance(record, ActionUpdate) and not record.is_current:
        raise DomainError(
            f"The {record.describe()} has been replaced by a newer version; review that one."
        )


def _reason(reason: str, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError(f"Say why the {what} is returned: the lead reads the reason")
    if len(text) > REASON_LIMIT:
        raise ValidationError(f"The reason is {len(text):,} characters; at most {REASON_LIMIT:,}")
    return text


@service
def submit(tx: Transaction, record: Reviewed) -> Reviewed:
    """The lead sends their update or value to the strategy team (again, after a return)."""
    _live(record)
    if record.state is UpdateState.ACCEPTED:
        raise DomainError(f"The {record.describe()} has been accepted already.")
    if isinstance(record, ActionUpdate):
        problem = submission_problem(record.rag, record.narrative)
        if problem:
            raise ValidationError(problem)
    elif record.value is None and not record.note.strip():
        raise ValidationError("A value, or a note saying why there is none, is needed first")
    return edit(tx, record, state=UpdateState.SUBMITTED, review_note="")


@service
def accept(tx: Transaction, record: Reviewed) -> Reviewed:
    """The strategy team accepts it: from now on the board pack prints it."""
    _live(record)
    if record.state is UpdateState.DRAFT:
        raise DomainError(
            f"The {record.describe()} is still a draft: its lead has not submitted it."
        )
    return edit(tx, record, state=UpdateState.ACCEPTED, review_note="")


@service
def return_to_lead(tx: Transaction, record: Reviewed, reason: str) -> Reviewed:
    """Send it back to its lead with a reason; it travels in their next bundle."""
    _live(record)
    text = _reason(reason, record.describe())
    if record.state is UpdateState.DRAFT:
        raise DomainError(
            f"The {record.describe()} is still a draft: its lead has not submitted it."
        )
    return edit(tx, record, state=UpdateState.RETURNED, review_note=text)


@service
def edit_then_accept(tx: Transaction, record: Reviewed, **fields: Any) -> Reviewed:
    """The strategy team corrects what the lead sent and accepts the result.

    An action update is append-only: the correction is a new version of the quarter's
    update (the lead's words stay in the history), written by the master and accepted.
    A measure value is one record per quarter, so it is changed in place.
    """
    _live(record)
    if isinstance(record, ActionUpdate):
        action = tx.get(Action, record.action_id)
        if action is None:
            raise DomainError("The update's action is not in the store.")
        rag: Rag | None = fields.pop("rag", record.rag)
        narrative: str = fields.pop("narrative", record.narrative)
        if fields:
            raise DomainError(f"An update has no field {', '.join(sorted(fields))} to edit.")
        if rag == record.rag and narrative == record.narrative:
            return accept(tx, record)
        return write_update(
            tx,
            action,
            record.quarter,
            rag=rag,
            narrative=narrative,
            written_on=dt.date.today(),
            author_person_id=record.author_person_id,
            state=UpdateState.ACCEPTED,
        )
    edit(tx, record, **fields)
    return accept(tx, record)


# --------------------------------------------------------------------------- plans


@service
def archive_plan(tx: Transaction, plan: Plan) -> Plan:
    """The plan's period is over: from now on it is read-only on every copy."""
    if plan.status is PlanStatus.ARCHIVED:
        return plan
    return edit(tx, plan, status=PlanStatus.ARCHIVED, status_reason="")


@service
def reopen_plan(tx: Transaction, plan: Plan, reason: str, *, to: PlanStatus) -> Plan:
    """Make an archived plan editable again; the reason is logged with the change."""
    if plan.status is not PlanStatus.ARCHIVED:
        raise DomainError(f"The plan {plan.title} is not archived.")
    if to is PlanStatus.ARCHIVED:
        raise DomainError("Reopening makes the plan draft or approved again.")
    text = (reason or "").strip()
    if not text:
        raise ValidationError("Say why the plan is reopened: the reason is kept in its history")
    with authority.reopening(tx.session, plan):
        return edit(tx, plan, status=to, status_reason=text)
