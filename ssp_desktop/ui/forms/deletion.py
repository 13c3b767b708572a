"""Deleting a record with what goes with it, in an order that undo can reverse (no Qt).

``Transaction.delete`` tombstones every doomed record in one flush, so the change log
lists them in whatever order the session happens to hold them. Undo restores newest
first, and restoring a child before its parent is refused ("...has been deleted.
Restore it first"). Tombstoning dependents first, one flush each, logs them in an order
whose reverse restores every parent before the records that point at it.
"""

from __future__ import annotations

from graphlib import TopologicalSorter

from ssp_desktop.models.base import Record, utcnow
from ssp_desktop.models.changes import Transaction


def parents_first(records: list[Record]) -> list[Record]:
    """``records`` ordered so that each comes after every record of the list it refers to."""
    by_id = {r.id: r for r in records}
    graph: dict[object, set[object]] = {}
    for record in records:
        referred = set()
        for column in type(record).__table__.columns:
            if column.foreign_keys:
                value = getattr(record, column.key)
                if value in by_id and value != record.id:
                    referred.add(value)
        graph[record.id] = referred
    return [by_id[i] for i in TopologicalSorter(graph).static_order()]  # type: ignore[index]


def delete_in_order(tx: Transaction, record: Record, *, cascade: bool = False) -> list[Record]:
    """Tombstone ``record`` (and, with ``cascade``, what it owns) like ``tx.delete``, but
    dependents first, so that undoing the delete restores parents first."""
    doomed = tx.delete_plan(record, cascade=cascade)  # raises DeleteBlockedError, writes nothing
    now = utcnow()
    for victim in reversed(parents_first(doomed)):
        victim.deleted_at = now
        tx.flush()
    return doomed
