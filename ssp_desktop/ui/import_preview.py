"""The import preview as a table, the same for a bundle and for a spreadsheet: one line
per field an import changes (kind, record, field, before, after, decision), sortable by
any column and filtered by typing or by decision.

Nothing here decides anything: the lines come from the planners' own previews
(``sync.preview.Preview`` and ``spreadsheets.plan.RowPlan``), so what the table shows
is what the import will write."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.spreadsheets.plan import Outcome, RowPlan
from ssp_desktop.sync.preview import (
    CONFLICT,
    NEW,
    REJECTED,
    UNCHANGED,
    UPDATED,
    Preview,
    describe_conflict,
)

Index = QModelIndex | QPersistentModelIndex

# The decisions, in the words the table shows (a bundle's and a sheet's alike).
NEW_WORD = "New"
UPDATE_WORD = "Update"
UNCHANGED_WORD = "Unchanged"
REFUSED_WORD = "Refused"
CONFLICT_WORD = "Conflict"
DECISIONS = (REFUSED_WORD, CONFLICT_WORD, NEW_WORD, UPDATE_WORD, UNCHANGED_WORD)


@dataclass(frozen=True)
class PreviewLine:
    kind: str
    record: str
    field: str
    before: str
    after: str
    decision: str
    reason: str = ""  # why refused, or what the conflict is

    def cells(self) -> tuple[str, ...]:
        decision = f"{self.decision}: {self.reason}" if self.reason else self.decision
        return (self.kind, self.record, self.field, self.before, self.after, decision)


_SHEET_DECISION = {
    Outcome.CREATE: NEW_WORD,
    Outcome.UPDATE: UPDATE_WORD,
    Outcome.UNCHANGED: UNCHANGED_WORD,
    Outcome.REFUSE: REFUSED_WORD,
}
_BUNDLE_DECISION = {
    NEW: NEW_WORD,
    UPDATED: UPDATE_WORD,
    UNCHANGED: UNCHANGED_WORD,
    REJECTED: REFUSED_WORD,
    CONFLICT: CONFLICT_WORD,
}


def lines_from_rows(rows: Iterable[RowPlan], kind: str) -> list[PreviewLine]:
    """A spreadsheet's rows: one line per changed field, or one for the whole row."""
    lines: list[PreviewLine] = []
    for row in rows:
        record = f"Row {row.row}: {row.key}" if row.key else f"Row {row.row}"
        decision = _SHEET_DECISION[row.outcome]
        if row.outcome is Outcome.REFUSE and row.conflicts:
            # Changed both in the store (since the workbook's export) and in the
            # workbook: theirs, with who, beside the workbook's.
            lines.extend(
                PreviewLine(
                    kind,
                    record,
                    c.field,
                    f"{c.theirs} (by {c.by})",
                    c.workbook,
                    CONFLICT_WORD,
                    "changed in the store since export; tick the row below to write the workbook's",
                )
                for c in row.conflicts
            )
        elif row.outcome is Outcome.UPDATE and row.changes:
            lines.extend(
                PreviewLine(kind, record, c.field, c.before, c.after, decision) for c in row.changes
            )
            # Newer store values the workbook did not change: kept, and said so.
            lines.extend(PreviewLine(kind, record, "", "", k, UNCHANGED_WORD) for k in row.kept)
        elif row.outcome is Outcome.REFUSE:
            lines.append(PreviewLine(kind, record, "", "", "", decision, row.text))
        else:
            lines.append(PreviewLine(kind, record, "", "", row.text, decision))
    return lines


def _kind(entity: str) -> str:
    return entity.replace("_", " ").capitalize()


