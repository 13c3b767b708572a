"""The master copy's "To review" view: accept, return or correct what the leads submitted.

The strategy team works down a list of the submitted action updates and measure values
of the plan, grouped by strategic priority (``queries.review``). The selected item shows
the lead's words (or figure) beside the one before it, and three decisions, all from
the keyboard:

* **Accept** (Ctrl+Enter, or the button): the board pack prints it from now on;
* **Return...** with a reason the lead reads in their next bundle;
* **Edit then accept...**: correct the RAG and narrative (or the figure and note) and
  accept the result; an update's original words stay in its history.

Each decision is one undoable step through :meth:`PlanDocument.edit`, which calls
``services.review``; the list re-reads itself when the store commits, and the
selection moves on to the next item. Only the master copy shows this view (the
services refuse a lead copy anyway).
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import Rag
from ssp_desktop.domain.errors import ChangedSinceReadError, DomainError
from ssp_desktop.domain.events import Committed
from ssp_desktop.domain.records import ActionUpdate, MeasureValue
from ssp_desktop.domain.rules import submission_problem
from ssp_desktop.domain.validation import ValidationError, format_number
from ssp_desktop.queries.quarter_status import parse_value
from ssp_desktop.queries.review import (
    ReviewGroup,
    ReviewItem,
    ReviewKind,
    ReviewQueue,
    UpdateText,
    ValueText,
    review_queue,
)
from ssp_desktop.services import review
from ssp_desktop.services.core import check_version
from ssp_desktop.services.review import REASON_LIMIT
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.review_tab import TAB_TITLE, may_change_queue, tab_title
from ssp_desktop.ui.style import (
    NOT_RATED,
    RAG_BACKGROUND,
    RAG_FOREGROUND,
    error_stylesheet,
    rag_label,
)

__all__ = [
    "TAB_TITLE",
    "EditThenAcceptDialog",
    "ReturnDialog",
    "ReviewModel",
    "ReviewView",
    "tab_title",
]

Index = QModelIndex | QPersistentModelIndex
Role = Qt.ItemDataRole

ID_ROLE: Final = Qt.ItemDataRole.UserRole + 1
COLUMNS: Final = ("Item", "Kind", "Quarter", "RAG", "Figure", "Lead", "Submitted")
_RAG_COLUMN: Final = COLUMNS.index("RAG")

NOTHING: Final = "Nothing is waiting for review: every submitted update and value has been decided."


def _when(item: ReviewItem) -> str:
    if item.submitted_at is not None:
        local = item.submitted_at.astimezone()
        return f"{local.day} {local:%b %Y %H:%M}"
    if item.written_on is not None:
        return f"{item.written_on.day} {item.written_on:%b %Y}"
    return ""


def _lead(item: ReviewItem) -> str:
    return ", ".join(p for p in (item.lead, item.organisation) if p) or "No lead named"


def _figure_text(item: ReviewItem) -> str:
    if item.value is None:
        return ""
    return item.figure(item.value.value)


def _rag_text(item: ReviewItem) -> str:
    if item.kind is ReviewKind.VALUE and item.rag is None:
        return "No RAG"  # a tracker, or no target for the year: nothing to judge against
    return rag_label(item.rag)


# --------------------------------------------------------------------------- the model


class ReviewModel(QAbstractItemModel):
    """Priorities (top level) with their items awaiting review (children).

    Holds the plain :class:`ReviewQueue` read by :meth:`reload`; a group row's internal
    id is 0 and an item's is its group's row + 1, so no Python object is pointed to.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._groups: tuple[ReviewGroup, ...] = ()

    def set_queue(self, queue: ReviewQueue | None) -> None:
        self.beginResetModel()
        self._groups = queue.groups if queue is not None else ()
        self.endResetModel()

    # -- lookups --------------------------------------------------------------------

    @property
    def item_ids(self) -> list[uuid.UUID]:
        """Every item's record id, in the order shown."""
        return [item.id for group in self._groups for item in group.items]

    def item(self, index: Index) -> ReviewItem | None:
        if not index.isValid() or index.internalId() == 0:
            return None
        group = self._groups[index.internalId() - 1]
        return group.items[index.row()] if index.row() < len(group.items) else None

    def index_of(self, record_id: uuid.UUID) -> QModelIndex:
        for g, group in enumerate(self._groups):
            for r, item in enumerate(group.items):
                if item.id == record_id:
                    return self.createIndex(r, 0, g + 1)
        return QModelIndex()

    # -- QAbstractItemModel ---------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._groups[parent.row()].items)
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.internalId() == 0:
            return Qt.ItemFlag.ItemIsEnabled
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: Index, role: int = Role.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self._group_data(self._groups[index.row()], index.column(), role)
        item = self.item(index)
        if item is None:
            return None
        if role == ID_ROLE:
            return item.id
        column = index.column()
        if role == Role.DisplayRole:
            return self._text(item, column)
        if role == Role.ToolTipRole and column == 0:
            return item.title
        if role == Role.AccessibleTextRole:
            text = self._text(item, column)
            return f"{COLUMNS[column]}: {text}" if text else f"{COLUMNS[column]}: none"
        if column == _RAG_COLUMN and item.rag is not None:
            if role == Role.BackgroundRole:
                return QBrush(RAG_BACKGROUND[item.rag])
            if role == Role.ForegroundRole:
                return QBrush(RAG_FOREGROUND[item.rag])
        return None

    def _group_data(self, group: ReviewGroup, column: int, role: int) -> Any:
        if column != 0:
            return None
        if role in (Role.DisplayRole, Role.AccessibleTextRole):
            n = len(group.items)
            return f"{group.heading} ({n} item{'s' if n != 1 else ''})"
        if role == Role.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        return None

    @staticmethod
    def _text(item: ReviewItem, column: int) -> str:
        name = COLUMNS[column]
        if name == "Item":
            return f"{item.ref} {item.title}"
        if name == "Kind":
            return item.kind.label
        if name == "Quarter":
            return item.quarter.label
        if name == "RAG":
            return _rag_text(item)
        if name == "Figure":
            return _figure_text(item)
        if name == "Lead":
            return _lead(item)
        return _when(item)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Role.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Role.DisplayRole and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None


