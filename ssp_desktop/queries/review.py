"""What waits for the strategy team's review: submitted updates and values of a plan.

The master copy's "To review" view lists every action update (its current version) and
every measure value a lead has submitted and nobody has yet accepted or returned,
grouped by strategic priority, each with the lead's words or figure and the one before
it (the previous quarter's, or the latest earlier one) to compare against, and when it
was submitted (from the change log: for a merged change, the time on the lead's laptop).

Everything is read into plain frozen values in a fixed number of queries whatever the
number of items, so a screen can hold the result after the session has closed.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from ssp_desktop.domain.enums import (
    Rag,
    Unit,
    UpdateState,
    ValueStatus,
)
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    ChangeLog,
    Measure,
    MeasureTarget,
    MeasureValue,
    Organisation,
    Person,
    Priority,
    PriorityArea,
)
from ssp_desktop.domain.rules import MeasureAssessment, measure_rag
from ssp_desktop.queries.lists import format_value
from ssp_desktop.queries.waiting import review_count, submitted_updates, submitted_values

__all__ = [
    "NO_PRIORITY",
    "ReviewGroup",
    "ReviewItem",
    "ReviewKind",
    "ReviewQueue",
    "UpdateText",
    "ValueText",
    "review_count",
    "review_queue",
]

# Measures need not belong to a priority; theirs is the last group.
NO_PRIORITY: Final = "Measures without a priority"

# Ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits.
_CHUNK: Final = 500
# The change-log value of a state column set to "submitted" (values are logged as JSON).
_SUBMITTED_JSON: Final = f'"{UpdateState.SUBMITTED.value}"'

_T = TypeVar("_T")


class ReviewKind(enum.StrEnum):
    """What a review item is: a quarterly update of an action, or a measure's value."""

    UPDATE = "action_update"
    VALUE = "measure_value"

    @property
    def label(self) -> str:
        return {ReviewKind.UPDATE: "Update", ReviewKind.VALUE: "Value"}[self]


@dataclass(frozen=True)
class UpdateText:
    """An action update as the reviewer reads it."""

    id: uuid.UUID
    quarter: Quarter
    rag: Rag | None
    narrative: str
    state: UpdateState
    written_on: dt.date


@dataclass(frozen=True)
class ValueText:
    """A measure value as the reviewer reads it."""

    id: uuid.UUID
    period: Quarter
    value: float | None
    # Pairs rather than a dict so the item stays hashable.
    comparators: tuple[tuple[str, float], ...]
    status: ValueStatus
    note: str
    state: UpdateState


@dataclass(frozen=True)
class ReviewItem:
    """One submitted update or value, with what it is compared against.

    ``id`` is the reviewed record's (an ActionUpdate's or a MeasureValue's);
    ``subject_id`` that of the action or measure it reports on.
    """

    id: uuid.UUID
    kind: ReviewKind
    subject_id: uuid.UUID
    ref: str
    title: str
    quarter: Quarter
    lead: str
    organisation: str
    submitted_at: dt.datetime | None
    submitted_by: str
    written_on: dt.date | None
    # Exactly one of (update, value) is set, by kind; previous_* may be None (nothing before).
    update: UpdateText | None = None
    previous_update: UpdateText | None = None
    value: ValueText | None = None
    previous_value: ValueText | None = None
    unit: Unit = Unit.COUNT
    decimals: int = 1
    rate_basis: str = ""
    target: float | None = None
    assessment: MeasureAssessment | None = None
    # The reviewed record's version as read: a decision on one changed since (the lead
    # resubmitted, another officer decided) is refused rather than made unseen.
    version: int = 0

    @property
    def rag(self) -> Rag | None:
        """The lead's RAG for an update; the RAG its figure earns for a value."""
        if self.update is not None:
            return self.update.rag
        return self.assessment.rag if self.assessment is not None else None

    def figure(self, value: float | None) -> str:
        """A figure of this item's measure as lists show it ("92.0%"); "No figure" if none."""
        return format_value(value, self.unit, self.decimals) or "No figure"

    @property
    def summary(self) -> str:
        """One line for the list: the narrative's start, or the figure and its note."""
        if self.update is not None:
            return " ".join(self.update.narrative.split())
        assert self.value is not None
        note = " ".join(self.value.note.split())
        return self.figure(self.value.value) + (f" \u2014 {note}" if note else "")


