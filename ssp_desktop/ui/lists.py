"""The action and measure lists: a filter bar above a sortable table, and a count.

Each list is a thin widget over :mod:`ssp_desktop.ui.tables`: the filter bar's
controls call the proxy's typed setters, the header sorts through the source model,
and the widget says which record is current (``record_selected``) and which the user
opened with a double-click or Enter (``record_activated``). Every control has an
accessible name, RAG is offered as words, and the tab order follows the bar left to
right, then the table.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.domain.enums import ActionStatus, Rag, ValueStatus
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.queries import lists as listing
from ssp_desktop.queries.lists import (
    ActionListRow,
    ActionSort,
    Choice,
    MeasureListRow,
    MeasureSort,
)
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.tables import (
    ID_ROLE,
    NOT_RATED,
    ActionFilterProxy,
    ActionTableModel,
    ListFilterProxy,
    ListModel,
    MeasureFilterProxy,
    MeasureTableModel,
    RagChoice,
)

__all__ = ["ActionListWidget", "MeasureListWidget"]

RowT = TypeVar("RowT", ActionListRow, MeasureListRow)
SortT = TypeVar("SortT", ActionSort, MeasureSort)

# Each list gives starting widths (pixels) for its columns; the long text column
# (stretch_column, width 0 here) takes what is left. Widths are fixed rather than fitted
# to contents, because fitting would read every row of a 5,000-row list and defeat the
# lazy model.


def _fill(combo: QComboBox, any_label: str, items: Sequence[tuple[str, Any]]) -> None:
    """Replace a filter's options, keeping the chosen one if it is still offered."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(any_label, None)
    for label, data in items:
        combo.addItem(label, data)
    index = combo.findData(current) if current is not None else 0
    combo.setCurrentIndex(max(index, 0))
    combo.blockSignals(False)
    if current is not None and index < 0:
        combo.currentIndexChanged.emit(0)  # the chosen option went away: filter no more


