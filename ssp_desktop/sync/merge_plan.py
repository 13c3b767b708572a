"""A merge plan: every write an import will make, decided before any is made.

The two planners (:mod:`~ssp_desktop.sync.merge_changes` for a lead's changes on the
master, :mod:`~ssp_desktop.sync.merge_snapshot` for the master's snapshot on a lead)
fill a :class:`MergePlan`; its :class:`~ssp_desktop.sync.preview.Preview` is what the
user sees, and :func:`ssp_desktop.sync.merge.apply_plan` makes exactly its writes.
This module holds what both planners share: the plan, its operations, who each one is
attributed to, and the wording of the preview.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Attribution, dump
from ssp_desktop.domain.records import Person, record_classes
from ssp_desktop.domain.sync_records import SyncBundle, SyncConflict
from ssp_desktop.sync import state
from ssp_desktop.sync.bundle import Bundle
from ssp_desktop.sync.preview import DUPLICATE, OLDER, ConflictReport, Preview

# A sender's clock this far ahead of ours is reported (laptops drift by minutes, not days).
CLOCK_AHEAD = dt.timedelta(hours=12)
NOTHING_CHANGED = "Nothing was changed."

INSERT = "insert"
UPDATE = "update"
RESTORE = "restore"
DELETE = "delete"
REMOVE = "remove"  # a record that left a lead's themes leaves its copy (not a deletion)


@dataclass
class Op:
    """One write of the plan, in the order it must happen, and whose change it is."""

    kind: str  # INSERT | UPDATE | RESTORE | DELETE | REMOVE
    entity: str
    record_id: uuid.UUID
    fields: dict[str, Any] = field(default_factory=dict)
    # Who made the change on their own computer, and when (logged instead of the
    # account running the import); None for a removal, which is not logged.
    by: Attribution | None = None


@dataclass
class MergePlan:
    bundle: Bundle
    preview: Preview
    ops: list[Op] = field(default_factory=list)
    conflicts: list[SyncConflict] = field(default_factory=list)
    superseded: list[tuple[uuid.UUID, dict[str, Any]]] = field(default_factory=list)
    processed: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    processed_lead: uuid.UUID | None = None
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def has_writes(self) -> bool:
        return bool(self.ops or self.conflicts or self.superseded)


@dataclass(frozen=True)
class Conflict:
    """A difference the merge cannot settle, queued for a person with both values."""

    kind: str  # field | edit_delete | delete_edit | delete_child | duplicate
    entity: str
    record_id: uuid.UUID
    label: str
    field: str | None
    base: Any
    local: Any
    incoming: Any
    base_absent: bool = False


def queue_conflict(
    plan: MergePlan,
    c: Conflict,
    *,
    actor: str,
    at: dt.datetime,
    lead_id: uuid.UUID,
    change_ids: list[str],
    clock_ahead: bool = False,
    waiting: SyncConflict | None = None,
) -> None:
    """Queue ``c`` (or, when the same conflict is ``waiting`` already, update it to the
    newest incoming value) and show it in the preview."""
    m = plan.bundle.manifest
    values = {
        "base_value": None if c.base_absent else dump(c.base),
        "local_value": dump(c.local),
        "incoming_value": dump(c.incoming),
        "incoming_actor": actor,
        "incoming_at": at,
        "incoming_site_id": m.sender_site_id,
        "clock_ahead": clock_ahead,
        "bundle_id": m.bundle_id,
        "change_ids": change_ids,
    }
    if waiting is not None:
        plan.superseded.append((waiting.id, values))
    else:
        plan.conflicts.append(
            SyncConflict(
                id=uuid.uuid4(),
                kind=c.kind,
                entity=c.entity,
                record_id=c.record_id,
                field=c.field,
                lead_id=lead_id,
                **values,
            )
        )
    plan.preview.conflicts.append(
        ConflictReport(
            kind=c.kind,
            entity=c.entity,
            record_id=c.record_id,
            label=c.label,
            field=c.field,
            base="(none)" if c.base_absent else text(c.base),
            local=text(c.local),
            incoming=text(c.incoming),
            incoming_actor=actor,
            incoming_at=f"{at:%d %b %Y %H:%M}" + (" - sender's clock ahead" if clock_ahead else ""),
        )
    )


def same(a: Any, b: Any) -> bool:
    return bool(a == b)


def text(value: Any) -> str:
    """A value as the preview quotes it."""
    if value is None:
        return "(empty)"
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else repr(value[:77] + "...")
    try:
        return dump(value)
    except TypeError:
        return str(value)


def label(cls: type[Record], record_id: uuid.UUID, fields: Mapping[str, Any]) -> str:
    try:
        # Only to be described: Record.new skips the instance events where it can.
        return cls.new(id=record_id, **fields).describe()
    except Exception:  # a label must never stop an import
        return f"{cls.__tablename__.replace('_', ' ')} {record_id}"


@functools.cache
def fk_fields(cls: type[Record]) -> frozenset[str]:
    return frozenset(c.key for c in cls.__table__.columns if c.foreign_keys)


@functools.cache
def references(cls: type[Record]) -> tuple[tuple[str, type[Record]], ...]:
    """(field, the class it refers to) for each reference of ``cls``, in column order:
    worked out once per class (a merge asks for every record it judges)."""
    classes = record_classes()
    found: list[tuple[str, type[Record]]] = []
    for column in cls.__table__.columns:
        if column.foreign_keys:
            (fk,) = column.foreign_keys
            found.append((column.key, classes[fk.column.table.name]))
    return tuple(found)


def new_preview(bundle: Bundle, session: Session) -> Preview:
    m = bundle.manifest
    sender = m.created_by
    if m.kind == "changes":
        person = session.get(Person, m.person_id)
        if person is not None:
            sender = f"{person.name} ({m.created_by})"
    else:
        sender = f"the master copy ({m.created_by})"
    return Preview(kind=m.kind, bundle_id=m.bundle_id, sender=sender, sequence=m.sequence)


def already_imported(session: Session, bundle: Bundle, preview: Preview) -> bool:
    """Mark the preview and return True when the bundle has nothing new by its number."""
    m = bundle.manifest
    seen = session.get(SyncBundle, m.bundle_id)
    if seen is not None and seen.direction == "in":
        preview.status = DUPLICATE
        preview.message = (
            f"This bundle was already imported on {seen.received_at:%d %B %Y at %H:%M}. "
            + NOTHING_CHANGED
        )
        return True
    last = state.last_imported(
        session, m.sender_site_id, m.lead_id if m.kind == "changes" else None
    )
    if m.sequence <= last:
        preview.status = OLDER
        preview.message = (
            f"This is bundle number {m.sequence} from this sender, but number {last} was "
            "already imported and includes everything in it. " + NOTHING_CHANGED
        )
        return True
    return False
