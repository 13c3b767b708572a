"""The board pack builder: choose the quarter and meeting, write the cover sheet, pick
and order the sections, export the PDF in the background and open it.

Cover fields are saved to the :class:`~ssp_desktop.domain.records.BoardPack` when the
user leaves them, each as one undoable edit on the window's undo stack through
``services.edit`` (the pack itself is made by the first edit, or by Export, through
``services.packs.create_pack``). The export runs on the thread pool
(:func:`~ssp_desktop.ui.workers.run_job`) with a progress bar and Cancel; the worker
opens its own session and transaction from the store and returns plain values.
ReportLab is imported only inside the worker. The same dialog makes the annual update to
scrutiny for a chosen financial year (``reports.export.export_annual``), in the background
with the same progress and Cancel.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import SspError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import BoardMeeting, BoardPack, PackExport, Plan
from ssp_desktop.progress import Progress
from ssp_desktop.queries.quarter_status import plan_quarters, reporting_quarter
from ssp_desktop.reports.blocks import SECTION_TITLES
from ssp_desktop.reports.export import (
    AnnualResult,
    ExportError,
    ExportResult,
    RemakeResult,
    export_annual,
    export_pack,
    find_pack,
    list_exports,
    publish_export,
    remake_export,
)
from ssp_desktop.reports.pack import section_order
from ssp_desktop.services.packs import create_pack, default_meeting_title, new_pack
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.screen import fit_to_screen
from ssp_desktop.ui.workers import Job, JobDialog, run_job

MARKINGS = ("OFFICIAL", "OFFICIAL-SENSITIVE")
PDF_FILTER = "PDF files (*.pdf)"

# (field on BoardPack, label, kind) in the order of the council's summary sheet.
COVER_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("subject", "&Subject", "line"),
    ("report_of", "&Report of", "line"),
    ("key_decision", "&Key decision", "check"),
    ("summary", "Summar&y", "text"),
    ("recommendations", "Recommendatio&ns", "text"),
    ("contact_officer", "&Contact officer", "line"),
    ("protective_marking", "Protective &marking", "marking"),
    ("agenda_item", "Agenda item", "line"),
    ("scrutiny_committee", "Relevant scrutiny committee", "line"),
    ("forward_plan_ref", "Forward plan reference", "line"),
    ("wards_affected", "Wards affected", "line"),
    ("equality_impact", "Equality impact", "text"),
    ("background_papers", "Background papers", "text"),
)


class _FocusOut(QObject):
    """Emits ``left`` when the watched widget loses focus (QPlainTextEdit has no
    editingFinished)."""

    left = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut:
            self.left.emit()
        return False


def default_file_name(quarter: Quarter, meeting: dt.date) -> str:
    return f"board-pack-{re.sub(r'[^0-9A-Za-z]+', '-', quarter.label)}-{meeting:%Y-%m-%d}.pdf"


def annual_file_name(year: FinancialYear) -> str:
    return f"annual-update-{year.start}-{(year.start + 1) % 100:02d}.pdf"


def _export_text(export: PackExport) -> str:
    """One recorded export as the list shows it."""
    state = (
        f"published {export.published_at:%d %b %Y} by {export.published_by}"
        if export.published_at is not None
        else "not published"
    )
    extras = ", with updates awaiting review" if export.include_awaiting_review else ""
    return (
        f"{export.exported_at:%d %b %Y %H:%M} UTC, revision {export.snapshot_seq}{extras}: "
        f"{state}. {Path(export.file_name).name}"
    )


class BoardPackDialog(QDialog):
    """Builds and exports the board pack for one plan."""

    exported = Signal(object)  # ExportResult
    annual_exported = Signal(object)  # AnnualResult

    def __init__(
        self,
        document: PlanDocument,
        plan_id: uuid.UUID,
        today: dt.date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.plan_id = plan_id
        self.today = today
        self.pack_id: uuid.UUID | None = None
        self.job: Job | None = None
        self.job_dialog: JobDialog | None = None
        self.last_result: ExportResult | None = None
        self._loading = False
        # Replaceable in tests: where to save, whether to open, how to open.
        self.choose_path: Callable[[str], Path | None] = self._choose_path
        self.ask_open: Callable[[ExportResult], bool] = self._ask_open
        self.ask_open_annual: Callable[[AnnualResult], bool] = self._ask_open_annual
        self.open_file: Callable[[Path], None] = self._open_file
        self.confirm_publish: Callable[[str], bool] = self._confirm_publish
        self.last_remake: RemakeResult | None = None
        self.last_annual: AnnualResult | None = None

        with document.read() as s:
            plan = s.get(Plan, plan_id)
            assert plan is not None
            self.plan_title = plan.title
            quarters = plan_quarters(plan)
            years = [
                FinancialYear(start)
                for start in range(plan.end_year.start, plan.start_year.start - 1, -1)
            ]
            self.default_title = default_meeting_title(s, plan.partnership_id)
        self.setWindowTitle(f"Board pack: {self.plan_title}")
        self.setAccessibleName("Board pack builder")
        self.setMinimumWidth(640)

        # -- meeting
        self.quarter = QComboBox()
        self.quarter.setAccessibleName("Quarter reported on")
        for q in quarters:
            self.quarter.addItem(f"{q.label} ({q.months_label})", q)
        start = reporting_quarter(today, quarters)
        self.quarter.setCurrentIndex(max(0, quarters.index(start)))
        self.meeting_date = QDateEdit()
        self.meeting_date.setAccessibleName("Meeting date")
        self.meeting_date.setCalendarPopup(True)
        self.meeting_date.setDisplayFormat("d MMMM yyyy")
        self.meeting_title = QLineEdit()
        self.meeting_title.setAccessibleName("Meeting")
        self.meeting_title.setPlaceholderText(self.default_title)
        self.status = QLabel()
        self.status.setAccessibleName("Pack status")
        self.status.setWordWrap(True)
        meeting_box = QGroupBox("Quarter and meeting")
        meeting_form = QFormLayout(meeting_box)
        meeting_form.addRow("&Quarter", self.quarter)
        meeting_form.addRow("Meeting &date", self.meeting_date)
        meeting_form.addRow("Meeting &title", self.meeting_title)
        meeting_form.addRow(self.status)

        # -- cover sheet
        self.fields: dict[str, QWidget] = {}
        cover_box = QGroupBox("Cover sheet")
        cover_form = QFormLayout(cover_box)
        for name, label, kind in COVER_FIELDS:
            widget = self._field_widget(name, label, kind)
            self.fields[name] = widget
            if kind == "check":
                cover_form.addRow("", widget)
            else:
                cover_form.addRow(label, widget)

        # -- sections
        self.sections = QListWidget()
        self.sections.setAccessibleName("Sections, in order; tick to include")
        self.sections.itemChanged.connect(self._sections_edited)
        self.sections.setToolTip("Space ticks a section; Alt+Up and Alt+Down move it.")
        self.up_button = QPushButton("Move &up")
        self.up_button.setAccessibleName("Move section up")
        self.up_button.setShortcut(QKeySequence("Alt+Up"))
        self.up_button.clicked.connect(lambda: self.move_section(-1))
        self.down_button = QPushButton("Move d&own")
        self.down_button.setAccessibleName("Move section down")
        self.down_button.setShortcut(QKeySequence("Alt+Down"))
        self.down_button.clicked.connect(lambda: self.move_section(1))
        self.sections.currentRowChanged.connect(self._update_move_buttons)
        sections_box = QGroupBox("Sections")
        sections_layout = QHBoxLayout(sections_box)
        sections_layout.addWidget(self.sections, 1)
        buttons_column = QVBoxLayout()
        buttons_column.addWidget(self.up_button)
        buttons_column.addWidget(self.down_button)
        buttons_column.addStretch(1)
        sections_layout.addLayout(buttons_column)

        # -- buttons
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close the board pack builder")
        self.export_button = self.buttons.addButton(
            "&Export PDF…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.export_button.setAccessibleName("Export the board pack as a PDF")
        self.export_button.clicked.connect(self.export)
        self.buttons.rejected.connect(self.reject)

        # The form scrolls; the buttons stay in view below it, on any screen.
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(meeting_box)
        body_layout.addWidget(cover_box, 1)
        body_layout.addWidget(sections_box)
        body_layout.addWidget(self._password_box())
        body_layout.addWidget(self._exports_box())
        body_layout.addWidget(self._annual_box(years))
        scroll = QScrollArea()
        scroll.setObjectName("boardPackForm")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.buttons)
        margins = layout.contentsMargins()
        wanted = body.sizeHint()
        fit_to_screen(
            self,
            QSize(
                wanted.width() + margins.left() + margins.right() + 20,  # + scroll bar
                wanted.height()
                + self.buttons.sizeHint().height()
                + layout.spacing()
                + margins.top()
                + margins.bottom(),
            ),
        )

        self.quarter.currentIndexChanged.connect(self._quarter_chosen)
        self.meeting_date.dateChanged.connect(self._meeting_chosen)
        self.meeting_title.editingFinished.connect(self._meeting_title_edited)
        self._quarter_chosen()

    def _password_box(self) -> QGroupBox:
        """Protect the PDF with a password (AES-256): for drafts that circulate before
        the board meets. The password is never saved."""
        box = QGroupBox("PDF password")
        form = QFormLayout(box)
        self.protect_check = QCheckBox("&Protect the PDF with a password")
        self.protect_check.setAccessibleName("Protect the PDF with a password")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName("PDF password")
        self.password_again = QLineEdit()
        self.password_again.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_again.setAccessibleName("PDF password again")
        for edit in (self.password_edit, self.password_again):
            edit.setEnabled(False)
            self.protect_check.toggled.connect(edit.setEnabled)
        form.addRow(self.protect_check)
        form.addRow("Pass&word:", self.password_edit)
        form.addRow("&Again:", self.password_again)
        return box

    def _exports_box(self) -> QGroupBox:
        """What the pack prints, and the recorded exports: publish one (final, its
        quarter locked) or make one again from the store's history and check it."""
        box = QGroupBox("Review and publishing")
        column = QVBoxLayout(box)
        self.awaiting_check = QCheckBox(
            "Include updates and values awaiting re&view (each marked as such)"
        )
        self.awaiting_check.setAccessibleName("Include updates and values awaiting review")
        self.awaiting_check.setToolTip(
            "The pack prints accepted updates and values. Tick to add submitted ones not "
            "yet reviewed, each marked \u201cAwaiting review\u201d. Drafts never appear."
        )
        column.addWidget(self.awaiting_check)
        label = QLabel("Recorded e&xports of this pack")
        self.exports_list = QListWidget()
        self.exports_list.setAccessibleName("Recorded exports of this pack")
        label.setBuddy(self.exports_list)
        # A few rows are enough (the newest first); the dialog is tall already.
        self.exports_list.setMaximumHeight(self.exports_list.fontMetrics().height() * 6)
        self.exports_list.currentRowChanged.connect(self._update_export_buttons)
        self.publish_button = QPushButton("Pu&blish…")
        self.publish_button.setAccessibleName("Publish the selected export")
        self.publish_button.setToolTip(
            "Mark the selected export final and lock its quarter's updates and values."
        )
        self.publish_button.clicked.connect(self.publish_selected)
        self.remake_button = QPushButton("Make a&gain and check")
        self.remake_button.setAccessibleName("Make the selected export again and check it")
        self.remake_button.setToolTip(
            "Make the selected export again from the store's history and check that it is "
            "byte-identical (same SHA-256)."
        )
        self.remake_button.clicked.connect(self.remake_selected)
        row = QHBoxLayout()
        row.addWidget(self.exports_list, 1)
        actions = QVBoxLayout()
        actions.addWidget(self.publish_button)
        actions.addWidget(self.remake_button)
        actions.addStretch(1)
        row.addLayout(actions)
        column.addWidget(label)
        column.addLayout(row)
        self._update_export_buttons()
        return box

    def _annual_box(self, years: list[FinancialYear]) -> QGroupBox:
        """The annual update to scrutiny: the year's achievements, measures over four
        quarters, funding and next year's action plan, for the committee named in the
        cover sheet's "Relevant scrutiny committee" (Communities & Housing if blank)."""
        box = QGroupBox("Annual update to scrutiny")
        form = QFormLayout(box)
        self.annual_year = QComboBox()
        self.annual_year.setAccessibleName("Financial year of the annual update")
        for year in years:
            self.annual_year.addItem(year.label, year)
        # The last year to have ended, within the plan's period (newest first).
        ended = FinancialYear(FinancialYear.of(self.today).start - 1)
        starts = [y.start for y in years]
        chosen = min(max(ended.start, starts[-1]), starts[0]) if starts else ended.start
        if chosen in starts:
            self.annual_year.setCurrentIndex(starts.index(chosen))
        self.annual_button = QPushButton("Export annua&l update…")
        self.annual_button.setAccessibleName("Export the annual update to scrutiny as a PDF")
        self.annual_button.setToolTip(
            "The 12-month update for the scrutiny committee named in the cover sheet: "
            "achievements by priority, measures over four quarters, funding against "
            "allocations and the action plan for the next year."
        )
        self.annual_button.clicked.connect(self.export_annual)
        form.addRow("&Financial year", self.annual_year)
        form.addRow(self.annual_button)
        return box

    @property
    def current_annual_year(self) -> FinancialYear:
        year = self.annual_year.currentData()
        assert isinstance(year, FinancialYear)
        return year

    def _refresh_exports(self) -> None:
        self.exports_list.clear()
        if self.pack_id is not None:
            with self.document.read() as s:
                rows = [
                    (e.id, _export_text(e), e.published_at is not None)
                    for e, _p in list_exports(s)
                    if e.pack_id == self.pack_id
                ]
            for export_id, text, published in rows:
                item = QListWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, export_id)
                item.setData(Qt.ItemDataRole.UserRole + 1, published)
                self.exports_list.addItem(item)
            if rows:
                self.exports_list.setCurrentRow(0)
        self._update_export_buttons()

    def selected_export(self) -> tuple[uuid.UUID, bool] | None:
        if self.exports_list.currentRow() < 0:
            return None
        item = self.exports_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole), bool(item.data(Qt.ItemDataRole.UserRole + 1))

    def _update_export_buttons(self, _row: int = -1) -> None:
        chosen = self.selected_export()
        busy = self.job is not None and self.job.running
        self.publish_button.setEnabled(chosen is not None and not chosen[1] and not busy)
        self.remake_button.setEnabled(chosen is not None and not busy)

    def _confirm_publish(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Publish the board pack", text)
        return answer == QMessageBox.StandardButton.Yes

    def publish_selected(self) -> None:
        """Publish the selected export after the user confirms what it does."""
        chosen = self.selected_export()
        if chosen is None or chosen[1]:
            return
        question = (
            f"Publish this export of the {self.current_quarter.label} pack? It becomes the "
            f"final pack, and {self.current_quarter.label}'s updates and values are locked: "
            "a later change needs a reason and is listed in the next pack."
        )
        if not self.confirm_publish(question):
            return
        try:
            export = publish_export(self.document.store, chosen[0])
        except SspError as exc:
            self.status.setText(f"Not published: {exc}")
            return
        self.status.setText(
            f"Published {Path(export.file_name).name} on "
            f"{export.published_at:%d %B %Y at %H:%M} UTC by {export.published_by}; "
            f"{self.current_quarter.label} is locked."
        )
        self._refresh_exports()

    def remake_selected(self) -> None:
        """Make the selected export again from the store's history, in the background,
        and say whether it is byte-identical (or exactly why not)."""
        chosen = self.selected_export()
        if chosen is None:
            return
        export_id = chosen[0]
        store = self.document.store

        def work(progress: Progress) -> RemakeResult:
            return remake_export(store, export_id, progress=progress)

        self.job, self.job_dialog = run_job(
            self, work, title="Making the pack again", label="Winding the store back…"
        )
        self._update_export_buttons()
        self.job.succeeded.connect(self._remade)
        self.job.failed.connect(self._remake_failed)
        self.job.cancelled.connect(lambda: self.status.setText("Cancelled."))
        self.job.finished.connect(self._update_export_buttons)

    def _remake_failed(self, message: str, _details: str) -> None:
        self.status.setText(f"Not made again: {message}")

    def _remade(self, result: object) -> None:
        assert isinstance(result, RemakeResult)
        self.last_remake = result
        if result.matches:
            self.status.setText(
                f"Made again from revision {result.revision}: byte-identical to the recorded "
                f"export (SHA-256 {result.sha256[:12]}…)."
            )
        else:
            self.status.setText(
                f"Made again from revision {result.revision}, but it differs from the "
                f"recorded export: {result.reason}."
            )

    def pdf_password(self) -> str | None:
        """The password to protect the PDF with, None for none; raises ExportError when
        the two entries differ or it is too short."""
        if not self.protect_check.isChecked():
            return None
        from ssp_desktop.reports.protect import check_password

        if self.password_edit.text() != self.password_again.text():
            raise ExportError("The two passwords differ; type the same password twice.")
        return check_password(self.password_edit.text())

    # -- widgets ---------------------------------------------------------------------

    def _field_widget(self, name: str, label: str, kind: str) -> QWidget:
        accessible = label.replace("&", "")
        widget: QWidget
        if kind == "line":
            line = QLineEdit()
            line.editingFinished.connect(lambda: self._save_field(name))
            widget = line
        elif kind == "text":
            text = QPlainTextEdit()
            text.setTabChangesFocus(True)
            text.setMinimumHeight(70)
            watcher = _FocusOut(text)
            text.installEventFilter(watcher)
            watcher.left.connect(lambda: self._save_field(name))
            widget = text
        elif kind == "check":
            check = QCheckBox(accessible)
            check.toggled.connect(lambda _on: self._save_field(name))
            widget = check
        else:
            combo = QComboBox()
            combo.setEditable(True)
            combo.addItems(MARKINGS)
            line_edit = combo.lineEdit()
            assert line_edit is not None
            line_edit.setAccessibleName(accessible)
            line_edit.editingFinished.connect(lambda: self._save_field(name))
            combo.activated.connect(lambda _i: self._save_field(name))
            widget = combo
        widget.setAccessibleName(accessible)
        widget.setObjectName(f"cover_{name}")
        return widget

    def field_value(self, name: str) -> Any:
        widget = self.fields[name]
        if isinstance(widget, QLineEdit):
            return widget.text().strip()
        if isinstance(widget, QPlainTextEdit):
            return widget.toPlainText().strip()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        assert isinstance(widget, QComboBox)
        return widget.currentText().strip() or MARKINGS[0]

    def _set_field(self, name: str, value: Any) -> None:
        widget = self.fields[name]
        if isinstance(widget, QLineEdit):
            widget.setText(str(value))
        elif isinstance(widget, QPlainTextEdit):
            widget.setPlainText(str(value))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QComboBox):
            widget.setCurrentText(str(value))

    # -- choosing the pack -------------------------------------------------------------

    @property
    def current_quarter(self) -> Quarter:
        quarter = self.quarter.currentData()
        assert isinstance(quarter, Quarter)
        return quarter

    @property
    def current_meeting_date(self) -> dt.date:
        d = self.meeting_date.date()
        return dt.date(d.year(), d.month(), d.day())

    def _quarter_chosen(self) -> None:
        """Show the quarter's newest pack, or a new one for the next likely meeting."""
        quarter = self.current_quarter
        with self.document.read() as s:
            pack_id = find_pack(s, self.plan_id, quarter)
            meeting = None
            if pack_id is not None:
                pack = s.get(BoardPack, pack_id)
                assert pack is not None
                meeting = s.get(BoardMeeting, pack.meeting_id)
        when = meeting.meeting_date if meeting is not None else max(self.today, quarter.end_date)
        self._loading = True
        self.meeting_date.setDate(QDate(when.year, when.month, when.day))
        self._loading = False
        self._load(pack_id)

    def _meeting_chosen(self) -> None:
        if self._loading:
            return
        with self.document.read() as s:
            pack_id = find_pack(s, self.plan_id, self.current_quarter, self.current_meeting_date)
        self._load(pack_id)

    def _load(self, pack_id: uuid.UUID | None) -> None:
        """Fill the form from ``pack_id``, or from what a new pack would start with."""
        self._loading = True
        try:
            self.pack_id = pack_id
            with self.document.read() as s:
                if pack_id is not None:
                    pack = s.get(BoardPack, pack_id)
                    assert pack is not None
                    meeting = s.get(BoardMeeting, pack.meeting_id)
                    self.meeting_title.setText(meeting.title if meeting is not None else "")
                else:
                    pack = new_pack(s, self.plan_id, self.current_quarter)
                    self.meeting_title.setText("")
                values = {name: getattr(pack, name) for name, _l, _k in COVER_FIELDS}
                values["protective_marking"] = values["protective_marking"] or MARKINGS[0]
                values["key_decision"] = bool(values["key_decision"])
                sections = section_order(pack.sections)
                exports = 0
                if pack_id is not None:
                    from sqlalchemy import func, select

                    from ssp_desktop.domain.records import PackExport

                    exports = int(
                        s.scalar(
                            select(func.count())
                            .select_from(PackExport)
                            .where(PackExport.pack_id == pack_id, PackExport.deleted_at.is_(None))
                        )
                        or 0
                    )
            for name, value in values.items():
                self._set_field(name, "" if value is None else value)
            self.sections.clear()
            for key, enabled in sections:
                item = QListWidgetItem(SECTION_TITLES[key])
                item.setData(Qt.ItemDataRole.UserRole, key)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if enabled else Qt.CheckState.Unchecked)
                self.sections.addItem(item)
            self.sections.setCurrentRow(0)
            if pack_id is None:
                self.status.setText(
                    "No pack for this quarter and meeting yet: it is made when you edit a "
                    "field or export."
                )
            else:
                self.status.setText(
                    f"Saved pack for {self.current_quarter.label}; exported {exports} "
                    f"time{'s' if exports != 1 else ''}."
                )
        finally:
            self._loading = False
        self._update_move_buttons()
        self._refresh_exports()

    # -- saving --------------------------------------------------------------------------

    def _ensure_pack(self, tx: Transaction) -> BoardPack:
        if self.pack_id is not None:
            pack = tx.get(BoardPack, self.pack_id)
            if pack is not None:
                return pack
        pack = create_pack(
            tx,
            self.plan_id,
            self.current_quarter,
            self.current_meeting_date,
            self.meeting_title.text(),
        )
        self.pack_id = pack.id
        return pack

    def _edit(self, text: str, change: Callable[[BoardPack, Transaction], None]) -> bool:
        had_pack = self.pack_id is not None

        def work(tx: Transaction) -> None:
            change(self._ensure_pack(tx), tx)

        ok = self.document.edit(text, work)
        if not ok and not had_pack:
            self.pack_id = None
        if ok and not had_pack:
            self.status.setText(f"Saved pack for {self.current_quarter.label}; not exported yet.")
        return ok

    def _save_field(self, name: str) -> None:
        if self._loading:
            return
        value = self.field_value(name)
        if self.pack_id is not None:
            with self.document.read() as s:
                pack = s.get(BoardPack, self.pack_id)
                if pack is not None and getattr(pack, name) == value:
                    return
        label = dict((n, lbl) for n, lbl, _k in COVER_FIELDS)[name].replace("&", "").lower()

        def change(pack: BoardPack, tx: Transaction) -> None:
            services.edit(tx, pack, **{name: value})

        self._edit(f"Edit the board pack's {label}", change)

    def _meeting_title_edited(self) -> None:
        if self._loading or self.pack_id is None:
            return
        title = self.meeting_title.text().strip()
        if not title:
            return

        def change(pack: BoardPack, tx: Transaction) -> None:
            meeting = tx.get(BoardMeeting, pack.meeting_id)
            if meeting is not None:
                services.edit(tx, meeting, title=title)

        self._edit("Rename the board meeting", change)

    def section_state(self) -> list[dict[str, Any]]:
        return [
            {
                "key": self.sections.item(i).data(Qt.ItemDataRole.UserRole),
                "enabled": self.sections.item(i).checkState() == Qt.CheckState.Checked,
            }
            for i in range(self.sections.count())
        ]

    def _save_sections(self, text: str) -> None:
        state = self.section_state()

        def change(pack: BoardPack, tx: Transaction) -> None:
            services.edit(tx, pack, sections=state)

        self._edit(text, change)

    def _sections_edited(self, item: QListWidgetItem) -> None:
        if self._loading:
            return
        on = item.checkState() == Qt.CheckState.Checked
        self._save_sections(f"{'Include' if on else 'Leave out'} {item.text()} in the board pack")

    def move_section(self, step: int) -> None:
        row = self.sections.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.sections.count():
            return
        self._loading = True
        item = self.sections.takeItem(row)
        self.sections.insertItem(target, item)
        self.sections.setCurrentRow(target)
        self._loading = False
        self._save_sections(f"Move {item.text()} {'up' if step < 0 else 'down'}")
        self._update_move_buttons()

    def _update_move_buttons(self) -> None:
        row = self.sections.currentRow()
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < self.sections.count() - 1)

    # -- export --------------------------------------------------------------------------

    def _choose_path(self, suggested: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the board pack as", str(Path.home() / suggested), PDF_FILTER
        )
        return Path(name) if name else None

    def _ask_open(self, result: ExportResult) -> bool:
        answer = QMessageBox.question(
            self,
            "Board pack exported",
            f"The board pack ({result.pages} pages) was saved as {result.path}. Open it now?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def _open_file(self, path: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def export(self) -> None:
        """Save what is on screen, ask where, and export in the background."""
        focused = self.focusWidget()
        if focused is not None:
            focused.clearFocus()  # leaving the field saves it
        try:
            password = self.pdf_password()
        except ExportError as exc:
            self.status.setText(f"Not exported: {exc}")
            return
        path = self.choose_path(default_file_name(self.current_quarter, self.current_meeting_date))
        if path is None:
            return
        if path.suffix.lower() != ".pdf":
            path = path.with_suffix(".pdf")
        if self.pack_id is None and not self._edit(
            f"Make the board pack for {self.current_quarter.label}", lambda _p, _tx: None
        ):
            return
        pack_id = self.pack_id
        assert pack_id is not None
        store = self.document.store

        include = self.awaiting_check.isChecked()

        def work(progress: Progress) -> ExportResult:
            return export_pack(
                store,
                pack_id,
                path,
                progress=progress,
                password=password,
                include_awaiting_review=include,
            )

        self.export_button.setEnabled(False)
        self.job, self.job_dialog = run_job(
            self, work, title="Exporting the board pack", label="Preparing the board pack…"
        )
        self.job.succeeded.connect(self._exported)
        self.job.failed.connect(self._export_failed)
        self.job.cancelled.connect(self._export_cancelled)
        self.job.finished.connect(lambda: self.export_button.setEnabled(True))
        self.job.finished.connect(self._update_export_buttons)

    def export_annual(self) -> None:
        """Ask where, and write the annual update to scrutiny in the background."""
        focused = self.focusWidget()
        if focused is not None:
            focused.clearFocus()  # leaving the field saves it (the committee among them)
        year = self.current_annual_year
        path = self.choose_path(annual_file_name(year))
        if path is None:
            return
        if path.suffix.lower() != ".pdf":
            path = path.with_suffix(".pdf")
        store = self.document.store
        plan_id = self.plan_id
        committee = str(self.field_value("scrutiny_committee")) or None

        def work(progress: Progress) -> AnnualResult:
            return export_annual(store, plan_id, year, path, committee=committee, progress=progress)

        self.annual_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.job, self.job_dialog = run_job(
            self,
            work,
            title="Exporting the annual update",
            label=f"Preparing the annual update for {year.label}…",
        )
        self.job.succeeded.connect(self._annual_exported)
        self.job.failed.connect(self._export_failed)
        self.job.cancelled.connect(self._export_cancelled)
        self.job.finished.connect(lambda: self.annual_button.setEnabled(True))
        self.job.finished.connect(lambda: self.export_button.setEnabled(True))

    def _annual_exported(self, result: object) -> None:
        assert isinstance(result, AnnualResult)
        self.last_annual = result
        self.status.setText(
            f"Wrote the annual update for {result.year.label} to {result.committee}: "
            f"{result.pages} pages, {result.path}."
        )
        self.annual_exported.emit(result)
        if self.ask_open_annual(result):
            self.open_file(result.path)

    def _ask_open_annual(self, result: AnnualResult) -> bool:
        answer = QMessageBox.question(
            self,
            "Annual update exported",
            f"The annual update ({result.pages} pages) was saved as {result.path}. Open it now?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def _exported(self, result: object) -> None:
        assert isinstance(result, ExportResult)
        self.last_result = result
        self.status.setText(
            f"Exported {result.pages} pages to {result.path} (SHA-256 {result.sha256[:12]}…)."
        )
        self.document.changed.emit("pack_export", result.export_id)
        self._refresh_exports()
        self.exported.emit(result)
        if self.ask_open(result):
            self.open_file(result.path)

    def _export_failed(self, message: str, details: str) -> None:
        self.status.setText(f"Not exported: {message}")
        box = QMessageBox(QMessageBox.Icon.Warning, "Board pack not exported", message, parent=self)
        if details:
            box.setDetailedText(details)
        box.open()

    def _export_cancelled(self) -> None:
        self.status.setText("Export cancelled; no file was written.")

    def done(self, result: int) -> None:
        # Closing while exporting cancels the export (it leaves no file) and waits for it.
        try:
            if self.job is not None and self.job.running:
                self.job.cancel()
                self.job.wait(10000)
        except RuntimeError:
            pass  # the job has finished and Qt has deleted it
        super().done(result)


__all__ = ["BoardPackDialog", "default_file_name"]
