"""Who may change what (DESIGN.md section 8): master-owned fields and archived plans.

Two rules every writer obeys, because :func:`check` runs inside
``services.core.check_field``/``check_record`` and the generic delete and restore:

* **Master-owned fields** (targets, tolerances, polarity, thresholds, measure
  definitions, plan structure and status, review states, funding allocations) are set
  only with the master's authority. A lead copy has the lead's authority, except while
  it applies the master's snapshot; the master has the lead's authority while it merges
  a lead's bundle, so such a change from a lead is refused item by item with the same
  words a lead's editor shows ("Only the master copy sets targets").
* **An archived plan is read-only**, on every copy, until the master reopens it with a
  reason (:func:`reopen_plan`); the refusal says when it was archived and by whom.

The authority of a transaction is the copy's role (``store_meta.sync_role``) unless a
merge says otherwise with :func:`acting_as`.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import lookup
from ssp_desktop.domain.enums import PlanStatus, UpdateState
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    BoardMeeting,
    BoardPack,
    ChangeLog,
    FundingAllocation,
    FundingStream,
    Measure,
    MeasureTarget,
    MeasureValue,
    Outcome,
    OutcomeFramework,
    PackExport,
    Person,
    Plan,
    PlanApproval,
    PlanFramework,
    Priority,
    PriorityArea,
    PriorityOutcome,
    StoreMeta,
)
from ssp_desktop.domain.sync_records import ROLE_LEAD
from ssp_desktop.domain.validation import ValidationError

MASTER = "master"
LEAD = "lead"

_AUTHORITY = "authority"
_REOPENING = "reopening_plan"

# Records a lead copy never creates, changes or deletes: what the words say it sets.
_MASTER_RECORDS: dict[type[Record], str] = {
    Plan: "changes the plan's structure",
    PlanApproval: "changes the plan's approval trail",
    PlanFramework: "changes the plan's structure",
    Priority: "changes the plan's structure",
    PriorityArea: "changes the plan's structure",
    PriorityOutcome: "changes the plan's structure",
    OutcomeFramework: "changes the outcome frameworks",
    Outcome: "changes the outcome frameworks",
    MeasureTarget: "sets targets",
    FundingStream: "sets funding allocations",
    FundingAllocation: "sets funding allocations",
    BoardMeeting: "makes board packs",
    BoardPack: "makes board packs",
    PackExport: "makes board packs",
}
# Fields of other records a lead copy cannot set; the rest of the record is theirs.
_MASTER_FIELDS: dict[tuple[type[Record], str], str] = {
    (Plan, "status"): "sets the plan's status",
    (Measure, "tolerance"): "sets tolerances",
    (Measure, "tolerance_mode"): "sets tolerances",
    (Measure, "polarity"): "sets a measure's polarity",
    (Measure, "stable_threshold"): "sets thresholds",
    (ActionUpdate, "review_note"): "accepts or returns updates",
    (MeasureValue, "review_note"): "accepts or returns values",
}
# A measure's definition is the strategy team's, all of it but who owns it.
_MEASURE_LEAD_FIELDS = frozenset({"owner_person_id"})
_REVIEWED = {ActionUpdate: "accepts or returns updates", MeasureValue: "accepts or returns values"}


def copy_role(session: Session) -> str:
    """This store's role: the lead's on a lead copy, else the master's (a store that has
    never exchanged bundles is its own master)."""
    cached = session.info.get("copy_role")
    if cached is None:
        meta = session.get(StoreMeta, "sync_role")
        cached = LEAD if meta is not None and meta.value == ROLE_LEAD else MASTER
        session.info["copy_role"] = cached
    return str(cached)


def authority(session: Session) -> str:
    """Whose authority this transaction's writes have: :data:`MASTER` or :data:`LEAD`."""
    return str(session.info.get(_AUTHORITY) or copy_role(session))


@contextlib.contextmanager
def acting_as(session: Session, who: str) -> Iterator[None]:
    """Judge writes made in the block with ``who``'s authority (a merge: the master
    applying a lead's bundle acts as the lead; a lead applying the master's snapshot
    acts as the master)."""
    before = session.info.get(_AUTHORITY)
    session.info[_AUTHORITY] = who
    try:
        yield
    finally:
        session.info[_AUTHORITY] = before


def master_only(cls: type[Record], field: str | None, value: Any = None) -> str | None:
    """The refusal a lead gets for setting ``field`` of a ``cls`` to ``value`` (None: the
    whole record, a create or a delete), or None when a lead may."""
    words: str | None = None
    if field is not None and (cls, field) in _MASTER_FIELDS:
        # Clearing the reason is what resubmitting a returned update does.
        words = _MASTER_FIELDS[(cls, field)] if field != "review_note" or value else None
    elif cls in _MASTER_RECORDS:
        words = _MASTER_RECORDS[cls]
    elif cls is Measure and (field is None or field not in _MEASURE_LEAD_FIELDS):
        words = "changes measure definitions"
    elif field == "state" and cls in _REVIEWED and value is not None:
        words = _REVIEWED[cls] if UpdateState(value).reviewed else None
    if words is None:
        return None
    return f"Only the master copy {words}"


