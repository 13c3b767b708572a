"""The theme lead's "My quarter" view: my actions and my measures for one quarter.

A lead picks their role and the quarter (by default the one just ended, which is the
one being reported), sees how much is done ("3 of 5 actions updated ...") and what is
still missing, and for each action writes a RAG and progress narrative (saved as a
draft, or marked submitted) and for each measure enters the quarter's value.

Every save is one undoable edit through :class:`PlanDocument`; the view never writes
to the store itself. It re-reads what it shows (via ``queries.quarter_status``) when
``document.changed`` names one of its records, so an undo elsewhere shows here too.
Typing not yet saved in one card survives saves and refreshes of the others, and a
reload (a bundle or spreadsheet import, a large undo) that rebuilds the view: the
typing is carried over to the rebuilt cards (:meth:`MyQuarterView.typing`,
:meth:`MyQuarterView.restore_typing`). ``typing_changed`` tells the window whether
any typing is unsaved, so its status bar never says "All changes saved" over it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import Polarity, Rag, UpdateState, ValueStatus
from ssp_desktop.domain.errors import BundleError, DomainError, EditConflictError, FieldConflict
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    Measure,
    MeasureValue,
    Person,
    Plan,
)
from ssp_desktop.domain.rules import fmt_number
from ssp_desktop.domain.validation import ValidationError, format_number, text_limit
from ssp_desktop.queries.quarter_status import (
    ActionItem,
    MeasureItem,
    PersonChoice,
    QuarterStatus,
    parse_value,
    people_with_work,
    plan_quarters,
    quarter_status,
    reporting_quarter,
    submission_problem,
)
from ssp_desktop.services import review
from ssp_desktop.sync.state import lead_copy
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms.editors import cap_length
from ssp_desktop.ui.forms.record_form import ConflictPanel
from ssp_desktop.ui.style import NOT_RATED, error_stylesheet, rag_label, rag_stylesheet

__all__ = ["MyQuarterView"]

ERROR_PREFIX = "Error: "
MISSING = "Missing"
# GOV.UK error colour; the message always starts with "Error:" so colour is not the cue.
# Records whose change can move work onto or off a person's list, whoever they are.
_RELOAD_ENTITIES = frozenset({"action", "measure", "person", "plan"})


def long_date(d: dt.date) -> str:
    """The way council papers write a date: "31 March 2025"."""
    return f"{d.day} {d:%B %Y}"


def _bold(label: QLabel) -> QLabel:
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def _heading(text: str) -> QLabel:
    label = _bold(QLabel(text))
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.25)
    label.setFont(font)
    return label


def _link_button(text: str, accessible: str) -> QPushButton:
    # A flat, underlined button rather than a rich-text link: it takes Tab focus and
    # shows a focus frame in every style, and screen readers announce it as a button.
    button = QPushButton(text)
    button.setFlat(True)
    font = button.font()
    font.setUnderline(True)
    button.setFont(font)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setAccessibleName(accessible)
    button.setToolTip("Open in the full editor")
    button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return button


def _message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName("Message")
    # Kept in the layout while empty, so the buttons beside it keep their size.
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return label


class _Card(QFrame):
    """One action or measure: a framed block with an inline message line."""

    edited = Signal()  # the user typed or chose something in the card's editors
    item: Any  # the ActionItem or MeasureItem shown

    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.message = _message_label()
        # Another writer saved this quarter's update (or value) after the card read it:
        # the panel offers Keep theirs / Write mine; ``retry`` writes mine again.
        self.conflict_panel = ConflictPanel(self)
        self.retry: Callable[[FieldConflict], bool] | None = None

    def load(self, item: Any, *, force: bool = False) -> None:
        raise NotImplementedError

    def is_dirty(self) -> bool:
        raise NotImplementedError

    def typed(self) -> dict[str, Any]:
        """What the editors hold, to put back with :meth:`put_typed`."""
        raise NotImplementedError

    def put_typed(self, typed: dict[str, Any]) -> None:
        raise NotImplementedError

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(ERROR_PREFIX + text if error else text)
        self.message.setStyleSheet(error_stylesheet(self.message) if error else "")
        self.message.setAccessibleName("Error" if error else "Message")

    def clear_message(self) -> None:
        self.message.clear()
        self.message.setAccessibleName("Message")

    def focus_chain(self) -> list[QWidget]:
        raise NotImplementedError


class ActionCard(_Card):
    """An action with its update for the quarter and an editor for it."""

    def __init__(self, view: MyQuarterView, item: ActionItem) -> None:
        super().__init__()
        self.setObjectName(f"actionCard_{item.ref}")
        self.item = item
        ref = item.ref
        self.ref_button = _link_button(ref, f"Open action {ref} in the editor")
        self.ref_button.clicked.connect(lambda: view.record_activated.emit("action", self.item.id))
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self.state_label = _bold(QLabel())
        self.details_label = QLabel()
        self.details_label.setWordWrap(True)
        self.review_label = _review_label(f"Why the update for {item.ref} was returned")

        self.rag_combo = QComboBox()
        self.rag_combo.setAccessibleName(f"RAG rating for {ref}")
        self.rag_combo.addItem(NOT_RATED, "")
        for rag in (Rag.RED, Rag.AMBER, Rag.GREEN):
            self.rag_combo.addItem(rag_label(rag), rag.value)
        self.rag_chip = QLabel()
        self.rag_chip.setAccessibleName(f"Chosen RAG for {ref}")
        self.rag_combo.currentIndexChanged.connect(self._show_chip)
        rag_caption = QLabel("RAG rating")
        rag_caption.setBuddy(self.rag_combo)

        self.narrative = QPlainTextEdit()
        self.narrative.setAccessibleName(f"Progress narrative for {ref}")
        self.narrative.setPlaceholderText("What was done this quarter, and what comes next")
        # Tab must move on, not type a tab character, or keyboard users are trapped.
        self.narrative.setTabChangesFocus(True)
        cap_length(self.narrative, text_limit(ActionUpdate.__table__.c.narrative) or 0)
        self.narrative.textChanged.connect(self.edited)
        self.rag_combo.currentIndexChanged.connect(self.edited)
        # About five lines: enough for a quarter's narrative without one card filling
        # the screen; it scrolls beyond that.
        lines = self.narrative.fontMetrics().lineSpacing() * 5
        self.narrative.setFixedHeight(lines + 2 * self.narrative.frameWidth() + 8)
        narrative_caption = QLabel("Progress narrative")
        narrative_caption.setBuddy(self.narrative)

        self.save_button = QPushButton("Save update")
        self.save_button.setAccessibleName(f"Save update for {ref}")
        self.save_button.clicked.connect(lambda: view.save_update(self, UpdateState.DRAFT))
        self.submit_button = QPushButton("Mark submitted")
        self.submit_button.setAccessibleName(f"Mark update for {ref} submitted")
        self.submit_button.clicked.connect(lambda: view.save_update(self, UpdateState.SUBMITTED))

        top = QHBoxLayout()
        top.addWidget(self.ref_button)
        top.addWidget(self.title_label, 1)
        top.addWidget(self.state_label)
        rag_row = QHBoxLayout()
        rag_row.addWidget(rag_caption)
        rag_row.addWidget(self.rag_combo)
        rag_row.addWidget(self.rag_chip)
        rag_row.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.submit_button)
        buttons.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details_label)
        layout.addWidget(self.review_label)
        layout.addLayout(rag_row)
        layout.addWidget(narrative_caption)
        layout.addWidget(self.narrative)
        layout.addLayout(buttons)
        layout.addWidget(self.conflict_panel)
        self.load(item, force=True)

    # -- showing ------------------------------------------------------------------------

    def load(self, item: ActionItem, *, force: bool = False) -> None:
        """Show ``item``. The editors are reset only when the stored update changed (or
        nothing was typed), so a refresh never throws away unsaved typing."""
        reset = force or item.update != self.item.update or not self.is_dirty()
        self.item = item
        self.title_label.setText(item.title)
        update = item.update
        self.state_label.setText(
            f"Update: {MISSING}" if update is None else f"Update: {update.state.value.capitalize()}"
        )
        self.state_label.setAccessibleName(f"Update state for {item.ref}")
        due = f"Due {long_date(item.due_date)}" if item.due_date else "No due date"
        flags = f"Flags: {item.flag_words}" if item.flags else "No flags"
        lead = f"Lead: {item.lead} \u00b7 " if item.lead else ""
        self.details_label.setText(f"{lead}{due} \u00b7 {item.status.label} \u00b7 {flags}")
        _show_review(
            self.review_label,
            update.state if update else None,
            update.review_note if update else "",
            "Change the update and mark it submitted again.",
        )
        if reset:
            self.set_editors(update.rag if update else None, update.narrative if update else "")
            if not force:
                self.clear_message()

    def set_editors(self, rag: Rag | None, narrative: str) -> None:
        self.rag_combo.setCurrentIndex(self.rag_combo.findData(rag.value if rag else ""))
        self.narrative.setPlainText(narrative)
        self._show_chip()

    def _show_chip(self) -> None:
        rag = self.chosen_rag()
        self.rag_chip.setText(rag_label(rag))
        self.rag_chip.setStyleSheet(rag_stylesheet(rag))

    # -- reading the editors ------------------------------------------------------------

    def chosen_rag(self) -> Rag | None:
        data = self.rag_combo.currentData()
        return Rag(data) if data else None

    def typed_narrative(self) -> str:
        return self.narrative.toPlainText().strip()

    def typed(self) -> dict[str, Any]:
        return {"rag": self.rag_combo.currentData(), "narrative": self.narrative.toPlainText()}

    def put_typed(self, typed: dict[str, Any]) -> None:
        self.rag_combo.setCurrentIndex(max(0, self.rag_combo.findData(typed["rag"])))
        self.narrative.setPlainText(typed["narrative"])
        self._show_chip()

    def is_dirty(self) -> bool:
        update = self.item.update
        saved_rag, saved_text = (update.rag, update.narrative) if update else (None, "")
        return (self.chosen_rag(), self.typed_narrative()) != (saved_rag, saved_text.strip())

    def focus_chain(self) -> list[QWidget]:
        return [
            self.ref_button,
            self.rag_combo,
            self.narrative,
            self.save_button,
            self.submit_button,
            self.conflict_panel.theirs_button,
            self.conflict_panel.mine_button,
        ]


class MeasureCard(_Card):
    """A measure with its value for the quarter and an editor for it."""

    def __init__(self, view: MyQuarterView, item: MeasureItem) -> None:
        super().__init__()
        self.setObjectName(f"measureCard_{item.ref}")
        self.item = item
        ref = item.ref
        self.ref_button = _link_button(ref, f"Open measure {ref} in the editor")
        self.ref_button.clicked.connect(lambda: view.record_activated.emit("measure", self.item.id))
        self.name_label = QLabel()
        self.name_label.setWordWrap(True)
        self.state_label = _bold(QLabel())
        self.state_label.setAccessibleName(f"Value state for {ref}")
        self.details_label = QLabel()
        self.details_label.setWordWrap(True)
        self.rag_chip = QLabel()
        self.rag_chip.setAccessibleName(f"RAG for {ref}")
        self.rag_reason = QLabel()
        self.rag_reason.setWordWrap(True)

        period = item.period.label
        self.value_edit = QLineEdit()
        self.value_edit.setAccessibleName(f"Value of {ref} for {period}")
        self.value_edit.returnPressed.connect(lambda: view.save_value(self))
        self.comparator_edits: dict[str, QLineEdit] = {}
        for name in item.comparator_names:
            edit = QLineEdit()
            edit.setAccessibleName(f"{name} figure for {ref} for {period}")
            edit.setPlaceholderText("Optional")
            edit.returnPressed.connect(lambda: view.save_value(self))
            self.comparator_edits[name] = edit
        self.status_combo = QComboBox()
        self.status_combo.setAccessibleName(f"Whether the {ref} value is provisional or final")
        for status in (ValueStatus.PROVISIONAL, ValueStatus.FINAL):
            self.status_combo.addItem(status.value.capitalize(), status.value)
        self.note_edit = QLineEdit()
        self.note_edit.setMaxLength(text_limit(MeasureValue.__table__.c.note) or 0)
        self.note_edit.setAccessibleName(f"Note on the {ref} value")
        self.note_edit.setPlaceholderText("Optional: source, caveats, why there is no figure")
        self.note_edit.returnPressed.connect(lambda: view.save_value(self))
        for line in (self.value_edit, self.note_edit, *self.comparator_edits.values()):
            line.textEdited.connect(self.edited)
        self.status_combo.activated.connect(self.edited)
        self.save_button = QPushButton("Save value")
        self.save_button.setAccessibleName(f"Save value of {ref}")
        self.save_button.clicked.connect(lambda: view.save_value(self))
        # On a lead copy a value is a draft until its lead submits it for review; on the
        # master copy the strategy team's own figures need no review.
        self.submit_button = QPushButton("Mark submitted")
        self.submit_button.setAccessibleName(f"Mark value of {ref} submitted")
        self.submit_button.clicked.connect(lambda: view.submit_value(self))
        self.review_label = _review_label(f"Why the value of {ref} was returned")

        self.editor = QWidget()
        form = QFormLayout(self.editor)
        form.setContentsMargins(0, 0, 0, 0)
        # Figures are short; only the note needs the width.
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.note_edit.setMinimumWidth(420)
        self.value_caption = QLabel()
        self.value_caption.setBuddy(self.value_edit)
        form.addRow(self.value_caption, self.value_edit)
        for name, edit in self.comparator_edits.items():
            form.addRow(f"{name} figure", edit)
        form.addRow("Status", self.status_combo)
        form.addRow("Note", self.note_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.submit_button)
        buttons.addWidget(self.message, 1)
        form.addRow(buttons)
        form.addRow(self.conflict_panel)

        top = QHBoxLayout()
        top.addWidget(self.ref_button)
        top.addWidget(self.name_label, 1)
        top.addWidget(self.state_label)
        rag_row = QHBoxLayout()
        rag_row.addWidget(self.rag_chip)
        rag_row.addWidget(self.rag_reason, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details_label)
        layout.addWidget(self.review_label)
        layout.addLayout(rag_row)
        layout.addWidget(self.editor)
        self.load(item, force=True)

    def load(self, item: MeasureItem, *, force: bool = False) -> None:
        """Show ``item``; reset the editors only if the stored value changed (or nothing
        was typed), so a refresh never throws away unsaved typing."""
        reset = force or item.value != self.item.value or not self.is_dirty()
        self.item = item
        self.name_label.setText(item.name)
        self.value_caption.setText(f"Value for {item.period.label} ({item.unit_words})")
        if not item.due:
            state = f"Not due: annual, entered for {item.period.label}"
        elif not item.entered:
            state = MISSING
        else:
            assert item.value is not None
            state = f"Entered ({item.value.status.value})"
            if item.value.state is not UpdateState.ACCEPTED:
                state += f" \u00b7 {item.value.state.label}"
        self.state_label.setText(f"Value: {state}")
        self.details_label.setText(self._details(item))
        value = item.value
        _show_review(
            self.review_label,
            value.state if value else None,
            value.review_note if value else "",
            "Correct the value and mark it submitted again.",
        )
        self.submit_button.setVisible(
            value is not None and value.state in (UpdateState.DRAFT, UpdateState.RETURNED)
        )
        rag = item.assessment.rag
        self.rag_chip.setText(rag_label(rag))
        self.rag_chip.setStyleSheet(rag_stylesheet(rag))
        self.rag_reason.setText(item.assessment.reason)
        self.editor.setVisible(item.due)
        if reset:
            self._set_editors(item)
            if not force:
                self.clear_message()

    @staticmethod
    def _details(item: MeasureItem) -> str:
        parts = [item.unit_words.capitalize(), item.polarity.label]
        if item.owner:
            parts.insert(0, f"Owner: {item.owner}")
        if item.polarity is not Polarity.TRACKER:
            year = item.period.fy.label
            parts.append(
                f"Target for {year}: {fmt_number(item.target)}"
                if item.target is not None
                else f"No target set for {year}"
            )
        prev = item.previous
        if prev is not None and prev.value is not None:
            parts.append(f"Previous: {fmt_number(prev.value)} ({item.previous_period.label})")
        else:
            parts.append(f"Previous: no value ({item.previous_period.label})")
        return " \u00b7 ".join(parts)

    def _set_editors(self, item: MeasureItem) -> None:
        # Figures exactly as stored (the labels round them), so saving only a new note
        # does not also round the value.
        value = item.value
        self.value_edit.setText(
            format_number(value.value) if value is not None and value.value is not None else ""
        )
        for name, edit in self.comparator_edits.items():
            figure = value.comparator(name) if value is not None else None
            edit.setText(format_number(figure) if figure is not None else "")
        status = value.status if value is not None else ValueStatus.PROVISIONAL
        self.status_combo.setCurrentIndex(self.status_combo.findData(status.value))
        self.note_edit.setText(value.note if value is not None else "")
        self.note_edit.setCursorPosition(0)  # show a long note from its start

    def chosen_status(self) -> ValueStatus:
        return ValueStatus(self.status_combo.currentData())

    def typed(self) -> dict[str, Any]:
        return {
            "value": self.value_edit.text(),
            "status": self.status_combo.currentData(),
            "note": self.note_edit.text(),
            "comparators": {name: e.text() for name, e in self.comparator_edits.items()},
        }

    def put_typed(self, typed: dict[str, Any]) -> None:
        self.value_edit.setText(typed["value"])
        self.status_combo.setCurrentIndex(max(0, self.status_combo.findData(typed["status"])))
        self.note_edit.setText(typed["note"])
        for name, text in typed["comparators"].items():
            if name in self.comparator_edits:
                self.comparator_edits[name].setText(text)

    def is_dirty(self) -> bool:
        value = self.item.value
        saved = {
            "value": format_number(value.value) if value and value.value is not None else "",
            "status": (value.status if value else ValueStatus.PROVISIONAL).value,
            "note": value.note if value else "",
        }
        for name in self.comparator_edits:
            figure = value.comparator(name) if value else None
            saved[name] = format_number(figure) if figure is not None else ""
        typed = {
            "value": self.value_edit.text().strip(),
            "status": self.chosen_status().value,
            "note": self.note_edit.text(),
        }
        for name, edit in self.comparator_edits.items():
            typed[name] = edit.text().strip()
        return typed != saved

    def focus_chain(self) -> list[QWidget]:
        return [
            self.ref_button,
            self.value_edit,
            *self.comparator_edits.values(),
            self.status_combo,
            self.note_edit,
            self.save_button,
            self.submit_button,
            self.conflict_panel.theirs_button,
            self.conflict_panel.mine_button,
        ]


def _review_label(accessible: str) -> QLabel:
    label = _bold(QLabel())
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(accessible)
    label.hide()
    return label


def _show_review(label: QLabel, state: UpdateState | None, reason: str, todo: str) -> None:
    """Say, in words, that the strategy team returned this, why, and what to do."""
    returned = state is UpdateState.RETURNED
    label.setVisible(returned)
    label.setText(f"Returned by the strategy team: {reason} {todo}" if returned else "")


@dataclass(frozen=True)
class Typing:
    """Typing not yet saved in My quarter: whose, which quarter, and each card's editors
    (by the action's or measure's id), to carry over a rebuild of the view."""

    person_id: uuid.UUID
    quarter: Quarter
    cards: dict[uuid.UUID, tuple[str, dict[str, Any]]]  # id: (ref, what was typed)

    @property
    def refs(self) -> list[str]:
        return [ref for ref, _typed in self.cards.values()]


KEPT = (
    "Not saved yet: your typing was kept when the plan was re-read (after an import or "
    "a large change). Save it when ready."
)
KEPT_OVER_CHANGE = (
    "Not saved yet: the stored {what} changed (an import or another change) while you "
    "were typing. Your typing is kept; saving it replaces what is stored."
)


class MyQuarterView(QWidget):
    """One person's actions and measures for one quarter, with editors for both."""

    # (entity table name, record id): the user asked to open the record in the editor.
    record_activated = Signal(str, object)
    # The view has re-read the store and shows the result (tests and the window wait on it).
    refreshed = Signal()
    # Whether any card holds typing not yet saved (the window's status bar shows it).
    typing_changed = Signal(bool)

    def __init__(
        self,
        document: PlanDocument,
        plan_id: uuid.UUID,
        today: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("myQuarterView")
        self._document = document
        self._plan_id = plan_id
        self._today = today if today is not None else dt.date.today()
        self._status: QuarterStatus | None = None
        self._shown_ids: frozenset[uuid.UUID] = frozenset()
        self._shown_key: tuple[uuid.UUID, Quarter] | None = None
        self._action_cards: list[ActionCard] = []
        self._measure_cards: list[MeasureCard] = []
        self._active_card: _Card | None = None
        self._reload_people = False
        # On a lead copy, whose copy it is: My quarter is theirs and nobody else's.
        self._owner: uuid.UUID | None = None

        self.person_combo = QComboBox()
        self.person_combo.setObjectName("personCombo")
        self.person_combo.setAccessibleName("Your role")
        self.person_combo.setPlaceholderText("Choose your role")
        self.person_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.quarter_combo = QComboBox()
        self.quarter_combo.setObjectName("quarterCombo")
        self.quarter_combo.setAccessibleName("Quarter")
        person_caption = QLabel("&Your role")
        person_caption.setBuddy(self.person_combo)
        self.owner_label = QLabel()
        self.owner_label.setObjectName("ownerLabel")
        self.owner_label.setAccessibleName("Whose copy this is")
        self.owner_label.hide()
        quarter_caption = QLabel("Q&uarter")
        quarter_caption.setBuddy(self.quarter_combo)

        self.progress_label = _bold(QLabel())
        self.progress_label.setObjectName("progressLabel")
        self.progress_label.setAccessibleName("Progress")
        self.progress_label.setWordWrap(True)
        self.missing_label = QLabel()
        self.missing_label.setObjectName("missingLabel")
        self.missing_label.setAccessibleName("Still missing")
        self.missing_label.setWordWrap(True)

        self.actions_heading = _heading("My actions")
        self.actions_empty = QLabel()
        self.actions_empty.setWordWrap(True)
        self._actions_box = QVBoxLayout()
        self.measures_heading = _heading("My measures")
        self.measures_empty = QLabel()
        self.measures_empty.setWordWrap(True)
        self._measures_box = QVBoxLayout()

        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.addWidget(self.actions_heading)
        body_layout.addWidget(self.actions_empty)
        body_layout.addLayout(self._actions_box)
        body_layout.addSpacing(12)
        body_layout.addWidget(self.measures_heading)
        body_layout.addWidget(self.measures_empty)
        body_layout.addLayout(self._measures_box)
        body_layout.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("myQuarterScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        # The cards' own controls take focus; the scroll area follows them.
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll_area.setWidget(body)

        pickers = QHBoxLayout()
        pickers.addWidget(person_caption)
        pickers.addWidget(self.person_combo)
        pickers.addSpacing(12)
        pickers.addWidget(quarter_caption)
        pickers.addWidget(self.quarter_combo)
        pickers.addSpacing(12)
        pickers.addWidget(self.owner_label)
        pickers.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(pickers)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.missing_label)
        layout.addWidget(self.scroll_area, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # one refresh per burst of changes (an undo of many)
        self._timer.timeout.connect(self.refresh)

        self._load_pickers()
        self.person_combo.currentIndexChanged.connect(self._on_picked)
        self.quarter_combo.currentIndexChanged.connect(self._on_picked)
        document.changed.connect(self._on_changed)
        document.failed.connect(self._on_failed)
        self.refresh()

    # -- pickers --------------------------------------------------------------------------

    def _load_pickers(self) -> None:
        with self._document.read() as session:
            plan = session.get(Plan, self._plan_id)
            quarters = plan_quarters(plan) if plan is not None else []
            people = people_with_work(session, self._plan_id)
            try:
                copy = lead_copy(session)
            except BundleError:  # sync settings damaged: the window says so elsewhere
                copy = None
            owner = session.get(Person, copy.person_id) if copy is not None else None
            if owner is not None and all(p.id != owner.id for p in people):
                name = owner.role_title or owner.name
                people.append(PersonChoice(owner.id, name, owner.name, owner.role_title, ""))
        self._owner = owner.id if owner is not None else None
        # A lead copy belongs to one person (enrolled with the strategy team): the
        # picker shows them and cannot be changed; the master team may look at anyone.
        self.person_combo.setEnabled(owner is None)
        self.owner_label.setVisible(owner is not None)
        if owner is not None:
            self.owner_label.setText(f"This copy is {owner.name}'s")
        current = self.quarter()
        self.quarter_combo.blockSignals(True)
        self.quarter_combo.clear()
        for q in quarters:
            self.quarter_combo.addItem(f"{q.label} ({q.months_label})", q.label)
        chosen = current if current in quarters else None
        if chosen is None and quarters:
            chosen = reporting_quarter(self._today, quarters)
        self.quarter_combo.setCurrentIndex(
            self.quarter_combo.findData(chosen.label) if chosen else -1
        )
        self.quarter_combo.blockSignals(False)
        self._fill_people(people)

    def _fill_people(self, people: Sequence[PersonChoice]) -> None:
        current = self._owner or self.person_id()
        self.person_combo.blockSignals(True)
        self.person_combo.clear()
        for p in people:
            self.person_combo.addItem(p.label, p.id)
        self.person_combo.setCurrentIndex(self._person_index(current))
        self.person_combo.blockSignals(False)

    def _person_index(self, person_id: uuid.UUID | None) -> int:
        # findData cannot match a Python object such as a UUID, so compare here.
        combo = self.person_combo
        return next((i for i in range(combo.count()) if combo.itemData(i) == person_id), -1)

    def person_id(self) -> uuid.UUID | None:
        data = self.person_combo.currentData()
        return data if isinstance(data, uuid.UUID) else None

    def quarter(self) -> Quarter | None:
        data = self.quarter_combo.currentData()
        return Quarter.parse(data) if isinstance(data, str) else None

    def set_person(self, person_id: uuid.UUID | None) -> None:
        """Show ``person_id``'s work (None: nobody chosen)."""
        index = self._person_index(person_id) if person_id is not None else -1
        if person_id is not None and index < 0:
            raise ValueError("That person leads no action and owns no measure in this plan.")
        self.person_combo.setCurrentIndex(index)

    def set_quarter(self, quarter: Quarter) -> None:
        index = self.quarter_combo.findData(quarter.label)
        if index < 0:
            raise ValueError(f"{quarter.label} is outside the plan's period.")
        self.quarter_combo.setCurrentIndex(index)

    @property
    def status(self) -> QuarterStatus | None:
        """What the view shows now (None until a person is chosen)."""
        return self._status

    @property
    def action_cards(self) -> list[ActionCard]:
        return list(self._action_cards)

    @property
    def measure_cards(self) -> list[MeasureCard]:
        return list(self._measure_cards)

    def action_card(self, ref: str) -> ActionCard:
        return next(c for c in self._action_cards if c.item.ref == ref)

    def measure_card(self, ref: str) -> MeasureCard:
        return next(c for c in self._measure_cards if c.item.ref == ref)

    # -- refreshing -----------------------------------------------------------------------

    def _on_changed(self, entity: str, record_id: object) -> None:
        if entity in _RELOAD_ENTITIES:
            # A lead or owner may have changed, or a person been renamed: re-list people.
            self._reload_people = True
        if entity in _RELOAD_ENTITIES or record_id in self._shown_ids:
            self._timer.start()

    def refresh(self) -> None:
        """Re-read the chosen person's quarter and show it."""
        self._timer.stop()
        if self._reload_people:
            self._reload_people = False
            self._load_pickers()
        person, quarter = self.person_id(), self.quarter()
        status = None
        if person is not None and quarter is not None:
            with self._document.read() as session:
                status = quarter_status(session, self._plan_id, person, quarter, self._today)
        self._show(status)
        self.refreshed.emit()
        self._typing_edited()

    def _show(self, status: QuarterStatus | None) -> None:
        self._status = status
        if status is None:
            self._shown_ids = frozenset()
            self._shown_key = None
            self._rebuild([], [])
            self.progress_label.setText("Choose your role to see your actions and measures.")
            self.missing_label.setText("")
            self.actions_empty.setText("")
            self.measures_empty.setText("")
            return
        self._shown_ids = status.record_ids
        key = (status.person_id, status.quarter)
        same_cards = (
            key == self._shown_key
            and [c.item.id for c in self._action_cards] == [a.id for a in status.actions]
            and [c.item.id for c in self._measure_cards] == [m.id for m in status.measures]
        )
        # Typing is never dropped by a refresh: kept through a rebuild of the cards, and
        # through a change to the stored update or value it was typed over.
        kept = self.typing() if key == self._shown_key else None
        if same_cards:
            for card, item in zip(self._action_cards, status.actions, strict=True):
                if card.item != item:
                    card.load(item)
            for mcard, mitem in zip(self._measure_cards, status.measures, strict=True):
                if mcard.item != mitem:
                    mcard.load(mitem)
        else:
            self._rebuild(list(status.actions), list(status.measures))
        self._shown_key = key
        if kept is not None:
            self._put_back(kept, rebuilt=not same_cards)
        q = status.quarter.label
        self.progress_label.setText(f"{q}: {status.progress_text}")
        self.missing_label.setText(status.missing_text)
        self.actions_empty.setText("" if status.actions else f"No open actions to update for {q}.")
        self.actions_empty.setVisible(not status.actions)
        self.measures_empty.setText("" if status.measures else "No measures to enter.")
        self.measures_empty.setVisible(not status.measures)

    def _rebuild(self, actions: list[ActionItem], measures: list[MeasureItem]) -> None:
        for old in [*self._action_cards, *self._measure_cards]:
            old.hide()
            old.setParent(None)
            old.deleteLater()
        self._action_cards = [ActionCard(self, item) for item in actions]
        self._measure_cards = [MeasureCard(self, item) for item in measures]
        for card in (*self._action_cards, *self._measure_cards):
            card.conflict_panel.keep_theirs.connect(lambda c=card: self.keep_theirs(c))
            card.conflict_panel.write_mine.connect(lambda c=card: self.write_mine(c))
        for card in self._action_cards:
            self._actions_box.addWidget(card)
            self._connect_card(card)
        for mcard in self._measure_cards:
            self._measures_box.addWidget(mcard)
            self._connect_card(mcard)
        self._set_tab_order()

    def focus_chain(self) -> list[QWidget]:
        """The controls in visual order: pickers, then each card top to bottom."""
        chain: list[QWidget] = [self.person_combo, self.quarter_combo]
        for card in [*self._action_cards, *self._measure_cards]:
            chain.extend(card.focus_chain())
        return chain

    def _set_tab_order(self) -> None:
        # Cards made after the pickers would follow them anyway, but a rebuild appends
        # to the end of the window's chain; set it so Tab always reads top to bottom.
        chain = self.focus_chain()
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    # -- typing not yet saved ---------------------------------------------------------------

    def _connect_card(self, card: ActionCard | MeasureCard) -> None:
        card.edited.connect(self._typing_edited)

    def _typing_edited(self) -> None:
        self.typing_changed.emit(self.has_unsaved_typing())

    def has_unsaved_typing(self) -> bool:
        return bool(self.unsaved_cards())

    def typing(self) -> Typing | None:
        """The typing not yet saved, or None."""
        status = self._status
        cards = self.unsaved_cards()
        if status is None or not cards:
            return None
        return Typing(
            status.person_id,
            status.quarter,
            {c.item.id: (c.item.ref, c.typed()) for c in cards},
        )

    def _put_back(self, typing: Typing, *, rebuilt: bool) -> list[str]:
        """Put ``typing`` back into the cards shown (same person and quarter); the refs
        of typing with no card to go into."""
        lost: list[str] = []
        cards: list[ActionCard | MeasureCard] = [*self._action_cards, *self._measure_cards]
        by_id = {c.item.id: c for c in cards}
        for record_id, (ref, typed) in typing.cards.items():
            card = by_id.get(record_id)
            if card is None:
                lost.append(ref)
                continue
            if card.typed() == typed:
                continue  # kept by the card itself (the stored record did not change)
            card.put_typed(typed)
            if rebuilt:
                card.show_message(KEPT)
            else:
                what = "update" if isinstance(card, ActionCard) else "value"
                card.show_message(KEPT_OVER_CHANGE.format(what=what))
        self._typing_edited()
        return lost

    def restore_typing(self, typing: Typing) -> list[str]:
        """Show ``typing``'s person and quarter and put the typing back into their cards
        (this view was made afresh by a reload); the refs of typing that has no card
        here any more (the record was deleted or handed to someone else)."""
        person = self._person_index(typing.person_id)
        quarter = self.quarter_combo.findData(typing.quarter.label)
        if person < 0 or quarter < 0:
            return typing.refs
        self._set_pickers(person, quarter)
        self.refresh()
        return self._put_back(typing, rebuilt=True)

    def unsaved_cards(self) -> list[ActionCard | MeasureCard]:
        """Cards holding typing that is not in the store (none of it is lost silently)."""
        cards: list[ActionCard | MeasureCard] = [*self._action_cards, *self._measure_cards]
        return [c for c in cards if c.is_dirty()]

    def _on_picked(self) -> None:
        """Another person or quarter was chosen: settle the typing shown first."""
        shown = self._status
        if shown is not None and self.unsaved_cards():
            wanted = (self.person_combo.currentIndex(), self.quarter_combo.currentIndex())
            # Show the cards' own person and quarter while asking (and while saving:
            # each save re-reads what the pickers say).
            self._set_pickers(
                self._person_index(shown.person_id),
                self.quarter_combo.findData(shown.quarter.label),
            )
            if not self.settle_unsaved():
                return
            self._set_pickers(*wanted)
        self.refresh()

    def _set_pickers(self, person_index: int, quarter_index: int) -> None:
        for combo, index in (
            (self.person_combo, person_index),
            (self.quarter_combo, quarter_index),
        ):
            combo.blockSignals(True)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)

    def settle_unsaved(self) -> bool:
        """Before the cards go (another quarter or person, closing the store, quitting):
        ask whether to save typed updates and values as drafts, discard them, or stay.
        True if the caller may go on; False if the user stayed or a save was refused
        (its reason is shown on the card, and the typing is still there)."""
        cards = self.unsaved_cards()
        if not cards:
            return True
        refs = ", ".join(c.item.ref for c in cards)
        quarter = self._status.quarter.label if self._status is not None else "this quarter"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Save your typing?",
            f"My quarter has typing for {quarter} that is not saved yet: {refs}.\n\n"
            "Save saves each update as a draft (submit it later) and enters each value.",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Discard:
            for card in cards:
                if isinstance(card, ActionCard):
                    card.load(card.item, force=True)
                else:
                    card.load(card.item, force=True)
            return True
        if answer != QMessageBox.StandardButton.Save:
            return False
        for card in cards:
            if isinstance(card, ActionCard):
                saved = self.save_update(card, UpdateState.DRAFT)
            else:
                saved = self.save_value(card)
            if not saved:
                return False
        return True

    # -- saving ---------------------------------------------------------------------------

    def _on_failed(self, _text: str, reason: str) -> None:
        if self._active_card is not None:
            self._active_card.show_message(reason, error=True)

    def _edit(
        self,
        card: _Card,
        text: str,
        work: Callable[[Transaction], object],
        retry: Callable[[FieldConflict], bool] | None = None,
    ) -> bool:
        """Run one undoable edit for ``card``. Refused because another writer saved the
        card's update (or value) since it was read: the card's conflict panel offers the
        choice, and ``retry`` (given theirs) is its "Write mine"."""
        conflicts: list[FieldConflict] = []

        def guarded(tx: Transaction) -> object:
            try:
                return work(tx)
            except EditConflictError as exc:
                conflicts.append(exc.conflict)
                raise

        self._active_card = card
        try:
            ok = self._document.edit(text, guarded)
        finally:
            self._active_card = None
        if conflicts:
            card.clear_message()  # the panel says it, with the choice
            card.retry = retry
            card.conflict_panel.show_conflict(conflicts[-1])
            return False
        if ok:
            card.conflict_panel.dismiss()
            card.retry = None
            self.refresh()  # now, so the card shows what was stored before saying so
        return ok

    def _card_for(self, card: _Card) -> _Card | None:
        """The card now shown for ``card``'s action or measure (a refresh may rebuild)."""
        cards: Sequence[_Card] = (
            self._action_cards if isinstance(card, ActionCard) else self._measure_cards
        )
        return next((c for c in cards if c.item.id == card.item.id), None)

    def keep_theirs(self, card: _Card) -> None:
        """The card's "Keep theirs": show what is stored; nothing is written."""
        card.conflict_panel.dismiss()
        card.retry = None
        self.refresh()
        shown = self._card_for(card)
        if shown is not None:
            shown.load(shown.item, force=True)
            shown.show_message("Showing their update: yours was not saved.")
            chain = shown.focus_chain()
            chain[1].setFocus(Qt.FocusReason.OtherFocusReason)

    def write_mine(self, card: _Card) -> None:
        """The card's "Write mine": save what is typed over theirs, still compare-and-
        set against theirs (a third change meanwhile is offered again)."""
        conflict, retry = card.conflict_panel.conflict, card.retry
        if conflict is None or retry is None:
            return
        retry(conflict)

    def save_update(
        self, card: ActionCard, state: UpdateState, read: dict[str, Any] | None = None
    ) -> bool:
        """Write the card's update as a draft or submitted. False if not written.

        ``read``: the RAG and narrative the card showed of the quarter's update (by
        default, the card's own); an update someone else saved since is not overwritten.
        """
        status = self._status
        if status is None:
            return False
        item, rag, narrative = card.item, card.chosen_rag(), card.typed_narrative()
        if state is UpdateState.SUBMITTED:
            problem = submission_problem(rag, narrative)
            if problem is not None:
                card.show_message(problem, error=True)
                (card.narrative if rag is not None else card.rag_combo).setFocus()
                return False
        elif rag is None and not narrative:
            card.show_message(
                "Nothing to save: choose a RAG rating or write a progress narrative first.",
                error=True,
            )
            card.rag_combo.setFocus()
            return False
        current = item.update
        unchanged = current is not None and (current.rag, current.narrative.strip()) == (
            rag,
            narrative,
        )
        # Saving the same words again must not turn a submitted (or accepted) update
        # back into a draft, nor add a copy to its history.
        if unchanged and state is UpdateState.DRAFT:
            card.show_message("Nothing to save: the update is unchanged.")
            return False
        if unchanged and current is not None and current.submitted:
            card.show_message(f"Nothing to do: this update is already {current.state.value}.")
            return False
        quarter, today, author, action_id = status.quarter, status.today, status.person_id, item.id
        if read is None:
            read = {
                "rag": current.rag if current is not None else None,
                "narrative": current.narrative if current is not None else "",
            }
        expected = read

        def work(tx: Transaction) -> None:
            action = tx.get(Action, action_id)
            if action is None:
                raise DomainError(f"Action {item.ref} is no longer in this store.")
            services.write_update(
                tx,
                action,
                quarter,
                rag=rag,
                narrative=narrative,
                written_on=today,
                author_person_id=author,
                state=state,
                expected=expected,
            )

        def retry(conflict: FieldConflict) -> bool:
            # Mine over theirs: theirs is now what this card has seen of that field.
            return self.save_update(card, state, {**expected, conflict.field: conflict.theirs})

        if not self._edit(card, f"Update {item.ref} for {quarter.label}", work, retry):
            return False
        done = "submitted" if state is UpdateState.SUBMITTED else "saved as a draft"
        shown = next((c for c in self._action_cards if c.item.id == item.id), None)
        if shown is not None:
            shown.show_message(f"Update {done}.")
        return True

    def save_value(self, card: MeasureCard, read: dict[str, Any] | None = None) -> bool:
        """Validate and enter the card's value for the quarter. False if not written.

        ``read``: what the card showed of the stored value (by default, the card's
        own); a value someone else saved since is not overwritten."""
        status = self._status
        item = card.item
        if status is None or not item.due:
            return False
        try:
            value = parse_value(card.value_edit.text(), item.unit)
        except ValidationError as exc:
            card.show_message(str(exc), error=True)
            card.value_edit.setFocus()
            return False
        comparators: dict[str, float] = {}
        for name, edit in card.comparator_edits.items():
            try:
                figure = parse_value(edit.text(), item.unit, f"{name} figure")
            except ValidationError as exc:
                card.show_message(str(exc), error=True)
                edit.setFocus()
                return False
            if figure is not None:
                comparators[name] = figure
        note = card.note_edit.text().strip()
        if value is None and not note:
            card.show_message("Enter a value, or a note saying why there is none yet.", error=True)
            card.value_edit.setFocus()
            return False
        chosen = card.chosen_status()
        old = item.value
        if old is not None and (old.value, dict(old.comparators), old.status, old.note) == (
            value,
            comparators,
            chosen,
            note,
        ):
            card.show_message("Nothing to save: the value is unchanged.")
            return False
        measure_id, period = item.id, item.period
        # The survey's significance flags are not edited here; keep what was recorded.
        significant = old.significant if old is not None else None
        comparator_significant = old.comparator_significant if old is not None else None
        if read is None:
            read = {
                "value": old.value if old is not None else None,
                "comparator_values": dict(old.comparators) if old is not None else {},
                "status": old.status if old is not None else None,
                "note": old.note if old is not None else "",
            }
        expected = read

        def work(tx: Transaction) -> None:
            measure = tx.get(Measure, measure_id)
            if measure is None or measure.deleted_at is not None:
                raise DomainError(f"Measure {item.ref} is no longer in this plan.")
            services.record_value(
                tx,
                measure,
                period,
                value,
                comparators=comparators,
                status=chosen,
                note=note,
                significant=significant,
                comparator_significant=comparator_significant,
                expected=expected,
            )

        def retry(conflict: FieldConflict) -> bool:
            return self.save_value(card, {**expected, conflict.field: conflict.theirs})

        if not self._edit(card, f"Enter {item.ref} for {period.label}", work, retry):
            return False
        shown = next((c for c in self._measure_cards if c.item.id == item.id), None)
        if shown is not None:
            shown.show_message(f"Value for {period.label} saved.")
        return True

    def submit_value(self, card: MeasureCard) -> bool:
        """Send the card's saved value to the strategy team for review (typing not yet
        saved is saved first). False if nothing was submitted."""
        if card.is_dirty() and not self.save_value(card):
            return False
        card = next((c for c in self._measure_cards if c.item.id == card.item.id), card)
        item = card.item
        if item.value is None:
            card.show_message("Enter the value first, then mark it submitted.", error=True)
            return False
        value_id, period = item.value.id, item.period

        def work(tx: Transaction) -> None:
            value = tx.get(MeasureValue, value_id)
            if value is None:
                raise DomainError(f"The {item.ref} value is no longer in this store.")
            review.submit(tx, value)

        if not self._edit(card, f"Submit {item.ref} for {period.label}", work):
            return False
        shown = next((c for c in self._measure_cards if c.item.id == item.id), None)
        if shown is not None:
            shown.show_message(f"Value for {period.label} submitted for review.")
        return True
