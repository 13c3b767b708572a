"""A record's history as people read it: who, when, what changed, from what to what."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import history
from ssp_desktop.domain.records import record_classes

_OPS = {"create": "Created", "delete": "Deleted", "restore": "Restored"}
_FIELD_NAMES = {"rag": "RAG", "ref": "Ref", "is_current": "Current version"}


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    who: str
    what: str
    before: str
    after: str
    source: str


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


def record_history(session: Session, record_id: uuid.UUID) -> list[HistoryEntry]:
    """Newest first, with references shown by name rather than id."""
    entries = []
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
        entries.append(HistoryEntry(row.at, row.actor, what, before, after, source))
    return entries