def master_owned_fields(cls: type[Record]) -> frozenset[str] | None:
    """The fields of ``cls`` an editor on a lead copy shows read-only (None: all)."""
    if cls in _MASTER_RECORDS:
        return None
    if cls is Measure:
        names = {c.key for c in Measure.__table__.columns}
        return frozenset(names - _MEASURE_LEAD_FIELDS)
    return frozenset(f for (c, f) in _MASTER_FIELDS if c is cls)


# --------------------------------------------------------------------------- checks


def read_only_reason(session: Session, record: Record, field: str | None = None) -> str | None:
    """Why an editor shows ``record`` (or one ``field`` of it, or with None the record
    as a whole) read-only here, in the words a refused write would give; None if it may
    be changed."""
    plan_id = plan_of(session, record)
    plan = lookup(session, Plan, plan_id) if plan_id is not None else None
    if plan is not None and plan.status is PlanStatus.ARCHIVED:
        return archived_message(session, plan)
    if authority(session) == LEAD:
        if field is None:
            return _record_reason(type(record))
        return master_only(type(record), field)
    return None


def _record_reason(cls: type[Record]) -> str | None:
    words = _MASTER_RECORDS.get(cls)
    return f"Only the master copy {words}" if words else None


def check(
    session: Session,
    record: Record,
    field: str | None,
    value: Any = None,
    *,
    plan_judged: bool = False,
) -> None:
    """Refuse (ValidationError) a write the authority or an archived plan forbids.

    ``field`` None judges the record as a whole (a create, delete or restore).
    ``plan_judged``: the caller has already found the record's plan not archived (for
    another of its fields, the record otherwise as it is now), so that is not asked again.
    """
    if authority(session) == LEAD:
        _check_lead(session, record, field, value)
    if not plan_judged:
        _check_not_archived(session, record, field)


def _check_lead(session: Session, record: Record, field: str | None, value: Any) -> None:
    """Refuse what a lead copy may not write (:func:`check` on a lead copy)."""
    refusal = master_only(type(record), field, value)
    if refusal is None and field is None:
        refusal = _created_with_master_values(record) or _outside_copy(session, record)
    if refusal is not None:
        raise ValidationError(refusal)


