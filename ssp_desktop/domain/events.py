"""What a committed transaction changed, published by the store to whoever listens.

Qt-free: the UI adapts :class:`Committed` to its signals (``ui.document``), the undo
history ends itself on a write it did not make (``services.history``), and tests can
listen directly. Built from the change log, so it names exactly what was written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast


@dataclass(frozen=True)
class RecordChange:
    """One record a transaction touched, and how: created, updated (which fields),
    deleted or restored."""

    entity: str
    record_id: uuid.UUID
    ops: frozenset[str]
    fields: frozenset[str]


@dataclass(frozen=True)
class Committed:
    """One committed transaction that changed the plan."""

    change_set: uuid.UUID
    revision: int  # the newest change-log sequence number after the commit
    source: str  # "local", "undo", "redo", "bundle:<id>", "import:<file>", "conflict", ...
    actor: str
    records: tuple[RecordChange, ...]
    # False for writes made outside the undo history (imports, merges, conflict
    # decisions): the history ends itself when it sees one. See Store.transaction.
    keeps_history: bool = False

    @property
    def entities(self) -> frozenset[str]:
        return frozenset(r.entity for r in self.records)

    def touches(self, entity: str, record_id: uuid.UUID | None = None) -> bool:
        return any(
            r.entity == entity and (record_id is None or r.record_id == record_id)
            for r in self.records
        )


Listener = Callable[[Committed], None]


def record_changes(
    rows: Iterable[tuple[str, uuid.UUID, str, str | None]],
) -> tuple[RecordChange, ...]:
    """Fold change-log rows (entity, record id, op, field), in log order, into one
    :class:`RecordChange` per record."""
    # Per record, its rows' ops and fields, flat: [op, field, op, field, ...]. Most
    # records of a large write have one row (an import's creates), and records with the
    # same rows share their frozensets.
    seen: dict[tuple[str, uuid.UUID], list[str | None]] = {}
    for entity, record_id, op, field in rows:
        key = (entity, record_id)
        held = seen.get(key)
        if held is None:
            seen[key] = [op, field]
        else:
            held += (op, field)
    shared: dict[tuple[str | None, ...], tuple[frozenset[str], frozenset[str]]] = {}
    out: list[RecordChange] = []
    for (entity, record_id), held in seen.items():
        folded = shared.get(tuple(held))
        if folded is None:
            ops = frozenset(cast(list[str], held[0::2]))
            fields = frozenset(f for f in held[1::2] if f is not None)
            folded = shared[tuple(held)] = (ops, fields)
        out.append(RecordChange(entity, record_id, *folded))
    return tuple(out)


def merge_changes(parts: Sequence[Sequence[RecordChange]]) -> tuple[RecordChange, ...]:
    """:func:`record_changes` of runs of change-log rows that follow one another, made
    from each run's own: what folding all their rows at once gives (a record's entry
    where it first appears, with every op and field of every run)."""
    if len(parts) == 1:
        return tuple(parts[0])
    merged: dict[tuple[str, uuid.UUID], RecordChange] = {}
    for part in parts:
        for change in part:
            key = (change.entity, change.record_id)
            earlier = merged.get(key)
            merged[key] = (
                change
                if earlier is None
                else RecordChange(
                    change.entity,
                    change.record_id,
                    earlier.ops | change.ops,
                    earlier.fields | change.fields,
                )
            )
    return tuple(merged.values())
