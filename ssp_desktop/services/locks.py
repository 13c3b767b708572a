"""Publishing a board pack, the period lock it sets, and corrections with a reason.

:func:`publish` marks one recorded export of a pack final (who and when) and the pack
itself final. From then on the pack's quarter is *locked* for its plan: any change to an
action update or a measure value of that quarter (a form, a spreadsheet row, a lead's
bundle, undo) is refused by the rules registered here, with a :class:`LockedError`
that says which pack locked it, unless it is written as a *correction*:
:func:`correction` (or :func:`correct`) carries a reason, which the change log keeps
beside every field it changes. The next board pack lists those corrections under
"Revised since the last published pack" (:mod:`ssp_desktop.queries.revisions`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction, correcting, correction_reason, lookup
from ssp_desktop.domain.enums import PackStatus
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    BoardMeeting,
    BoardPack,
    ChangeLog,
    Measure,
    MeasureValue,
    PackExport,
)
from ssp_desktop.domain.validation import ValidationError
from ssp_desktop.services.actions import write_update
from ssp_desktop.services.core import edit, invariant, service

__all__ = [
    "Lock",
    "LockedError",
    "correct",
    "correction",
    "lock_for",
    "locks",
    "publish",
]

_CACHE = "quarter_locks"


class LockedError(ValidationError):
    """A figure of a published quarter was changed without a reason. A form catches it
    to ask for the reason and write the change again as a correction."""

    def __init__(self, message: str, lock: Lock) -> None:
        super().__init__(message)
        self.lock = lock


@dataclass(frozen=True)
class Lock:
    """A quarter of a plan locked by a published pack."""

    plan_id: uuid.UUID
    quarter: Quarter
    export_id: uuid.UUID
    published_at: dt.datetime
    published_by: str
    meeting: str

    @property
    def description(self) -> str:
        return (
            f"{self.quarter.label} was published to the Board ({self.meeting}) by "
            f"{self.published_by} on {self.published_at:%d %B %Y}"
        )


def locks(session: Session) -> dict[tuple[uuid.UUID, Quarter], Lock]:
    """Every locked (plan, quarter), read once per session (publishing refreshes it)."""
    found: dict[tuple[uuid.UUID, Quarter], Lock] | None = session.info.get(_CACHE)
    if found is not None:
        return found
    found = {}
    for export_id, at, by, plan_id, quarter, title, day in session.execute(
        select(
            PackExport.id,
            PackExport.published_at,
            PackExport.published_by,
            BoardPack.plan_id,
            BoardPack.quarter,
            BoardMeeting.title,
            BoardMeeting.meeting_date,
        )
        .join(BoardPack, BoardPack.id == PackExport.pack_id)
        .join(BoardMeeting, BoardMeeting.id == BoardPack.meeting_id)
        .where(
            PackExport.published_at.is_not(None),
            PackExport.deleted_at.is_(None),
            BoardPack.deleted_at.is_(None),
        )
        .order_by(PackExport.published_at)
    ):
        key = (plan_id, quarter)
        if key not in found:  # the first publication locked it
            found[key] = Lock(plan_id, quarter, export_id, at, by, f"{title}, {day:%d %B %Y}")
    session.info[_CACHE] = found
    return found


def _pending(session: Session, cls: type[Record], record_id: uuid.UUID) -> Any:
    # Added in this transaction and not flushed yet, or in the store; never a flush.
    return lookup(session, cls, record_id)


def _plan_of(session: Session, record: Any) -> uuid.UUID | None:
    if isinstance(record, ActionUpdate):
        action = _pending(session, Action, record.action_id)
        return action.plan_id if action is not None else None
    if isinstance(record, MeasureValue):
        measure = _pending(session, Measure, record.measure_id)
        return measure.plan_id if measure is not None else None
    return None


def _quarter_of(record: Any) -> Quarter | None:
    if isinstance(record, ActionUpdate):
        return record.quarter
    if isinstance(record, MeasureValue):
        return record.period
    return None


def lock_for(session: Session, record: Any, quarter: Quarter | None = None) -> Lock | None:
    """The lock on ``record`` (an action update or a measure value), if its quarter (or
    ``quarter``) has been published."""
    table = locks(session)
    if not table:
        return None
    plan_id = _plan_of(session, record)
    quarter = quarter if quarter is not None else _quarter_of(record)
    if plan_id is None or quarter is None:
        return None
    return table.get((plan_id, quarter))


def _refuse(session: Session, record: Any, lock: Lock) -> None:
    what = record.describe()
    if isinstance(record, MeasureValue):
        measure = _pending(session, Measure, record.measure_id)
        if measure is not None:
            what = f"{measure.ref}'s value for {record.period.label}"
    elif isinstance(record, ActionUpdate):
        action = _pending(session, Action, record.action_id)
        if action is not None:
            what = f"{action.ref}'s update for {record.quarter.label}"
    raise LockedError(
        f"{what} is locked: {lock.description}. A change now is a correction: give the "
        "reason, and the next pack lists it as revised.",
        lock,
    )


def _guard(session: Session, record: Any, quarter: Quarter | None = None) -> None:
    if correction_reason(session):
        return
    lock = lock_for(session, record, quarter)
    if lock is not None:
        _refuse(session, record, lock)


@invariant(
    ActionUpdate,
    *("action_id", "rag", "narrative", "author_person_id", "written_on"),
    *("state", "supersedes_id", "is_current", "deleted_at"),
    whole_record=True,
)
@invariant(
    MeasureValue,
    *("measure_id", "value", "comparator_values", "status", "note"),
    *("significant", "comparator_significant", "state", "deleted_at"),
    whole_record=True,
)
def _figure_locked(session: Session, record: Any, _value: Any) -> None:
    """A published quarter's updates and values change only as corrections."""
    _guard(session, record)


