"""Item models and sections for the parts of a form that are tables.

:class:`GridModel` is a table of rows fetched from the store as plain values (no ORM
object outlives its session), editable in place where a column says so; a cell edit
is checked like a form field and written as one undoable edit through the services,
with what the grid showed of the cell as the edit's expected value: a cell another
writer changed since the grid read it is refused, and the section's
:class:`ConflictPanel` offers Keep theirs / Write mine, as a form's fields do.
:class:`GridSection` shows one with its inline error and buttons. A grid follows
``document.changed`` itself, and a reload keeps the view where it was
(``dataChanged``) unless rows came or went. Every model here passes pytest-qt's
``qtmodeltester``. (The checkable lists of links are in
:mod:`ssp_desktop.ui.forms.link_lists`.)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import EditConflictError, FieldConflict
from ssp_desktop.domain.validation import (
    ValidationError,
    check_length,
    check_percentage,
    check_required,
    format_number,
    parse_money,
    parse_number,
    parse_optional_number,
)
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms.editors import ErrorLabel, from_qdate, to_qdate
from ssp_desktop.ui.forms.fields import DATE_FORMAT, Kind
from ssp_desktop.ui.forms.record_form import ConflictPanel, FormSection, run_edit

Index = QModelIndex | QPersistentModelIndex
Choice = tuple[str, Any]

# The labels of a choice column's options, for the delegate's combo box.
CHOICES_ROLE = Qt.ItemDataRole.UserRole + 20
_NUMERIC = (Kind.NUMBER, Kind.PERCENT, Kind.MONEY, Kind.INT)


def long_date(value: dt.date) -> str:
    """Dates as council papers write them: "1 April 2022"."""
    return f"{value.day} {value:%B %Y}"


def parse_date(value: Any, label: str, *, required: bool) -> dt.date | None:
    if isinstance(value, QDate):
        if not value.isValid():
            raise ValidationError(f"{label} is not a date")
        return from_qdate(value)
    if isinstance(value, dt.date):
        return value
    raw = "" if value is None else str(value).strip()
    if not raw:
        if required:
            raise ValidationError(f"{label} is required")
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"'{raw}' is not a date (write it like 31/03/2024)")


@dataclass(frozen=True)
class GridColumn:
    header: str
    key: str
    kind: Kind = Kind.TEXT
    editable: bool = True
    required: bool = False
    choices: tuple[Choice, ...] = ()
    display: Callable[[Any], str] | None = None
    max_length: int | None = None


@dataclass
class GridRow:
    """One row as plain values; ``key`` names it across reloads (an id, a quarter)."""

    key: Any
    values: dict[str, Any]
    header: str = ""
    record_id: uuid.UUID | None = None
    entity: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def display_value(column: GridColumn, value: Any) -> str:
    if column.display is not None:
        return column.display(value)
    if value is None:
        return ""
    kind = column.kind
    if kind in (Kind.NUMBER, Kind.PERCENT, Kind.INT):
        return format_number(value)
    if kind is Kind.MONEY:
        return f"£{value:,.2f}"
    if kind is Kind.DATE:
        return long_date(value)
    if kind is Kind.CHOICE:
        return next((label for label, v in column.choices if v == value), str(value))
    if kind is Kind.BOOL:
        return "Yes" if value else "No"
    return str(value)


def parse_cell(column: GridColumn, value: Any) -> Any:
    """A cell's new value as typed (or picked), checked like a form field."""
    label, kind = column.header, column.kind
    if kind is Kind.DATE:
        return parse_date(value, label, required=column.required)
    if kind is Kind.CHOICE:
        for option, choice_value in column.choices:
            if value == choice_value or (
                isinstance(value, str) and value in (option, str(choice_value))
            ):
                return choice_value
        options = ", ".join(option for option, _ in column.choices)
        raise ValidationError(f"'{value}' is not one of: {options}")
    if kind is Kind.BOOL:
        return bool(value)
    raw = "" if value is None else str(value)
    if kind in (Kind.NUMBER, Kind.PERCENT):
        number = parse_number(raw, label) if column.required else parse_optional_number(raw)
        if kind is Kind.PERCENT and number is not None:
            check_percentage(number)
        return number
    if kind is Kind.MONEY:
        return parse_money(raw, label) if column.required or raw.strip() else None
    cleaned = check_required(label, raw) if column.required else raw.strip()
    return check_length(label, cleaned, column.max_length)