# --------------------------------------------------------------------------- detail


def _rag_html(rag: Rag | None) -> str:
    if rag is None:
        return f"<b>{NOT_RATED}</b>"
    bg, fg = RAG_BACKGROUND[rag].name(), RAG_FOREGROUND[rag].name()
    return (
        f'<span style="background-color:{bg}; color:{fg}; font-weight:bold;">'
        f"&nbsp;{html.escape(rag_label(rag))}&nbsp;</span>"
    )


def _paragraphs(text: str) -> str:
    paras = [p.strip() for p in text.split("\n") if p.strip()]
    if not paras:
        return "<p><i>No narrative.</i></p>"
    return "".join(f"<p>{html.escape(p)}</p>" for p in paras)


def update_html(update: UpdateText, heading: str) -> str:
    """An update as the detail pane shows it: heading, state, RAG (word and symbol), text."""
    return (
        f"<h3>{html.escape(heading)}</h3>"
        f"<p>{html.escape(update.state.label)} &middot; written "
        f"{update.written_on.day} {update.written_on:%b %Y}</p>"
        f"<p>RAG: {_rag_html(update.rag)}</p>" + _paragraphs(update.narrative)
    )


def value_html(item: ReviewItem, value: ValueText, heading: str, *, current: bool) -> str:
    """A measure value as the detail pane shows it, a row per fact so the two panes line
    up; the current one with the year's target and the RAG its figure earns."""
    e = html.escape
    rows: list[tuple[str, str]] = [("Value", f"<b>{e(item.figure(value.value))}</b>")]
    if current:
        target = item.figure(item.target) if item.target is not None else "No target"
        rows.append((f"Target {e(item.quarter.fy.label)}", e(target)))
        if item.assessment is not None:
            rag = _rag_html(item.assessment.rag) if item.assessment.rag else "<b>No RAG</b>"
            rows.append(("RAG", f"{rag} &mdash; {e(item.assessment.reason)}"))
    rows += [(e(name), e(item.figure(figure))) for name, figure in value.comparators]
    rows.append(("Status", e(value.status.value.capitalize())))
    rows.append(("Unit", e(f"rate {item.rate_basis}" if item.rate_basis else item.unit.label)))
    note = "<br>".join(e(line) for line in value.note.strip().splitlines()) or "<i>No note.</i>"
    rows.append(("Note", note))
    table = "".join(
        f'<tr><td style="padding-right:12px;"><b>{label}:</b></td><td>{text}</td></tr>'
        for label, text in rows
    )
    return (
        f"<h3>{e(heading)}</h3><p>{e(value.state.label)}</p>"
        f'<table cellspacing="0" cellpadding="2">{table}</table>'
    )


