"""The board pack builder as the strategy team uses it: choose the quarter and meeting,
write the cover sheet (saved, undoable), order the sections, export in the background
with progress and cancel, open the PDF."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pypdf
import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop.app import configure_settings
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import BoardMeeting, BoardPack, PackExport
from ssp_desktop.progress import Progress
from ssp_desktop.reports.export import ExportResult
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.board_pack import BoardPackDialog
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.main_window import MainWindow
from tests.factories import MiniPlan, mini_plan

TODAY = dt.date(2023, 11, 1)

# Showing a dialog on the offscreen platform warns that it cannot resize the window.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


@pytest.fixture
def dialog(qtbot: QtBot, store: Store, plan: MiniPlan, tmp_path: Path) -> BoardPackDialog:
    document = PlanDocument(store)
    d = BoardPackDialog(document, plan.plan.id, TODAY)
    qtbot.addWidget(d)
    d.show()
    d.activateWindow()
    qtbot.waitUntil(d.isActiveWindow)
    d.opened: list[Path] = []  # type: ignore[misc]
    d.choose_path = lambda suggested: tmp_path / suggested
    d.ask_open = lambda _result: True
    d.open_file = d.opened.append  # type: ignore[attr-defined]
    return d


def _type(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Type into a field as a user does, then leave it (which saves it)."""
    widget.setFocus()
    if isinstance(widget, QLineEdit):
        widget.selectAll()
        qtbot.keyClicks(widget, text)
        widget.editingFinished.emit()
    else:
        assert isinstance(widget, QPlainTextEdit)
        widget.selectAll()
        qtbot.keyClicks(widget, text)
        widget.clearFocus()


def _pack(store: Store) -> BoardPack | None:
    with store.session() as s:
        return s.scalars(select(BoardPack)).first()


def test_opens_on_the_reporting_quarter_with_no_pack_made_yet(
    dialog: BoardPackDialog, store: Store
) -> None:
    assert dialog.current_quarter == Quarter.parse("2023/24 Q2")
    assert dialog.pack_id is None and _pack(store) is None
    assert "No pack for this quarter" in dialog.status.text()
    assert [dialog.sections.item(i).text() for i in range(dialog.sections.count())][:3] == [
        "Summary sheet",
        "Contents",
        "At a glance",
    ]
    # Every control has a name a screen reader can announce (a date box's inner line
    # edit is announced by its date box).
    controls = (
        QLineEdit,
        QPlainTextEdit,
        QComboBox,
        QDateEdit,
        QCheckBox,
        QListWidget,
        QPushButton,
    )
    for widget in dialog.findChildren(QWidget):
        if isinstance(widget, controls):
            parent = widget.parent()
            named_by_parent = isinstance(parent, QDateEdit | QComboBox) and bool(
                parent.accessibleName()
            )
            assert widget.accessibleName() or named_by_parent, widget


def test_cover_fields_are_saved_as_undoable_edits(
    dialog: BoardPackDialog, store: Store, qtbot: QtBot
) -> None:
    _type(qtbot, dialog.fields["report_of"], "Head of Community Safety")
    pack = _pack(store)
    assert pack is not None and pack.report_of == "Head of Community Safety"
    assert pack.quarter == Quarter.parse("2023/24 Q2")
    summary = dialog.fields["summary"]
    _type(qtbot, summary, "Progress is good.")
    pack = _pack(store)
    assert pack is not None and pack.summary == "Progress is good."
    check = dialog.fields["key_decision"]
    assert isinstance(check, QCheckBox)
    check.click()
    pack = _pack(store)
    assert pack is not None and pack.key_decision
    stack = dialog.document.undo_stack
    assert stack.undoText() == "Edit the board pack's key decision"
    stack.undo()
    pack = _pack(store)
    assert pack is not None and not pack.key_decision


def test_a_second_meeting_date_gets_its_own_pack_and_the_first_is_found_again(
    dialog: BoardPackDialog, store: Store, qtbot: QtBot
) -> None:
    first_date = dialog.current_meeting_date
    _type(qtbot, dialog.fields["subject"], "First paper")
    _type(qtbot, dialog.meeting_title, "Partnership Board")
    first = dialog.pack_id
    dialog.meeting_date.setDate(QDate(2023, 12, 4))
    assert dialog.pack_id is None
    assert dialog.field_value("subject") != "First paper"
    _type(qtbot, dialog.fields["subject"], "Second paper")
    assert dialog.pack_id not in (None, first)
    dialog.meeting_date.setDate(QDate(first_date.year, first_date.month, first_date.day))
    assert dialog.pack_id == first
    assert dialog.field_value("subject") == "First paper"
    assert dialog.meeting_title.text() == "Partnership Board"
    with store.session() as s:
        assert len(s.scalars(select(BoardMeeting)).all()) == 2