class GridModel(QAbstractTableModel):
    """Rows from :meth:`fetch`; an edited cell goes to :meth:`write` (one undoable edit)."""

    # The reason the last edit was refused, "" once one succeeds.
    error_changed = Signal(str)
    # A cell another writer changed since the grid read it (a FieldConflict), or None
    # once the user has chosen.
    conflict_changed = Signal(object)
    watches: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, document: PlanDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.columns: list[GridColumn] = []
        self.rows: list[GridRow] = []
        self.error = ""
        self.editable = True
        self.conflict: FieldConflict | None = None
        # The cell being written (row key, column key, value), and the refused one the
        # conflict panel asks about.
        self._writing: tuple[Any, str, Any] | None = None
        self.refused: tuple[Any, str, Any] | None = None
        document.changed.connect(self._on_changed)

    # -- to override ------------------------------------------------------------------

    def fetch(self, session: Session) -> tuple[list[GridColumn], list[GridRow]]:
        raise NotImplementedError

    def write(
        self, row: GridRow, column: GridColumn, value: Any, expected: dict[str, Any]
    ) -> str | None:
        """Save one cell; None when saved, else the reason it was refused. ``expected``
        is what the grid showed of the fields it writes (:meth:`read_of`), for the
        service's compare-and-set."""
        return "This list cannot be changed here."

    def read_of(self, row: GridRow, column: GridColumn) -> dict[str, Any]:
        """What the grid showed of the record's fields this cell writes, by field."""
        return {column.key: row.values.get(column.key)}

    def concerns(self, entity: str, record_id: object) -> bool:
        return entity in self.watches

    def can_edit(self) -> bool:
        """Whether the grid as a whole takes edits now (a tracker takes no targets)."""
        return True

    def can_edit_cell(self, row: GridRow, column: GridColumn) -> bool:
        return self.editable and column.editable and self.can_edit()

    # -- loading ----------------------------------------------------------------------

    def reload(self) -> None:
        with self.document.read() as session:
            columns, rows = self.fetch(session)
        same_columns = [(c.key, c.header) for c in columns] == [
            (c.key, c.header) for c in self.columns
        ]
        same_rows = [r.key for r in rows] == [r.key for r in self.rows]
        if same_columns and same_rows:
            # Same shape: update in place so the view keeps its selection and scroll.
            self.columns, self.rows = columns, rows
            if rows and columns:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(columns) - 1))
            return
        self.beginResetModel()
        self.columns, self.rows = columns, rows
        self.endResetModel()

    def _on_changed(self, entity: str, record_id: object) -> None:
        if self.concerns(entity, record_id):
            self.reload()

    def set_editable(self, editable: bool) -> None:
        self.editable = editable

    def _set_error(self, message: str) -> None:
        if message != self.error:
            self.error = message
            self.error_changed.emit(message)

    def row_at(self, index: Index) -> GridRow | None:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self.rows[index.row()]

    def edit(self, text: str, work: Callable[[Transaction], object]) -> str | None:
        """Run one undoable edit; a refusal because another writer changed the cell
        since it was read is kept for the conflict panel (:attr:`conflict`)."""
        conflicts: list[FieldConflict] = []

        def guarded(tx: Transaction) -> object:
            try:
                return work(tx)
            except EditConflictError as exc:
                conflicts.append(exc.conflict)
                raise

        reason = run_edit(self.document, text, guarded)
        if conflicts:
            self.refused = self._writing
            self._set_conflict(conflicts[-1])
        elif reason is None:
            self._set_conflict(None)
        return reason

    def _set_conflict(self, conflict: FieldConflict | None) -> None:
        if conflict is None:
            self.refused = None
        if conflict is None and self.conflict is None:
            return
        self.conflict = conflict
        self.conflict_changed.emit(conflict)

    def keep_theirs(self) -> None:
        """The conflict panel's "Keep theirs": show the stored values; nothing is written."""
        self._set_conflict(None)
        self._set_error("")
        self.reload()

    def write_mine(self) -> bool:
        """The conflict panel's "Write mine": write the refused cell over theirs, still
        compare-and-set against theirs (a third change meanwhile is asked about again)."""
        conflict, refused = self.conflict, self.refused
        if conflict is None or refused is None:
            return False
        key, column_key, value = refused
        row = next((r for r in self.rows if r.key == key), None)
        column = next((c for c in self.columns if c.key == column_key), None)
        if row is None or column is None:
            self._set_conflict(None)
            self._set_error("That row is no longer in the list.")
            return False
        self._writing = refused
        try:
            reason = self.write(row, column, value, {conflict.field: conflict.theirs})
        finally:
            self._writing = None
        if reason is not None:
            if self.conflict is None:
                self._set_error(reason)
            return False
        self._set_error("")
        return True

    # -- QAbstractTableModel ----------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None or not 0 <= index.column() < len(self.columns):
            return None
        column = self.columns[index.column()]
        value = row.values.get(column.key)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return display_value(column, value)
        if role == Qt.ItemDataRole.EditRole:
            if column.kind is Kind.DATE:
                return to_qdate(value) if value is not None else QDate()
            if column.kind is Kind.MONEY:
                return "" if value is None else f"{value:.2f}"
            return display_value(column, value)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            where = f"{row.header}, " if row.header else ""
            return f"{where}{column.header}: {display_value(column, value) or 'blank'}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column.kind in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == CHOICES_ROLE and column.kind is Kind.CHOICE:
            return [label for label, _ in column.choices]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section].header if 0 <= section < len(self.columns) else None
        if 0 <= section < len(self.rows):
            return self.rows[section].header or str(section + 1)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        row = self.row_at(index)
        if (
            row is not None
            and 0 <= index.column() < len(self.columns)
            and self.can_edit_cell(row, self.columns[index.column()])
        ):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        row = self.row_at(index)
        if role != Qt.ItemDataRole.EditRole or row is None:
            return False
        if not 0 <= index.column() < len(self.columns):
            return False
        column = self.columns[index.column()]
        if not self.can_edit_cell(row, column):
            return False
        where = f"{row.header}, {column.header}" if row.header else column.header
        try:
            parsed = parse_cell(column, value)
        except ValidationError as exc:
            self._set_error(f"{exc} ({where})")
            return False
        if parsed == row.values.get(column.key):
            self._set_error("")
            return True
        self._writing = (row.key, column.key, parsed)
        try:
            reason = self.write(row, column, parsed, self.read_of(row, column))
        finally:
            self._writing = None
        if reason is not None:
            # A conflict is shown by the panel, with its choice; other reasons here.
            self._set_error("" if self.conflict is not None else reason)
            return False
        self._set_error("")
        return True


