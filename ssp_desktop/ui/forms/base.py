"""The record-form framework: a form is a list of field specs bound to one record.

Saving model (README "Saving and undo"): a field is written when the user leaves it
(``editingFinished``, a combo's ``activated``, a checkbox clicked, a date edited and
left) as one undoable edit through :meth:`PlanDocument.edit`. There is no Save
button. A form re-reads its record whenever ``document.changed`` names it (an undo, a
redo, an edit made elsewhere) with its widgets' signals blocked, so re-reading never
writes. What a user typed is checked first (:mod:`ssp_desktop.domain.validation`):
a mistake is explained under the field ("Error: ...") and nothing is written; an edit
the store refuses puts the stored value back and shows the reason the same way.

Accessibility: every input has its label as accessible name and a QLabel buddy;
required fields are marked with ``style.required`` and explained once at the top;
errors are words, never colour alone; tab order is the visual order.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from PySide6.QtCore import QDate, QObject, Qt, Signal
from PySide6.QtGui import QAccessible, QAccessibleEvent, QFocusEvent, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DeleteBlockedError, DomainError
from ssp_desktop.domain.validation import (
    ValidationError,
    check_email,
    check_length,
    check_percentage,
    format_number,
    parse_money,
    parse_names,
    parse_number,
    parse_optional_number,
)
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import choices as ch
from ssp_desktop.ui.style import error_stylesheet
from ssp_desktop.ui.style import required as required_label

REQUIRED_NOTE = "* required"
NONE_LABEL = "(none)"
MISSING_LABEL = "(no longer available)"
DATE_FORMAT = "d MMM yyyy"

Choice = tuple[str, Any]
Loader = Callable[[Session, Any], Sequence[Choice]]
Check = Callable[[Session, Any, Any], None]
Write = Callable[[Transaction, Any, Any], None]


# --------------------------------------------------------------------------- helpers


def run_edit(
    document: PlanDocument, text: str, work: Callable[[Transaction], object]
) -> str | None:
    """Make one undoable edit; None if it was saved, else the reason it was refused."""
    reasons: list[str] = []

    def on_failed(_what: str, reason: str) -> None:
        reasons.append(reason)

    # The document reports a refusal through its signal only; listen just for this edit.
    document.failed.connect(on_failed)
    try:
        saved = document.edit(text, work)
    finally:
        document.failed.disconnect(on_failed)
    if saved:
        return None
    return reasons[-1] if reasons else "The change was not saved."


def lower_first(label: str) -> str:
    """ "Due date" -> "due date" for "Change due date"; acronyms ("RAG") are kept."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def to_qdate(value: dt.date) -> QDate:
    return QDate(value.year, value.month, value.day)