def test_sections_are_ticked_and_moved_with_the_keyboard(
    dialog: BoardPackDialog, store: Store, qtbot: QtBot
) -> None:
    dialog.sections.setCurrentRow(2)  # At a glance
    dialog.sections.setFocus()
    # Alt+Up is the "Move up" button's shortcut: it works from the list.
    qtbot.keyClick(dialog.sections, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: dialog.sections.item(1).text() == "At a glance")
    assert dialog.sections.currentRow() == 1
    dialog.sections.item(0).setCheckState(Qt.CheckState.Unchecked)
    pack = _pack(store)
    assert pack is not None
    assert pack.sections[:3] == [
        {"key": "cover", "enabled": False},
        {"key": "at_a_glance", "enabled": True},
        {"key": "contents", "enabled": True},
    ]
    dialog.sections.setCurrentRow(0)
    assert not dialog.up_button.isEnabled() and dialog.down_button.isEnabled()


def test_export_runs_in_the_background_records_it_and_opens_the_pdf(
    dialog: BoardPackDialog, store: Store, qtbot: QtBot, tmp_path: Path
) -> None:
    _type(qtbot, dialog.fields["report_of"], "Head of Community Safety")
    dialog.sections.item(0).setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(dialog.exported, timeout=30000) as done:
        dialog.export_button.click()
    assert done.args is not None
    result = done.args[0]
    assert isinstance(result, ExportResult)
    assert result.path.parent == tmp_path and result.path.name.startswith("board-pack-2023-24-Q2")
    assert dialog.opened == [result.path]  # type: ignore[attr-defined]
    text = " ".join(pypdf.PdfReader(result.path).pages[0].extract_text().split())
    assert "Head of Community Safety" in text
    with store.session() as s:
        assert [e.sha256 for e in s.scalars(select(PackExport))] == [result.sha256]
    assert "Exported" in dialog.status.text()
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled())


def test_export_with_a_password_writes_a_protected_pdf(
    dialog: BoardPackDialog, qtbot: QtBot, tmp_path: Path
) -> None:
    import pikepdf

    dialog.protect_check.click()
    assert dialog.password_edit.isEnabled()
    qtbot.keyClicks(dialog.password_edit, "draft-pack-2023")
    qtbot.keyClicks(dialog.password_again, "draft-pack-2024")
    dialog.export_button.click()
    assert "passwords differ" in dialog.status.text()
    assert not list(tmp_path.glob("*.pdf"))
    dialog.password_again.clear()
    qtbot.keyClicks(dialog.password_again, "draft-pack-2023")
    with qtbot.waitSignal(dialog.exported, timeout=30000) as done:
        dialog.export_button.click()
    assert done.args is not None
    path = done.args[0].path
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(path)
    with pikepdf.open(path, password="draft-pack-2023") as pdf:
        assert len(pdf.pages) >= 1
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled())