def _text_pane(name: str) -> QTextBrowser:
    pane = QTextBrowser()
    pane.setAccessibleName(name)
    pane.setOpenLinks(False)
    pane.setTabChangesFocus(True)
    return pane


# --------------------------------------------------------------------------- dialogs


class ReturnDialog(QDialog):
    """Asks why an item goes back to its lead; OK stays disabled until there is a reason."""

    def __init__(self, item: ReviewItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        what = f"{item.kind.label.lower()} {item.ref} for {item.quarter.label}"
        self.setWindowTitle(f"Return {what}")
        self.reason = QLineEdit()
        self.reason.setObjectName("returnReason")
        self.reason.setAccessibleName("Reason for returning")
        self.reason.setMaxLength(REASON_LIMIT)
        self.reason.setPlaceholderText("e.g. Say which posts were filled and when")
        self.reason.setMinimumWidth(480)
        label = QLabel(f"Why does the {what} go back to {item.lead or 'its lead'}? They read this.")
        label.setWordWrap(True)
        caption = QLabel("&Reason (required):")
        caption.setBuddy(self.reason)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Return to lead")
        self.ok.setAccessibleName("Return to lead")
        self.ok.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.reason.textChanged.connect(lambda text: self.ok.setEnabled(bool(text.strip())))
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(caption)
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)

    def _accept(self) -> None:
        # Enter in the line edit presses the default button even while it is disabled.
        if self.reason.text().strip():
            self.accept()

    def text(self) -> str:
        return self.reason.text().strip()