@dataclass(frozen=True)
class ReviewGroup:
    """The items of one strategic priority (``priority_id`` None: measures without one)."""

    priority_id: uuid.UUID | None
    code: str
    title: str
    items: tuple[ReviewItem, ...]

    @property
    def heading(self) -> str:
        return f"{self.code} {self.title}".strip()


@dataclass(frozen=True)
class ReviewQueue:
    """Everything awaiting review in a plan, by priority in the plan's order."""

    plan_id: uuid.UUID
    groups: tuple[ReviewGroup, ...]

    @property
    def items(self) -> tuple[ReviewItem, ...]:
        return tuple(item for group in self.groups for item in group.items)

    @property
    def count(self) -> int:
        return sum(len(group.items) for group in self.groups)

    def find(self, record_id: uuid.UUID) -> ReviewItem | None:
        return next((item for item in self.items if item.id == record_id), None)


# --------------------------------------------------------------------------- helpers


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _text(*parts: str | None) -> str:
    return next((p.strip() for p in parts if p and p.strip()), "")


def _update_text(u: ActionUpdate) -> UpdateText:
    return UpdateText(u.id, u.quarter, u.rag, u.narrative, u.state, u.written_on)


def _value_text(v: MeasureValue) -> ValueText:
    return ValueText(
        id=v.id,
        period=v.period,
        value=v.value,
        comparators=tuple(sorted((v.comparator_values or {}).items())),
        status=v.status,
        note=v.note,
        state=v.state,
    )


def _previous_updates(
    session: Session, reviewed_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ActionUpdate]:
    """For each reviewed update, its action's newest current update of an earlier quarter
    (the previous quarter's, or the one before if that quarter had none)."""
    reviewed, earlier = aliased(ActionUpdate), aliased(ActionUpdate)
    found: dict[uuid.UUID, ActionUpdate] = {}
    for chunk in _chunks(reviewed_ids):
        # Only the rows shown are read, not every earlier quarter of every action.
        newest = (
            select(
                reviewed.id.label("reviewed_id"),
                reviewed.action_id.label("action_id"),
                func.max(earlier.quarter).label("quarter"),
            )
            .join(
                earlier,
                and_(
                    earlier.action_id == reviewed.action_id,
                    earlier.quarter < reviewed.quarter,
                    earlier.is_current.is_(True),
                    earlier.deleted_at.is_(None),
                ),
            )
            .where(reviewed.id.in_(chunk))
            .group_by(reviewed.id, reviewed.action_id)
            .subquery()
        )
        found.update(
            session.execute(
                select(newest.c.reviewed_id, ActionUpdate)
                .join(
                    newest,
                    and_(
                        ActionUpdate.action_id == newest.c.action_id,
                        ActionUpdate.quarter == newest.c.quarter,
                    ),
                )
                .where(ActionUpdate.is_current.is_(True), ActionUpdate.deleted_at.is_(None))
            )
            .tuples()
            .all()
        )
    return found


