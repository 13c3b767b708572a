"""What changed in the store since a workbook was exported: the base of a three-way
import.

A tracker exported from ssp-desktop records the store revision it was read at
(:data:`REVISION_PROPERTY`, a custom document property Excel keeps on save). When it
comes back, every field the store has changed since that revision is known from the
change log, with the value it had when the workbook was made and who changed it. The
import then judges each cell three ways, as the bundle merge does:

* the workbook holds what was exported (the officer did not touch it): the store's
  newer value is kept, never overwritten;
* the workbook changed it and the store did not: the workbook's value is written;
* both changed it, to different values: a conflict, shown in the preview with who
  changed it, theirs and the workbook's; the row is refused unless the officer chooses
  to write the workbook's value.

A workbook without the property (exported before this, or made elsewhere) imports as
before, and the preview says so.
"""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import from_json_value
from ssp_desktop.domain.records import ChangeLog
from ssp_desktop.services.core import who_changed

REVISION_PROPERTY = "ssp-desktop revision"
_CUSTOM_PROPS = "docProps/custom.xml"
_PROPERTY = re.compile(
    rb'<property\b[^>]*\bname="' + re.escape(REVISION_PROPERTY.encode()) + rb'"[^>]*>\s*'
    rb"<vt:lpwstr\b[^>]*>([0-9]{1,18})</vt:lpwstr>"
)

OLD_WORKBOOK_NOTE = (
    "This workbook does not record which revision of the store it was exported from "
    "(it was made by an older ssp-desktop, or elsewhere), so it is imported as before: "
    "its cells are written over the store's values even where someone has changed them "
    "since. Export a fresh workbook to have such changes kept, or shown as conflicts."
)


def exported_revision(path: Path) -> int | None:
    """The store revision a workbook exported by ssp-desktop was read at (None: a CSV,
    a tracker made elsewhere, or one exported before the property was written).

    Read from the zip's small custom-properties part by pattern, never parsed as XML,
    as :func:`~ssp_desktop.spreadsheets.workbook.exported_partnership` does."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(_CUSTOM_PROPS)
            if info.file_size > 64 * 1024:
                return None
            found = _PROPERTY.search(zf.read(info))
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    return int(found.group(1)) if found is not None else None


@dataclass(frozen=True)
class Moved:
    """A field the store changed after the export: its value in the workbook's day
    (``base``), and who changed it last, in words ("Jane Lead on 7 Dec 2026 at 14:02")."""

    base: Any
    by: str


class SinceExport:
    """The store's changes after ``revision``, by (record id, field); ``created``: the
    records made after it (what the workbook cannot have shown)."""

    def __init__(self, session: Session, revision: int, entities: Iterable[str]) -> None:
        self.revision = revision
        self.moved: dict[tuple[uuid.UUID, str], Moved] = {}
        self.created: dict[uuid.UUID, str] = {}
        first: dict[tuple[uuid.UUID, str], ChangeLog] = {}
        last: dict[tuple[uuid.UUID, str], ChangeLog] = {}
        rows = session.scalars(
            select(ChangeLog)
            .where(ChangeLog.revision > revision, ChangeLog.entity.in_(list(entities)))
            .order_by(ChangeLog.seq)
        )
        for row in rows:
            if row.op == "create":
                self.created.setdefault(row.record_id, who_changed(session, row))
                continue
            if row.field is None:
                continue
            key = (row.record_id, row.field)
            first.setdefault(key, row)
            last[key] = row
        for key, row in first.items():
            self.moved[key] = Moved(
                base=_decode(session, row, row.old), by=who_changed(session, last[key])
            )

    def get(self, record_id: uuid.UUID, field: str) -> Moved | None:
        return self.moved.get((record_id, field))


def _decode(session: Session, row: ChangeLog, text: str | None) -> Any:
    if text is None:
        return None
    value = json.loads(text)
    from ssp_desktop.domain.base import Record

    for mapper in Record.registry.mappers:
        table = getattr(mapper.class_, "__tablename__", None)
        if table == row.entity:
            column = mapper.class_.__table__.columns.get(row.field)
            if column is not None:
                return from_json_value(column.type, value)
    return value