class EditThenAcceptDialog(QDialog):
    """The lead's update (RAG + narrative) or value (figure + note), prefilled, to correct
    before accepting. OK checks what was typed and says what is wrong beside it."""

    def __init__(self, item: ReviewItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.setWindowTitle(f"Edit then accept {item.ref} for {item.quarter.label}")
        self.fields: dict[str, Any] = {}
        form = QFormLayout()
        self.rag_combo: QComboBox | None = None
        self.narrative: QPlainTextEdit | None = None
        self.value_edit: QLineEdit | None = None
        self.note: QPlainTextEdit | None = None
        if item.update is not None:
            self.rag_combo = QComboBox()
            self.rag_combo.setAccessibleName("RAG rating")
            self.rag_combo.addItem(NOT_RATED, "")
            for rag in (Rag.RED, Rag.AMBER, Rag.GREEN):
                self.rag_combo.addItem(rag_label(rag), rag.value)
            current = item.update.rag.value if item.update.rag is not None else ""
            self.rag_combo.setCurrentIndex(self.rag_combo.findData(current))
            self.narrative = QPlainTextEdit(item.update.narrative)
            self.narrative.setAccessibleName("Progress narrative")
            self.narrative.setTabChangesFocus(True)
            self.narrative.setMinimumSize(520, 160)
            form.addRow("&RAG rating:", self.rag_combo)
            form.addRow("&Narrative:", self.narrative)
        else:
            assert item.value is not None
            figure = item.value.value
            self.value_edit = QLineEdit("" if figure is None else format_number(figure))
            self.value_edit.setAccessibleName(f"Value ({item.unit.label})")
            self.note = QPlainTextEdit(item.value.note)
            self.note.setAccessibleName("Note")
            self.note.setTabChangesFocus(True)
            self.note.setMinimumSize(420, 90)
            form.addRow(f"&Value ({item.unit.label}):", self.value_edit)
            form.addRow("&Note:", self.note)
        self.error = QLabel()
        self.error.setAccessibleName("Error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Accept as edited")
        ok.setAccessibleName("Accept as edited")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        about = QLabel(
            f"{item.ref} {item.title} \u2014 {item.kind.label.lower()} for "
            f"{item.quarter.label} from {_lead(item)}"
        )
        about.setWordWrap(True)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _check(self) -> None:
        try:
            self.fields = self._read()
        except ValidationError as exc:
            self.error.setText(f"Error: {exc}")
            self.error.setStyleSheet(error_stylesheet(self.error))
            self.error.show()
            self._focus_problem()
            return
        self.accept()

    def _focus_problem(self) -> None:
        # Put the cursor where the fix is typed, so the keyboard user need not hunt.
        if self.value_edit is not None:
            self.value_edit.setFocus()
            self.value_edit.selectAll()
        elif self.rag_combo is not None and not self.rag_combo.currentData():
            self.rag_combo.setFocus()
        elif self.narrative is not None:
            self.narrative.setFocus()

    def _read(self) -> dict[str, Any]:
        if self.rag_combo is not None and self.narrative is not None:
            data = self.rag_combo.currentData()
            rag = Rag(data) if data else None
            narrative = self.narrative.toPlainText().strip()
            # An accepted update is printed in the pack: it needs what a submitted one does.
            if submission_problem(rag, narrative):
                needs = (
                    ("choose a RAG rating", rag is None),
                    ("write a progress narrative", not narrative),
                )
                lacks = [words for words, missing in needs if missing]
                raise ValidationError(f"To accept the update, {' and '.join(lacks)}.")
            return {"rag": rag, "narrative": narrative}
        assert self.value_edit is not None and self.note is not None
        value = parse_value(self.value_edit.text(), self.item.unit)
        note = self.note.toPlainText().strip()
        if value is None and not note:
            raise ValidationError("Enter a value, or a note saying why there is none.")
        return {"value": value, "note": note}


# --------------------------------------------------------------------------- the view


class ReviewView(QWidget):
    """The "To review" tab: the list by priority, the selected item beside the previous
    quarter's, and Accept / Return / Edit then accept."""

    # (entity, record id): open the action or measure in the editor (Enter on the list).
    record_activated = Signal(str, object)
    # How many items wait; the workspace shows it in the tab's title.
    count_changed = Signal(int)
    # The list was re-read from the store.
    refreshed = Signal()

    def __init__(
        self, document: PlanDocument, plan_id: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reviewView")
        self._document = document
        self._plan_id = plan_id
        self._queue: ReviewQueue | None = None
        self._deciding = False

        self.model = ReviewModel(self)
        self.tree = QTreeView()
        self.tree.setObjectName("reviewList")
        self.tree.setAccessibleName("Updates and values to review")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # A lead's role title can be long; it is cut (in full in the detail) so the
        # action's title keeps the room.
        lead = COLUMNS.index("Lead")
        header.setSectionResizeMode(lead, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(lead, 260)
        self.tree.selectionModel().currentChanged.connect(self._on_current)
        self.tree.activated.connect(self._on_activated)

        self.summary = QLabel()
        self.summary.setObjectName("reviewSummary")
        self.summary.setAccessibleName("Review summary")
        self.summary.setWordWrap(True)

        self.heading = QLabel()
        self.heading.setObjectName("reviewHeading")
        self.heading.setAccessibleName("Selected item")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.current_pane = _text_pane("Submitted by the lead")
        self.current_pane.setObjectName("reviewCurrent")
        self.previous_pane = _text_pane("Previous quarter, for comparison")
        self.previous_pane.setObjectName("reviewPrevious")
        panes = QSplitter(Qt.Orientation.Horizontal)
        panes.setObjectName("reviewPanes")
        panes.addWidget(self.current_pane)
        panes.addWidget(self.previous_pane)
        panes.setChildrenCollapsible(False)

        self.accept_action = QAction("Accept", self)
        self.accept_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.accept_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.accept_action.triggered.connect(self.accept_current)
        self.return_action = QAction("Return...", self)
        self.return_action.triggered.connect(self.return_current)
        self.edit_action = QAction("Edit then accept...", self)
        self.edit_action.triggered.connect(self.edit_current)
        for action in (self.accept_action, self.return_action, self.edit_action):
            self.addAction(action)

        self.accept_button = self._button(
            "A&ccept",
            "Accept",
            "Accept it: the board pack prints it (Ctrl+Enter)",
            self.accept_action,
        )
        self.return_button = self._button(
            "Re&turn\u2026",
            "Return to lead with a reason",
            "Send it back to its lead with a reason they read in their next bundle",
            self.return_action,
        )
        self.edit_button = self._button(
            "Ed&it then accept\u2026",
            "Edit then accept",
            "Correct the RAG and narrative (or the figure and note), then accept",
            self.edit_action,
        )
        self.message = QLabel()
        self.message.setObjectName("reviewMessage")
        self.message.setAccessibleName("Message")
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.return_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.message, 1)

        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.heading)
        detail_layout.addWidget(panes, 1)
        detail_layout.addLayout(buttons)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("reviewSplitter")
        split.addWidget(self.tree)
        split.addWidget(detail)
        # The list is where the reviewer works; the panes scroll when a narrative is long.
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # one re-read per burst of commits
        self._timer.timeout.connect(self.refresh)
        document.committed.connect(self._on_committed)
        document.reloaded.connect(self._timer.start)
        document.failed.connect(self._on_failed)
        self.refresh()

    def _button(self, text: str, name: str, tip: str, action: QAction) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        button.clicked.connect(action.trigger)
        action.changed.connect(lambda: button.setEnabled(action.isEnabled()))
        return button

    # -- reading --------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self._queue.count if self._queue is not None else 0

    def current_item(self) -> ReviewItem | None:
        return self.model.item(self.tree.currentIndex())

    def _on_committed(self, committed: Committed) -> None:
        if may_change_queue(committed):
            self._timer.start()

    def refresh(self) -> None:
        """Re-read the queue; keep the selected item, or move to the one after it."""
        self._timer.stop()
        before = self.model.item_ids
        selected = self.current_item()
        with self._document.read() as session:
            self._queue = review_queue(session, self._plan_id)
        self.model.set_queue(self._queue)
        self.tree.expandAll()
        self._select(self._successor(before, selected.id if selected else None))
        count = self.count
        self.summary.setText(
            NOTHING
            if not count
            else f"{count} waiting for review. Select one and accept it (Ctrl+Enter), "
            "return it to its lead with a reason, or edit it then accept it."
        )
        self.count_changed.emit(count)
        self.refreshed.emit()

    def _successor(self, before: list[uuid.UUID], selected: uuid.UUID | None) -> uuid.UUID | None:
        now = self.model.item_ids
        if not now:
            return None
        if selected is None or selected in now:
            return selected if selected is not None else now[0]
        # The selected item was decided: the next one that is still waiting, else the
        # one before it, so the reviewer keeps their place in the list.
        position = before.index(selected) if selected in before else 0
        for record_id in before[position + 1 :]:
            if record_id in now:
                return record_id
        for record_id in reversed(before[:position]):
            if record_id in now:
                return record_id
        return now[0]

    def _select(self, record_id: uuid.UUID | None) -> None:
        index = self.model.index_of(record_id) if record_id is not None else QModelIndex()
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
        else:
            self.tree.setCurrentIndex(QModelIndex())
        self._show(self.current_item())

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show(self.model.item(current))
        if not self._deciding:
            self.message.clear()

    def _on_activated(self, index: QModelIndex) -> None:
        item = self.model.item(index)
        if item is not None:
            entity = "action" if item.kind is ReviewKind.UPDATE else "measure"
            self.record_activated.emit(entity, item.subject_id)

    def _show(self, item: ReviewItem | None) -> None:
        for action in (self.accept_action, self.return_action, self.edit_action):
            action.setEnabled(item is not None)
        if item is None:
            self.heading.setText(
                "Select an item in the list." if self.count else "Nothing to review."
            )
            self.current_pane.clear()
            self.previous_pane.clear()
            return
        e = html.escape
        when = _when(item)
        submitted = f"submitted {e(when)}" if when else "submitted"
        if item.submitted_by:
            submitted += f" by {e(item.submitted_by)}"
        self.heading.setText(
            f"<b>{e(item.ref)} {e(item.title)}</b><br>"
            f"{e(item.kind.label)} for {e(item.quarter.label)} &middot; {e(_lead(item))}"
            f" &middot; {submitted}"
        )
        if item.update is not None:
            self.current_pane.setHtml(
                update_html(item.update, f"Submitted for {item.quarter.label}")
            )
            previous = item.previous_update
            self.previous_pane.setHtml(
                update_html(previous, f"Previous: {previous.quarter.label}")
                if previous is not None
                else "<h3>Previous</h3><p>No earlier update for this action.</p>"
            )
        else:
            assert item.value is not None
            self.current_pane.setHtml(
                value_html(item, item.value, f"Submitted for {item.quarter.label}", current=True)
            )
            before = item.previous_value
            self.previous_pane.setHtml(
                value_html(item, before, f"Previous: {before.period.label}", current=False)
                if before is not None
                else "<h3>Previous</h3><p>No earlier value for this measure.</p>"
            )

    # -- deciding -------------------------------------------------------------------

    def _on_failed(self, _what: str, reason: str) -> None:
        if self._deciding:
            self.message.setText(f"Error: {reason}")
            self.message.setStyleSheet(error_stylesheet(self.message))

    def _decide(
        self,
        item: ReviewItem,
        text: str,
        done: str,
        work: Callable[[Transaction, review.Reviewed], object],
    ) -> bool:
        """Run ``work`` on the item's record as one undoable step named ``text``; say
        ``done`` (or why it was refused) beside the buttons."""
        record_id = item.id

        def run(tx: Transaction) -> None:
            record: review.Reviewed | None = (
                tx.get(ActionUpdate, record_id)
                if item.kind is ReviewKind.UPDATE
                else tx.get(MeasureValue, record_id)
            )
            if record is None:
                raise DomainError(f"The {item.kind.label.lower()} {item.ref} is no longer here.")
            # Decide only on what was read: a lead's resubmission or another officer's
            # decision since is refused, naming who (the list then shows it as it is).
            check_version(tx, record, item.version, error=ChangedSinceReadError)
            work(tx, record)

        self._deciding = True
        self.message.clear()
        self.message.setStyleSheet("")
        try:
            ok = self._document.edit(text, run)
            if ok:
                self.refresh()  # now, so the next item is selected before we say so
                self.message.setText(f"{done} Edit > Undo takes it back.")
            else:
                self.refresh()  # refused: show the item as it now is
        finally:
            self._deciding = False
        self.tree.setFocus(Qt.FocusReason.OtherFocusReason)
        return ok

    def _what(self, item: ReviewItem) -> str:
        return f"{item.kind.label.lower()} {item.ref} for {item.quarter.label}"

    def accept_current(self) -> bool:
        """Accept the selected item. False if nothing was written."""
        item = self.current_item()
        if item is None:
            return False
        what = self._what(item)
        return self._decide(
            item,
            f"Accept {what}",
            f"Accepted the {what}.",
            lambda tx, record: review.accept(tx, record),
        )

    def return_current(self) -> bool:
        """Ask for a reason and return the selected item to its lead."""
        item = self.current_item()
        if item is None:
            return False
        dialog = ReturnDialog(item, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        reason, what = dialog.text(), self._what(item)
        return self._decide(
            item,
            f"Return {what}",
            f"Returned the {what} to its lead with your reason.",
            lambda tx, record: review.return_to_lead(tx, record, reason),
        )

    def edit_current(self) -> bool:
        """Correct the selected item in a dialog, then accept it."""
        item = self.current_item()
        if item is None:
            return False
        dialog = EditThenAcceptDialog(item, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        fields, what = dialog.fields, self._what(item)
        return self._decide(
            item,
            f"Edit and accept {what}",
            f"Accepted the {what} as edited.",
            lambda tx, record: review.edit_then_accept(tx, record, **fields),
        )
