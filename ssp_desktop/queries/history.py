"""A record's history as people read it: who, when, what changed, from what to what.

A change merged from another copy is shown as its maker's: the person (or, failing a
person, the account) and the time on their computer, with when this store received it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import history
from ssp_desktop.domain.records import ChangeLog, Person, record_classes

_OPS = {"create": "Created", "delete": "Deleted", "restore": "Restored"}
_FIELD_NAMES = {"rag": "RAG", "ref": "Ref", "is_current": "Current version"}


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime  # when it was made, on the computer that made it
    who: str
    what: str
    before: str
    after: str
    source: str
    received_at: dt.datetime | None = None  # when a change merged from elsewhere arrived


def _readable(session: Session, table: str, field: str, raw: str | None) -> str:
    if raw is None:
        return ""
    value = json.loads(raw)
    if value is None or value == "":
        return "(empty)"
    column = record_classes()[table].__table__.columns.get(field)
    if column is not None and column.foreign_keys and isinstance(value, str):
        target = next(iter(column.foreign_keys)).column.table.name
        record = session.get(record_classes()[target], uuid.UUID(value))
        return record.describe() if record is not None else value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if field in ("status", "state", "rag", "polarity", "unit", "frequency", "tolerance_mode"):
        return str(value).replace("_", " ").capitalize()
    return str(value)


def _maker(session: Session, row: ChangeLog, people: dict[uuid.UUID, str]) -> str:
    """The person who made a merged change, by name; otherwise the logged account."""
    if row.received_at is None or row.person_id is None:
        return row.actor
    if row.person_id not in people:
        person = session.get(Person, row.person_id)
        people[row.person_id] = person.name if person is not None else row.actor
    return people[row.person_id]


def record_history(session: Session, record_id: uuid.UUID) -> list[HistoryEntry]:
    """Newest first, with references shown by name rather than id."""
    entries = []
    people: dict[uuid.UUID, str] = {}
    for row in reversed(history(session, record_id)):
        if row.op in _OPS:
            what, before, after = _OPS[row.op], "", ""
        else:
            field = row.field or ""
            what = (
                _FIELD_NAMES.get(field) or field.removesuffix("_id").replace("_", " ").capitalize()
            )
            before = _readable(session, row.entity, field, row.old)
            after = _readable(session, row.entity, field, row.new)
        source = "" if row.source == "local" else row.source
        who = _maker(session, row, people)
        entries.append(
            HistoryEntry(row.at, who, what, before, after, source, received_at=row.received_at)
        )
    return entries