def test_cancel_stops_the_export_and_leaves_no_file(
    dialog: BoardPackDialog,
    store: Store,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ssp_desktop.reports import export as export_module

    def slow_export(*args: object, progress: Progress, **kwargs: object) -> ExportResult:
        # A small pack exports in a blink; hold it until the user has pressed Cancel.
        deadline = time.monotonic() + 20
        while not progress.cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        return export_module.export_pack(*args, progress=progress, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("ssp_desktop.ui.board_pack.export_pack", slow_export)
    cancelled = []
    finished = []
    dialog.exported.connect(finished.append)
    dialog.export_button.click()
    assert dialog.job is not None and dialog.job_dialog is not None
    dialog.job.cancelled.connect(lambda: cancelled.append(True))
    cancel = dialog.job_dialog.findChild(QPushButton)
    assert cancel is not None and cancel.text() == "Cancel"
    cancel.click()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=30000)
    assert "cancelled" in dialog.status.text()
    assert finished == []
    assert [p for p in tmp_path.iterdir() if p.suffix in (".pdf", ".partial")] == []
    with store.session() as s:
        assert s.scalars(select(PackExport)).all() == []


def test_file_menu_opens_the_builder_for_the_plan_shown(qtbot: QtBot, store_path: Path) -> None:
    with Store.open(store_path, create=True) as s:
        mini_plan(s)
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    assert not window.board_pack_action.isEnabled()
    assert window.open_store(store_path)
    assert window.board_pack_action.isEnabled()
    window.board_pack_action.trigger()
    dialog = window.board_pack_dialog
    assert isinstance(dialog, BoardPackDialog)
    assert dialog.windowTitle() == "Board pack: Plan 2022-25"
    dialog.close()
    window.close()


def test_the_window_opens_without_importing_reportlab() -> None:
    code = "import sys, ssp_desktop.ui.main_window; print('reportlab' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


# --------------------------------------------------------------------------- sign-off


def _accepted_and_submitted(store: Store, plan: MiniPlan) -> None:
    from ssp_desktop import services
    from ssp_desktop.domain.enums import Rag, UpdateState
    from ssp_desktop.domain.records import Action

    with store.transaction() as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.write_update(
            tx,
            action,
            Quarter.parse("2023/24 Q2"),
            rag=Rag.AMBER,
            narrative="Submitted, not yet reviewed.",
            written_on=dt.date(2023, 10, 9),
            state=UpdateState.SUBMITTED,
        )


def _export(dialog: BoardPackDialog, qtbot: QtBot) -> ExportResult:
    with qtbot.waitSignal(dialog.exported, timeout=30000) as done:
        qtbot.keyClick(dialog.export_button, Qt.Key.Key_Space)
    assert done.args is not None
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled())
    result = done.args[0]
    assert isinstance(result, ExportResult)
    return result


def test_the_builder_can_include_updates_awaiting_review_marked(
    dialog: BoardPackDialog, store: Store, plan: MiniPlan, qtbot: QtBot
) -> None:
    _accepted_and_submitted(store, plan)
    first = _export(dialog, qtbot)
    assert "Submitted, not yet reviewed." not in _all_text(first.path)
    dialog.awaiting_check.setFocus()
    qtbot.keyClick(dialog.awaiting_check, Qt.Key.Key_Space)
    assert dialog.awaiting_check.isChecked()
    second = _export(dialog, qtbot)
    assert "Awaiting review: Submitted, not yet reviewed." in _all_text(second.path)
    assert dialog.exports_list.count() == 2
    assert "with updates awaiting review" in dialog.exports_list.item(0).text()


def _all_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() or "" for p in pypdf.PdfReader(path).pages).split())


def test_publish_and_make_again_beside_the_recorded_exports(
    dialog: BoardPackDialog, store: Store, qtbot: QtBot
) -> None:
    assert not dialog.publish_button.isEnabled() and not dialog.remake_button.isEnabled()
    result = _export(dialog, qtbot)
    assert dialog.exports_list.count() == 1
    assert "not published" in dialog.exports_list.item(0).text()
    asked: list[str] = []
    dialog.confirm_publish = lambda text: asked.append(text) or False  # type: ignore[func-returns-value]
    qtbot.keyClick(dialog.publish_button, Qt.Key.Key_Space)
    assert asked and "locked" in asked[0]
    with store.session() as s:
        assert s.get(PackExport, result.export_id).published_at is None  # type: ignore[union-attr]
    dialog.confirm_publish = lambda _text: True
    qtbot.keyClick(dialog.publish_button, Qt.Key.Key_Space)
    with store.session() as s:
        export = s.get(PackExport, result.export_id)
        assert export is not None and export.published_at is not None
        pack = s.get(BoardPack, export.pack_id)
        assert pack is not None and pack.status.value == "final"
    assert "2023/24 Q2 is locked" in dialog.status.text()
    assert "published" in dialog.exports_list.item(0).text()
    assert not dialog.publish_button.isEnabled()

    qtbot.keyClick(dialog.remake_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: dialog.last_remake is not None, timeout=30000)
    assert dialog.last_remake is not None and dialog.last_remake.matches
    assert "byte-identical" in dialog.status.text()
    qtbot.waitUntil(dialog.remake_button.isEnabled)
