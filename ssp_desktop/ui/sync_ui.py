"""Sharing updates in the window: export a bundle, import one, resolve conflicts.

* :class:`ExportBundleDialog`: on a lead copy, its changes for the master; on the master,
  a bundle for a person and their themes or single actions (their starter bundle the
  first time).
* :class:`ImportBundleWizard`: choose a file, see the preview (new, updated, unchanged,
  conflicting, rejected), apply it with a progress bar and Cancel, read the summary.
* :class:`ConflictsDialog`: every waiting conflict with the base, this copy's (as it is
  now) and the incoming value side by side, who and when; each resolved by keeping
  mine, taking theirs or editing, a decision the domain services make (so it ends the
  undo history by itself, and every view hears of it).
* the status bar's conflict count ("3 conflicts") is ``copy_status.ConflictBadge``.

Reading, previewing, exporting and importing run off the UI thread (``ui/workers``);
the work opens its own sessions from the store and hands back plain values.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.errors import SspError
from ssp_desktop.domain.records import Action, Person, Plan, Priority, PriorityArea
from ssp_desktop.domain.sync_records import KEY_ACTIVE, ROLE_LEAD, SyncKey, SyncLead
from ssp_desktop.progress import Progress
from ssp_desktop.store.engine import Store
from ssp_desktop.sync import conflicts as conflict_api
from ssp_desktop.sync.bundle import Bundle
from ssp_desktop.sync.container import EXTENSION
from ssp_desktop.sync.export import ExportResult, export_changes, export_snapshot
from ssp_desktop.sync.importer import (
    ImportResult,
    import_bundle,
    needs_master_fingerprint,
    preview_bundle,
    read_sealed,
)
from ssp_desktop.sync.preview import DUPLICATE, HELD, NOTHING, OLDER, Preview, describe
from ssp_desktop.ui.copy_status import is_lead_copy
from ssp_desktop.ui.dialogs import MessageLabel
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.import_preview import ImportPreviewTable, lines_from_bundle
from ssp_desktop.ui.keys_ui import MasterFingerprintDialog
from ssp_desktop.ui.workers import Job, run_job

BUNDLE_FILTER = f"ssp-desktop bundles (*{EXTENSION});;All files (*)"


def _file_row(edit: QLineEdit, browse: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return row


# --------------------------------------------------------------------------- export


class ExportBundleDialog(QDialog):
    """Export a bundle from the open store; ``exported`` carries the result."""

    exported = Signal(object)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.lead = is_lead_copy(store)
        self.result_: ExportResult | None = None
        self.job: Job | None = None
        self.setWindowTitle("Export bundle")
        self.setAccessibleName("Export bundle")
        form = QFormLayout(self)
        if self.lead:
            intro = QLabel(
                "A bundle of every change you have made that the strategy team has not yet "
                "confirmed. Send it to them; sending it again, or a later one, is safe."
            )
        else:
            intro = QLabel(
                "A bundle for a lead: their themes of the plan, or single actions (for an "
                "action lead), as this master copy has them. The first one makes their "
                "copy; later ones bring it up to date."
            )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.person = QComboBox()
        self.person.setAccessibleName("Person")
        self.plan = QComboBox()
        self.plan.setAccessibleName("Plan")
        self.themes = QListWidget()
        self.themes.setAccessibleName("Themes")
        self.action_list = QListWidget()
        self.action_list.setAccessibleName("Actions")
        self.action_list.setAccessibleDescription(
            "Single actions their copy holds, beside or instead of whole themes"
        )
        self.enrolment = QLabel()
        self.enrolment.setWordWrap(True)
        self.enrolment.setAccessibleName("Enrolment of the person")
        if not self.lead:
            with store.session() as s:
                for p in s.scalars(
                    select(Person)
                    .where(Person.deleted_at.is_(None), Person.email.is_not(None))
                    .order_by(Person.name)
                ):
                    self.person.addItem(f"{p.name} <{p.email}>", str(p.id))
                for plan in s.scalars(
                    select(Plan).where(Plan.deleted_at.is_(None)).order_by(Plan.start_year.desc())
                ):
                    self.plan.addItem(plan.title, str(plan.id))
            form.addRow("&Person:", self.person)
            form.addRow(self.enrolment)
            form.addRow("P&lan:", self.plan)
            form.addRow("&Themes:", self.themes)
            form.addRow("&Actions:", self.action_list)
            self.person.currentIndexChanged.connect(self._fill_scope)
            self.plan.currentIndexChanged.connect(self._fill_scope)
            self._fill_scope()
        self.path = QLineEdit(str(Path.home() / f"plan{EXTENSION}"))
        self.path.setAccessibleName("Bundle file")
        browse = QPushButton("Bro&wse…")
        browse.setAccessibleName("Choose where to save the bundle")
        browse.clicked.connect(self._browse)
        # A label with a buddy: given a layout, QFormLayout showed "&File:" literally.
        file_label = QLabel("&File:")
        file_label.setBuddy(self.path)
        form.addRow(file_label, _file_row(self.path, browse))
        self.message = MessageLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Export result")
        form.addRow(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("&Export")
        ok.setAccessibleName("Export")
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def _fill_scope(self) -> None:
        """The plan's themes and actions, ticked as the person's copy holds them; for
        someone without a copy yet, the themes they lead, else the actions they lead
        (what the export does when told neither)."""
        self.themes.clear()
        self.action_list.clear()
        plan_id = self.plan.currentData()
        person_id = self.person.currentData()
        if plan_id is None:
            return
        with self.store.session() as s:
            self.enrolment.setText(_enrolment_text(s, person_id))
            lead = None
            if person_id is not None:
                lead = s.scalar(
                    select(SyncLead).where(
                        SyncLead.plan_id == uuid.UUID(plan_id),
                        SyncLead.person_id == uuid.UUID(person_id),
                    )
                )
            priorities = s.scalars(
                select(Priority)
                .where(Priority.plan_id == uuid.UUID(plan_id), Priority.deleted_at.is_(None))
                .order_by(Priority.position, Priority.code)
            ).all()
            actions = s.scalars(  # in the plan's order, as the navigator shows them
                select(Action)
                .join(PriorityArea, Action.priority_area_id == PriorityArea.id)
                .join(Priority, PriorityArea.priority_id == Priority.id)
                .where(Action.plan_id == uuid.UUID(plan_id), Action.deleted_at.is_(None))
                .order_by(
                    Priority.position,
                    Priority.code,
                    PriorityArea.position,
                    Action.position,
                    Action.ref,
                )
            ).all()
            if lead is not None:
                themes, singles = set(lead.themes), set(lead.actions or ())
            else:
                themes = {str(p.id) for p in priorities if str(p.lead_person_id) == person_id}
                singles = (
                    set()
                    if themes
                    else {str(a.id) for a in actions if str(a.lead_person_id) == person_id}
                )
            for priority in priorities:
                self.themes.addItem(
                    _checkable(
                        f"{priority.code} — {priority.title}",
                        priority.code,
                        str(priority.id) in themes,
                    )
                )
            for action in actions:
                self.action_list.addItem(
                    _checkable(
                        f"{action.ref} — {action.title}", action.ref, str(action.id) in singles
                    )
                )
        # A plan has a few themes and many actions: the themes list takes what it needs.
        rows = min(max(self.themes.count(), 1), 6)
        self.themes.setMaximumHeight(
            self.themes.sizeHintForRow(0) * rows + 2 * self.themes.frameWidth() + 4
        )

    def chosen_themes(self) -> list[str]:
        return _checked(self.themes)

    def chosen_actions(self) -> list[str]:
        return _checked(self.action_list)

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the bundle", self.path.text(), BUNDLE_FILTER
        )
        if name:
            self.path.setText(name)

    def export(self) -> None:
        out = Path(self.path.text()).expanduser()
        if out.suffix != EXTENSION:
            out = out.with_name(out.name + EXTENSION)
            self.path.setText(str(out))
        store = self.store
        if self.lead:

            def work(progress: Progress) -> ExportResult:
                return export_changes(store, out, progress=progress)

        else:
            person, plan, themes, actions = (
                self.person.currentData(),
                self.plan.currentData(),
                self.chosen_themes(),
                self.chosen_actions(),
            )
            if person is None or not (themes or actions):
                self.message.setText("Choose a person and at least one theme or action.")
                return

            def work(progress: Progress) -> ExportResult:
                return export_snapshot(
                    store,
                    out,
                    person=person,
                    themes=themes,
                    actions=actions,
                    plan=plan,
                    progress=progress,
                )

        self.job, _dialog = run_job(self, work, title="Export bundle", label="Writing the bundle…")
        self.job.succeeded.connect(self._done)
        self.job.failed.connect(lambda message, _details: self.message.setText(message))

    def _done(self, result: object) -> None:
        assert isinstance(result, ExportResult)
        self.result_ = result
        self.message.setText(result.describe())
        self.exported.emit(result)


def _checkable(text: str, key: str, checked: bool) -> QListWidgetItem:
    item = QListWidgetItem(text)
    item.setData(Qt.ItemDataRole.UserRole, key)
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
    return item


def _checked(items: QListWidget) -> list[str]:
    return [
        items.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(items.count())
        if items.item(i).checkState() == Qt.CheckState.Checked
    ]


def _enrolment_text(session: Session, person_id: str | None) -> str:
    """Whether the person can be sent a bundle (it is encrypted to their enrolled key)."""
    if person_id is None:
        return ""
    key = session.scalar(
        select(SyncKey).where(
            SyncKey.person_id == uuid.UUID(person_id),
            SyncKey.role == ROLE_LEAD,
            SyncKey.status == KEY_ACTIVE,
        )
    )
    if key is None:
        return (
            "Not enrolled: ask them for a join request and enrol it (File > Enrol a lead…) "
            "before exporting their bundle."
        )
    return f"Enrolled; the bundle is encrypted to their key {key.fingerprint}."


# --------------------------------------------------------------------------- import


class _FilePage(QWizardPage):
    def __init__(self, wizard: ImportBundleWizard) -> None:
        super().__init__(wizard)
        self.setTitle("Choose the bundle")
        self.setSubTitle("A .sspbundle file from the strategy team or a theme lead.")
        self.path = QLineEdit()
        self.path.setAccessibleName("Bundle file")
        self.path.textChanged.connect(self.completeChanged)
        browse = QPushButton("Bro&wse…")
        browse.setAccessibleName("Choose a bundle file")
        browse.clicked.connect(self._browse)
        layout = QVBoxLayout(self)
        layout.addLayout(_file_row(self.path, browse))

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import a bundle", "", BUNDLE_FILTER)
        if name:
            self.path.setText(name)

    def isComplete(self) -> bool:
        return Path(self.path.text()).is_file()


class _PreviewPage(QWizardPage):
    def __init__(self, wizard: ImportBundleWizard) -> None:
        super().__init__(wizard)
        self._wizard = wizard
        self.setTitle("What the import will do")
        self.setSubTitle("Nothing has been changed yet.")
        # The bundle, its counts and warnings; then every change in the shared table.
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Import preview summary")
        self.text.setMaximumHeight(110)
        # Made without a parent, so it joins the Tab chain after the summary above it
        # (a widget joins the chain when it gets its parent).
        self.table = ImportPreviewTable()
        # A lead's bundle deleting many records is held until someone here says so.
        self.confirm_deletions = QCheckBox(
            "&Delete them: I have checked with the lead that these deletions are meant"
        )
        self.confirm_deletions.setAccessibleName("Confirm the deletions")
        self.confirm_deletions.setVisible(False)
        self.confirm_deletions.toggled.connect(self._held_toggled)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.confirm_deletions)
        self.ready = False
        self.held = False

    def initializePage(self) -> None:
        self.ready = self.held = False
        self.confirm_deletions.setChecked(False)
        self.confirm_deletions.setVisible(False)
        self.text.setPlainText("Reading and checking the bundle…")
        self._wizard.start_preview()

    def show_preview(self, preview: Preview) -> None:
        # The summary without its list of records: the table below lists them.
        summary = [line for line in describe(preview).splitlines() if not line.startswith("  ")]
        self.text.setPlainText("\n".join(summary))
        self.table.set_lines(lines_from_bundle(preview))
        self.held = preview.status == HELD
        self.confirm_deletions.setVisible(self.held)
        self.ready = preview.status not in (DUPLICATE, OLDER, HELD)
        if self.held:
            self.setSubTitle("This bundle deletes many records: it waits for your confirmation.")
        elif not self.ready:
            self.setSubTitle("There is nothing to import.")
        self.completeChanged.emit()

    def _held_toggled(self, checked: bool) -> None:
        if self.held:
            self.ready = checked
            self.completeChanged.emit()

    def show_error(self, message: str) -> None:
        self.text.setPlainText(message)
        self.ready = False
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.ready


class _SummaryPage(QWizardPage):
    def __init__(self, wizard: ImportBundleWizard) -> None:
        super().__init__(wizard)
        self._wizard = wizard
        self.setTitle("Import")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Import summary")
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        self.done_ = False
        self.setFinalPage(True)

    def initializePage(self) -> None:
        self.done_ = False
        self.text.setPlainText("Importing…")
        self._wizard.start_import()

    def show_result(self, text: str) -> None:
        self.text.setPlainText(text)
        self.done_ = True
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.done_


class ImportBundleWizard(QWizard):
    """File, preview, apply (with progress and Cancel), summary. ``imported`` carries
    the :class:`ImportResult` once a bundle has been applied."""

    imported = Signal(object)

    def __init__(
        self, store: Store, parent: QWidget | None = None, *, path: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.bundle: Bundle | None = None
        self.result_: ImportResult | None = None
        self.job: Job | None = None
        self.master_check: MasterFingerprintDialog | None = None
        self.setWindowTitle("Import bundle")
        self.setAccessibleName("Import bundle")
        # Once imported there is nothing to cancel or go back to: Finish only.
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.file_page = _FilePage(self)
        self.preview_page = _PreviewPage(self)
        self.summary_page = _SummaryPage(self)
        for page in (self.file_page, self.preview_page, self.summary_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Import")
        self.preview_page.setCommitPage(True)
        if path is not None:
            # Opened from a file (double-click or ``ssp-desktop FILE``): the file is chosen.
            self.file_page.path.setText(str(path))

    def start_preview(self) -> None:
        path = Path(self.file_page.path.text())
        store = self.store

        def work(progress: Progress) -> tuple[Bundle, Preview]:
            progress.step(0, 0, "Reading and checking the bundle…")
            bundle = read_sealed(path, store)  # opened and its signer checked first
            return bundle, preview_bundle(store, bundle, progress=progress)

        self.job = Job(work, self)
        self.job.succeeded.connect(self._previewed)
        self.job.failed.connect(lambda message, _d: self.preview_page.show_error(message))
        self.job.start()

    def _previewed(self, result: object) -> None:
        assert isinstance(result, tuple)
        bundle, preview = result
        assert isinstance(bundle, Bundle) and isinstance(preview, Preview)
        self.bundle = bundle
        self.preview_page.show_preview(preview)

    def start_import(self) -> None:
        bundle, store = self.bundle, self.store
        assert bundle is not None
        if needs_master_fingerprint(store, bundle) and bundle.sealed is not None:
            # A first starter: this copy trusts its signer only once the lead has checked
            # the fingerprint with the strategy team.
            dialog = MasterFingerprintDialog(bundle.sealed.signer.fingerprint, self)
            dialog.confirmed.connect(self._run_import)
            dialog.rejected.connect(
                lambda: self.summary_page.show_result("Cancelled. Nothing was changed.")
            )
            self.master_check = dialog
            dialog.open()
            return
        self._run_import(None)

    def _run_import(self, master_fingerprint: str | None) -> None:
        bundle, store = self.bundle, self.store
        assert bundle is not None
        name = Path(self.file_page.path.text()).name
        confirm = self.preview_page.held and self.preview_page.confirm_deletions.isChecked()

        def work(progress: Progress) -> ImportResult:
            return import_bundle(
                store,
                bundle,
                file_name=name,
                progress=progress,
                confirm_deletions=confirm,
                master_fingerprint=master_fingerprint,
            )

        self.job, _dialog = run_job(self, work, title="Import bundle", label="Importing…")
        self.job.succeeded.connect(self._imported)
        self.job.failed.connect(
            lambda message, _d: self.summary_page.show_result(f"Not imported: {message}")
        )
        self.job.cancelled.connect(
            lambda: self.summary_page.show_result("Cancelled. Nothing was changed.")
        )

    def _imported(self, result: object) -> None:
        assert isinstance(result, ImportResult)
        self.result_ = result
        lines = [describe(result.preview, limit=100)]
        if result.preview.status == NOTHING:
            lines.append("Nothing was changed.")
        elif result.backups is not None:
            lines.extend(result.backups.lines())
        if result.conflicts_waiting:
            lines.append(
                f"{result.conflicts_waiting} conflict(s) wait for a decision (the Conflicts "
                "button in the status bar)."
            )
        lines.extend(f"Check: {p}" for p in result.problems)
        self.summary_page.show_result("\n".join(lines))
        self.imported.emit(result)


# --------------------------------------------------------------------------- conflicts


def _document_of(parent: QWidget | None, store: Store) -> PlanDocument | None:
    """The open document of the window the dialog belongs to, if it is this store's."""
    document = getattr(parent, "document", None)
    return document if isinstance(document, PlanDocument) and document.store is store else None