def from_qdate(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


def enum_label(member: enum.Enum) -> str:
    """The word a user sees for a closed-vocabulary value."""
    label = getattr(member, "label", None)
    if isinstance(label, str):
        return label
    return str(member.value).replace("_", " ").capitalize()


def enum_choices(cls: type[enum.Enum], label: Callable[[Any], str] = enum_label) -> Loader:
    members = [(label(m), m) for m in cls]
    return lambda _session, _record: members


class ErrorLabel(QLabel):
    """An inline error: hidden while all is well, "Error: <reason>" in words otherwise."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setAccessibleName(name)
        # A red legible on the palette, bold: an extra cue, never the only one ("Error").
        self.setStyleSheet(error_stylesheet(self))
        self.hide()

    def show_error(self, message: str) -> None:
        self.setText(message if message.startswith("Error: ") else f"Error: {message}")
        self.show()
        # Screen readers announce an alert, so an error appearing under a field the
        # user has already left is not missed.
        QAccessible.updateAccessibility(QAccessibleEvent(self, QAccessible.Event.Alert))

    def clear_error(self) -> None:
        self.setText("")
        self.hide()


# --------------------------------------------------------------------------- field specs


class Kind(enum.Enum):
    TEXT = "text"
    MULTILINE = "multiline"
    INT = "int"
    NUMBER = "number"
    PERCENT = "percent"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"  # an enum, a reference picker or a financial year
    BOOL = "bool"
    NAMES = "names"  # a short list typed on one line, separated by semicolons
    EMAIL = "email"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form: what it shows, how it is typed, how it is checked."""

    label: str
    attr: str
    kind: Kind
    required: bool = False
    choices: Loader | None = None
    # The entry meaning "no value" in a picker ("(none)", "Not rated"); None: no such entry.
    none_label: str | None = None
    # Checks needing the store or the rest of the record: (session, record, new value).
    check: Check | None = None
    # Writes needing more than setting the attribute: (transaction, record, new value).
    write: Write | None = None
    # Tables whose changes alter this picker's list.
    depends: frozenset[str] = field(default_factory=frozenset)
    minimum: int = 0
    maximum: int = 9999
    help: str = ""

    def checked(self, check: Check) -> FieldSpec:
        """The same field, with a check that needs the store or the rest of the record."""
        return replace(self, check=check)


def text(label: str, attr: str, *, required: bool = False, check: Check | None = None) -> FieldSpec:
    return FieldSpec(label, attr, Kind.TEXT, required=required, check=check)


def multiline(label: str, attr: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(label, attr, Kind.MULTILINE, required=required)


def whole(
    label: str, attr: str, minimum: int = 0, maximum: int = 9999, help: str = ""
) -> FieldSpec:
    return FieldSpec(label, attr, Kind.INT, minimum=minimum, maximum=maximum, help=help)


def number(
    label: str, attr: str, *, required: bool = False, check: Check | None = None, help: str = ""
) -> FieldSpec:
    return FieldSpec(label, attr, Kind.NUMBER, required=required, check=check, help=help)


def money(label: str, attr: str, *, required: bool = True) -> FieldSpec:
    return FieldSpec(label, attr, Kind.MONEY, required=required, help="In pounds, e.g. 12,500")


def date(label: str, attr: str, *, required: bool = False, check: Check | None = None) -> FieldSpec:
    return FieldSpec(label, attr, Kind.DATE, required=required, check=check)


def flag(label: str, attr: str, help: str = "") -> FieldSpec:
    return FieldSpec(label, attr, Kind.BOOL, help=help)


def email(label: str, attr: str) -> FieldSpec:
    return FieldSpec(label, attr, Kind.EMAIL, help="e.g. name@example.org")


def names(label: str, attr: str, *, check: Check | None = None, help: str = "") -> FieldSpec:
    return FieldSpec(label, attr, Kind.NAMES, check=check, help=help)


def choice(
    label: str,
    attr: str,
    cls: type[enum.Enum],
    *,
    labels: Callable[[Any], str] = enum_label,
    none_label: str | None = None,
) -> FieldSpec:
    return FieldSpec(
        label,
        attr,
        Kind.CHOICE,
        required=none_label is None,
        choices=enum_choices(cls, labels),
        none_label=none_label,
    )


# Reference pickers: what each lists, and which tables' changes alter the list.
_REFERENCES: dict[str, tuple[Callable[[Session, ch.Scope], list[Choice]], frozenset[str]]] = {
    "organisation": (ch.organisations, frozenset({"organisation"})),
    "person": (ch.people, frozenset({"person", "organisation"})),
    "priority": (ch.priorities, frozenset({"priority", "plan"})),
    "priority_area": (ch.priority_areas, frozenset({"priority_area", "priority"})),
    "measure": (ch.measures, frozenset({"measure"})),
}


def reference(label: str, attr: str, target: str, *, required: bool = False) -> FieldSpec:
    """A picker of live records of ``target`` in the record's partnership or plan."""
    lister, depends = _REFERENCES[target]

    def load(session: Session, record: Any) -> list[Choice]:
        return lister(session, ch.scope_of(session, record))

    return FieldSpec(
        label,
        attr,
        Kind.CHOICE,
        required=required,
        choices=load,
        none_label=None if required else NONE_LABEL,
        depends=depends,
    )


def year(label: str, attr: str, years: Loader, *, none_label: str | None = None) -> FieldSpec:
    return FieldSpec(
        label,
        attr,
        Kind.CHOICE,
        required=none_label is None,
        choices=years,
        none_label=none_label,
        depends=frozenset({"plan"}),
    )


# --------------------------------------------------------------------------- field editors


class PlainTextEdit(QPlainTextEdit):
    """A multi-line text box that says when the user has finished with it, like a
    QLineEdit: on leaving it, or on Ctrl+Enter. Tab leaves it rather than typing a tab,
    so keyboard users are never trapped."""

    editingFinished = Signal()  # named as Qt's own signal

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)

    def set_text(self, value: str) -> None:
        self.setPlainText(value)
        self.document().setModified(False)

    def finish(self) -> None:
        if self.document().isModified():
            self.document().setModified(False)
            self.editingFinished.emit()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.finish()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.finish()
            return
        super().keyPressEvent(event)


class FieldEditor(QObject):
    """The widget(s) of one field: shows a value, reads (and parses) what was typed."""

    committed = Signal()

    # The widget that takes focus and carries the accessible name (the label's buddy),
    # and the widget placed in the form (the input, or a row holding it).
    input: QWidget
    container: QWidget

    def __init__(self, spec: FieldSpec, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.spec = spec

    def _name(self, widget: QWidget) -> None:
        widget.setAccessibleName(self.spec.label)
        widget.setObjectName(f"{self.spec.attr}Input")
        if self.spec.help:
            widget.setToolTip(self.spec.help)
            widget.setAccessibleDescription(self.spec.help)

    def focus_widgets(self) -> list[QWidget]:
        return [self.input]

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def read(self) -> Any:
        raise NotImplementedError

    def set_choices(self, items: Sequence[Choice]) -> None:
        """Only pickers have choices."""

    def set_enabled(self, enabled: bool) -> None:
        self.container.setEnabled(enabled)


class LineEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, max_length: int | None, parent: QObject | None) -> None:
        super().__init__(spec, parent)
        self.edit = QLineEdit()
        if max_length:
            self.edit.setMaxLength(max_length)
        if spec.help:
            self.edit.setPlaceholderText(spec.help)
        self.input = self.container = self.edit
        self._name(self.edit)
        self.edit.editingFinished.connect(self.committed)

    def set_value(self, value: Any) -> None:
        kind = self.spec.kind
        if kind in (Kind.NUMBER, Kind.PERCENT):
            shown = format_number(value)
        elif kind is Kind.MONEY:
            shown = "" if value is None else f"{value:.2f}"
        elif kind is Kind.NAMES:
            shown = "; ".join(value or [])
        else:
            shown = "" if value is None else str(value)
        self.edit.blockSignals(True)
        self.edit.setText(shown)
        self.edit.setCursorPosition(0)
        self.edit.blockSignals(False)

    def read(self) -> Any:
        raw = self.edit.text()
        kind, label = self.spec.kind, self.spec.label
        if kind in (Kind.NUMBER, Kind.PERCENT):
            value = parse_number(raw, label) if self.spec.required else parse_optional_number(raw)
            if kind is Kind.PERCENT and value is not None:
                check_percentage(value)
            return value
        if kind is Kind.MONEY:
            return parse_money(raw, label) if self.spec.required or raw.strip() else None
        if kind is Kind.NAMES:
            return parse_names(raw)
        if kind is Kind.EMAIL:
            return check_email(raw)
        return raw.strip()


class TextAreaEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QObject | None) -> None:
        super().__init__(spec, parent)
        self.edit = PlainTextEdit()
        self.edit.setMinimumHeight(60)
        self.edit.setMaximumHeight(120)
        self.input = self.container = self.edit
        self._name(self.edit)
        self.edit.editingFinished.connect(self.committed)

    def set_value(self, value: Any) -> None:
        self.edit.blockSignals(True)
        self.edit.set_text("" if value is None else str(value))
        self.edit.blockSignals(False)

    def read(self) -> Any:
        return self.edit.toPlainText().strip()


class SpinEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QObject | None) -> None:
        super().__init__(spec, parent)
        self.spin = QSpinBox()
        self.spin.setRange(spec.minimum, spec.maximum)
        self.input = self.container = self.spin
        self._name(self.spin)
        self.spin.editingFinished.connect(self.committed)

    def set_value(self, value: Any) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(int(value or 0))
        self.spin.blockSignals(False)

    def read(self) -> Any:
        return self.spin.value()


class DateEditor(FieldEditor):
    """A date with a calendar popup; an optional date also has a "No date" box, because
    a QDateEdit cannot be blank."""

    def __init__(self, spec: FieldSpec, today: dt.date, parent: QObject | None) -> None:
        super().__init__(spec, parent)
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat(DATE_FORMAT)
        # Plans, meetings and due dates all fall in this range; a slip of the keyboard
        # into year 0202 does not.
        self.date_edit.setDateRange(QDate(1990, 1, 1), QDate(2100, 12, 31))
        self.date_edit.setDate(to_qdate(today))
        self._name(self.date_edit)
        self.input = self.date_edit
        self.container = QWidget()
        row = QHBoxLayout(self.container)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.date_edit)
        self.no_date: QCheckBox | None = None
        if not spec.required:
            self.no_date = QCheckBox("No date")
            self.no_date.setAccessibleName(f"No {lower_first(spec.label)}")
            self.no_date.setObjectName(f"{spec.attr}NoDate")
            self.no_date.clicked.connect(self._on_no_date)
            row.addWidget(self.no_date)
        row.addStretch(1)
        self.date_edit.editingFinished.connect(self.committed)

    def _on_no_date(self, checked: bool) -> None:
        self.date_edit.setEnabled(not checked)
        if checked:
            self.committed.emit()
        else:
            # Giving a date is finished in the date box: saving the date it happens to
            # show now would make an extra, meaningless undo step.
            self.date_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_widgets(self) -> list[QWidget]:
        return [self.date_edit] + ([self.no_date] if self.no_date else [])

    def set_value(self, value: Any) -> None:
        self.date_edit.blockSignals(True)
        if value is not None:
            self.date_edit.setDate(to_qdate(value))
        self.date_edit.setEnabled(value is not None)
        self.date_edit.blockSignals(False)
        if self.no_date is not None:
            self.no_date.blockSignals(True)
            self.no_date.setChecked(value is None)
            self.no_date.blockSignals(False)

    def read(self) -> Any:
        if self.no_date is not None and self.no_date.isChecked():
            return None
        return from_qdate(self.date_edit.date())

    def set_enabled(self, enabled: bool) -> None:
        super().set_enabled(enabled)
        if enabled and self.no_date is not None:
            self.date_edit.setEnabled(not self.no_date.isChecked())