class _ListWidget(QWidget, Generic[RowT, SortT]):
    """The parts both lists share; subclasses make the model, proxy and status filter."""

    # (entity, record id) of the row opened with a double-click or Enter.
    record_activated = Signal(str, object)
    # (entity, record id or None) whenever the current row changes.
    record_selected = Signal(str, object)

    noun = "record"
    plural = "records"
    widths: tuple[int, ...] = ()
    stretch_column = 1

    def __init__(
        self,
        document: PlanDocument,
        plan_id: uuid.UUID | None,
        *,
        today: dt.date | None = None,
        quarter: Quarter | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.model: ListModel[RowT, SortT] = self._make_model(today, quarter)
        self.proxy: ListFilterProxy[RowT, SortT] = self._make_proxy()
        self.proxy.setSourceModel(self.model)
        self.entity = self.model.entity
        self._build()
        self.set_plan(plan_id)

    # -- made by subclasses ---------------------------------------------------------

    def _make_model(self, today: dt.date | None, quarter: Quarter | None) -> ListModel[RowT, SortT]:
        raise NotImplementedError

    def _make_proxy(self) -> ListFilterProxy[RowT, SortT]:
        raise NotImplementedError

    def _status_items(self) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def _set_status(self, status: Any) -> None:
        raise NotImplementedError

    def _organisation_choices(self, plan_id: uuid.UUID) -> list[Choice]:
        raise NotImplementedError

    def _organisation_label(self) -> str:
        return "Lead organisati&on:"

    def _overdue_tooltip(self) -> str:
        raise NotImplementedError

    # -- building -------------------------------------------------------------------

    def _build(self) -> None:
        plural = self.plural

        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Find…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName(f"Find {plural}")
        self.search.setAccessibleDescription(
            f"Shows only {plural} whose ref, title or lead contain every word typed"
        )
        self.search.setToolTip(f"Find {plural} by ref, title or lead (Ctrl+F)")
        for button in self.search.findChildren(QToolButton):
            # The line edit's own clear button, which Qt leaves unnamed.
            button.setAccessibleName("Clear the search")

        self.priority_combo = self._combo("priorityFilter", "Filter by priority")
        self.organisation_combo = self._combo("organisationFilter", "Filter by lead organisation")
        self.rag_combo = self._combo("ragFilter", "Filter by RAG")
        self.status_combo = self._combo("statusFilter", "Filter by status")
        self.rag_combo.addItem("Any RAG", None)
        for rag in Rag:
            self.rag_combo.addItem(rag.word, rag)
        self.rag_combo.addItem("Not rated", NOT_RATED)
        self.status_combo.addItem("Any status", None)
        for label, status in self._status_items():
            self.status_combo.addItem(label, status)

        self.overdue_check = QCheckBox("O&verdue only")
        self.overdue_check.setObjectName("overdueFilter")
        self.overdue_check.setAccessibleName(f"Show overdue {plural} only")
        self.overdue_check.setToolTip(self._overdue_tooltip())

        self.clear_button = QPushButton("Clea&r filters")
        self.clear_button.setObjectName("clearFilters")
        self.clear_button.setAccessibleName("Clear filters")
        self.clear_button.setToolTip(f"Show every {self.noun} again")

        self.view = QTableView()
        self.view.setObjectName(f"{self.entity}List")
        self.view.setAccessibleName(plural.capitalize())
        self.view.setAccessibleDescription(
            f"One row per {self.noun}; Enter or double-click opens it"
        )
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTabKeyNavigation(False)  # Tab leaves the table, as elsewhere in the app
        rows = self.view.verticalHeader()
        rows.hide()
        # One height for every row: with resizable rows Qt re-lays out a section per row
        # on each filter change, which doubled a keystroke's cost on 5,000 actions.
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate(self.widths):
            self.view.setColumnWidth(column, width)
        header.setSectionResizeMode(self.stretch_column, QHeaderView.ResizeMode.Stretch)
        # Ref order first, as the plan lists them; the header then sorts through the model.
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)

        self.count_label = QLabel()
        self.count_label.setObjectName("count")
        self.count_label.setAccessibleName(f"Number of {plural} shown")

        bar = QHBoxLayout()
        bar.addWidget(self.search, 2)
        for text, combo in (
            ("Priorit&y:", self.priority_combo),
            (self._organisation_label(), self.organisation_combo),
            ("RA&G:", self.rag_combo),
            ("Stat&us:", self.status_combo),
        ):
            caption = QLabel(text)
            caption.setBuddy(combo)
            bar.addWidget(caption)
            bar.addWidget(combo, 1)
        bar.addWidget(self.overdue_check)
        bar.addWidget(self.clear_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)

        order: list[QWidget] = [
            self.search,
            self.priority_combo,
            self.organisation_combo,
            self.rag_combo,
            self.status_combo,
            self.overdue_check,
            self.clear_button,
            self.view,
        ]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

        self.search.textChanged.connect(self._on_text)
        self.priority_combo.currentIndexChanged.connect(self._on_priority)
        self.organisation_combo.currentIndexChanged.connect(self._on_organisation)
        self.rag_combo.currentIndexChanged.connect(self._on_rag)
        self.status_combo.currentIndexChanged.connect(self._on_status)
        self.overdue_check.toggled.connect(self._on_overdue)
        self.clear_button.clicked.connect(self.clear_filters)
        self.view.activated.connect(self._on_activated)
        selection = self.view.selectionModel()
        selection.currentRowChanged.connect(self._on_current_row)
        # A filter change removes or inserts rows one run at a time: hundreds of signals
        # on a big list. They restart a timer (a C++ slot, so no Python runs per signal)
        # and the count is redrawn once; the filter controls also redraw it at once.
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(0)
        self._count_timer.timeout.connect(self._update_count)
        for signal in (
            self.proxy.modelReset,
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.layoutChanged,
        ):
            signal.connect(self._count_timer.start)
        self.model.modelReset.connect(self._reload_choices)
        self.model.rows_refreshed.connect(self._reload_choices)

    def _combo(self, name: str, accessible: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.setAccessibleName(accessible)
        combo.view().setAccessibleName(f"{accessible}: options")  # the drop-down list
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        return combo

    @staticmethod
    def _chosen_id(combo: QComboBox) -> uuid.UUID | None:
        data = combo.currentData()
        return data if isinstance(data, uuid.UUID) else None

    # -- public ---------------------------------------------------------------------

    @property
    def plan_id(self) -> uuid.UUID | None:
        return self.model.plan_id

    def set_plan(self, plan_id: uuid.UUID | None) -> None:
        """Show another plan's records; filters naming the old plan's records are reset."""
        self.model.set_plan(plan_id)
        self._update_count()

    def focus_search(self) -> None:
        """Put the cursor in the search box with its text selected (the Find command)."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def clear_filters(self) -> None:
        for combo in (
            self.priority_combo,
            self.organisation_combo,
            self.rag_combo,
            self.status_combo,
        ):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.overdue_check.blockSignals(True)
        self.overdue_check.setChecked(False)
        self.overdue_check.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.proxy.clear_filters()
        self._update_count()

    def select_record(self, record_id: uuid.UUID) -> bool:
        """Make the record's row current, if the filters show it."""
        row = self.model.row_of(record_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.selectionModel().setCurrentIndex(index, flags)
        self.view.scrollTo(index)
        return True

    def count_text(self) -> str:
        total = self.model.rowCount()
        noun = self.noun if total == 1 else self.plural
        return f"{self.proxy.rowCount()} of {total} {noun}"

    # -- reactions ------------------------------------------------------------------

    def _on_text(self, text: str) -> None:
        self.proxy.set_text(text)
        self._update_count()

    def _on_priority(self) -> None:
        self.proxy.set_priority(self._chosen_id(self.priority_combo))
        self._update_count()

    def _on_organisation(self) -> None:
        self.proxy.set_lead_organisation(self._chosen_id(self.organisation_combo))
        self._update_count()

    def _on_rag(self) -> None:
        # Item data comes back from Qt as the enum's plain string value.
        data = self.rag_combo.currentData()
        choice: RagChoice = None
        if data == NOT_RATED:
            choice = NOT_RATED
        elif isinstance(data, str) and data:
            choice = Rag(data)
        self.proxy.set_rag(choice)
        self._update_count()

    def _on_status(self) -> None:
        self._set_status(self.status_combo.currentData())
        self._update_count()

    def _on_overdue(self, checked: bool) -> None:
        self.proxy.set_overdue_only(checked)
        self._update_count()

    def _on_activated(self, index: QModelIndex) -> None:
        record_id = index.data(ID_ROLE)
        if isinstance(record_id, uuid.UUID):
            self.record_activated.emit(self.entity, record_id)

    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        record_id = current.data(ID_ROLE) if current.isValid() else None
        self.record_selected.emit(self.entity, record_id)

    def _update_count(self) -> None:
        self._count_timer.stop()
        self.count_label.setText(self.count_text())

    def _reload_choices(self) -> None:
        plan_id = self.model.plan_id
        priorities: list[Choice] = []
        organisations: list[Choice] = []
        if plan_id is not None:
            with self.document.read() as session:
                priorities = listing.priority_choices(session, plan_id)
            organisations = self._organisation_choices(plan_id)
        _fill(self.priority_combo, "All priorities", [(c.label, c.id) for c in priorities])
        _fill(
            self.organisation_combo, "All organisations", [(c.label, c.id) for c in organisations]
        )
        self.overdue_check.setToolTip(self._overdue_tooltip())
        self._update_count()


class ActionListWidget(_ListWidget[ActionListRow, ActionSort]):
    """The plan's actions with filters: the strategy team's tracker."""

    noun = "action"
    plural = "actions"
    # Ref, Title, Priority, Area, Lead org, Lead, Start, Due, Status, RAG, Last update,
    # Progress, Flags: together they leave the title a fair share of a 1366-pixel screen
    # with no sideways scrolling (the lead organisation shows its initials).
    widths = (70, 0, 60, 110, 70, 110, 85, 85, 90, 75, 85, 150, 90)

    model: ActionTableModel
    proxy: ActionFilterProxy

    def _make_model(self, today: dt.date | None, quarter: Quarter | None) -> ActionTableModel:
        return ActionTableModel(self.document, self, today=today, quarter=quarter)

    def _make_proxy(self) -> ActionFilterProxy:
        return ActionFilterProxy(self)

    def _status_items(self) -> list[tuple[str, Any]]:
        return [(s.label, s) for s in ActionStatus]

    def _set_status(self, status: Any) -> None:
        self.proxy.set_status(ActionStatus(status) if isinstance(status, str) else None)

    def _organisation_choices(self, plan_id: uuid.UUID) -> list[Choice]:
        with self.document.read() as session:
            return listing.lead_organisation_choices(session, plan_id)

    def _overdue_tooltip(self) -> str:
        return (
            "Only actions past their due date and not complete, as the board pack for "
            f"{self.model.quarter} flags them"
        )


class MeasureListWidget(_ListWidget[MeasureListRow, MeasureSort]):
    """The plan's measures at their latest value, with RAG and direction of travel."""

    noun = "measure"
    plural = "measures"
    # Ref, Measure, Priority, Unit, Polarity, Owner, Period, Value, Target, RAG,
    # Direction, Comparator: the measure's name keeps the room left on a 1366-pixel
    # screen (about 300 pixels) rather than the 100 it had.
    widths = (70, 0, 60, 80, 110, 130, 90, 80, 80, 75, 110, 130)

    model: MeasureTableModel
    proxy: MeasureFilterProxy

    def _make_model(self, today: dt.date | None, quarter: Quarter | None) -> MeasureTableModel:
        return MeasureTableModel(self.document, self, today=today, quarter=quarter)

    def _make_proxy(self) -> MeasureFilterProxy:
        return MeasureFilterProxy(self)

    def _status_items(self) -> list[tuple[str, Any]]:
        return [(s.value.capitalize(), s) for s in ValueStatus]

    def _set_status(self, status: Any) -> None:
        self.proxy.set_status(ValueStatus(status) if isinstance(status, str) else None)

    def _organisation_choices(self, plan_id: uuid.UUID) -> list[Choice]:
        with self.document.read() as session:
            return listing.owner_organisation_choices(session, plan_id)

    def _organisation_label(self) -> str:
        return "Owner's organisati&on:"

    def _overdue_tooltip(self) -> str:
        return (
            f"Only measures with no value yet for the period that {self.model.quarter} reports on"
        )
