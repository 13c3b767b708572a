"""Undo and redo, owned by the domain (as Anki's collection owns its undo, not its Qt layer).

:class:`UndoHistory` keeps the edits made through :meth:`UndoHistory.perform` as steps,
each one change set of the change log. Undo writes each field's logged old value back,
redo its new value, and both are compare-and-set: a field must still hold what the step
left there, or the whole undo is refused, naming the field and who changed it since.
Undo and redo are themselves logged changes (source ``undo`` / ``redo``), checked by
the same rules as any other write.

The history listens to the store (:meth:`Store.subscribe`): any committed write it did
not make itself - a spreadsheet import, a bundle, a conflict decision - ends it, so
no caller has to remember to clear it. Writes that cannot disturb an edit (the record
of a pack export) say so with ``keeps_history=True``; compare-and-set still guards them.

Qt-free; ``ui.document`` adapts it to the Edit menu's Undo and Redo.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record, utcnow
from ssp_desktop.domain.changes import Transaction, from_json_value, to_json_value
from ssp_desktop.domain.errors import DeleteBlockedError, UndoRefusedError
from ssp_desktop.domain.events import Committed
from ssp_desktop.domain.records import ChangeLog, record_classes
from ssp_desktop.services.core import (
    edit,
    index_forget,
    label,
    restore,
    service,
    who_changed,
)
from ssp_desktop.store.engine import Store

__all__ = ["Step", "UndoHistory", "redo_change_set", "undo_change_set"]


@dataclass(frozen=True)
class Step:
    """One undoable edit: what the Edit menu calls it, and the change set it wrote."""

    text: str
    result: Committed

    @property
    def change_set(self) -> uuid.UUID:
        return self.result.change_set


# --------------------------------------------------------------------------- the writes


def _rows(session: Session, change_set: uuid.UUID, *, newest_first: bool) -> list[ChangeLog]:
    order = ChangeLog.seq.desc() if newest_first else ChangeLog.seq
    return list(
        session.scalars(select(ChangeLog).where(ChangeLog.change_set == change_set).order_by(order))
    )


def _logged(cls: type[Record], field: str, text: str | None) -> Any:
    column = cls.__table__.columns[field]
    return from_json_value(column.type, None if text is None else json.loads(text))


def _noun(entity: str) -> str:
    return entity.replace("_", " ")


_who = who_changed


def _refuse(
    session: Session, what: str, row: ChangeLog, since_seq: int, problem: str
) -> UndoRefusedError:
    newer = session.scalar(
        select(ChangeLog)
        .where(
            ChangeLog.record_id == row.record_id,
            ChangeLog.seq > since_seq,
            *([ChangeLog.field == row.field] if row.field is not None else []),
        )
        .order_by(ChangeLog.seq.desc())
        .limit(1)
    )
    by = f", by {_who(session, newer)}" if newer is not None else ""
    return UndoRefusedError(
        f"Cannot {what}: {problem}{by}. Nothing was changed; the undo history has ended."
    )


def _apply(tx: Transaction, change_set: uuid.UUID, *, undo: bool) -> None:
    session = tx.session
    classes = record_classes()
    what = "undo" if undo else "redo"
    now = utcnow()
    rows = _rows(session, change_set, newest_first=undo)
    # A step's last log row: anything after it was written by someone else since.
    since = max((r.seq for r in rows), default=0)
    for row in rows:
        cls = classes[row.entity]
        obj = tx.get(cls, row.record_id)
        if obj is None:
            raise UndoRefusedError(
                f"Cannot {what}: the {_noun(row.entity)} is not in the store any more."
            )
        desc = obj.describe()
        creates = row.op in ("create", "restore")
        if row.op in ("create", "restore", "delete"):
            # Undoing a create (or redoing a delete) tombstones; the reverse restores.
            tombstone = creates == undo
            if (obj.deleted_at is None) != tombstone:
                state = "deleted" if obj.deleted_at is not None else "restored"
                raise _refuse(session, what, row, since, f"{desc} has been {state} since")
            if tombstone:
                try:
                    tx.delete_plan(obj)
                except DeleteBlockedError as blocked:
                    raise UndoRefusedError(f"Cannot {what}: {blocked}") from blocked
                obj.deleted_at = now
                index_forget(session, obj)
            else:
                restore(tx, obj)  # judged by the rules, as any restore is
        elif row.field is not None:
            expected = row.new if undo else row.old
            wanted = _logged(cls, row.field, row.old if undo else row.new)
            holds = to_json_value(getattr(obj, row.field))
            if expected is None or json.loads(expected) != holds:
                field = label(cls, row.field).lower()
                raise _refuse(
                    session, what, row, since, f"the {field} of {desc} has been changed since"
                )
            edit(tx, obj, **{row.field: wanted})  # the rules, as for any edit
        tx.flush()  # one step at a time: unique indexes see the same order as the original


@service
def undo_change_set(tx: Transaction, change_set: uuid.UUID) -> None:
    """Undo one earlier transaction, newest change first, refusing (and changing
    nothing) where a field no longer holds what that transaction wrote."""
    _apply(tx, change_set, undo=True)


@service
def redo_change_set(tx: Transaction, change_set: uuid.UUID) -> None:
    """Redo a transaction :func:`undo_change_set` undid, oldest change first."""
    _apply(tx, change_set, undo=False)


# --------------------------------------------------------------------------- the history


class UndoHistory:
    """The open store's undo and redo steps. Thread-safe: an import may commit from a
    worker thread while the window holds the history."""

    def __init__(self, store: Store, *, limit: int = 200) -> None:
        self.store = store
        self.limit = limit
        self._steps: list[Step] = []
        self._done = 0  # steps[:done] can be undone, steps[done:] redone
        self._lock = threading.RLock()
        self._mine: uuid.UUID | None = None
        self._last: Committed | None = None
        self._listeners: list[Callable[[], None]] = []
        self._unsubscribe = store.subscribe(self._on_commit)

    def close(self) -> None:
        self._unsubscribe()

    # -- state ---------------------------------------------------------------------

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever what can be undone or redone changes."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    @property
    def can_undo(self) -> bool:
        return self._done > 0

    @property
    def can_redo(self) -> bool:
        return self._done < len(self._steps)

    @property
    def undo_text(self) -> str:
        return self._steps[self._done - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self._steps[self._done].text if self.can_redo else ""

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)

    @property
    def done(self) -> int:
        """How many steps are done (the rest can be redone)."""
        return self._done

    def end(self) -> None:
        """Forget every step: nothing before now can be undone."""
        with self._lock:
            if not self._steps:
                return
            self._steps.clear()
            self._done = 0
        self._changed()

    # -- writing -------------------------------------------------------------------

    def _run(
        self, work: Callable[[Transaction], object], *, source: str, **context: Any
    ) -> Committed | None:
        with self._lock:
            self._last = None
            try:
                with self.store.transaction(source=source, **context) as tx:
                    self._mine = tx.context.change_set
                    work(tx)
            finally:
                self._mine = None
            return self._last

    def perform(
        self,
        text: str,
        work: Callable[[Transaction], object],
        *,
        actor: str | None = None,
        person_id: uuid.UUID | None = None,
    ) -> Committed | None:
        """Make an undoable edit: ``work`` calls services in one transaction. Returns
        what changed (None: nothing did, and no step is added). Raises the domain's
        error, having written nothing, if a rule refuses it."""
        with self._lock:
            result = self._run(work, source="local", actor=actor, person_id=person_id)
            if result is None:
                return None
            del self._steps[self._done :]
            self._steps.append(Step(text, result))
            if len(self._steps) > self.limit:
                del self._steps[0]
            self._done = len(self._steps)
        self._changed()
        return result

    def undo(self) -> Committed | None:
        """Undo the newest done step; UndoRefusedError (and the history ends) if a
        field it wrote has been changed by someone else since."""
        with self._lock:
            if not self.can_undo:
                return None
            step = self._steps[self._done - 1]
            try:
                result = self._run(lambda tx: undo_change_set(tx, step.change_set), source="undo")
            except UndoRefusedError:
                self.end()
                raise
            self._done -= 1
        self._changed()
        return result

    def redo(self) -> Committed | None:
        """Redo the step undone last; refused like :meth:`undo`."""
        with self._lock:
            if not self.can_redo:
                return None
            step = self._steps[self._done]
            try:
                result = self._run(lambda tx: redo_change_set(tx, step.change_set), source="redo")
            except UndoRefusedError:
                self.end()
                raise
            self._done += 1
        self._changed()
        return result

    def _on_commit(self, committed: Committed) -> None:
        if committed.change_set == self._mine:
            self._last = committed
            return
        if not committed.keeps_history:
            self.end()