def lines_from_bundle(preview: Preview) -> list[PreviewLine]:
    """A bundle's records: one line per changed field, one per new or refused record,
    one per conflict."""
    lines: list[PreviewLine] = []
    for item in preview.items:
        decision = _BUNDLE_DECISION[item.outcome]
        if item.outcome == CONFLICT:
            continue  # each conflict is listed below, field by field
        if item.outcome == UPDATED and item.changes:
            lines.extend(
                PreviewLine(_kind(item.entity), item.label, field, before, after, decision)
                for field, before, after in item.changes
            )
        elif item.outcome == REJECTED:
            lines.append(
                PreviewLine(_kind(item.entity), item.label, "", "", "", decision, item.detail)
            )
        else:
            lines.append(PreviewLine(_kind(item.entity), item.label, "", "", item.detail, decision))
    for c in preview.conflicts:
        lines.append(
            PreviewLine(
                _kind(c.entity),
                c.label,
                (c.field or "").replace("_", " "),
                c.local,
                c.incoming,
                CONFLICT_WORD,
                describe_conflict(c),
            )
        )
    return lines


class PreviewLinesModel(QAbstractTableModel):
    HEADINGS = ("Kind", "Record", "Field", "Before", "After", "Decision")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: list[PreviewLine] = []

    def set_lines(self, lines: Sequence[PreviewLine]) -> None:
        self.beginResetModel()
        self._lines = list(lines)
        self.endResetModel()

    def line(self, row: int) -> PreviewLine:
        return self._lines[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADINGS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        return self._lines[index.row()].cells()[index.column()]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADINGS[section]
        return None


class _Filter(QSortFilterProxyModel):
    """Typed words anywhere in a line, and one decision (or any)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.words: list[str] = []
        self.decision = ""

    def set_filter(self, typed: str, decision: str) -> None:
        self.beginFilterChange()
        self.words = typed.casefold().split()
        self.decision = decision
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, _source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, PreviewLinesModel)
        line = model.line(source_row)
        if self.decision and line.decision != self.decision:
            return False
        text = " ".join(line.cells()).casefold()
        return all(word in text for word in self.words)


class ImportPreviewTable(QWidget):
    """The table, its filter box and decision picker, and how many lines show."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PreviewLinesModel(self)
        self.proxy = _Filter(self)
        self.proxy.setSourceModel(self.model)
        self.search = QLineEdit()
        self.search.setObjectName("previewSearch")
        self.search.setAccessibleName("Filter the preview")
        self.search.setPlaceholderText("Filter: a ref, a field, a value…")
        self.search.setClearButtonEnabled(True)
        self.decision = QComboBox()
        self.decision.setObjectName("previewDecision")
        self.decision.setAccessibleName("Show decisions")
        self.decision.addItem("Every decision", "")
        for word in DECISIONS:
            self.decision.addItem(f"{word} only", word)
        self.view = QTableView()
        self.view.setObjectName("previewLines")
        self.view.setAccessibleName("What the import will do, field by field")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the planner's order first
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setTabKeyNavigation(False)
        self.view.setWordWrap(False)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.count = QLabel()
        self.count.setObjectName("previewCount")
        self.count.setAccessibleName("Lines shown")
        search_label = QLabel("&Filter:")
        search_label.setBuddy(self.search)
        decision_label = QLabel("Sho&w:")
        decision_label.setBuddy(self.decision)
        bar = QHBoxLayout()
        bar.addWidget(search_label)
        bar.addWidget(self.search, 1)
        bar.addWidget(decision_label)
        bar.addWidget(self.decision)
        bar.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.search.textChanged.connect(self._refilter)
        self.decision.currentIndexChanged.connect(self._refilter)

    def set_lines(self, lines: Sequence[PreviewLine]) -> None:
        self.model.set_lines(lines)
        for column, width in enumerate((110, 220, 140, 160, 160)):
            self.view.setColumnWidth(column, width)
        self._refilter()

    def show_decision(self, word: str) -> None:
        self.decision.setCurrentIndex(max(self.decision.findData(word), 0))

    def _refilter(self) -> None:
        self.proxy.set_filter(self.search.text(), str(self.decision.currentData() or ""))
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count.setText(f"{shown} of {total} lines" if shown != total else f"{total} lines")
