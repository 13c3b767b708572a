"""The record form: a list of field specs bound to one record, its sections and buttons.

Saving model (README "Saving and undo"): a field is written when the user leaves it
(``editingFinished``, a combo's ``activated``, a checkbox clicked, a date edited and
left) as one undoable edit through :meth:`PlanDocument.edit`. There is no Save
button. A form re-reads its record whenever ``document.changed`` names it (an undo, a
redo, an edit made elsewhere) with its widgets' signals blocked, so re-reading never
writes. What a user typed is checked first (:mod:`ssp_desktop.domain.validation`, then
the record's rules through :func:`ssp_desktop.services.check_field`): a mistake is
explained under the field ("Error: ...") and nothing is written. The write itself is
:func:`ssp_desktop.services.edit`, which runs the same rules again inside the
transaction; an edit the store refuses puts the stored value back and shows the reason
the same way. Records are added and deleted through the services too.

Accessibility: every input has its label as accessible name and a QLabel buddy;
required fields are marked with ``style.required`` and explained once at the top;
errors are words, never colour alone; tab order is the visual order.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractItemModel, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import (
    DeleteBlockedError,
    DomainError,
    EditConflictError,
    FieldConflict,
)
from ssp_desktop.domain.validation import ValidationError, check_length, text_limit
from ssp_desktop.services import authority
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms.editors import ErrorLabel, FieldEditor, make_editor
from ssp_desktop.ui.forms.fields import REQUIRED_NOTE, FieldSpec, Kind, lower_first
from ssp_desktop.ui.style import required as required_label


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


# --------------------------------------------------------------------------- sections


class FormSection(QGroupBox):
    """A part of a form beyond its plain fields: a grid, a checkable list, a sub-form.

    Sections keep themselves up to date from ``document.changed``; the form tells them
    when its record is deleted or restored, and gathers their widgets for tab order.
    """

    # The records the section writes (a targets grid: MeasureTarget); where only the
    # master copy writes them, a lead copy shows the section read-only.
    writes: type[Record] | None = None

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setAccessibleName(title)

    def focus_widgets(self) -> list[QWidget]:
        return []

    def set_live(self, live: bool) -> None:
        self.setEnabled(live)

    def record_loaded(self, session: Session, record: Any) -> None:
        """The form's record was (re)read: follow it where the section depends on it."""

    def show_model(self, view: QAbstractItemView, model: QAbstractItemModel) -> None:
        """Show ``model`` in ``view``, named after the section; the section owns the
        model, so they live and die together."""
        model.setParent(self)
        title = self.title()
        view.setObjectName("".join(w.capitalize() for w in title.split()) + "View")
        view.setAccessibleName(title)
        view.setModel(model)


# --------------------------------------------------------------------------- several writers


