"""A private, in-memory copy of the store, optionally wound back to an earlier revision.

The board pack is made from such a copy: the export reads one consistent snapshot,
and a published pack is made again from the store as it was when it was exported
(``ssp-desktop pack --as-published``). Winding back reads the change log newest first
and undoes each row with its logged old value: a create is removed, an update gets its
old value back, a delete is restored and a restore is deleted again; the log rows
after the revision go too. The copy is scratch: nothing here ever writes to the store.

The copy is always an in-memory SQLite database: from a SQLite store it is made with
SQLite's backup API, from a PostgreSQL master by reading every table in one
REPEATABLE READ, READ ONLY transaction (``backend.py``), so a pack sees one revision.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, delete, select, update

from ssp_desktop.domain.changes import from_json_value
from ssp_desktop.domain.errors import SspError
from ssp_desktop.domain.records import ChangeLog, record_classes
from ssp_desktop.store.backend import consistent_copy


class SnapshotError(SspError):
    """The store cannot be wound back to the revision asked for."""


@contextmanager
def memory_copy(engine: Engine) -> Iterator[Engine]:
    """An engine over an in-memory SQLite copy of one consistent state of the store
    behind ``engine`` (``backend.consistent_copy``); the copy is dropped when the
    block ends. Foreign keys are off in the copy: winding back removes rows in log
    order, which need not be parents-last."""
    with consistent_copy(engine) as scratch:
        yield scratch


def _value(table: Any, field: str, text: str | None) -> Any:
    column = table.columns.get(field)
    if column is None:
        raise SnapshotError(
            f"The change log names a field {table.name}.{field} this version does not have."
        )
    return from_json_value(column.type, json.loads(text) if text is not None else None)


def wind_back(scratch: Engine, revision: int) -> int:
    """Undo every change-log row after ``revision`` in the copy behind ``scratch``,
    newest first; returns how many rows were undone. Raises SnapshotError when the
    log cannot be followed (a row of an entity or field this version lacks)."""
    classes = record_classes()
    undone = 0
    with scratch.begin() as conn:
        newest = conn.scalar(select(ChangeLog.seq).order_by(ChangeLog.seq.desc()).limit(1)) or 0
        if revision > newest:
            raise SnapshotError(
                f"The store has no revision {revision}: its newest change is {newest}."
            )
        rows = conn.execute(
            select(
                ChangeLog.seq,
                ChangeLog.entity,
                ChangeLog.record_id,
                ChangeLog.op,
                ChangeLog.field,
                ChangeLog.old,
                ChangeLog.at,
            )
            .where(ChangeLog.seq > revision)
            .order_by(ChangeLog.seq.desc())
        ).all()
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for seq, entity, record_id, op, field, old, at in rows:
            cls = classes.get(entity)
            if cls is None:
                raise SnapshotError(
                    f"Change {seq} is about a {entity!r}, which this version does not know."
                )
            table: Any = cls.__table__
            where = table.c.id == _as_uuid(record_id)
            if op == "create":
                conn.execute(delete(table).where(where))
            elif op == "update":
                if field is None:
                    raise SnapshotError(f"Change {seq} is an update that names no field.")
                conn.execute(update(table).where(where).values({field: _value(table, field, old)}))
            elif op == "delete":
                conn.execute(update(table).where(where).values(deleted_at=None))
            elif op == "restore":
                stamp = at if isinstance(at, dt.datetime) else dt.datetime.now(dt.UTC)
                conn.execute(update(table).where(where).values(deleted_at=stamp))
            else:
                raise SnapshotError(f"Change {seq} has an operation {op!r} this version lacks.")
            undone += 1
        log: Any = ChangeLog.__table__
        conn.execute(delete(log).where(log.c.seq > revision))
    return undone


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
