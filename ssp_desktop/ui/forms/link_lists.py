"""Checkable lists of links (an action's partners, the outcomes a measure serves, the
frameworks a plan is aligned to): :class:`LinkListModel` and its :class:`LinkSection`.

Each candidate has a check box, checked where a live link record exists; checking one
is ``services.links.link``, unchecking ``services.links.unlink``, each one undoable
edit. The model follows ``document.changed`` itself and passes pytest-qt's
``qtmodeltester``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QLabel, QListView, QVBoxLayout, QWidget
from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.services import links
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms.editors import ErrorLabel
from ssp_desktop.ui.forms.fields import Choice
from ssp_desktop.ui.forms.record_form import FormSection, run_edit

Index = QModelIndex | QPersistentModelIndex


class LinkListModel(QAbstractListModel):
    """Candidates with a check box each: checked where a live link record exists."""

    error_changed = Signal(str)

    def __init__(
        self,
        document: PlanDocument,
        *,
        owner_cls: type[Record],
        owner_id: uuid.UUID,
        link_cls: type[Record],
        candidates: Callable[[Session, Any], Sequence[Choice]],
        noun: str,
        watches: frozenset[str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.owner_cls, self.owner_id = owner_cls, owner_id
        self.link_cls = link_cls
        self.owner_field, self.target_field = links.ends(link_cls)
        self.candidates = candidates
        self.noun = noun
        self.watches = watches | {link_cls.__tablename__}
        self.editable = True
        self.error = ""
        # (label, target id, live link id or None)
        self.rows: list[tuple[str, uuid.UUID, uuid.UUID | None]] = []
        document.changed.connect(self._on_changed)
        self.reload()

    def reload(self) -> None:
        with self.document.read() as session:
            owner = session.get(self.owner_cls, self.owner_id)
            offered = list(self.candidates(session, owner)) if owner is not None else []
            links = {
                getattr(link, self.target_field): link.id
                for link in session.scalars(
                    select(self.link_cls).where(
                        getattr(self.link_cls, self.owner_field) == self.owner_id,
                        self.link_cls.deleted_at.is_(None),
                    )
                )
            }
        rows = [(str(label), target, links.get(target)) for label, target in offered]
        if [r[1] for r in rows] == [r[1] for r in self.rows]:
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0), self.index(len(rows) - 1))
            return
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def _on_changed(self, entity: str, _record_id: object) -> None:
        if entity in self.watches:
            self.reload()

    def _set_error(self, message: str) -> None:
        if message != self.error:
            self.error = message
            self.error_changed.emit(message)

    def linked(self) -> list[str]:
        """Labels of the checked candidates."""
        return [label for label, _target, link in self.rows if link is not None]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        label, _target, link = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return label
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if link is not None else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{label}: {'linked' if link is not None else 'not linked'}"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.editable:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not self.editable:
            return False
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return False
        label, target, link_id = self.rows[index.row()]
        state = value if isinstance(value, Qt.CheckState) else Qt.CheckState(int(value))
        want = state == Qt.CheckState.Checked
        if want == (link_id is not None):
            return True
        link_cls, owner_cls, owner_id = self.link_cls, self.owner_cls, self.owner_id

        def add(tx: Transaction) -> None:
            owner = tx.get(owner_cls, owner_id)
            if owner is None or owner.deleted_at is not None:
                raise DomainError(f"Cannot link {label}: the record has been deleted.")
            links.link(tx, link_cls, owner, target)

        def remove(tx: Transaction) -> None:
            links.unlink(tx, link_cls, owner_id, target)

        text = f"{'Add' if want else 'Remove'} {self.noun} {label}"
        reason = run_edit(self.document, text, add if want else remove)
        self._set_error(reason or "")
        return reason is None


class LinkSection(FormSection):
    """A checkable list of links (partners, outcomes, measures) with its inline error."""

    def __init__(
        self, title: str, model: LinkListModel, *, note: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(title, parent)
        self.model = model
        self.view = QListView()
        self.show_model(self.view, model)
        self.view.setMaximumHeight(200)
        self.view.setUniformItemSizes(True)
        self.note = QLabel(note or "Tick to link; untick to remove the link.")
        self.note.setWordWrap(True)
        self.error = ErrorLabel(f"{title} error")
        model.error_changed.connect(self.error.set_error)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.view)
        layout.addWidget(self.error)

    def focus_widgets(self) -> list[QWidget]:
        return [self.view]

    def set_live(self, live: bool) -> None:
        super().set_live(live)
        self.model.editable = live