class ConflictsDialog(QDialog):
    """The waiting conflicts; ``resolved(entity, record_id)`` after each decision.

    "This copy" is the record's value now (the value "keep mine" keeps): read when the
    list is shown and again whenever the document announces a commit, from whichever
    writer (an edit in the window, an import, a decision made here).
    """

    resolved = Signal(str, object)

    def __init__(
        self,
        store: Store,
        parent: QWidget | None = None,
        *,
        document: PlanDocument | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.lead = is_lead_copy(store)
        self.document = document or _document_of(parent, store)
        self.setWindowTitle("Conflicts")
        self.setAccessibleName("Conflicts")
        self.resize(820, 480)
        self.list = QListWidget()
        self.list.setAccessibleName("Waiting conflicts")
        self.list.currentRowChanged.connect(self._show)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setAccessibleName("Conflict")
        grid = QGridLayout()
        self.values: dict[str, QPlainTextEdit] = {}
        titles = (
            ("base", "Base (before either change)"),
            ("local", "This copy" + (" (yours)" if self.lead else " (master)")),
            ("incoming", "Incoming" + (" (master)" if self.lead else " (lead)")),
        )
        for column, (key, title) in enumerate(titles):
            label = QLabel(f"<b>{title}</b>")
            box = QPlainTextEdit()
            box.setReadOnly(True)
            box.setAccessibleName(title)
            label.setBuddy(box)
            grid.addWidget(label, 0, column)
            grid.addWidget(box, 1, column)
            self.values[key] = box
        self.who = QLabel()
        self.who.setAccessibleName("Who and when")
        self.mine = QPushButton("&Keep mine")
        self.mine.setAccessibleName("Keep this copy's value")
        self.theirs = QPushButton("&Take theirs")
        self.theirs.setAccessibleName("Take the incoming value")
        self.edit = QPushButton("&Edit…")
        self.edit.setAccessibleName("Write another value")
        self.mine.clicked.connect(lambda: self.choose(conflict_api.MINE))
        self.theirs.clicked.connect(lambda: self.choose(conflict_api.THEIRS))
        self.edit.clicked.connect(self._edit)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Conflict error")
        buttons = QHBoxLayout()
        for b in (self.mine, self.theirs, self.edit):
            buttons.addWidget(b)
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.heading)
        layout.addLayout(grid, 2)
        layout.addWidget(self.who)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.conflicts: list[conflict_api.ConflictView] = []
        self.reload()
        if self.document is not None:
            self.document.committed.connect(self._on_committed)

    def reload(self) -> None:
        """Read the waiting conflicts, with this copy's values as they are now; the
        conflict shown stays shown while it waits."""
        shown = self.current.id if self.current is not None else None
        self.conflicts = conflict_api.list_conflicts(self.store)
        self.list.blockSignals(True)
        self.list.clear()
        for c in self.conflicts:
            self.list.addItem(f"{c.label}: {c.field_label}")
        self.list.blockSignals(False)
        ids = [c.id for c in self.conflicts]
        row = ids.index(shown) if shown in ids else 0 if ids else -1
        self.list.setCurrentRow(row)
        self._show(row)

    def _on_committed(self, _committed: object) -> None:
        self.reload()

    @property
    def current(self) -> conflict_api.ConflictView | None:
        row = self.list.currentRow()
        return self.conflicts[row] if 0 <= row < len(self.conflicts) else None

    def _show(self, row: int) -> None:
        c = self.conflicts[row] if 0 <= row < len(self.conflicts) else None
        for b in (self.mine, self.theirs, self.edit):
            b.setEnabled(c is not None)
        if c is None:
            self.heading.setText("No conflicts are waiting.")
            for box in self.values.values():
                box.setPlainText("")
            self.who.setText("")
            return
        from ssp_desktop.sync.preview import KIND_TEXT

        self.heading.setText(f"<b>{c.label}</b>, {c.field_label}: {KIND_TEXT.get(c.kind, c.kind)}")
        self.values["base"].setPlainText(c.base)
        self.values["local"].setPlainText(c.local)
        self.values["incoming"].setPlainText(c.incoming)
        clock = (
            " (their computer's clock was ahead: this time is not reliable)"
            if c.clock_ahead
            else ""
        )
        self.who.setText(f"Incoming value by {c.incoming_actor}, {c.incoming_at}{clock}")
        self.edit.setEnabled(c.editable)

    def choose(self, choice: str, value: Any = None) -> bool:
        c = self.current
        if c is None:
            return False
        try:
            conflict_api.resolve(self.store, c.id, choice, value=value)
        except SspError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        self.resolved.emit(c.entity, c.record_id)
        self.reload()
        return True

    def _edit(self) -> None:
        c = self.current
        if c is None:
            return
        text, ok = QInputDialog.getText(self, "Edit value", f"New {c.field_label}:", text=c.local)
        if ok:
            self.choose(conflict_api.EDIT, parse_value(text))


def parse_value(text: str) -> Any:
    """A typed value from what a person typed: a number if it reads as one, else text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, int | float) and not isinstance(value, bool) else text
