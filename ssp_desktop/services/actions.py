"""Actions and their quarterly updates: the only code that writes them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction, lookup
from ssp_desktop.domain.enums import Rag, UpdateState
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionPartner,
    ActionUpdate,
    Priority,
    PriorityArea,
)
from ssp_desktop.domain.validation import ValidationError, check_dates
from ssp_desktop.services.core import (
    check_read,
    create,
    create_many,
    edit,
    invariant,
    lock_for_check,
    service,
    unique_in,
)
from ssp_desktop.services.numbering import free_code, next_position

invariant(Action, "ref")(unique_in("plan_id", "plan", "ref"))


@invariant(Action, "start_date")
def _start_before_due(session: Session, action: Action, value: dt.date | None) -> None:
    check_dates(value, action.due_date)


@invariant(Action, "due_date")
def _due_after_start(session: Session, action: Action, value: dt.date | None) -> None:
    check_dates(action.start_date, value)


@invariant(Action, "priority_area_id")
def _area_in_plan(session: Session, action: Action, value: uuid.UUID) -> None:
    """An action may move to another area of its own plan only (its ref is unique there)."""
    area = lookup(session, PriorityArea, value)
    priority = lookup(session, Priority, area.priority_id) if area is not None else None
    if area is None or area.deleted_at is not None or priority is None:
        raise ValidationError("That priority area is not in the store any more")
    if priority.plan_id != action.plan_id:
        raise ValidationError("An action can only move to a priority area of its own plan")


@service
def add_action(tx: Transaction, area: PriorityArea, **fields: object) -> Action:
    """A new action under ``area``; its plan is taken from the area's priority."""
    priority = tx.get(Priority, area.priority_id)
    if priority is None:
        raise DomainError(f"{area.describe()} has no priority.")
    return create(tx, Action(plan_id=priority.plan_id, priority_area_id=area.id, **fields))


@service
def add_action_to_area(tx: Transaction, area: PriorityArea) -> Action:
    """A new action at the end of ``area``, with the next free ref of its priority's
    code (P1-01, P1-02, ...) among the plan's actions."""
    priority = tx.get(Priority, area.priority_id)
    if area.deleted_at is not None or priority is None or priority.deleted_at is not None:
        raise DomainError("The priority area has been deleted.")
    return add_action(
        tx,
        area,
        ref=free_code(
            tx.session, Action.ref, f"{priority.code}-", Action.plan_id == priority.plan_id
        ),
        title="New action",
        position=next_position(tx.session, Action.position, Action.priority_area_id == area.id),
    )


class CurrentUpdates:
    """Each action's current update per quarter, read once for a whole plan.

    A writer of many updates in one transaction (an import) passes it to
    :func:`write_update`, which reads it instead of asking the store for every row and
    keeps it up to date as it writes.
    """

    def __init__(self, updates: Iterable[ActionUpdate] = ()) -> None:
        self._by_quarter: dict[tuple[uuid.UUID, Quarter], ActionUpdate] = {}
        self._newest: dict[uuid.UUID, Quarter] = {}
        for update in updates:
            self.put(update)

    @classmethod
    def of_plan(cls, session: Session, plan_id: uuid.UUID) -> CurrentUpdates:
        return cls(
            session.scalars(
                select(ActionUpdate)
                .join(Action, Action.id == ActionUpdate.action_id)
                .where(
                    Action.plan_id == plan_id,
                    ActionUpdate.is_current.is_(True),
                    ActionUpdate.deleted_at.is_(None),
                )
            )
        )

    def get(self, action_id: uuid.UUID, quarter: Quarter) -> ActionUpdate | None:
        """The action's current update for ``quarter``, if it has one."""
        return self._by_quarter.get((action_id, quarter))

    def newest(self, action_id: uuid.UUID) -> Quarter | None:
        """The latest quarter the action has a current update for."""
        return self._newest.get(action_id)

    def put(self, update: ActionUpdate) -> None:
        self._by_quarter[(update.action_id, update.quarter)] = update
        newest = self._newest.get(update.action_id)
        if newest is None or update.quarter > newest:
            self._newest[update.action_id] = update.quarter