def _previous_values(
    session: Session, reviewed_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, MeasureValue]:
    """For each reviewed value, its measure's newest value of an earlier period (the
    previous quarter's; for an annual or survey measure, the last figure before)."""
    reviewed, earlier = aliased(MeasureValue), aliased(MeasureValue)
    found: dict[uuid.UUID, MeasureValue] = {}
    for chunk in _chunks(reviewed_ids):
        newest = (
            select(
                reviewed.id.label("reviewed_id"),
                reviewed.measure_id.label("measure_id"),
                func.max(earlier.period).label("period"),
            )
            .join(
                earlier,
                and_(
                    earlier.measure_id == reviewed.measure_id,
                    earlier.period < reviewed.period,
                    earlier.deleted_at.is_(None),
                ),
            )
            .where(reviewed.id.in_(chunk))
            .group_by(reviewed.id, reviewed.measure_id)
            .subquery()
        )
        found.update(
            session.execute(
                select(newest.c.reviewed_id, MeasureValue)
                .join(
                    newest,
                    and_(
                        MeasureValue.measure_id == newest.c.measure_id,
                        MeasureValue.period == newest.c.period,
                    ),
                )
                .where(MeasureValue.deleted_at.is_(None))
            )
            .tuples()
            .all()
        )
    return found


def _targets(
    session: Session, values: Sequence[MeasureValue]
) -> dict[tuple[uuid.UUID, FinancialYear], float]:
    """The target of each reviewed value's measure for the value's financial year."""
    years = sorted({v.period.fy for v in values})
    found: dict[tuple[uuid.UUID, FinancialYear], float] = {}
    for chunk in _chunks(sorted({v.measure_id for v in values})):
        found.update(
            ((measure_id, year), target)
            for measure_id, year, target in session.execute(
                select(MeasureTarget.measure_id, MeasureTarget.year, MeasureTarget.value).where(
                    MeasureTarget.measure_id.in_(chunk),
                    MeasureTarget.year.in_(years),
                    MeasureTarget.deleted_at.is_(None),
                )
            )
        )
    return found


def _submissions(
    session: Session, record_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[dt.datetime, uuid.UUID | None, str]]:
    """When (and by whom) each record was last submitted: the newest change-log row that
    set its state to submitted, or created it (an update can be created submitted)."""
    found: dict[uuid.UUID, tuple[dt.datetime, uuid.UUID | None, str]] = {}
    for chunk in _chunks(record_ids):
        rows = session.execute(
            select(ChangeLog.record_id, ChangeLog.at, ChangeLog.person_id, ChangeLog.actor)
            .where(
                ChangeLog.record_id.in_(chunk),
                or_(
                    ChangeLog.op == "create",
                    (ChangeLog.field == "state") & (ChangeLog.new == _SUBMITTED_JSON),
                ),
            )
            .order_by(ChangeLog.seq)
        )
        for record_id, at, person_id, actor in rows:
            found[record_id] = (at, person_id, actor)  # later rows win
    return found