class GridDelegate(QStyledItemDelegate):
    """Cell editors: a combo box for choice columns (committed when picked), a date edit
    with a calendar for dates, a line edit otherwise; each named for screen readers."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        items = index.data(CHOICES_ROLE)
        header = index.model().headerData(index.column(), Qt.Orientation.Horizontal)
        editor: QWidget
        if items:
            combo = QComboBox(parent)
            combo.addItems([str(i) for i in items])
            combo.activated.connect(lambda _i, c=combo: self._picked(c))
            editor = combo
        else:
            editor = super().createEditor(parent, option, index)
            if isinstance(editor, QDateEdit):
                editor.setCalendarPopup(True)
                editor.setDisplayFormat(DATE_FORMAT)
        editor.setAccessibleName(str(header))
        return editor

    def _picked(self, combo: QComboBox) -> None:
        self.commitData.emit(combo)
        self.closeEditor.emit(combo)

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QComboBox) and index.data(CHOICES_ROLE):
            editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
            return
        super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if isinstance(editor, QComboBox) and index.data(CHOICES_ROLE):
            model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)
            return
        super().setModelData(editor, model, index)


class GridSection(FormSection):
    """A table of a :class:`GridModel` with its inline error and its buttons.

    A read-only list opens a row's record on activation (Enter or double-click).
    """

    record_activated = Signal(str, object)

    def __init__(
        self,
        title: str,
        model: GridModel,
        *,
        note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, parent)
        self.model = model
        self.view = QTableView()
        self.show_model(self.view, model)
        self.view.setItemDelegate(GridDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTabKeyNavigation(False)  # Tab leaves the grid; arrows move in it
        self.view.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.view.setMaximumHeight(360)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.activated.connect(self._on_activated)
        self.note = QLabel(note)
        self.note.setWordWrap(True)
        self.note.setVisible(bool(note))
        self.error = ErrorLabel(f"{title} error")
        self.error.setObjectName("".join(w.capitalize() for w in title.split()) + "Error")
        model.error_changed.connect(self.error.set_error)
        self.conflict_panel = ConflictPanel(self)
        self.conflict_panel.setAccessibleName(f"{title}: changed by someone else")
        model.conflict_changed.connect(self._on_conflict)
        self.conflict_panel.keep_theirs.connect(self._keep_theirs)
        self.conflict_panel.write_mine.connect(self._write_mine)
        model.modelReset.connect(self._update_triggers)
        model.dataChanged.connect(self._on_data_changed)
        self._buttons: list[QPushButton] = []
        self._button_row = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.view)
        layout.addWidget(self.error)
        layout.addWidget(self.conflict_panel)
        layout.addLayout(self._button_row)
        self._update_triggers()

    def _on_conflict(self, conflict: FieldConflict | None) -> None:
        if conflict is None:
            self.conflict_panel.dismiss()
        else:
            self.conflict_panel.show_conflict(conflict)

    def _back_to_cell(self, row_key: Any, column_key: str) -> None:
        rows = [r.key for r in self.model.rows]
        columns = [c.key for c in self.model.columns]
        if row_key in rows and column_key in columns:
            self.view.setCurrentIndex(
                self.model.index(rows.index(row_key), columns.index(column_key))
            )
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _keep_theirs(self) -> None:
        refused = self.model.refused
        self.model.keep_theirs()
        if refused is not None:
            self._back_to_cell(refused[0], refused[1])

    def _write_mine(self) -> None:
        refused = self.model.refused
        if self.model.write_mine() and refused is not None:
            self._back_to_cell(refused[0], refused[1])

    def _update_triggers(self) -> None:
        editable = (
            self.model.editable
            and self.model.can_edit()
            and any(c.editable for c in self.model.columns)
        )
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            if editable
            else QAbstractItemView.EditTrigger.NoEditTriggers
        )

    def _on_data_changed(self, *_args: object) -> None:
        self._update_triggers()

    def _on_activated(self, index: QModelIndex) -> None:
        row = self.model.row_at(index)
        if row is not None and row.record_id is not None and row.entity:
            self.record_activated.emit(row.entity, row.record_id)

    def add_button(self, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text)
        button.clicked.connect(lambda _checked=False: slot())
        self._button_row.addWidget(button)
        self._buttons.append(button)
        return button

    def finish_buttons(self) -> None:
        self._button_row.addStretch(1)

    def focus_widgets(self) -> list[QWidget]:
        panel = self.conflict_panel
        return [self.view, panel.theirs_button, panel.mine_button, *self._buttons]

    def selected_row(self) -> GridRow | None:
        return self.model.row_at(self.view.currentIndex())

    def set_live(self, live: bool) -> None:
        super().set_live(live)
        self.model.set_editable(live)
        self._update_triggers()
