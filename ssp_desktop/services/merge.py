"""What a bundle merge and a conflict decision need beyond the generic services.

A merge (``sync/merge*.py``) decides every write before it makes one: the preview the
user approves is that plan, and the import then makes its writes in one transaction
with ``services.create``/``edit``/``restore``/``delete``. So that a write the rules
would refuse is refused in the preview instead (item by item, with the words the form
uses, the rest still applied), the planner asks :func:`broken_rule` about each one and,
once it has accepted a write, tells the transaction's uniqueness index what it will
hold (:func:`expect`), so a later write of the same bundle is judged against the store
as it will be by then, as the services will judge it.

The named operations here:

* :func:`make_current`: a conflict decided for an update that the merge kept as an
  earlier version of its quarter;
* :func:`remove_from_copy`: a record that left a lead's themes leaves the lead's copy.
  It is the one hard removal of a record there is, and it is not a deletion: the plan
  still has the record (see the function).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import Action, ActionUpdate, Plan, StoreMeta
from ssp_desktop.domain.sync_records import ROLE_LEAD
from ssp_desktop.domain.validation import ValidationError
from ssp_desktop.services.core import (
    check_field,
    draft,
    edit,
    index_after_write,
    index_forget,
    service,
)

R = TypeVar("R", bound=Record)

__all__ = ["broken_rule", "draft", "expect", "expect_gone", "make_current", "remove_from_copy"]


# --------------------------------------------------------------------------- judging


def broken_rule(
    session: Session,
    cls: type[Record],
    record_id: uuid.UUID,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    *,
    unchecked: Collection[str] = (),
) -> str | None:
    """The message of the rule that writing ``after`` would break, or None.

    ``before`` is the record's fields as they will be just before the write (None for
    a new record, judged as ``create`` judges one: every field it has). A change is
    judged as ``edit`` judges fields changed together: each field's rules see the
    other fields' new values and the field's own old one. ``unchecked`` fields are not
    judged here: a reference to a record the same merge adds, which the rules could not
    find yet; the services judge it when the record is written.
    """
    values = {**(before or {}), **after, "id": record_id}
    record = draft(cls, values)
    fields = after if before is not None else {k: v for k, v in after.items() if v is not None}
    # "The plan is not archived" is judged once a record: while a field is judged the
    # record holds the new values of all the others, so the plan it leads to is the
    # same for every field but those that lead to it (a plan or parent reference),
    # which are judged whole; a plan's own fields too (reopening one is up to the field).
    leads_to_plan = _references(cls)
    judged = False
    try:
        for key, value in fields.items():
            if key in unchecked:
                continue
            if before is not None:
                record.__dict__[key] = before.get(key)
            if cls is Plan or key in leads_to_plan:
                check_field(session, record, key, value)
            else:
                check_field(session, record, key, value, plan_judged=judged)
                judged = True
            record.__dict__[key] = value
    except ValidationError as exc:
        return str(exc)
    return None


@functools.cache
def _references(cls: type[Record]) -> frozenset[str]:
    return frozenset(c.key for c in cls.__table__.columns if c.foreign_keys)


def expect(
    session: Session, cls: type[Record], record_id: uuid.UUID, values: Mapping[str, Any]
) -> None:
    """Note that the record will hold ``values`` (live) once the merge's writes are made,
    so the uniqueness rules judge the merge's later writes against that."""
    index_after_write(session, draft(cls, {**values, "id": record_id}))


def expect_gone(session: Session, cls: type[Record], record_id: uuid.UUID) -> None:
    """Note that the record will be deleted (or removed) by the merge's writes."""
    index_forget(session, draft(cls, {"id": record_id}))


# --------------------------------------------------------------------------- operations


@service
def make_current(tx: Transaction, update: ActionUpdate) -> ActionUpdate:
    """Make ``update`` the current update of its action's quarter.

    A merge that meets two current updates for one quarter keeps the incoming one as an
    earlier version; choosing it in the conflict comes here. The update that was current
    stops being so first (an action has one current update a quarter), and the action's
    RAG follows its newest quarter's update, as after ``write_update``.
    """
    if update.deleted_at is not None:
        raise DomainError(
            f"{update.describe().capitalize()} has been deleted. Nothing was changed."
        )
    for other in tx.session.scalars(
        select(ActionUpdate).where(
            ActionUpdate.action_id == update.action_id,
            ActionUpdate.quarter == update.quarter,
            ActionUpdate.is_current.is_(True),
            ActionUpdate.deleted_at.is_(None),
            ActionUpdate.id != update.id,
        )
    ):
        edit(tx, other, is_current=False)
    tx.flush()  # the other stops being current before this one becomes it
    edit(tx, update, is_current=True)
    tx.flush()
    action = tx.get(Action, update.action_id)
    newest = tx.session.scalar(
        select(func.max(ActionUpdate.quarter)).where(
            ActionUpdate.action_id == update.action_id,
            ActionUpdate.is_current.is_(True),
            ActionUpdate.deleted_at.is_(None),
        )
    )
    if action is not None and action.deleted_at is None and newest == update.quarter:
        edit(tx, action, rag=update.rag)
    return update


@service
def remove_from_copy(tx: Transaction, record: Record) -> None:
    """Take ``record`` out of this lead's copy: it has left the lead's themes (the master
    moved it to another theme), so the copy no longer holds it.

    This is not a deletion, and it is honest about being a hard one: the plan still has
    the record, on the master and in other leads' copies, so no tombstone is kept and
    nothing is logged here (a tombstone would travel back to the master as the lead
    deleting it). Only a lead's copy removes records this way, and records that refer
    to this one are removed first (the merge orders them so).
    """
    role = tx.session.get(StoreMeta, "sync_role")
    if role is None or role.value != ROLE_LEAD:
        raise DomainError(
            f"Only a lead's copy lets {record.describe()} leave it; this store is not one. "
            "Nothing was changed."
        )
    tx.flush()
    index_forget(tx.session, record)
    cls = type(record)
    tx.session.execute(delete(cls).where(cls.id == record.id))