class ComboEditor(FieldEditor):
    """A picker. The values stay in a Python list beside the combo: Qt would turn a
    string enum into a plain string on the way through a QVariant."""

    def __init__(self, spec: FieldSpec, parent: QObject | None) -> None:
        super().__init__(spec, parent)
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(20)
        self.input = self.container = self.combo
        self._name(self.combo)
        self.values: list[Any] = []
        self.combo.activated.connect(self.committed)

    def set_choices(self, items: Sequence[Choice]) -> None:
        current = self.read() if self.values else None
        had_value = bool(self.values)
        self.combo.blockSignals(True)
        self.combo.clear()
        self.values = []
        if self.spec.none_label is not None:
            self.combo.addItem(self.spec.none_label)
            self.values.append(None)
        for label, value in items:
            self.combo.addItem(label)
            self.values.append(value)
        self.combo.blockSignals(False)
        if had_value:
            self.set_value(current)

    def set_value(self, value: Any) -> None:
        self.combo.blockSignals(True)
        if value not in self.values:
            # A reference to a record since deleted, or a year outside the list: show
            # the truth rather than pretend it is something else.
            self.combo.addItem(MISSING_LABEL if value is not None else NONE_LABEL)
            self.values.append(value)
        self.combo.setCurrentIndex(self.values.index(value))
        self.combo.blockSignals(False)

    def read(self) -> Any:
        index = self.combo.currentIndex()
        return self.values[index] if 0 <= index < len(self.values) else None

    def labels(self) -> list[str]:
        return [self.combo.itemText(i) for i in range(self.combo.count())]


class CheckEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QObject | None) -> None:
        super().__init__(spec, parent)
        self.check = QCheckBox()
        self.input = self.container = self.check
        self._name(self.check)
        # clicked, not toggled: only the user's click is an edit, never a refresh.
        self.check.clicked.connect(self.committed)

    def set_value(self, value: Any) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(bool(value))
        self.check.blockSignals(False)

    def read(self) -> Any:
        return self.check.isChecked()


def make_editor(
    spec: FieldSpec, *, max_length: int | None, today: dt.date, parent: QObject | None
) -> FieldEditor:
    if spec.kind is Kind.MULTILINE:
        return TextAreaEditor(spec, parent)
    if spec.kind is Kind.INT:
        return SpinEditor(spec, parent)
    if spec.kind is Kind.DATE:
        return DateEditor(spec, today, parent)
    if spec.kind is Kind.CHOICE:
        return ComboEditor(spec, parent)
    if spec.kind is Kind.BOOL:
        return CheckEditor(spec, parent)
    return LineEditor(spec, max_length if spec.kind is Kind.TEXT else None, parent)


# --------------------------------------------------------------------------- sections


class FormSection(QGroupBox):
    """A part of a form beyond its plain fields: a grid, a checkable list, a sub-form.

    Sections keep themselves up to date from ``document.changed``; the form tells them
    when its record is deleted or restored, and gathers their widgets for tab order.
    """

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setAccessibleName(title)

    def focus_widgets(self) -> list[QWidget]:
        return []

    def set_live(self, live: bool) -> None:
        self.setEnabled(live)

    def record_loaded(self, session: Session, record: Any) -> None:
        """The form's record was (re)read: follow it where the section depends on it."""


# --------------------------------------------------------------------------- the form