class CreateCheck:
    """:func:`check` of new records (``field`` None), one after another, with what they
    share judged once: whose authority the transaction has, and each plan found not
    archived (a batch only adds records, so a plan found open stays open while it is
    judged; a plan not found yet is asked again). Refuses with the words :func:`check`
    would use."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._lead = authority(session) == LEAD
        self._open: set[uuid.UUID] = set()

    def __call__(self, record: Record) -> None:
        session = self._session
        if self._lead:
            _check_lead(session, record, None, None)
        plan_id = plan_of(session, record)
        if plan_id is None or plan_id in self._open:
            return
        _check_not_archived(session, record, None)
        if _plan(session, plan_id) is not None:
            self._open.add(plan_id)


def _created_with_master_values(record: Record) -> str | None:
    for key in ("state", "review_note"):
        value = record.__dict__.get(key)
        if value:
            refusal = master_only(type(record), key, value)
            if refusal is not None:
                return refusal
    return None


def _outside_copy(session: Session, record: Record) -> str | None:
    """On a lead copy given single actions: an action that is not one of them, in an
    area outside the copy's themes (a new one), is the master's to add."""
    if not isinstance(record, Action) or session.info.get(_AUTHORITY) == LEAD:
        return None  # the master judges a lead's bundle by the scope it recorded
    themes, actions = _copy_scope(session)
    if not actions or str(record.id) in actions:
        return None
    area = _get(session, PriorityArea, record.priority_area_id)
    if isinstance(area, PriorityArea) and str(area.priority_id) in themes:
        return None
    return "Only the master copy adds actions outside your themes"


def _copy_scope(session: Session) -> tuple[frozenset[str], frozenset[str]]:
    cached = session.info.get("copy_scope")
    if cached is None:
        found = []
        for key in ("sync_themes", "sync_actions"):
            meta = session.get(StoreMeta, key)
            try:
                ids = json.loads(meta.value) if meta is not None else []
            except ValueError:
                ids = []
            found.append(frozenset(str(i) for i in ids) if isinstance(ids, list) else frozenset())
        cached = (found[0], found[1])
        session.info["copy_scope"] = cached
    return cached


# session.info keys: what the plan checks found, kept for the session's life. The plan
# a parent record (an action, a measure, a priority) belongs to is fixed once it is
# made (records move only within their plan), and a plan is never removed: an import
# judging thousands of records under a few hundred parents asks for each parent once.
_PLAN_OF_PARENT = "plan_of_parent"
_PLANS = "plans_by_id"


def _plan(session: Session, plan_id: uuid.UUID) -> Plan | None:
    """The plan with this id (its status read as it is now), held once found."""
    info = session.info
    plans: dict[Any, Plan] | None = info.get(_PLANS)
    if plans is None:
        plans = info[_PLANS] = {}
    plan = plans.get(plan_id)
    if plan is None:
        plan = lookup(session, Plan, plan_id)
        if plan is not None:
            plans[plan_id] = plan
    return plan


def _check_not_archived(session: Session, record: Record, field: str | None) -> None:
    plan_id = plan_of(session, record)
    if plan_id is None:
        return
    plan = _plan(session, plan_id)
    if plan is None or plan.status is not PlanStatus.ARCHIVED:
        return
    reopening = session.info.get(_REOPENING)
    if isinstance(record, Plan) and field in ("status", "status_reason") and reopening == record.id:
        return
    raise ValidationError(archived_message(session, plan))


REOPEN_HINT = "The master copy can reopen it, with a reason."


def archived_message(session: Session, plan: Plan) -> str:
    when, who = archived_by(session, plan.id)
    said = f" on {when.day} {when:%B %Y}" if when else ""
    said += f" by {who}" if who else ""
    return f"The plan {plan.title} was archived{said}, so it is read-only. {REOPEN_HINT}"


def archived_by(session: Session, plan_id: uuid.UUID) -> tuple[Any, str]:
    """When the plan was last archived, and by whom (from the change log)."""
    row = session.execute(
        select(ChangeLog.at, ChangeLog.actor, ChangeLog.person_id)
        .where(
            ChangeLog.record_id == plan_id,
            ChangeLog.field == "status",
            ChangeLog.new == '"archived"',
        )
        .order_by(ChangeLog.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return None, ""
    person = session.get(Person, row.person_id) if row.person_id else None
    return row.at, person.name if person is not None else row.actor


# Which field leads to the record's plan, for records without their own plan_id.
_PARENTS: dict[type[Record], tuple[str, type[Record]]] = {
    PriorityArea: ("priority_id", Priority),
    PriorityOutcome: ("priority_id", Priority),
    MeasureTarget: ("measure_id", Measure),
    MeasureValue: ("measure_id", Measure),
}


def plan_of(session: Session, record: Record) -> uuid.UUID | None:
    """The plan a record belongs to, or None for records outside any plan (people,
    organisations, funding, outcome frameworks)."""
    if isinstance(record, Plan):
        return record.id
    held = record.__dict__
    plan_id = held.get("plan_id")
    if plan_id is not None:
        return plan_id  # type: ignore[no-any-return]
    parent = _parent(type(record))
    if parent is None:
        return None
    key, parent_cls = parent
    parent_id = held.get(key)
    if parent_id is None:
        return None
    info = session.info
    known: dict[tuple[type[Record], Any], uuid.UUID] | None = info.get(_PLAN_OF_PARENT)
    if known is None:
        known = info[_PLAN_OF_PARENT] = {}
    found_plan = known.get((parent_cls, parent_id))
    if found_plan is not None:
        return found_plan
    found = _get(session, parent_cls, parent_id)
    found_plan = plan_of(session, found) if found is not None else None
    if found_plan is not None:  # a parent not found may yet be added: asked again then
        known[(parent_cls, parent_id)] = found_plan
    return found_plan


_PARENT_OF: dict[type[Record], tuple[str, type[Record]] | None] = {}


def _parent(cls: type[Record]) -> tuple[str, type[Record]] | None:
    """(field, parent class) leading to the plan of a record class without a plan_id."""
    try:
        return _PARENT_OF[cls]
    except KeyError:
        parent = _PARENTS.get(cls)
        if parent is None and "action_id" in cls.__table__.columns:
            parent = ("action_id", Action)
        _PARENT_OF[cls] = parent
        return parent


def _get(session: Session, cls: type[Record], record_id: uuid.UUID) -> Record | None:
    # Added in this transaction and not flushed yet, or in the store; never a flush.
    return lookup(session, cls, record_id)


@contextlib.contextmanager
def reopening(session: Session, plan: Plan) -> Iterator[None]:
    """Let the reopen service change an archived plan's status (and nothing else)."""
    session.info[_REOPENING] = plan.id
    try:
        yield
    finally:
        session.info.pop(_REOPENING, None)