def _people(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    """Name and organisation of each person in ``ids``."""
    if not ids:
        return {}
    people: dict[uuid.UUID, tuple[str, str]] = {}
    for chunk in _chunks(sorted(ids)):
        for pid, name, role, short, org in session.execute(
            select(
                Person.id,
                Person.name,
                Person.role_title,
                Organisation.short_name,
                Organisation.name,
            )
            .outerjoin(Organisation, Organisation.id == Person.organisation_id)
            .where(Person.id.in_(chunk))
        ):
            people[pid] = (_text(name, role), _text(short, org))
    return people


def _person(people: dict[uuid.UUID, tuple[str, str]], pid: uuid.UUID | None) -> tuple[str, str]:
    return people.get(pid, ("", "")) if pid is not None else ("", "")


# --------------------------------------------------------------------------- the query


def review_queue(session: Session, plan_id: uuid.UUID) -> ReviewQueue:
    """Every submitted current update and submitted value of the plan, by priority.

    Within a priority: updates by action ref then quarter, then values by measure ref
    then period. Seven queries whatever the number of items (more only past 500 items,
    where id lists are split).
    """
    priorities = session.execute(
        select(Priority.id, Priority.code, Priority.title)
        .where(Priority.plan_id == plan_id, Priority.deleted_at.is_(None))
        .order_by(Priority.position, Priority.code)
    ).all()

    lead_org = aliased(Organisation)
    update_rows = session.execute(
        submitted_updates(
            plan_id,
            ActionUpdate,
            Action.ref,
            Action.title,
            Action.lead_person_id,
            lead_org.short_name,
            lead_org.name,
            PriorityArea.priority_id,
        )
        .outerjoin(lead_org, lead_org.id == Action.lead_organisation_id)
        .order_by(Action.ref, ActionUpdate.quarter)
    ).all()

    value_rows = session.execute(
        submitted_values(plan_id, MeasureValue, Measure).order_by(Measure.ref, MeasureValue.period)
    ).all()

    # What each is compared against, and a value's target for its year.
    previous_updates = _previous_updates(session, [row[0].id for row in update_rows])
    previous_values = _previous_values(session, [row[0].id for row in value_rows])
    targets = _targets(session, [row[0] for row in value_rows]) if value_rows else {}

    reviewed_ids = [row[0].id for row in update_rows] + [row[0].id for row in value_rows]
    submissions = _submissions(session, reviewed_ids)
    person_ids = {row[0].author_person_id for row in update_rows} | {row[3] for row in update_rows}
    person_ids |= {row[1].owner_person_id for row in value_rows}
    person_ids |= {s[1] for s in submissions.values()}
    people = _people(session, {p for p in person_ids if p is not None})

    def submitted(record_id: uuid.UUID) -> tuple[dt.datetime | None, str]:
        found = submissions.get(record_id)
        if found is None:
            return None, ""
        at, person_id, actor = found
        who = _person(people, person_id)[0]
        return at, who or actor

    items: dict[uuid.UUID | None, list[ReviewItem]] = {}
    for update, ref, title, lead_id, org_short, org_name, priority_id in update_rows:
        # The update's author is the lead who wrote it; failing that, the action's lead.
        name, person_org = _person(people, update.author_person_id or lead_id)
        at, by = submitted(update.id)
        previous = previous_updates.get(update.id)
        items.setdefault(priority_id, []).append(
            ReviewItem(
                id=update.id,
                kind=ReviewKind.UPDATE,
                subject_id=update.action_id,
                ref=ref,
                title=title,
                quarter=update.quarter,
                lead=name,
                organisation=person_org or _text(org_short, org_name),
                submitted_at=at,
                submitted_by=by,
                written_on=update.written_on,
                version=update.version,
                update=_update_text(update),
                previous_update=_update_text(previous) if previous is not None else None,
            )
        )
    for value, measure in value_rows:
        name, person_org = _person(people, measure.owner_person_id)
        at, by = submitted(value.id)
        previous_value = previous_values.get(value.id)
        target = targets.get((measure.id, value.period.fy))
        items.setdefault(measure.priority_id, []).append(
            ReviewItem(
                id=value.id,
                kind=ReviewKind.VALUE,
                subject_id=measure.id,
                ref=measure.ref,
                title=measure.name,
                quarter=value.period,
                lead=name,
                organisation=person_org,
                submitted_at=at,
                submitted_by=by,
                written_on=None,
                version=value.version,
                value=_value_text(value),
                previous_value=_value_text(previous_value) if previous_value is not None else None,
                unit=measure.unit,
                decimals=measure.decimals,
                rate_basis=measure.rate_basis,
                target=target,
                assessment=_assess(value.value, target, measure),
            )
        )

    groups = [
        ReviewGroup(pid, code, title, tuple(items[pid]))
        for pid, code, title in priorities
        if pid in items
    ]
    # A measure without a priority, or (should one be deleted under its items) a
    # priority no longer in the plan: still listed, last, rather than lost.
    live = {pid for pid, _, _ in priorities}
    rest = [item for pid, found in items.items() if pid not in live for item in found]
    if rest:
        groups.append(ReviewGroup(None, "", NO_PRIORITY, tuple(rest)))
    return ReviewQueue(plan_id, tuple(groups))


def _assess(value: float | None, target: float | None, measure: Measure) -> MeasureAssessment:
    return measure_rag(value, target, measure.polarity, measure.tolerance, measure.tolerance_mode)
