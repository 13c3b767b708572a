"""File > Import spreadsheet and File > Export workbook.

The import is a wizard: choose the file (and what it holds); check what each column
means; say what to do with names the plan does not know; read the preview, row by row;
import. Reading, the preview and the import itself run off the UI thread (``workers``)
with a progress bar and Cancel; the worker opens its own sessions from the store and
hands back plain values. The import is one transaction: cancelled or refused, nothing
is written. After it, the main window re-reads the plan (``PlanDocument.reload``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ssp_desktop.domain.errors import SspError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.progress import Progress
from ssp_desktop.queries.quarter_status import plan_quarters, reporting_quarter
from ssp_desktop.spreadsheets import importing
from ssp_desktop.spreadsheets.mapping import Mapping, targets
from ssp_desktop.spreadsheets.plan import ImportPlan, ImportResult
from ssp_desktop.spreadsheets.workbook import ExportResult, choose_plan, export_workbook
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.import_preview import (
    CONFLICT_WORD,
    REFUSED_WORD,
    ImportPreviewTable,
    lines_from_rows,
)
from ssp_desktop.ui.style import error_stylesheet
from ssp_desktop.ui.workers import Job, run_job

SPREADSHEET_FILTER = "Spreadsheets (*.xlsx *.xlsm *.csv);;All files (*)"
MAPPING_FILTER = "Saved mappings (*.json);;All files (*)"
WORKBOOK_FILTER = "Excel workbook (*.xlsx)"
CREATE = "\x00create"  # the "create it" choice for an unknown name


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setObjectName("importError")
    label.setAccessibleName("Problem")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet(error_stylesheet(parent))
    label.hide()
    return label


def _show_error(label: QLabel, text: str) -> None:
    label.setText(f"Error: {text}" if text else "")
    label.setVisible(bool(text))


# --------------------------------------------------------------------------- the wizard


class ImportWizard(QWizard):
    """Import an action tracker or measure data into one plan."""

    imported = Signal(object)  # ImportResult, once applied

    FILE, MAPPING, NAMES, PREVIEW, SUMMARY = range(5)

    def __init__(
        self,
        store: Store,
        plan_id: uuid.UUID | None,
        today: dt.date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.plan_id = plan_id
        self.today = today
        self.prepared: importing.Prepared | None = None
        self.plan: ImportPlan | None = None
        self.import_result: ImportResult | None = None
        self.job: Job | None = None
        self.setObjectName("importWizard")
        self.setWindowTitle("Import spreadsheet")
        self.setAccessibleName("Import spreadsheet")
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Import")
        self.file_page = FilePage(self)
        self.mapping_page = MappingPage(self)
        self.names_page = NamesPage(self)
        self.preview_page = PreviewPage(self)
        self.summary_page = SummaryPage(self)
        for page_id, page in (
            (self.FILE, self.file_page),
            (self.MAPPING, self.mapping_page),
            (self.NAMES, self.names_page),
            (self.PREVIEW, self.preview_page),
            (self.SUMMARY, self.summary_page),
        ):
            self.setPage(page_id, page)
        self.resize(900, 640)
        # Rows changed in the store since the workbook was exported whose workbook
        # values the officer chose to write anyway (ticked on the preview page).
        self.write_over: set[int] = set()

    def import_options(self) -> importing.ImportOptions:
        return importing.ImportOptions(
            plan_id=self.plan_id,
            quarter=self.file_page.quarter(),
            skip_refused=self.preview_page.skip.isChecked(),
            today=self.today,
            write_over=frozenset(self.write_over),
        )

    def run(
        self,
        fn: Callable[[Progress], Any],
        *,
        title: str,
        label: str,
        done: Callable[[Any], None],
        error: QLabel,
    ) -> None:
        """Run ``fn`` off the UI thread behind a progress dialog; ``done`` gets its result."""
        if self.job is not None:
            return
        _show_error(error, "")
        job, _dialog = run_job(self, fn, title=title, label=label)
        self.job = job

        def finished() -> None:
            self.job = None

        job.succeeded.connect(done)
        job.failed.connect(lambda message, _details: _show_error(error, message))
        job.cancelled.connect(lambda: _show_error(error, "Cancelled. Nothing was changed."))
        job.finished.connect(finished)

    def nextId(self) -> int:
        current = self.currentId()
        if current == self.MAPPING and self.plan is not None and not self.plan.unknowns:
            return self.PREVIEW
        return super().nextId()

    def reject(self) -> None:
        if self.job is not None:
            self.job.cancel()  # the work stops at its next step; nothing is written
        super().reject()


class FilePage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Choose the spreadsheet")
        self.setSubTitle(
            "An action tracker (one row per action, matched to the plan by its ref) or "
            "measure data (values per quarter), as an Excel workbook (.xlsx) or CSV file."
        )
        self.path = QLineEdit()
        self.path.setObjectName("importFile")
        self.path.setAccessibleName("Spreadsheet file")
        self.path.textChanged.connect(self.completeChanged)
        browse = QPushButton("Bro&wse…")
        browse.setAccessibleName("Browse for the spreadsheet")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.kind = QComboBox()
        self.kind.setObjectName("importKind")
        self.kind.setAccessibleName("What the spreadsheet holds")
        self.kind.addItem("Find out from its headings", None)
        self.kind.addItem("An action tracker", "actions")
        self.kind.addItem("Measure data", "measures")
        self.mapping_path = QLineEdit()
        self.mapping_path.setObjectName("importMapping")
        self.mapping_path.setAccessibleName("Saved mapping (optional)")
        self.mapping_path.setPlaceholderText("optional: the mapping saved last quarter")
        mapping_browse = QPushButton("B&rowse…")
        mapping_browse.setAccessibleName("Browse for a saved mapping")
        mapping_browse.clicked.connect(self._browse_mapping)
        mapping_row = QHBoxLayout()
        mapping_row.addWidget(self.mapping_path, 1)
        mapping_row.addWidget(mapping_browse)
        self.quarter_combo = QComboBox()
        self.quarter_combo.setObjectName("importQuarter")
        self.quarter_combo.setAccessibleName("Quarter of the updates")
        with wizard.store.session() as session:
            plan = choose_plan(session, wizard.plan_id)
            quarters = plan_quarters(plan)
            self.plan_title = plan.title
        for q in quarters:
            self.quarter_combo.addItem(q.label, q)
        current = reporting_quarter(wizard.today, quarters)
        self.quarter_combo.setCurrentIndex(max(self.quarter_combo.findData(current), 0))
        form = QFormLayout()
        for text, buddy, field in (
            ("&File:", self.path, row),
            ("It &holds:", self.kind, self.kind),
            ("Saved &mapping:", self.mapping_path, mapping_row),
            ("&Updates are for:", self.quarter_combo, self.quarter_combo),
        ):
            label = QLabel(text)
            label.setBuddy(buddy)
            form.addRow(label, field)
        note = QLabel(
            f"Into the plan <b>{self.plan_title}</b>. Nothing is changed until you press "
            "Import at the end, after the preview."
        )
        note.setWordWrap(True)
        self.error = _error_label(self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self._read_for: tuple[str, object, str] | None = None

    def quarter(self) -> Quarter | None:
        data = self.quarter_combo.currentData()
        return data if isinstance(data, Quarter) else None

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import a spreadsheet", "", SPREADSHEET_FILTER)
        if name:
            self.path.setText(name)

    def _browse_mapping(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Use a saved mapping", "", MAPPING_FILTER)
        if name:
            self.mapping_path.setText(name)

    def isComplete(self) -> bool:
        return bool(self.path.text().strip())

    def validatePage(self) -> bool:
        key = (self.path.text().strip(), self.kind.currentData(), self.mapping_path.text().strip())
        wizard = self._wizard
        if wizard.prepared is not None and self._read_for == key:
            return True
        path, kind, mapping_text = key
        store, plan_id = wizard.store, wizard.plan_id

        def read(progress: Progress) -> importing.Prepared:
            progress.step(0, 0, f"Reading {Path(path).name}")
            mapping = Mapping.load(Path(mapping_text)) if mapping_text else None
            return importing.prepare(
                Path(path),
                kind=kind,
                mapping=mapping,
                comparators=importing.known_comparators(store, plan_id),
            )

        def done(prepared: object) -> None:
            assert isinstance(prepared, importing.Prepared)
            wizard.prepared = prepared
            wizard.plan = None
            self._read_for = key
            wizard.next()

        wizard.run(read, title="Import spreadsheet", label="Reading…", done=done, error=self.error)
        return False


class MappingPage(QWizardPage):
    """One row per column: its heading, examples, and what it imports as."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("What each column holds")
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.sheet_combo = QComboBox()
        self.sheet_combo.setObjectName("importSheet")
        self.sheet_combo.setAccessibleName("Sheet to import")
        self.sheet_combo.currentIndexChanged.connect(self._sheet_chosen)
        self.sheet_label = QLabel("S&heet:")
        self.sheet_label.setBuddy(self.sheet_combo)
        sheet_row = QHBoxLayout()
        sheet_row.addWidget(self.sheet_label)
        sheet_row.addWidget(self.sheet_combo)
        sheet_row.addStretch(1)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("mappingTable")
        self.table.setAccessibleName("Columns of the spreadsheet")
        self.table.setHorizontalHeaderLabels(["Column", "Examples", "Imports as"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.problems = QLabel()
        self.problems.setObjectName("mappingProblems")
        self.problems.setAccessibleName("Problems with the mapping")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(error_stylesheet(self))
        save = self.save_button = QPushButton("&Save this mapping…")
        save.setAccessibleName("Save this mapping for next time")
        self.error = _error_label(self)
        save.clicked.connect(lambda: save_mapping(self, wizard, self.error))
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addLayout(sheet_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problems)
        layout.addWidget(save, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error)
        self.combos: list[QComboBox] = []

    def initializePage(self) -> None:
        prepared = self._wizard.prepared
        assert prepared is not None
        table = prepared.table
        where = f"sheet {table.sheet!r} of {prepared.path.name}" if table.sheet else table.source
        kind = "an action tracker" if prepared.kind == "actions" else "measure data"
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        self.sheet_combo.addItems(list(table.sheets))
        self.sheet_combo.setCurrentIndex(max(self.sheet_combo.findText(table.sheet or ""), 0))
        self.sheet_combo.blockSignals(False)
        for widget in (self.sheet_combo, self.sheet_label):
            widget.setVisible(len(table.sheets) > 1)
        self.info.setText(
            f"Read {where} as {kind}: headings in row {table.header_row}, "
            f"{len(table.frame):,} rows. Check what each column holds; columns marked "
            "“(not imported)” are left out."
        )
        choices = targets(prepared.kind)
        extra = [t for t in prepared.columns if t not in dict(choices)]
        self.table.setRowCount(len(table.headers))
        self.combos = []
        for i, heading in enumerate(table.headers):
            column = QTableWidgetItem(f"{table.letters[i]}: {heading}")
            examples = [
                str(v) for v in table.frame[i].tolist()[:50] if v is not None and str(v).strip()
            ][:2]
            self.table.setItem(i, 0, column)
            self.table.setItem(i, 1, QTableWidgetItem(" | ".join(e[:40] for e in examples)))
            combo = QComboBox()
            combo.setAccessibleName(f"Column {table.letters[i]} ({heading}) imports as")
            for target, label in choices:
                combo.addItem(label, target)
            for target in dict.fromkeys(extra):
                combo.addItem(target.replace("comparator:", "Comparator: "), target)
            combo.setCurrentIndex(max(combo.findData(prepared.columns[i]), 0))
            combo.currentIndexChanged.connect(self._changed)
            self.table.setCellWidget(i, 2, combo)
            self.combos.append(combo)
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(2, 320)
        # The combo boxes are made after the Save button, so Tab would reach Save first
        # and then jump back up into the table: put them in reading order.
        chain = [self.sheet_combo, self.table, *self.combos, self.save_button]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)
        self._changed()

    def columns(self) -> list[str]:
        return [str(c.currentData()) for c in self.combos]

    def _sheet_chosen(self) -> None:
        wizard, sheet = self._wizard, self.sheet_combo.currentText()
        prepared = wizard.prepared
        if prepared is None or not sheet or sheet == prepared.table.sheet:
            return
        store, plan_id = wizard.store, wizard.plan_id

        def read(progress: Progress) -> importing.Prepared:
            progress.step(0, 0, f"Reading the sheet {sheet}")
            return importing.prepare(
                prepared.path,
                kind=prepared.kind,
                mapping=prepared.mapping,
                sheet=sheet,
                comparators=importing.known_comparators(store, plan_id),
            )

        def done(result: object) -> None:
            assert isinstance(result, importing.Prepared)
            wizard.prepared = result
            wizard.plan = None
            self.initializePage()

        wizard.run(read, title="Import spreadsheet", label="Reading…", done=done, error=self.error)

    def _changed(self) -> None:
        prepared = self._wizard.prepared
        if prepared is None:
            return
        self._wizard.prepared = prepared.with_columns(self.columns())
        self._wizard.plan = None
        problems = self._wizard.prepared.problems
        self.problems.setText("\n".join(f"Error: {p}" for p in problems))
        self.problems.setVisible(bool(problems))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        prepared = self._wizard.prepared
        return prepared is not None and not prepared.problems

    def validatePage(self) -> bool:
        return start_preview(self._wizard, self.error)


def start_preview(wizard: ImportWizard, error: QLabel) -> bool:
    """Judge the rows (off the UI thread); the wizard moves on when it has."""
    if wizard.plan is not None:
        return True
    prepared, store, options = wizard.prepared, wizard.store, wizard.import_options()
    assert prepared is not None

    def judge(progress: Progress) -> ImportPlan:
        progress.step(0, 0, "Checking every row against the plan")
        return importing.preview(store, prepared, options)

    def done(plan: object) -> None:
        assert isinstance(plan, ImportPlan)
        wizard.plan = plan
        wizard.next()

    wizard.run(judge, title="Import spreadsheet", label="Checking…", done=done, error=error)
    return False


def save_mapping(parent: QWidget, wizard: ImportWizard, error: QLabel) -> None:
    if wizard.prepared is None:
        return
    name, _ = QFileDialog.getSaveFileName(
        parent, "Save the mapping", "mapping.json", MAPPING_FILTER
    )
    if name:
        try:
            wizard.prepared.mapping_to_save().save(Path(name))
        except SspError as exc:
            _show_error(error, str(exc))


class NamesPage(QWizardPage):
    """Names of leads and organisations the plan does not know: create, or use one it has."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Names the plan does not know")
        self.setSubTitle(
            "These leads and organisations are not in the plan. Create each one, or choose "
            "the record it means (a spelling or a short name, say)."
        )
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("namesTable")
        self.table.setAccessibleName("Unknown names")
        self.table.setHorizontalHeaderLabels(["Name in the spreadsheet", "Rows", "Use", "Note"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setTabKeyNavigation(False)
        self.error = _error_label(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error)
        self.combos: list[tuple[str, str, QComboBox]] = []

    def initializePage(self) -> None:
        wizard = self._wizard
        assert wizard.plan is not None and wizard.prepared is not None
        mapping = wizard.prepared.mapping
        unknowns = wizard.plan.unknowns
        self.table.setRowCount(len(unknowns))
        self.combos = []
        for i, unknown in enumerate(unknowns):
            rows = ", ".join(map(str, unknown.rows[:8])) + (" …" if len(unknown.rows) > 8 else "")
            self.table.setItem(i, 0, QTableWidgetItem(f"{unknown.kind}: {unknown.name}"))
            self.table.setItem(i, 1, QTableWidgetItem(rows))
            combo = QComboBox()
            combo.setAccessibleName(f"Use for {unknown.kind} {unknown.name}")
            combo.addItem(f"Create a new {unknown.kind} “{unknown.name}”", CREATE)
            for choice in unknown.choices:
                combo.addItem(choice, choice)
            decided = mapping.organisations if unknown.kind == "organisation" else mapping.people
            chosen = decided.get(unknown.name)
            if chosen is not None:
                combo.setCurrentIndex(max(combo.findData(chosen), 0))
            self.table.setCellWidget(i, 2, combo)
            note = f"Did you mean {unknown.suggestion}?" if unknown.suggestion else ""
            self.table.setItem(i, 3, QTableWidgetItem(note))
            self.combos.append((unknown.kind, unknown.name, combo))
        self.table.resizeColumnsToContents()

    def decisions(self) -> tuple[dict[str, str | None], dict[str, str | None]]:
        orgs: dict[str, str | None] = {}
        people: dict[str, str | None] = {}
        for kind, name, combo in self.combos:
            data = combo.currentData()
            value = None if data == CREATE else str(data)
            (orgs if kind == "organisation" else people)[name] = value
        return orgs, people

    def validatePage(self) -> bool:
        wizard = self._wizard
        assert wizard.prepared is not None
        orgs, people = self.decisions()
        if (orgs, people) != self._current():
            wizard.prepared = wizard.prepared.with_decisions(orgs, people)
            wizard.plan = None
        return start_preview(wizard, self.error)

    def _current(self) -> tuple[dict[str, str | None], dict[str, str | None]]:
        mapping = self._wizard.prepared.mapping if self._wizard.prepared else None
        if mapping is None:
            return {}, {}
        names = {name for _k, name, _c in self.combos}
        return (
            {k: v for k, v in mapping.organisations.items() if k in names},
            {k: v for k, v in mapping.people.items() if k in names},
        )


class PreviewPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Preview")
        self.setSubTitle("What the import will do, row by row. Nothing has been changed yet.")
        self.setCommitPage(True)
        self.summary = QLabel()
        self.summary.setObjectName("previewSummary")
        self.summary.setAccessibleName("Preview summary")
        self.summary.setWordWrap(True)
        # The same table as a bundle's preview: kind, record, field, before, after,
        # decision; sortable, and filtered by typing or by decision.
        # Made without a parent, so it joins the Tab chain where the layout puts it
        # (below the Save button), not before everything made later.
        self.table = ImportPreviewTable()
        self.filter = self.table.decision
        self.proxy = self.table.proxy
        self.view = self.table.view
        self.conflicts_label = QLabel(
            "Changed in the store since this workbook was exported, and in the workbook "
            "too. Tick a row to write the workbook's values over theirs; rows left "
            "unticked are refused."
        )
        self.conflicts_label.setWordWrap(True)
        self.conflicts = QListWidget()
        self.conflicts.setObjectName("conflictRows")
        self.conflicts.setAccessibleName("Rows changed since export: tick to write the workbook's")
        self.conflicts_label.setBuddy(self.conflicts)
        self.conflicts.itemChanged.connect(self._conflict_ticked)
        self.conflicts.setMaximumHeight(120)
        self.skip = QCheckBox("&Leave out the refused rows and import the others")
        self.skip.setObjectName("skipRefused")
        self.skip.setAccessibleName("Leave out the refused rows and import the others")
        self.skip.toggled.connect(self.completeChanged)
        self.error = _error_label(self)
        save = QPushButton("&Save the mapping…")
        save.setAccessibleName("Save the mapping and name choices for next time")
        save.clicked.connect(lambda: save_mapping(self, wizard, self.error))
        top = QHBoxLayout()
        top.addStretch(1)
        top.addWidget(save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.conflicts_label)
        layout.addWidget(self.conflicts)
        layout.addWidget(self.skip)
        layout.addWidget(self.error)

    def initializePage(self) -> None:
        plan = self._wizard.plan
        assert plan is not None
        kind = "Measure" if plan.kind.startswith("measure") else "Action"
        self.table.set_lines(lines_from_rows(plan.rows, kind))
        text = plan.summary()
        if plan.new_records:
            shown = ", ".join(f"{n.kind} {n.name}" for n in plan.new_records[:12])
            more = " …" if len(plan.new_records) > 12 else ""
            text += f" New records: {shown}{more}."
        if plan.refused:
            text += (
                " Refused rows stop the import: correct them in the spreadsheet and import "
                "it again, or leave them out."
            )
        if not plan.changes_anything:
            text += " Importing this file would change nothing."
        text += " " + " ".join(plan.notes)
        self.summary.setText(text)
        self.skip.setVisible(bool(plan.refused))
        self.skip.setChecked(False)
        if plan.refused:
            only_conflicts = all(r.conflicts for r in plan.refused)
            self.table.show_decision(CONFLICT_WORD if only_conflicts else REFUSED_WORD)
        else:
            self.table.show_decision("")  # nothing held back: every line again
        self._show_conflicts(plan)

    def _show_conflicts(self, plan: ImportPlan) -> None:
        """One checkable line per row with cells changed both in the store since export
        and in the workbook: ticked, the workbook's values are written over theirs."""
        rows = [r for r in plan.rows if r.conflicts]
        self.conflicts.blockSignals(True)
        self.conflicts.clear()
        for row in rows:
            what = "; ".join(
                f"{c.field}: theirs {c.theirs} (by {c.by}), the workbook's {c.workbook}"
                for c in row.conflicts
            )
            item = QListWidgetItem(f"Row {row.row} {row.key}: {what}")
            item.setData(Qt.ItemDataRole.UserRole, row.row)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            ticked = row.row in self._wizard.write_over
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
            self.conflicts.addItem(item)
        self.conflicts.blockSignals(False)
        self.conflicts_label.setVisible(bool(rows))
        self.conflicts.setVisible(bool(rows))

    def _conflict_ticked(self, item: QListWidgetItem) -> None:
        """Judge the rows again with the officer's choice (off the UI thread)."""
        row = int(item.data(Qt.ItemDataRole.UserRole))
        wizard = self._wizard
        if item.checkState() == Qt.CheckState.Checked:
            wizard.write_over.add(row)
        else:
            wizard.write_over.discard(row)
        prepared, store, options = wizard.prepared, wizard.store, wizard.import_options()
        assert prepared is not None

        def judge(progress: Progress) -> ImportPlan:
            progress.step(0, 0, "Checking every row against the plan")
            return importing.preview(store, prepared, options)

        def done(plan: object) -> None:
            assert isinstance(plan, ImportPlan)
            wizard.plan = plan
            current = self.conflicts.currentRow()
            self.initializePage()
            self.conflicts.setCurrentRow(max(current, 0))
            self.conflicts.setFocus(Qt.FocusReason.OtherFocusReason)
            self.completeChanged.emit()

        wizard.run(
            judge, title="Import spreadsheet", label="Checking…", done=done, error=self.error
        )

    def isComplete(self) -> bool:
        plan = self._wizard.plan
        if plan is None or not plan.changes_anything:
            return False
        return not plan.refused or self.skip.isChecked()

    def validatePage(self) -> bool:
        wizard = self._wizard
        if wizard.import_result is not None:
            return True
        prepared, store, options = wizard.prepared, wizard.store, wizard.import_options()
        assert prepared is not None

        previewed = wizard.plan  # carried out as shown unless the store changed since

        def write(progress: Progress) -> ImportResult:
            return importing.apply(store, prepared, options, progress=progress, previewed=previewed)

        def done(result: object) -> None:
            assert isinstance(result, ImportResult)
            wizard.import_result = result
            wizard.imported.emit(result)
            wizard.next()

        wizard.run(
            write, title="Import spreadsheet", label="Importing…", done=done, error=self.error
        )
        return False


class SummaryPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Imported")
        self.text = QLabel()
        self.text.setObjectName("importSummary")
        self.text.setAccessibleName("What was imported")
        self.text.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addStretch(1)

    def initializePage(self) -> None:
        result = self._wizard.import_result
        assert result is not None
        text = (
            f"{result.summary()} The changes are in the plan's history as an import from "
            f"{result.plan.source}."
        )
        if result.backups is not None:
            text += "\n\n" + "\n".join(result.backups.lines())
        self.text.setText(text)


# --------------------------------------------------------------------------- export


def start_export(
    parent: QWidget,
    store: Store,
    plan_id: uuid.UUID | None,
    path: Path,
    done: Callable[[ExportResult], None],
    failed: Callable[[str], None],
) -> Job:
    """Write the workbook off the UI thread, behind a progress bar with Cancel."""

    def work(progress: Progress) -> ExportResult:
        return export_workbook(store, path, plan_id=plan_id, progress=progress)

    job, _dialog = run_job(parent, work, title="Export workbook", label="Exporting…")
    job.succeeded.connect(lambda result: done(result))
    job.failed.connect(lambda message, _details: failed(message))
    job.cancelled.connect(lambda: failed("Cancelled: no workbook was written."))
    return job


def ask_workbook_path(parent: QWidget, suggested: str) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(parent, "Export workbook", suggested, WORKBOOK_FILTER)
    if not name:
        return None
    path = Path(name)
    return path if path.suffix.lower() == ".xlsx" else path.with_name(path.name + ".xlsx")


def default_workbook_name(plan_title: str) -> str:
    safe = "".join(c if c.isalnum() or c in " -_" else "-" for c in plan_title).strip()
    return f"{safe or 'plan'}.xlsx"


__all__ = [
    "ImportWizard",
    "ask_workbook_path",
    "default_workbook_name",
    "start_export",
]
