"""The widgets of a form's fields: one :class:`FieldEditor` per :class:`FieldSpec` kind
(a line, a text area, a spin box, a date, a picker, a check box), made by
:func:`make_editor`, and the inline :class:`ErrorLabel` shown under a field.

An editor shows a value and reads back what was typed, parsed to the value to store
(a number, a date, a list of names); it never writes. It says the user has finished
with it through ``committed``; the form decides what to do then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QDate, QObject, Qt, Signal
from PySide6.QtGui import QAccessible, QAccessibleEvent, QFocusEvent, QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from ssp_desktop.domain.validation import (
    check_email,
    check_percentage,
    format_number,
    parse_money,
    parse_names,
    parse_number,
    parse_optional_number,
)
from ssp_desktop.ui.forms.fields import (
    DATE_FORMAT,
    MISSING_LABEL,
    NONE_LABEL,
    Choice,
    FieldSpec,
    Kind,
    lower_first,
)
from ssp_desktop.ui.style import error_stylesheet


def to_qdate(value: dt.date) -> QDate:
    return QDate(value.year, value.month, value.day)


def from_qdate(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


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

    def set_error(self, message: str) -> None:
        """Show ``message``, or nothing when it is "" (a model's ``error_changed``)."""
        if message:
            self.show_error(message)
        else:
            self.clear_error()


def cap_length(edit: QPlainTextEdit, limit: int) -> None:
    """Hold ``edit`` to ``limit`` characters, as ``QLineEdit.setMaxLength`` does: typing
    past it does nothing and a paste is cut short where it was inserted, so the text
    always fits the field it is saved to (the domain refuses more; see
    ``domain.validation.text_limit``). The limit is told to screen readers too."""

    def trim() -> None:
        excess = len(edit.toPlainText()) - limit
        if excess <= 0:
            return
        cursor = edit.textCursor()
        end = cursor.position()
        # What was just typed or pasted ends at the cursor; remove its tail.
        start = max(0, end - excess)
        if end - start < excess:  # a change made elsewhere (set_text): cut the end
            cursor.movePosition(QTextCursor.MoveOperation.End)
            end = cursor.position()
            start = max(0, end - excess)
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        edit.setTextCursor(cursor)

    edit.textChanged.connect(trim)
    note = f"At most {limit:,} characters"
    described = edit.accessibleDescription()
    edit.setAccessibleDescription(f"{described}. {note}" if described else note)
    edit.setToolTip(f"{edit.toolTip()}\n{note}" if edit.toolTip() else note)


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
    def __init__(self, spec: FieldSpec, max_length: int | None, parent: QObject | None) -> None:
        super().__init__(spec, parent)
        self.edit = PlainTextEdit()
        self.edit.setMinimumHeight(60)
        self.edit.setMaximumHeight(120)
        self.input = self.container = self.edit
        self._name(self.edit)
        if max_length:
            cap_length(self.edit, max_length)
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
        return TextAreaEditor(spec, max_length, parent)
    if spec.kind is Kind.INT:
        return SpinEditor(spec, parent)
    if spec.kind is Kind.DATE:
        return DateEditor(spec, today, parent)
    if spec.kind is Kind.CHOICE:
        return ComboEditor(spec, parent)
    if spec.kind is Kind.BOOL:
        return CheckEditor(spec, parent)
    return LineEditor(spec, max_length if spec.kind is Kind.TEXT else None, parent)