class ConflictPanel(QFrame):
    """Shown in a form when another writer changed a field while the user was editing
    it: who, their value and yours in words, and the two ways on ("Keep theirs",
    "Write mine"). Keyboard reachable: the panel takes focus on its first button."""

    keep_theirs = Signal()
    write_mine = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictPanel")
        self.setAccessibleName("Changed by someone else")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.conflict: FieldConflict | None = None
        layout = QVBoxLayout(self)
        self.text = QLabel()
        self.text.setObjectName("conflictText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.text)
        row = QHBoxLayout()
        self.theirs_button = QPushButton("Keep theirs")
        self.theirs_button.setObjectName("keepTheirsButton")
        self.mine_button = QPushButton("Write mine")
        self.mine_button.setObjectName("writeMineButton")
        for button in (self.theirs_button, self.mine_button):
            button.setAccessibleName(button.text())
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.theirs_button.clicked.connect(lambda _checked=False: self.keep_theirs.emit())
        self.mine_button.clicked.connect(lambda _checked=False: self.write_mine.emit())
        self.hide()

    def show_conflict(self, conflict: FieldConflict) -> None:
        self.conflict = conflict
        c = conflict
        self.text.setText(
            f"Warning: the {c.label} was changed by {c.by} while you were editing it.\n"
            f"Theirs: {c.theirs_words}\nYours: {c.yours_words}\n"
            "Nothing of yours is saved yet: keep theirs, or write yours over it."
        )
        self.setAccessibleDescription(self.text.text())
        self.theirs_button.setAccessibleName(f"Keep theirs: {c.theirs_words}")
        self.mine_button.setAccessibleName(f"Write mine: {c.yours_words}")
        self.show()
        self.theirs_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def dismiss(self) -> None:
        self.conflict = None
        self.hide()


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
        # Why a field is read-only on this copy ("Only the master copy sets targets").
        self.locked: dict[str, str] = {}
        self.sections: list[FormSection] = []
        self._shown: dict[str, Any] = {}
        self.read_version: int | None = None
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
        # Said once for the form, not under each field: which fields this copy cannot
        # change and why. Each such field also carries its reason for screen readers.
        self.lock_note = QLabel()
        self.lock_note.setObjectName("readOnlyNote")
        self.lock_note.setAccessibleName("Read-only fields")
        self.lock_note.setWordWrap(True)
        self.lock_note.setTextFormat(Qt.TextFormat.PlainText)
        self.lock_note.hide()
        outer.addWidget(self.lock_note)
        self.conflict_panel = ConflictPanel(self)
        self.conflict_panel.keep_theirs.connect(self.keep_theirs)
        self.conflict_panel.write_mine.connect(self.write_mine)
        outer.addWidget(self.conflict_panel)
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
        return text_limit(column) if column is not None else None

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
        # What the description says whatever this copy may change (see _lock_fields).
        editor.input.setProperty("baseDescription", editor.input.accessibleDescription())
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

    @contextmanager
    def _showing(self) -> Iterator[tuple[Session, Any]]:
        """The stored record (None if it is not in the store), read while the form shows
        it: its fields' edits are not commits meanwhile."""
        with self.document.read() as session:
            record = session.get(self.record_class, self.record_id)
            self._loading = True
            try:
                yield session, record
            finally:
                self._loading = False

    def reload(self) -> None:
        """Show the record as stored. Never writes: widgets' signals are blocked."""
        with self._showing() as (session, record):
            if record is not None:
                # The version shown: a delete of a record changed since is refused.
                self.read_version = record.version
                for spec in self.specs:
                    self._load_field(session, record, spec)
                self.heading.setText(self.heading_text(record))
                for section in self.sections:
                    section.record_loaded(session, record)
                self.loaded(session, record)
            live = record is not None and record.deleted_at is None
            locked = authority.read_only_reason(session, record) if live else None
            fields: dict[str, str] = {}
            sections: list[FormSection] = []
            if live and locked is None:
                for spec in self.specs:
                    reason = authority.read_only_reason(session, record, spec.attr)
                    if reason is not None:
                        fields[spec.attr] = reason
                sections = [
                    s
                    for s in self.sections
                    if s.writes is not None
                    and authority.read_only_reason(session, s.writes(), None) is not None
                ]
        self._set_live(live and locked is None, missing=record is None, locked=locked)
        self._lock_fields(fields)
        for section in sections:
            section.set_live(False)
            section.setToolTip("Read-only on this copy: only the master copy changes it.")

    def _load_field(self, session: Session, record: Any, spec: FieldSpec) -> None:
        editor = self.editors[spec.attr]
        if spec.choices is not None:
            editor.set_choices(spec.choices(session, record))
        value = getattr(record, spec.attr)
        if spec.attr in self._shown and self._shown[spec.attr] == value:
            return  # keep what the user is correcting in a field that did not change
        if self._typing(spec, value):
            # Another writer changed the field the user is typing in: keep the typing,
            # and what was shown before it, so leaving the field offers the choice.
            return
        editor.set_value(value)
        self._shown[spec.attr] = value
        self._clear_error(spec)

    def _typing(self, spec: FieldSpec, stored: Any) -> bool:
        """Whether the field holds typing not yet saved that differs from ``stored``."""
        if spec.attr not in self._shown:
            return False
        try:
            typed = self.parse(spec)
        except ValidationError:
            return True
        return typed not in (self._shown[spec.attr], stored)

    def loaded(self, session: Session, record: Any) -> None:
        """Subclasses: follow the record in parts that are not fields."""

    def _lock_fields(self, reasons: dict[str, str]) -> None:
        """Show the fields only the master copy sets read-only, each with the reason."""
        self.locked = reasons
        for spec in self.specs:
            reason = reasons.get(spec.attr)
            editor = self.editors[spec.attr]
            if reason is not None:
                editor.set_enabled(False)
            editor.input.setToolTip(reason or "")
            base = editor.input.property("baseDescription") or ""
            if reason:
                base = f"{base}. Read-only: {reason}" if base else f"Read-only: {reason}"
            editor.input.setAccessibleDescription(base)
        words: list[str] = []
        for reason in reasons.values():
            what = reason.removeprefix("Only the master copy ")
            if what not in words:
                words.append(what)
        if words:
            listed = ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]
            names = [s.label for s in self.specs if s.attr not in reasons]
            self.lock_note.setText(
                f"Read-only here: only the master copy {listed}."
                + (f" You can change: {', '.join(names)}." if names else "")
            )
        self.lock_note.setVisible(bool(words))

    def _set_live(self, live: bool, *, missing: bool, locked: str | None = None) -> None:
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
        elif locked is not None:
            self.banner.setText(locked)
        else:
            self.banner.setText(
                f"This {self.noun} has been deleted. Edit > Undo brings it back; "
                "until then it cannot be changed."
            )
        self.banner.setVisible(not live)

    def _on_changed(self, entity: str, record_id: object) -> None:
        # A plan archived or reopened makes every record of it read-only or editable.
        if record_id == self.record_id or entity == "plan":
            self.reload()
            return
        stale = [s for s in self.specs if s.choices is not None and entity in s.depends]
        if not stale:
            return
        with self._showing() as (session, record):
            if record is None:
                return
            for spec in stale:
                editor = self.editors[spec.attr]
                assert spec.choices is not None
                editor.set_choices(spec.choices(session, record))
                editor.set_value(self._shown.get(spec.attr))

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
                services.check_field(session, record, attr, value)
        except ValidationError as exc:
            if spec.kind in (Kind.CHOICE, Kind.BOOL):
                # A typed mistake stays to be corrected; a refused choice must not go on
                # showing as if it were saved.
                self.restore_field(attr)
            self._show_error(spec, str(exc))
            return False
        self._clear_error(spec)
        read = {attr: self._shown[attr]} if attr in self._shown else None
        return self._write(spec, value, read)

    def _write(self, spec: FieldSpec, value: Any, read: dict[str, Any] | None) -> bool:
        """Write ``value`` to the field, refused if it no longer holds what the form
        ``read`` (another writer changed it): then the conflict panel offers the choice."""
        attr = spec.attr
        cls, record_id, noun = self.record_class, self.record_id, self.noun
        conflicts: list[FieldConflict] = []

        def work(tx: Transaction) -> None:
            record = tx.get(cls, record_id)
            if record is None or record.deleted_at is not None:
                raise DomainError(f"This {noun} has been deleted, so it cannot be changed.")
            # The service checks again inside the transaction: someone may have taken
            # the ref meanwhile, or changed this very field since the form read it.
            try:
                services.edit(tx, record, expected=read, **{attr: value})
            except EditConflictError as exc:
                conflicts.append(exc.conflict)
                raise

        reason = run_edit(self.document, f"Change {lower_first(spec.label)}", work)
        if conflicts:
            self.conflict_panel.show_conflict(conflicts[-1])
            return False
        if reason is not None:
            self.restore_field(attr)
            self._show_error(spec, reason)
            return False
        self.conflict_panel.dismiss()
        return True

    def keep_theirs(self) -> None:
        """The conflict panel's "Keep theirs": show the stored value; nothing is written."""
        conflict = self.conflict_panel.conflict
        self.conflict_panel.dismiss()
        if conflict is not None:
            self.restore_field(conflict.field)
            self.editors[conflict.field].input.setFocus(Qt.FocusReason.OtherFocusReason)

    def write_mine(self) -> None:
        """The conflict panel's "Write mine": write the user's value over theirs, still
        compare-and-set against theirs (a third change meanwhile is shown again)."""
        conflict = self.conflict_panel.conflict
        if conflict is None:
            return
        spec = self.field_specs[conflict.field]
        if self._write(spec, conflict.yours, {conflict.field: conflict.theirs}):
            self.editors[conflict.field].input.setFocus(Qt.FocusReason.OtherFocusReason)

    def restore_field(self, attr: str) -> None:
        """Put the stored value back into a field (after a refused edit)."""
        spec = self.field_specs[attr]
        with self._showing() as (_session, record):
            if record is None:
                return
            value = getattr(record, attr)
            self.editors[attr].set_value(value)
            self._shown[attr] = value
        self._clear_error(spec)

    def add_record(self, text: str, make: Callable[[Transaction], Record]) -> uuid.UUID | None:
        """Create a record in one undoable edit (``make`` calls the service that adds it);
        announce it so the window can select it."""
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
            try:
                services.delete_plan(session, record)
            except DeleteBlockedError as blocked:
                question = self.cascade_question(session, record)
                if question is None:
                    self.message.show_error(str(blocked))
                    return False
                try:
                    services.delete_plan(session, record, cascade=True)
                except DeleteBlockedError as still_blocked:
                    self.message.show_error(str(still_blocked))
                    return False
                cascade = True
        if cascade and question is not None and not self.confirm(f"Delete {what}?", question):
            return False
        cls, record_id, read_version = self.record_class, self.record_id, self.read_version

        def work(tx: Transaction) -> None:
            record = tx.get(cls, record_id)
            if record is None:
                raise DomainError(f"The {self.noun} is not in the store.")
            services.delete(tx, record, cascade=cascade, read_version=read_version)

        reason = run_edit(self.document, f"Delete {what}", work)
        if reason is not None:
            self.message.show_error(reason)
            # Refused because someone changed it meanwhile: show what they wrote.
            self.reload()
            return False
        self.message.clear_error()
        self.record_deleted.emit(self.entity, self.record_id)
        return True
