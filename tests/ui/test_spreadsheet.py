"""File > Import spreadsheet and File > Export workbook, driven as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import ActionStatus, Rag
from ssp_desktop.domain.records import Action, Organisation
from ssp_desktop.spreadsheets.plan import Outcome
from ssp_desktop.spreadsheets.workbook import export_workbook
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.import_preview import PreviewLinesModel, lines_from_rows
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.spreadsheet import ImportWizard
from tests.factories import mini_plan
from tests.spreadsheets.sheets import TRACKER_HEADINGS, change_rows, write_xlsx

# Showing a dialog on the offscreen platform makes Qt say this; it is harmless.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def window(qtbot: QtBot, store_path: Path) -> Iterator[MainWindow]:
    with Store.open(store_path, create=True) as s:
        mini_plan(s)
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.open_store(store_path)
    yield w
    w.close_store()


def tracker(tmp_path: Path, rows: list[list[object]]) -> Path:
    return write_xlsx(tmp_path / "tracker.xlsx", [TRACKER_HEADINGS, *rows])


def open_wizard(window: MainWindow) -> ImportWizard:
    wizard = window.import_spreadsheet()
    assert wizard is not None
    return wizard


def go_next(qtbot: QtBot, wizard: ImportWizard, expected: int) -> None:
    """Press Next (or Import) and wait for the background step to move the wizard on."""
    wizard.button(
        QWizard.WizardButton.CommitButton
        if wizard.currentPage().isCommitPage()
        else QWizard.WizardButton.NextButton
    ).click()
    qtbot.waitUntil(lambda: wizard.currentId() == expected, timeout=10_000)


def test_import_a_tracker_through_the_wizard(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    path = tracker(
        tmp_path,
        [
            ["PVP-01", "Fund IDVAs", "PVP", "Domestic abuse", "Polise", None, None, None, None,
             "In progress", "Amber", "Two IDVAs in post"],
            ["PVP-02", "Train GPs", "PVP", "Domestic abuse", "Police", None, None, None, None,
             "Not started", None, None],
        ],
    )  # fmt: skip
    wizard = open_wizard(window)
    assert wizard.isVisible() and wizard.currentId() == ImportWizard.FILE
    wizard.file_page.path.setText(str(path))
    go_next(qtbot, wizard, ImportWizard.MAPPING)
    mapping = wizard.mapping_page
    assert mapping.columns()[:2] == ["ref", "title"]
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    go_next(qtbot, wizard, ImportWizard.NAMES)
    (kind, name, combo) = wizard.names_page.combos[0]
    assert (kind, name) == ("organisation", "Polise")
    assert "Did you mean Police?" in wizard.names_page.table.item(0, 3).text()
    combo.setCurrentIndex(combo.findData("Police"))
    go_next(qtbot, wizard, ImportWizard.PREVIEW)
    preview = wizard.preview_page
    assert wizard.plan is not None and not wizard.plan.new_records
    assert "1 new, 1 updated" in preview.summary.text()
    table = preview.table.model
    lines = [table.line(r) for r in range(table.rowCount())]
    assert {(line.record, line.decision) for line in lines} == {
        ("Row 2: PVP-01", "Update"),
        ("Row 3: PVP-02", "New"),
    }
    # The update shows each field it changes, with the value before and after.
    rag = next(line for line in lines if line.field == "RAG")
    assert (rag.record, rag.after) == ("Row 2: PVP-01", "Amber"), lines
    before = change_rows(window.store)  # type: ignore[arg-type]
    with qtbot.waitSignal(window.document.committed, timeout=10_000):  # type: ignore[union-attr]
        go_next(qtbot, wizard, ImportWizard.SUMMARY)
    summary = wizard.summary_page.text.text()
    assert "1 new, 1 updated" in summary
    # Where the pre-import backup is, and how much space import backups take.
    assert wizard.import_result is not None and wizard.import_result.backups is not None
    copy = wizard.import_result.backups.path
    assert copy.is_file() and copy.parent == tmp_path
    assert f"A copy of the store from before the import: {copy}" in summary
    assert f"Import backups in {tmp_path}: 1, using " in summary
    assert "keeping the newest 5 and any under 30 days old" in summary
    assert change_rows(window.store) > before  # type: ignore[arg-type]
    with window.store.session() as s:  # type: ignore[union-attr]
        assert s.scalar(select(Action.rag).where(Action.ref == "PVP-01")) is Rag.AMBER
        assert s.scalar(select(Action.id).where(Action.ref == "PVP-02")) is not None
        assert s.scalar(select(Organisation.id).where(Organisation.name == "Polise")) is None
    # The open views show the new action without reopening the store.
    workspace = window.workspace
    assert workspace is not None and workspace.actions_list is not None
    model = workspace.actions_list.view.model()
    refs = {model.index(r, 0).data() for r in range(model.rowCount())}
    assert "PVP-02" in refs
    wizard.button(QWizard.WizardButton.FinishButton).click()


def test_refused_rows_hold_back_the_import_until_left_out(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    path = tracker(
        tmp_path,
        [
            ["PVP-02", "Train GPs", "PVP", "Domestic abuse"],
            ["PVP-03", "Bad", "PVP", "Domestic abuse", *[None] * 4, "next spring"],
        ],
    )
    wizard = open_wizard(window)
    wizard.file_page.path.setText(str(path))
    go_next(qtbot, wizard, ImportWizard.MAPPING)
    go_next(qtbot, wizard, ImportWizard.PREVIEW)  # no unknown names: straight to the preview
    page = wizard.preview_page
    commit = wizard.button(QWizard.WizardButton.CommitButton)
    assert not commit.isEnabled()
    assert page.filter.currentData() == "Refused"
    assert page.proxy.rowCount() == 1
    assert "'next spring' is text, not a date" in page.proxy.index(0, 5).data()
    page.skip.setChecked(True)
    assert commit.isEnabled()
    go_next(qtbot, wizard, ImportWizard.SUMMARY)
    assert "1 refused row(s) were left out" in wizard.summary_page.text.text()


def test_a_bad_file_is_explained_on_the_first_page(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    bad = tmp_path / "tracker.xlsx"
    bad.write_text("not a workbook")
    wizard = open_wizard(window)
    wizard.file_page.path.setText(str(bad))
    wizard.button(QWizard.WizardButton.NextButton).click()
    error = wizard.file_page.error
    qtbot.waitUntil(lambda: error.isVisible(), timeout=10_000)
    assert "is not an Excel workbook" in error.text()
    assert wizard.currentId() == ImportWizard.FILE


def test_choosing_a_column_meaning_fixes_the_mapping(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "odd.xlsx", [["Our no.", "What"], ["PVP-01", "Fund IDVAs"]])
    wizard = open_wizard(window)
    wizard.file_page.path.setText(str(path))
    wizard.file_page.kind.setCurrentIndex(wizard.file_page.kind.findData("actions"))
    go_next(qtbot, wizard, ImportWizard.MAPPING)
    page = wizard.mapping_page
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert "No column is the action's Ref" in page.problems.text()
    combo: QComboBox = page.combos[0]
    combo.setCurrentIndex(combo.findData("ref"))
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert page.problems.isHidden()


def test_cancelling_the_wizard_changes_nothing(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    path = tracker(tmp_path, [["PVP-02", "Train GPs", "PVP", "Domestic abuse"]])
    before = change_rows(window.store)  # type: ignore[arg-type]
    wizard = open_wizard(window)
    wizard.file_page.path.setText(str(path))
    go_next(qtbot, wizard, ImportWizard.MAPPING)
    go_next(qtbot, wizard, ImportWizard.PREVIEW)
    wizard.reject()
    assert change_rows(window.store) == before  # type: ignore[arg-type]


def test_preview_model_passes_the_model_tester(qtmodeltester: object) -> None:
    from ssp_desktop.spreadsheets.plan import RowPlan

    model = PreviewLinesModel()
    model.set_lines(
        lines_from_rows(
            (RowPlan(2, "A-1", Outcome.CREATE, ("new action",)), RowPlan(3, "A-2", Outcome.REFUSE)),
            "Action",
        )
    )
    qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_export_workbook_from_the_file_menu(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    target = out / "plan.xlsx"
    assert window.export_workbook_action.isEnabled()
    window.export_workbook(target)
    qtbot.waitUntil(lambda: target.exists(), timeout=10_000)
    qtbot.waitUntil(
        lambda: "Wrote plan.xlsx" in window.statusBar().currentMessage(), timeout=10_000
    )
    wb = openpyxl.load_workbook(target)
    assert wb["Actions"]["A4"].value == "PVP-01"


def test_another_sheet_of_the_workbook_can_be_chosen(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "book.xlsx",
        [["Ref", "RAG"], ["PVP-01", "Green"]],
        sheet="Q2 tracker",
        extra_sheets={"Q3 tracker": [["Ref", "RAG"], ["PVP-01", "Red"]]},
    )
    wizard = open_wizard(window)
    wizard.file_page.path.setText(str(path))
    wizard.file_page.kind.setCurrentIndex(wizard.file_page.kind.findData("actions"))
    go_next(qtbot, wizard, ImportWizard.MAPPING)
    page = wizard.mapping_page
    assert wizard.prepared is not None and wizard.prepared.table.sheet == "Q2 tracker"
    assert page.sheet_combo.isVisibleTo(page)
    page.sheet_combo.setCurrentText("Q3 tracker")
    qtbot.waitUntil(
        lambda: wizard.prepared is not None and wizard.prepared.table.sheet == "Q3 tracker",
        timeout=10_000,
    )
    assert page.columns() == ["ref", "rag"]
    go_next(qtbot, wizard, ImportWizard.PREVIEW)
    assert wizard.plan is not None and wizard.plan.rows[0].details == ("RAG: none → Red",)


def test_importing_into_a_store_without_a_plan_says_to_start_one(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        "ssp_desktop.ui.main_window.QMessageBox.warning",
        lambda _parent, _title, text: shown.append(text),
    )
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.open_store(tmp_path / "empty.sqlite", create=True)
    assert w.import_spreadsheet() is None
    assert shown and "Start one (File > Start a new plan)" in shown[0]
    w.close_store()


def test_undo_cannot_put_back_a_value_the_import_replaced(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    document = window.document
    assert document is not None

    def retitle(tx: Transaction) -> None:
        action = tx.session.scalars(select(Action).where(Action.ref == "PVP-01")).one()
        services.edit(tx, action, title="Typed before the import")

    assert document.edit("Rename PVP-01", retitle)
    assert window.undo_action.isEnabled()
    path = tracker(tmp_path, [["PVP-01", "Title from the tracker", "PVP", "Domestic abuse"]])
    wizard = open_wizard(window)
    wizard.file_page.path.setText(str(path))
    go_next(qtbot, wizard, ImportWizard.MAPPING)
    go_next(qtbot, wizard, ImportWizard.PREVIEW)
    go_next(qtbot, wizard, ImportWizard.SUMMARY)
    # Undoing the rename now would write its old title over the tracker's: not offered.
    assert not window.undo_action.isEnabled()
    document.undo_stack.undo()
    with window.store.session() as s:  # type: ignore[union-attr]
        title = s.scalar(select(Action.title).where(Action.ref == "PVP-01"))
    assert title == "Title from the tracker"


def test_cells_changed_since_export_are_offered_row_by_row_in_the_preview(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    """A tracker exported, edited offline, imported back after another officer changed
    the same cell: the preview shows the conflict (who, theirs, the workbook's) and the
    import waits until the officer ticks the row (by keyboard) or leaves it out."""
    store = window.store
    assert store is not None
    exported = tmp_path / "exported.xlsx"
    export_workbook(store, exported)
    other = store.another_writer()
    try:
        with other.transaction(actor="Jane Other") as tx:
            action = tx.session.scalar(select(Action).where(Action.ref == "PVP-01"))
            assert action is not None
            services.edit(tx, action, status=ActionStatus.COMPLETE)
    finally:
        other.close()
    wb = openpyxl.load_workbook(exported)
    ws = wb["Actions"]
    headings = [c.value for c in ws[3]]
    ws.cell(4, headings.index("Status") + 1).value = "Deferred"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    wizard = open_wizard(window)
    wizard.file_page.path.setText(str(edited))
    go_next(qtbot, wizard, ImportWizard.MAPPING)
    go_next(qtbot, wizard, ImportWizard.PREVIEW)
    page = wizard.preview_page
    commit = wizard.button(QWizard.WizardButton.CommitButton)
    assert not commit.isEnabled()
    assert page.filter.currentData() == "Conflict"
    line = page.table.model.line(0)
    assert (line.field, line.after, line.decision) == ("Status", "Deferred", "Conflict")
    assert line.before.startswith("Complete (by Jane Other on ")
    assert page.conflicts.isVisibleTo(page) and page.conflicts.count() == 1
    item = page.conflicts.item(0)
    assert "Status: theirs Complete (by Jane Other on " in item.text()
    assert "the workbook's Deferred" in item.text()

    page.conflicts.setFocus()
    page.conflicts.setCurrentRow(0)
    qtbot.keyClick(page.conflicts, Qt.Key.Key_Space)
    qtbot.waitUntil(commit.isEnabled, timeout=10_000)
    assert wizard.write_over == {4}
    assert page.conflicts.item(0).checkState() == Qt.CheckState.Checked
    go_next(qtbot, wizard, ImportWizard.SUMMARY)
    with store.session() as s:
        assert s.scalar(select(Action.status).where(Action.ref == "PVP-01")) is (
            ActionStatus.DEFERRED
        )
