"""The open plan as the UI sees it: the store, its undo history, and change signals.

Saving model: every edit is committed to the store as soon as it is made (a field when
the user leaves it, a row when it is added), as one step of the domain's undo history
(:class:`~ssp_desktop.services.history.UndoHistory`). There is no Save: a crash loses
at most the field being typed. Views never write to the store themselves: they call
:meth:`PlanDocument.edit` with work that calls the services, and redraw when
``changed`` names a record they show (DESIGN.md section 7).

This module is an adapter: the store announces every committed transaction (from any
writer: a form, undo, a spreadsheet import, a bundle, a conflict decision) and the
document turns it into Qt signals; :class:`UndoStackAdapter` gives the Edit menu the
history's state. Neither decides anything the domain does not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QObject, Signal
from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction, correcting_calls
from ssp_desktop.domain.errors import SspError
from ssp_desktop.domain.events import Committed
from ssp_desktop.services.history import UndoHistory
from ssp_desktop.services.locks import LockedError, correction
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.watch import POLL_MS, RevisionWatcher

log = logging.getLogger(__name__)

# A commit touching more records than this is announced as ``reloaded`` (views re-read
# everything) rather than record by record.
RELOAD_OVER = 200


class UndoStackAdapter(QObject):
    """The Edit menu's view of the domain history, in QUndoStack's words."""

    indexChanged = Signal(int)

    def __init__(self, document: PlanDocument) -> None:
        super().__init__(document)
        self.setObjectName("undoStack")
        self._document = document
        self._history = document.history
        # The history may change from a worker thread (an import ends it); the signal
        # is queued to the window's thread.
        self._history.on_change(lambda: self.indexChanged.emit(self._history.done))

    def undo(self) -> None:
        self._document.undo()

    def redo(self) -> None:
        self._document.redo()

    def canUndo(self) -> bool:
        return self._history.can_undo

    def canRedo(self) -> bool:
        return self._history.can_redo

    def undoText(self) -> str:
        return self._history.undo_text

    def redoText(self) -> str:
        return self._history.redo_text

    def count(self) -> int:
        return len(self._history.steps)

    def index(self) -> int:
        return self._history.done

    def isClean(self) -> bool:
        # There is no Save: "clean" is the state the store was opened in.
        return self._history.done == 0

    def clear(self) -> None:
        self._history.end()


class PlanDocument(QObject):
    """Owns an open :class:`Store`, its undo history and the signals views listen to."""

    # (table name, record id) of every record a write touched; views re-read what they show.
    changed = Signal(str, object)
    # Every committed transaction, whoever made it: a domain Committed.
    committed = Signal(object)
    # A write was refused: (what the user tried, the plain-English reason). Nothing changed.
    failed = Signal(str, str)
    # A write touched too many records to announce one by one: views re-read everything.
    reloaded = Signal()
    # Internal: carries a Committed from whichever thread committed to this one.
    _arrived = Signal(object)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        # Asks why a published (locked) figure is being changed: (what the user tried,
        # why it is locked) -> the reason, or None to leave it. Unset: the refusal
        # stands. The window sets it to its correction dialog.
        self.ask_reason: Callable[[str, str], str | None] | None = None
        self.history = UndoHistory(store)
        self.undo_stack = UndoStackAdapter(self)
        self._arrived.connect(self._announce)
        self._unsubscribe = store.subscribe(self._arrived.emit)
        self._watcher: RevisionWatcher | None = None

    def watch(self, *, interval_ms: int = POLL_MS) -> None:
        """Follow commits other writers make to the store (another window, another
        officer on a server store): views redraw within a few seconds."""
        if self._watcher is None:
            self._watcher = RevisionWatcher(self, interval_ms=interval_ms)

    def remote(self, committed: Committed) -> None:
        """Another writer's commit (from the watcher): announced as a local one is.
        The undo history is left alone: its undo is compare-and-set, so it refuses
        rather than overwrite what the other writer did."""
        self._announce(committed)

    def close(self) -> None:
        """Stop listening to the store (it is being closed)."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self._unsubscribe()
        self.history.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short-lived session for reading; no ORM object should outlive it."""
        with self.store.session() as session:
            yield session

    def _announce(self, committed: Committed) -> None:
        log.info(
            "committed change set %s (%d records, %s)",
            committed.change_set,
            len(committed.records),
            committed.source.split(":", 1)[0],
        )
        self.committed.emit(committed)
        if len(committed.records) > RELOAD_OVER:
            self.reloaded.emit()
            return
        for record in committed.records:
            self.changed.emit(record.entity, record.record_id)

    # -- writing ---------------------------------------------------------------------

    def edit(self, text: str, work: Callable[[Transaction], Any]) -> bool:
        """Make an undoable edit: ``work`` calls services in one transaction.

        False if refused: then ``failed`` has said why and nothing was written.
        """
        try:
            self.history.perform(text, work)
        except LockedError as exc:
            return self._correct(text, work, exc)
        except SspError as exc:
            # The type only: the message may quote the plan.
            log.info("edit refused: %s", type(exc).__name__)
            self.failed.emit(text, str(exc))
            return False
        return True

    def _correct(self, text: str, work: Callable[[Transaction], Any], locked: LockedError) -> bool:
        """A published figure: ask why, then make the same edit as a correction."""
        reason = self.ask_reason(text, str(locked)) if self.ask_reason is not None else None
        if not reason:
            self.failed.emit(text, str(locked))
            return False

        def corrected(tx: Transaction) -> Any:
            with correction(tx, reason):
                return work(tx)

        try:
            self.history.perform(text, corrected)
        except SspError as exc:
            log.info("correction refused: %s", type(exc).__name__)
            self.failed.emit(text, str(exc))
            return False
        return True

    def undo(self) -> bool:
        return self._step(self.history.undo, f"Undo {self.history.undo_text}")

    def redo(self) -> bool:
        return self._step(self.history.redo, f"Redo {self.history.redo_text}")

    def _step(self, run: Callable[[], object], what: str) -> bool:
        try:
            run()
        except LockedError as exc:
            # Undoing or redoing a published figure is a correction too: ask why.
            reason = self.ask_reason(what, str(exc)) if self.ask_reason is not None else None
            if not reason:
                self.failed.emit(what, str(exc))
                return False
            try:
                with correcting_calls(reason):
                    run()
            except SspError as again:
                self.failed.emit(what, str(again))
                return False
        except SspError as exc:
            log.info("%s refused: %s", what.split()[0].lower(), type(exc).__name__)
            self.failed.emit(what, str(exc))
            return False
        return True