@invariant(ActionUpdate, "quarter")
@invariant(MeasureValue, "period")
def _quarter_locked(session: Session, record: Any, value: Any) -> None:
    """Neither into nor out of a published quarter, except as a correction."""
    _guard(session, record)
    if isinstance(value, Quarter):
        _guard(session, record, value)


@contextmanager
def correction(tx: Transaction, reason: str) -> Iterator[None]:
    """Write the changes made inside as a correction of published figures: the lock
    lets them through and the change log keeps ``reason`` with each of them."""
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationError("Give the reason for correcting a published figure.")
    if len(text) > 2000:
        raise ValidationError("Keep the reason under 2,000 characters.")
    with correcting(tx.session, text):
        yield
        # The change log is written at flush: flush while the reason is in force.
        tx.flush()


@service
def correct(
    tx: Transaction, record: ActionUpdate | MeasureValue, reason: str, **fields: Any
) -> Any:
    """Correct a figure of a published quarter, with the reason for the record.

    An action update is never changed in place: the correction is a new version that
    supersedes it (its ``rag`` and ``narrative`` from ``fields``, the rest kept). A
    measure value's ``fields`` are edited."""
    with correction(tx, reason):
        if isinstance(record, ActionUpdate):
            unknown = set(fields) - {"rag", "narrative", "state"}
            if unknown:
                raise DomainError(
                    f"An update's {', '.join(sorted(unknown))} is not corrected here."
                )
            action = tx.get(Action, record.action_id)
            if action is None:
                raise DomainError("That update's action is not in this store.")
            return write_update(
                tx,
                action,
                record.quarter,
                rag=fields.get("rag", record.rag),
                narrative=fields.get("narrative", record.narrative),
                written_on=dt.date.today(),
                author_person_id=record.author_person_id,
                state=fields.get("state", record.state),
            )
        return edit(tx, record, **fields)


def _changed_since(
    session: Session, export: PackExport, plan_id: uuid.UUID, quarter: Quarter
) -> int:
    update_ids = (
        select(ActionUpdate.id)
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(Action.plan_id == plan_id, ActionUpdate.quarter == quarter)
    )
    value_ids = (
        select(MeasureValue.id)
        .join(Measure, Measure.id == MeasureValue.measure_id)
        .where(Measure.plan_id == plan_id, MeasureValue.period == quarter)
    )
    return int(
        session.scalar(
            select(func.count()).where(
                # Rows without a revision yet are this transaction's own.
                or_(ChangeLog.revision > export.snapshot_seq, ChangeLog.revision.is_(None)),
                ChangeLog.record_id.in_(update_ids.union(value_ids).scalar_subquery()),
            )
        )
        or 0
    )


@service
def publish(tx: Transaction, export: PackExport, *, by: str | None = None) -> PackExport:
    """Publish a recorded export: it and its pack become final, who and when are
    recorded, and the pack's quarter is locked. Refused for an export that is gone, a
    pack already published, or an export older than a change to the quarter's figures
    (the file would not show what the lock keeps)."""
    s = tx.session
    if export.deleted_at is not None:
        raise DomainError("That export record has been deleted, so it cannot be published.")
    pack = s.get(BoardPack, export.pack_id)
    if pack is None or pack.deleted_at is not None:
        raise DomainError("That export's board pack is no longer in the store.")
    if export.published_at is not None:
        raise DomainError(
            f"This export was already published on {export.published_at:%d %B %Y} by "
            f"{export.published_by}."
        )
    earlier = s.scalars(
        select(PackExport).where(
            PackExport.pack_id == pack.id,
            PackExport.published_at.is_not(None),
            PackExport.deleted_at.is_(None),
        )
    ).first()
    if earlier is not None:
        raise DomainError(
            f"The {pack.quarter.label} pack was already published on "
            f"{earlier.published_at:%d %B %Y} by {earlier.published_by} "
            f"({earlier.file_name})."
        )
    changed = _changed_since(s, export, pack.plan_id, pack.quarter)
    if changed:
        raise DomainError(
            f"{changed} change{'s' if changed != 1 else ''} to {pack.quarter.label}'s updates "
            "and values came after this export, so the file does not show what publishing "
            "would lock. Export the pack again and publish the new file."
        )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    edit(tx, export, published_at=now, published_by=by or tx.context.actor)
    if pack.status is not PackStatus.FINAL:
        edit(tx, pack, status=PackStatus.FINAL)
    s.info.pop(_CACHE, None)
    return export
