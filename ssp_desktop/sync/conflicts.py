"""The conflict queue: what waits for a person, and resolving it.

A conflict is resolved by keeping this copy's value ("mine"), taking the incoming value
("theirs") or writing another value ("edit"; field conflicts only). For conflicts about
a whole record, the side whose value is "deleted" deletes the record (with what it
owns) when chosen; the other side keeps it, which is what already happened on import.

Every resolution is one transaction: the record's change, made through the domain
services (so the plan's rules hold, with the form's message, and the undo history ends
by itself), and the conflict's new status commit together. A value taken from the
bundle is logged with the bundle as its source; an edited value is a local change (on
a lead copy it is sent to the master next time). On a lead copy, taking the master's
value also withdraws the lead's own unsent change to that field, so it is not sent
again.

"This copy" of a waiting field conflict is read from the record each time it is shown,
so it is the value "keep mine" keeps, whatever has changed since the conflict was
raised; once resolved, the conflict keeps the values it was decided between.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.base import Record, utcnow
from ssp_desktop.domain.changes import Transaction, dump
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import ActionUpdate, record_classes
from ssp_desktop.domain.sync_records import SyncConflict, SyncProcessed
from ssp_desktop.services import merge as merging
from ssp_desktop.store.engine import Store, default_actor
from ssp_desktop.sync import codec, state

MINE = "mine"
THEIRS = "theirs"
EDIT = "edit"
_DELETED = dump("deleted")


@dataclass(frozen=True)
class ConflictView:
    """A conflict as plain values, safe to hand to another thread or a view."""

    id: uuid.UUID
    kind: str
    entity: str
    record_id: uuid.UUID
    label: str
    field: str | None
    base: str
    local: str
    incoming: str
    incoming_actor: str
    incoming_at: str
    clock_ahead: bool
    status: str
    resolution: str | None
    editable: bool

    @property
    def field_label(self) -> str:
        return (self.field or "whole record").replace("_", " ")


def display(text: str | None) -> str:
    """A logged JSON value as a person reads it."""
    if text is None:
        return "(none)"
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {display(dump(v))}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(display(dump(v)) for v in value) or "(none)"
    return str(value)


def _local(obj: Record | None, c: SyncConflict) -> str | None:
    """This copy's side: the record's value now while the conflict waits."""
    if c.status != "open" or c.field is None or obj is None:
        return c.local_value
    return dump(getattr(obj, c.field))


def _view(session: Session, c: SyncConflict) -> ConflictView:
    cls = record_classes().get(c.entity)
    obj = session.get(cls, c.record_id) if cls is not None else None
    label = obj.describe() if obj is not None else f"{c.entity.replace('_', ' ')} {c.record_id}"
    return ConflictView(
        id=c.id,
        kind=c.kind,
        entity=c.entity,
        record_id=c.record_id,
        label=label,
        field=c.field,
        base=display(c.base_value),
        local=display(_local(obj, c)),
        incoming=display(c.incoming_value),
        incoming_actor=c.incoming_actor,
        incoming_at=f"{c.incoming_at:%d %B %Y %H:%M}" if c.incoming_at else "",
        clock_ahead=c.clock_ahead,
        status=c.status,
        resolution=c.resolution,
        editable=c.field is not None and c.field != "is_current",
    )


def list_conflicts(store: Store, *, status: str | None = "open") -> list[ConflictView]:
    with store.session() as s:
        query = select(SyncConflict).order_by(SyncConflict.created_at, SyncConflict.entity)
        if status is not None:
            query = query.where(SyncConflict.status == status)
        return [_view(s, c) for c in s.scalars(query)]


def conflicts_for(store: Store, record_id: uuid.UUID) -> list[ConflictView]:
    """Every conflict about one record, resolved ones too (the loser's value is kept)."""
    with store.session() as s:
        return [
            _view(s, c)
            for c in s.scalars(
                select(SyncConflict)
                .where(SyncConflict.record_id == record_id)
                .order_by(SyncConflict.created_at)
            )
        ]


def resolve(
    store: Store,
    conflict_id: uuid.UUID,
    choice: str,
    *,
    value: Any = None,
    actor: str | None = None,
) -> None:
    """Resolve one conflict; ``value`` (JSON form, e.g. text or a number) for "edit"."""
    if choice not in (MINE, THEIRS, EDIT):
        raise DomainError(f"Unknown choice {choice!r}: keep mine, take theirs or edit.")
    with store.session() as s:
        row = s.get(SyncConflict, conflict_id)
        if row is None or row.status != "open":
            raise DomainError("That conflict has already been resolved (or no longer exists).")
        bundle_id = row.bundle_id
    source = "local" if choice == EDIT else f"bundle:{bundle_id}"
    with store.transaction(actor=actor, source=source) as tx:
        s = tx.session
        row = s.get(SyncConflict, conflict_id)
        assert row is not None
        cls = record_classes().get(row.entity)
        obj = tx.get(cls, row.record_id) if cls is not None else None
        if obj is None or cls is None:
            raise DomainError("The record of this conflict is no longer in the store.")
        if row.field is None:
            row.resolved_value = _decide_record(tx, row, obj, choice)
        else:
            row.local_value = dump(getattr(obj, row.field))  # what it was decided against
            row.resolved_value = _decide_field(tx, row, obj, choice, value)
        row.status = "resolved"
        row.resolution = {MINE: "mine", THEIRS: "theirs", EDIT: "edited"}[choice]
        row.resolved_by = actor or default_actor()
        row.resolved_at = utcnow()


def _decide_record(tx: Transaction, row: SyncConflict, obj: Record, choice: str) -> str | None:
    """A conflict about a whole record: the side whose value is "deleted" deletes it."""
    if choice == EDIT:
        raise DomainError("A conflict about a whole record is resolved by choosing a side.")
    side = row.local_value if choice == MINE else row.incoming_value
    if side == _DELETED and obj.deleted_at is None:
        services.delete(tx, obj, cascade=True)
    return side


def _decide_field(tx: Transaction, row: SyncConflict, obj: Record, choice: str, value: Any) -> str:
    """A conflict about one field: keep it, or write the incoming or the typed value."""
    assert row.field is not None
    if choice == MINE:
        return dump(getattr(obj, row.field))
    column = codec.content_columns(type(obj))[row.field]
    raw = json.loads(row.incoming_value or "null") if choice == THEIRS else value
    try:
        new = codec.decode_value(column, raw)
    except codec.LineError as exc:
        raise DomainError(f"That value cannot be used: {exc}. Nothing was changed.") from exc
    if isinstance(obj, ActionUpdate) and row.field == "is_current" and choice == THEIRS:
        merging.make_current(tx, obj)
        new = True
    else:
        services.edit(tx, obj, **{row.field: new})
    tx.flush()
    copy = state.lead_copy(tx.session)
    if copy is not None and choice == THEIRS:
        # The master's value won: the lead's own unsent change is withdrawn.
        for change_id in row.change_ids:
            cid = uuid.UUID(change_id)
            if tx.session.get(SyncProcessed, (copy.lead_id, cid)) is None:
                tx.session.add(
                    SyncProcessed(
                        lead_id=copy.lead_id,
                        change_id=cid,
                        bundle_id=row.bundle_id,
                        outcome="superseded",
                    )
                )
    return dump(new)