def ask_yes_no(parent: QWidget) -> Callable[[str, str], bool]:
    def ask(title: str, question: str) -> bool:
        answer = QMessageBox.question(
            parent,
            title,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    return ask


class RecordForm(QWidget):
    """An editor of one record, built from :attr:`specs`; subclasses add sections."""

    # The window selects a record the form made, forgets one it deleted, opens one
    # chosen from a list in the form: (table name, record id).
    record_added = Signal(str, object)
    record_deleted = Signal(str, object)
    record_activated = Signal(str, object)

    record_class: ClassVar[type[Record]]
    specs: ClassVar[Sequence[FieldSpec]] = ()
    can_delete: ClassVar[bool] = True

    def __init__(
        self,
        document: PlanDocument,
        record_id: uuid.UUID,
        parent: QWidget | None = None,
        *,
        today: dt.date | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.record_id = record_id
        self.today = today or dt.date.today()
        self.entity: str = self.record_class.__tablename__
        self.noun = self.entity.replace("_", " ")
        self.setObjectName(f"{self.entity}Editor")
        self.setAccessibleName(f"{self.noun.capitalize()} editor")
        # Asks the user yes or no (only ever before a cascading delete); replaceable, so
        # tests can answer for the user.
        self.confirm: Callable[[str, str], bool] = ask_yes_no(self)
        self.editors: dict[str, FieldEditor] = {}
        self.labels: dict[str, QLabel] = {}
        self.errors: dict[str, ErrorLabel] = {}
        self.sections: list[FormSection] = []
        self._shown: dict[str, Any] = {}
        self._loading = False
        self._live = True
        self.field_specs = {s.attr: s for s in self.specs}

        outer = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setObjectName("formHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        font = QFont(self.heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.heading.setFont(font)
        outer.addWidget(self.heading)
        self.banner = QLabel()
        self.banner.setObjectName("deletedBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.hide()
        outer.addWidget(self.banner)
        if any(s.required for s in self.specs):
            self.required_note = QLabel(REQUIRED_NOTE)
            self.required_note.setObjectName("requiredNote")
            outer.addWidget(self.required_note)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(self.form)
        for spec in self.specs:
            self._add_field(spec)
        self._body = QVBoxLayout()
        outer.addLayout(self._body)
        self._button_rows = QVBoxLayout()
        outer.addLayout(self._button_rows)
        self._button_groups: list[list[QPushButton]] = []
        self._button_row_layouts: list[QHBoxLayout] = []
        self.message = ErrorLabel(f"{self.noun.capitalize()} error")
        self.message.setObjectName("formError")
        outer.addWidget(self.message)
        outer.addStretch(1)

        self.build()
        if self.can_delete:
            self.delete_button = self.add_button(f"Delete {self.noun}", self.delete_record)
        for row in self._button_row_layouts:
            row.addStretch(1)
        document.changed.connect(self._on_changed)
        self.reload()
        self._apply_tab_order()

    # -- building -------------------------------------------------------------------

    def build(self) -> None:
        """Subclasses add sections (:meth:`add_section`) and buttons (:meth:`add_button`)."""

    def _column_length(self, attr: str) -> int | None:
        column = self.record_class.__table__.columns.get(attr)
        length = getattr(column.type, "length", None) if column is not None else None
        return length if isinstance(length, int) else None

    def _add_field(self, spec: FieldSpec) -> None:
        editor = make_editor(
            spec, max_length=self._column_length(spec.attr), today=self.today, parent=self
        )
        label = QLabel(required_label(spec.label) if spec.required else spec.label)
        label.setBuddy(editor.input)
        label.setObjectName(f"{spec.attr}Label")
        if spec.required:
            editor.input.setAccessibleDescription(
                "Required" + (f". {spec.help}" if spec.help else "")
            )
        error = ErrorLabel(f"{spec.label} error")
        error.setObjectName(f"{spec.attr}Error")
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(editor.container)
        column.addWidget(error)
        self.form.addRow(label, cell)
        self.editors[spec.attr] = editor
        self.labels[spec.attr] = label
        self.errors[spec.attr] = error
        editor.committed.connect(lambda attr=spec.attr: self.commit(attr))

    def add_section(self, section: FormSection) -> FormSection:
        self._body.addWidget(section)
        self.sections.append(section)
        return section

    def add_button(self, text: str, slot: Callable[[], object], *, group: int = 0) -> QPushButton:
        """A button in row ``group`` of the form's buttons (row 0 ends with Delete)."""
        button = QPushButton(text)
        button.setAccessibleName(text)
        button.setObjectName(
            "".join(w.capitalize() if i else w.lower() for i, w in enumerate(text.split()))
            + "Button"
        )
        button.clicked.connect(lambda _checked=False: slot())
        while len(self._button_groups) <= group:
            self._button_groups.append([])
            self._button_row_layouts.append(QHBoxLayout())
            self._button_rows.addLayout(self._button_row_layouts[-1])
        self._button_row_layouts[group].addWidget(button)
        self._button_groups[group].append(button)
        return button

    @property
    def buttons(self) -> list[QPushButton]:
        """The form's buttons in visual order: row by row, left to right."""
        return [button for group in self._button_groups for button in group]

    def tab_sequence(self) -> list[QWidget]:
        """The widgets Tab visits, in the order it visits them (the visual order)."""
        widgets = [w for spec in self.specs for w in self.editors[spec.attr].focus_widgets()]
        for section in self.sections:
            widgets.extend(section.focus_widgets())
        widgets.extend(self.buttons)
        return widgets

    def _apply_tab_order(self) -> None:
        sequence = self.tab_sequence()
        for first, second in itertools.pairwise(sequence):
            QWidget.setTabOrder(first, second)

    # -- reading --------------------------------------------------------------------

    def heading_text(self, record: Any) -> str:
        described = str(record.describe())
        return described[:1].upper() + described[1:]

    def reload(self) -> None:
        """Show the record as stored. Never writes: widgets' signals are blocked."""
        with self.document.read() as session:
            record = session.get(self.record_class, self.record_id)
            self._loading = True
            try:
                if record is not None:
                    for spec in self.specs:
                        self._load_field(session, record, spec)
                    self.heading.setText(self.heading_text(record))
                    for section in self.sections:
                        section.record_loaded(session, record)
                    self.loaded(session, record)
            finally:
                self._loading = False
            live = record is not None and record.deleted_at is None
        self._set_live(live, missing=record is None)

    def _load_field(self, session: Session, record: Any, spec: FieldSpec) -> None:
        editor = self.editors[spec.attr]
        if spec.choices is not None:
            editor.set_choices(spec.choices(session, record))
        value = getattr(record, spec.attr)
        if spec.attr in self._shown and self._shown[spec.attr] == value:
            return  # keep what the user is correcting in a field that did not change
        editor.set_value(value)
        self._shown[spec.attr] = value
        self._clear_error(spec)

    def loaded(self, session: Session, record: Any) -> None:
        """Subclasses: follow the record in parts that are not fields."""

    def _set_live(self, live: bool, *, missing: bool) -> None:
        self._live = live
        for editor in self.editors.values():
            editor.set_enabled(live)
        for section in self.sections:
            section.set_live(live)
        for button in self.buttons:
            button.setEnabled(live)
        if missing:
            self.heading.setText(f"{self.noun.capitalize()} not found")
            self.banner.setText(f"This {self.noun} is not in the store.")
        else:
            self.banner.setText(
                f"This {self.noun} has been deleted. Edit > Undo brings it back; "
                "until then it cannot be changed."
            )
        self.banner.setVisible(not live)

    def _on_changed(self, entity: str, record_id: object) -> None:
        if record_id == self.record_id:
            self.reload()
            return
        stale = [s for s in self.specs if s.choices is not None and entity in s.depends]
        if not stale:
            return
        with self.document.read() as session:
            record = session.get(self.record_class, self.record_id)
            if record is None:
                return
            self._loading = True
            try:
                for spec in stale:
                    editor = self.editors[spec.attr]
                    assert spec.choices is not None
                    editor.set_choices(spec.choices(session, record))
                    editor.set_value(self._shown.get(spec.attr))
            finally:
                self._loading = False

    # -- writing --------------------------------------------------------------------

    def _show_error(self, spec: FieldSpec, message: str) -> None:
        self.errors[spec.attr].show_error(message)
        # Screen readers read the description with the field, so the reason is heard there.
        self.editors[spec.attr].input.setAccessibleDescription(self.errors[spec.attr].text())

    def _clear_error(self, spec: FieldSpec) -> None:
        self.errors[spec.attr].clear_error()
        described = "Required" if spec.required else ""
        if spec.help:
            described = f"{described}. {spec.help}" if described else spec.help
        self.editors[spec.attr].input.setAccessibleDescription(described)

    def parse(self, spec: FieldSpec) -> Any:
        """What the user typed in the field, as the value to store; or ValidationError."""
        value = self.editors[spec.attr].read()
        if spec.required and (value is None or value == "" or value == []):
            raise ValidationError(f"{spec.label} is required")
        if isinstance(value, str):
            check_length(spec.label, value, self._column_length(spec.attr))
            column = self.record_class.__table__.columns.get(spec.attr)
            if value == "" and column is not None and column.nullable:
                value = None
        return value

    def commit(self, attr: str) -> bool:
        """Write the field if its value changed; True if the store now holds it."""
        spec = self.field_specs[attr]
        if self._loading or not self._live:
            return False
        try:
            value = self.parse(spec)
            with self.document.read() as session:
                record = session.get(self.record_class, self.record_id)
                if record is None or record.deleted_at is not None:
                    return False
                if getattr(record, attr) == value:
                    self._clear_error(spec)
                    return True
                if spec.check is not None:
                    spec.check(session, record, value)
        except ValidationError as exc:
            if spec.kind in (Kind.CHOICE, Kind.BOOL):
                # A typed mistake stays to be corrected; a refused choice must not go on
                # showing as if it were saved.
                self.restore_field(attr)
            self._show_error(spec, str(exc))
            return False
        self._clear_error(spec)
        cls, record_id, noun = self.record_class, self.record_id, self.noun

        def work(tx: Transaction) -> None:
            record = tx.get(cls, record_id)
            if record is None or record.deleted_at is not None:
                raise DomainError(f"This {noun} has been deleted, so it cannot be changed.")
            # Again inside the transaction: someone may have taken the ref meanwhile.
            if spec.check is not None:
                spec.check(tx.session, record, value)
            if spec.write is not None:
                spec.write(tx, record, value)
            else:
                tx.update(record, **{attr: value})

        reason = run_edit(self.document, f"Change {lower_first(spec.label)}", work)
        if reason is not None:
            self.restore_field(attr)
            self._show_error(spec, reason)
            return False
        return True

    def restore_field(self, attr: str) -> None:
        """Put the stored value back into a field (after a refused edit)."""
        spec = self.field_specs[attr]
        with self.document.read() as session:
            record = session.get(self.record_class, self.record_id)
            if record is None:
                return
            self._loading = True
            try:
                value = getattr(record, attr)
                self.editors[attr].set_value(value)
                self._shown[attr] = value
            finally:
                self._loading = False
        self._clear_error(spec)

    def add_record(self, text: str, make: Callable[[Transaction], Record]) -> uuid.UUID | None:
        """Create a record in one undoable edit; announce it so the window can select it."""
        made: list[tuple[str, uuid.UUID]] = []

        def work(tx: Transaction) -> None:
            record = make(tx)
            made.append((record.__tablename__, record.id))

        reason = run_edit(self.document, text, work)
        if reason is not None or not made:
            self.message.show_error(reason or "Nothing was added.")
            return None
        self.message.clear_error()
        entity, new_id = made[0]
        self.record_added.emit(entity, new_id)
        return new_id

    def cascade_question(self, session: Session, record: Any) -> str | None:
        """The question to ask before deleting ``record`` with what it owns; None means
        its children must be deleted first (the default: only an action's own updates
        go with it)."""
        return None

    def delete_record(self) -> bool:
        """Tombstone the record. Refused, with the reason shown, while live records
        refer to it; a cascade is only ever offered where :meth:`cascade_question` says."""
        cascade = False
        question: str | None = None
        with self.document.read() as session:
            record = session.get(self.record_class, self.record_id)
            if record is None or record.deleted_at is not None:
                return False
            what = record.describe()
            probe = Transaction(session)
            try:
                probe.delete_plan(record)
            except DeleteBlockedError as blocked:
                question = self.cascade_question(session, record)
                if question is None:
                    self.message.show_error(str(blocked))
                    return False
                try:
                    probe.delete_plan(record, cascade=True)
                except DeleteBlockedError as still_blocked:
                    self.message.show_error(str(still_blocked))
                    return False
                cascade = True
        if cascade and question is not None and not self.confirm(f"Delete {what}?", question):
            return False
        cls, record_id = self.record_class, self.record_id

        def work(tx: Transaction) -> None:
            record = tx.get(cls, record_id)
            if record is None:
                raise DomainError(f"The {self.noun} is not in the store.")
            tx.delete(record, cascade=cascade)

        reason = run_edit(self.document, f"Delete {what}", work)
        if reason is not None:
            self.message.show_error(reason)
            return False
        self.message.clear_error()
        self.record_deleted.emit(self.entity, self.record_id)
        return True
