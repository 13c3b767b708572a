"""The open plan as the UI sees it: the store, one undo stack, and change signals.

Saving model: every edit is committed to the store as soon as it is made (a field when
the user leaves it, a row when it is added), as one ``QUndoCommand`` on the window's
single undo stack. There is no Save: a crash loses at most the field being typed.
Views never write to the store themselves; they push an :class:`EditCommand` and
redraw when ``changed`` names a record they show (DESIGN.md section 7).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction, replay_change_set, revert_change_set
from ssp_desktop.domain.errors import SspError
from ssp_desktop.domain.records import ChangeLog
from ssp_desktop.store.engine import Store

R = TypeVar("R", bound=Record)


log = logging.getLogger(__name__)


class PlanDocument(QObject):
    """Owns an open :class:`Store` and the undo stack that changes it."""

    # (table name, record id) of every record a write touched; views re-read what they show.
    changed = Signal(str, object)
    # A write was refused: (what the user tried, the plain-English reason). Nothing changed.
    failed = Signal(str, str)
    # The store was changed outside the undo stack (a spreadsheet import, a bundle):
    # views re-read everything they show.
    reloaded = Signal()

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setObjectName("undoStack")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short-lived session for reading; no ORM object should outlive it."""
        with self.store.session() as session:
            yield session

    def reload(self) -> None:
        """Tell every view that the store changed under it (not through the undo stack)."""
        self.reloaded.emit()

    def edit(self, text: str, work: Callable[[Transaction], object]) -> bool:
        """Make an undoable edit: ``work`` runs in one transaction. False if refused."""
        command = EditCommand(self, text, work)
        self.undo_stack.push(command)
        return command.error is None

    def write(self, text: str, work: Callable[[Transaction], Any]) -> uuid.UUID | None:
        """Run ``work`` in one transaction; announce what changed; return the change set,
        or None if nothing changed.

        On refusal emits ``failed`` and raises the :class:`SspError`; nothing is written.
        """
        try:
            with self.store.transaction() as tx:
                work(tx)
                tx.flush()
                change_set = tx.context.change_set
                touched = tx.session.execute(
                    select(ChangeLog.entity, ChangeLog.record_id)
                    .where(ChangeLog.change_set == change_set)
                    .order_by(ChangeLog.seq)
                ).all()
        except SspError as exc:
            # The type only: the message may quote the plan.
            log.info("edit refused: %s", type(exc).__name__)
            self.failed.emit(text, str(exc))
            raise
        log.info("saved change set %s (%d records)", change_set, len(set(touched)))
        for entity, record_id in dict.fromkeys((e, r) for e, r in touched):
            self.changed.emit(entity, record_id)
        return change_set if touched else None


class EditCommand(QUndoCommand):
    """One user edit. The first redo runs the edit; undo reverts its change set from the
    change log and redo replays it, so every kind of edit undoes the same way."""

    def __init__(
        self, document: PlanDocument, text: str, work: Callable[[Transaction], object]
    ) -> None:
        super().__init__(text)
        self._document = document
        self._work: Callable[[Transaction], object] | None = work
        self._change_set: uuid.UUID | None = None
        self.error: str | None = None

    def redo(self) -> None:
        try:
            if self._work is not None:
                work, self._work = self._work, None
                self._change_set = self._document.write(self.text(), work)
                if self._change_set is None:
                    self.setObsolete(True)  # a no-op edit does not clutter the undo stack
            elif self._change_set is not None:
                cs = self._change_set
                self._document.write(f"Redo {self.text()}", lambda tx: replay_change_set(tx, cs))
        except SspError as exc:
            self.error = str(exc)
            self.setObsolete(True)

    def undo(self) -> None:
        if self._change_set is None:
            return
        cs = self._change_set
        try:
            self._document.write(f"Undo {self.text()}", lambda tx: revert_change_set(tx, cs))
        except SspError as exc:
            self.error = str(exc)