@service
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
    current: CurrentUpdates | None = None,
    expected: Mapping[str, Any] | None = None,
) -> ActionUpdate:
    """Record the action's update for ``quarter``.

    If the quarter already has an update, the new one supersedes it: the old stays in
    the store, marked not current, so the history of what was said is never lost.
    The action's own RAG follows its newest quarter's update.

    ``current``, when given, is read instead of the store and kept up to date (a
    writer of many updates in one transaction, such as an import, loads it once).

    ``expected``: the RAG and narrative the editor showed of the quarter's update
    (blanks when it had none). If someone else has written the quarter's update since,
    this one is refused (EditConflictError: who, theirs, yours) and nothing is written.
    """
    if action.deleted_at is not None:
        raise DomainError(f"Cannot update {action.describe()}: it has been deleted.")
    if expected:
        # The action's row first: two officers writing the quarter's first update take
        # turns, so the second reads the first's and is refused, not added beside it.
        lock_for_check(tx, action)
    if current is not None:
        previous = current.get(action.id, quarter)
    else:
        previous = tx.session.scalar(
            select(ActionUpdate).where(
                ActionUpdate.action_id == action.id,
                ActionUpdate.quarter == quarter,
                ActionUpdate.is_current.is_(True),
                ActionUpdate.deleted_at.is_(None),
            )
        )
    if expected:
        lock_for_check(tx, previous)
        check_read(
            tx.session,
            ActionUpdate,
            previous.id if previous is not None else action.id,
            previous,
            {k: v for k, v in expected.items() if k in ("rag", "narrative")},
            {"rag": rag, "narrative": narrative},
            describe=f"the {quarter.label} update of {action.describe()}",
        )
    if previous is not None:
        edit(tx, previous, is_current=False)
        tx.flush()  # the old row must stop being current before the new one is inserted
    update = create(
        tx,
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
        ),
    )
    _after_update(tx, action, update, current)
    return update


def _after_update(
    tx: Transaction, action: Action, update: ActionUpdate, current: CurrentUpdates | None
) -> None:
    """What writing ``update`` does to its action: its RAG follows its newest quarter's."""
    quarter, rag = update.quarter, update.rag
    if current is not None:
        current.put(update)
        newest = current.newest(action.id)
    else:
        newest = tx.session.scalar(
            select(func.max(ActionUpdate.quarter)).where(
                ActionUpdate.action_id == action.id,
                ActionUpdate.is_current.is_(True),
                ActionUpdate.deleted_at.is_(None),
            )
        )
    # A RAG that already holds the value is left alone, as edit() would leave it (an
    # importer writing thousands of updates skips the call rather than have it find so).
    if (newest is None or quarter >= newest) and action.rag != rag:
        edit(tx, action, rag=rag)


@dataclass(frozen=True)
class FirstUpdate:
    """A new action's first update (see :func:`write_update` for the fields)."""

    quarter: Quarter
    rag: Rag | None
    narrative: str
    written_on: dt.date
    author_person_id: uuid.UUID | None = None
    state: UpdateState = UpdateState.DRAFT


@dataclass(frozen=True)
class NewAction:
    """An action to add (its fields, as ``Action`` takes them), the organisations it
    works with, and its first update."""

    fields: Mapping[str, Any]
    partner_ids: Sequence[uuid.UUID] = ()
    update: FirstUpdate | None = None


@service
def add_actions(
    tx: Transaction,
    new: Sequence[NewAction],
    *,
    current: CurrentUpdates | None = None,
    refused: Callable[[int], None] | None = None,
) -> list[Action]:
    """Add new actions, each with its partners and its first update: what
    ``create(Action(...))``, ``create(ActionPartner(...))`` for each partner and
    :func:`write_update` do for each in turn (the same records, judged by the same
    rules, added in the same order), as one batch
    (:func:`~ssp_desktop.services.core.create_many`).

    A record refused raises the error those calls would raise, after ``refused`` is
    called with the index in ``new`` of the action it belongs to (an importer names
    its row). ``current``, as :func:`write_update` takes it, is kept up to date."""
    # A new action has no update yet: none to supersede, none newer than its first.
    current = current if current is not None else CurrentUpdates()
    records: list[Record] = []
    owners: list[int] = []
    made: list[tuple[Action, ActionUpdate | None]] = []
    for index, one in enumerate(new):
        action = Action.new(**one.fields)
        records.append(action)
        records.extend(
            ActionPartner.new(action_id=action.id, organisation_id=org_id)
            for org_id in one.partner_ids
        )
        update = None
        if one.update is not None:
            first = one.update
            update = ActionUpdate.new(
                action_id=action.id,
                quarter=first.quarter,
                rag=first.rag,
                narrative=first.narrative,
                written_on=first.written_on,
                author_person_id=first.author_person_id,
                state=first.state,
                supersedes_id=None,
                is_current=True,
            )
            records.append(update)
        owners.extend([index] * (len(records) - len(owners)))
        made.append((action, update))
    try:
        create_many(tx, records)
    except DomainError:
        if refused is not None:
            # The records before the refused one are added, it and those after not.
            session = tx.session
            out = (i for i, record in enumerate(records) if record not in session)
            refused(owners[next(out, len(records) - 1)])
        raise
    for index, (action, update) in enumerate(made):
        if update is not None:
            try:
                # Its RAG follows the update's (an action given another RAG than its
                # first update's), judged as write_update judges it.
                _after_update(tx, action, update, current)
            except DomainError:
                if refused is not None:
                    refused(index)
                raise
    return [action for action, _update in made]
