"""The history panel: the change log of the selected record (who, when, what changed).

A change merged from a lead's bundle shows the lead and the time on their laptop, and
when this copy received it ("Jane Lead (received 5 Dec 2026 09:12)").
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from ssp_desktop.queries.history import HistoryEntry, record_history
from ssp_desktop.ui.document import PlanDocument

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("When", "Who", "What", "From", "To")


def _when(at: dt.datetime) -> str:
    local = at.astimezone()
    return f"{local.day} {local:%b %Y %H:%M}"


class HistoryModel(QAbstractTableModel):
    """One record's change log, newest first; follows edits to that record."""

    def __init__(self, document: PlanDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._record_id: uuid.UUID | None = None
        self._entries: list[HistoryEntry] = []
        document.changed.connect(self._on_changed)

    def set_record(self, record_id: uuid.UUID | None) -> None:
        self._record_id = record_id
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        if self._record_id is None:
            self._entries = []
        else:
            with self._document.read() as session:
                self._entries = record_history(session, self._record_id)
        self.endResetModel()

    def _on_changed(self, _entity: str, record_id: object) -> None:
        if record_id == self._record_id:
            self.reload()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        e = self._entries[index.row()]
        # A merged change says when it arrived rather than which bundle brought it.
        how = f"received {_when(e.received_at)}" if e.received_at is not None else e.source
        values = (
            _when(e.at),
            e.who + (f" ({how})" if how else ""),
            e.what,
            e.before,
            e.after,
        )
        return values[index.column()]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None


class HistoryPanel(QWidget):
    def __init__(self, document: PlanDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = HistoryModel(document, self)
        self.heading = QLabel("<b>History</b>")
        self.view = QTableView()
        self.view.setObjectName("historyView")
        self.view.setAccessibleName("History of the selected record")
        self.view.setModel(self.model)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setWordWrap(False)
        # Tab leaves the table (arrows move in it): cell by cell it was a keyboard trap.
        self.view.setTabKeyNavigation(False)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.view)

    def set_record(self, record_id: uuid.UUID | None, label: str = "") -> None:
        self.heading.setText(f"<b>History</b>{' of ' + label if label else ''}")
        self.model.set_record(record_id)
