"""The main window as a user meets it: first run, the sample plan, navigating, editing,
undo from the Edit menu, finding, starting a new plan, and refusals explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QSettings
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QFileDialog,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from ssp_desktop import paths, services
from ssp_desktop.app import configure_settings, ensure_sample_store
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.records import Action
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.dialogs import NewPlanDialog
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.navigator import ID_ROLE
from ssp_desktop.ui.workspace import Workspace
from tests.factories import mini_plan


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    configure_settings()
    w = MainWindow(open_sample=ensure_sample_store)
    qtbot.addWidget(w)
    return w


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: shown.append(text))
    return shown


def _workspace(window: MainWindow) -> Workspace:
    assert window.workspace is not None
    return window.workspace


def test_first_run_offers_sample_new_plan_and_open(window: MainWindow) -> None:
    assert window.pages.currentIndex() == 0
    assert window.store_label.text() == "No store open"
    assert window.sample_button.isEnabled() and window.new_button.isEnabled()
    assert window.open_button.isEnabled()
    # A theme lead can make their copy from a starter bundle.
    assert window.import_button.isEnabled() and "starter bundle" in window.import_button.toolTip()
    assert not window.undo_action.isEnabled() and not window.close_action.isEnabled()


def test_the_sample_plan_opens_in_the_navigator_with_its_banner(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.sample_button.click()
    ws = _workspace(window)
    assert window.banner.isVisible() and window.banner.text() == "Sample data - illustrative only"
    assert "master copy" in window.store_label.text()
    assert window.saved_label.text() == "All changes saved"
    assert ws.plan_combo.currentText().startswith("Safer Stockport Partnership Plan 2022-25")
    assert [ws.tabs.tabText(i) for i in range(ws.tabs.count())] == [
        "&Plan",
        "&Actions",
        "&Measures",
        "My &quarter",
        "&Dashboard",
        "To revie&w (4)",  # the sample's updates awaiting review; a master copy only
    ]
    # The plan itself is selected and its editor shown.
    current = ws.navigator.currentIndex()
    assert current.data(ID_ROLE) == ws.plan_id
    assert ws.editor is not None
    window.close_store()
    assert not window.banner.isVisible() and window.pages.currentIndex() == 0


def test_choosing_the_priorities_heading_summarises_the_plan(window: MainWindow) -> None:
    window.open_sample()
    ws = _workspace(window)
    plan_index = ws.navigator_model.index(0, 0)
    ws.navigator.setCurrentIndex(ws.navigator_model.index(0, 0, plan_index))
    text = ws.editor.text()  # type: ignore[union-attr]
    assert "PVP Protecting Vulnerable People" in text and "CAB265" in text
    assert "1 April 2022" in text


def test_editing_an_action_then_undo_and_redo_from_the_edit_menu(
    window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as s:
        plan = mini_plan(s)
    assert window.open_store(path)
    ws = _workspace(window)
    ws.select_record(plan.action.id)
    assert ws.history.model.rowCount() == 1  # "Created"
    assert window.document is not None

    def retitle(tx: Transaction) -> None:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Fund three IDVAs")

    window.document.edit("Change title", retitle)
    assert window.undo_action.isEnabled() and window.undo_action.text() == "&Undo Change title"
    assert ws.history.model.rowCount() == 2
    # The navigator follows, and keeps the action selected.
    QApplication.processEvents()
    assert ws.navigator.currentIndex().data() == "PVP-01 Fund three IDVAs"
    window.undo_action.trigger()
    QApplication.processEvents()
    assert ws.navigator.currentIndex().data() == "PVP-01 Fund IDVAs"
    assert window.redo_action.text() == "&Redo Change title"
    window.redo_action.trigger()
    QApplication.processEvents()
    assert ws.navigator.currentIndex().data() == "PVP-01 Fund three IDVAs"


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_find_in_a_list_filters_it_and_elsewhere_searches_the_plan(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.open_sample()
    ws = _workspace(window)
    ws.tabs.setCurrentWidget(ws.actions_list)
    window.find_action.trigger()
    assert ws.tabs.currentWidget() is ws.actions_list
    # The window's focus (what the keyboard reaches when it is active) is the search box.
    focused = window.focusWidget()
    assert isinstance(focused, QLineEdit) and focused.placeholderText() == "Find…"
    ws.tabs.setCurrentIndex(0)
    window.find_action.trigger()
    assert window.search_dialog is not None and window.search_dialog.isVisible()
    window.search_dialog.reject()


def test_activating_a_listed_action_opens_it_in_the_plan_tab(window: MainWindow) -> None:
    window.open_sample()
    ws = _workspace(window)
    ws.tabs.setCurrentIndex(1)
    plan_index = ws.navigator_model.index(0, 0)
    pvp = ws.navigator_model.index(0, 0, ws.navigator_model.index(0, 0, plan_index))
    action = ws.navigator_model.index(0, 0, ws.navigator_model.index(0, 0, pvp))
    assert ws.actions_list is not None
    ws.actions_list.record_activated.emit("action", action.data(ID_ROLE))
    assert ws.tabs.currentIndex() == 0
    assert ws.navigator.currentIndex() == action


def test_about_names_version_licence_store_and_log(window: MainWindow) -> None:
    from ssp_desktop import __version__
    from ssp_desktop.logs import log_file

    assert "none open" in window.about_text()
    window.open_sample()
    text = window.about_text()
    assert f"ssp-desktop {__version__}" in text and "MIT" in text
    assert str(paths.sample_store_path()) in text
    assert str(log_file()) in text


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_the_dashboard_opens_a_scorecard_measure_in_the_plan_tab(window: MainWindow) -> None:
    window.open_sample()
    window.show()
    ws = _workspace(window)
    assert ws.dashboard is not None
    assert ws.dashboard.scorecard_model.rowCount() == 0  # not read until looked at
    ws.tabs.setCurrentWidget(ws.dashboard)
    row = ws.dashboard.scorecard_model.rows[3]
    ws.dashboard.record_activated.emit("measure", row.measure_id)
    assert ws.tabs.currentIndex() == 0
    assert ws.navigator.currentIndex().data(ID_ROLE) == row.measure_id
    chart = getattr(ws.editor, "chart", None)
    assert chart is not None and chart.view.title.text().startswith(row.ref)


def test_a_new_store_starts_a_new_plan(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new.sqlite"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(path), STORE_FILTER_ANY)
    )

    def fill_and_accept(dialog: NewPlanDialog) -> int:
        dialog.partnership.setText("Safer Testshire")
        dialog.title.setText("Testshire Community Safety Plan 2025-28")
        return QDialog.DialogCode.Accepted.value

    monkeypatch.setattr(NewPlanDialog, "exec", fill_and_accept)
    window.new_store()
    ws = _workspace(window)
    assert path.exists()
    assert ws.plan_combo.currentText().startswith("Testshire Community Safety Plan 2025-28")
    assert not window.banner.isVisible()
    # Starting the plan is itself undoable.
    assert window.undo_action.text().startswith("&Undo Start plan")


STORE_FILTER_ANY = "All files (*)"


def test_the_new_plan_dialog_explains_what_is_missing(qtbot: QtBot) -> None:
    dialog = NewPlanDialog(None)
    qtbot.addWidget(dialog)
    dialog.buttons.accepted.emit()
    assert dialog.error.text() == "Error: the partnership needs a name."
    dialog.partnership.setText("Safer Testshire")
    dialog.buttons.accepted.emit()
    assert dialog.error.text() == "Error: the plan needs a title."
    dialog.title.setText("Plan")
    dialog.last.setCurrentIndex(0)
    dialog.buttons.accepted.emit()
    assert dialog.error.text() == "Error: the last year is before the first year."
    assert dialog.result() != QDialog.DialogCode.Accepted.value


def test_a_bad_file_is_explained_and_the_window_stays_usable(
    window: MainWindow, tmp_path: Path, warnings: list[str]
) -> None:
    path = tmp_path / "minutes.sqlite"
    path.write_text("not a database")
    assert not window.open_store(path)
    assert warnings and "not a SQLite database" in warnings[0]
    assert window.store is None and window.pages.currentIndex() == 0


def test_a_store_held_by_another_app_names_the_holder(
    window: MainWindow, tmp_path: Path, warnings: list[str]
) -> None:
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True):
        assert not window.open_store(path)
    assert "already open for editing by" in warnings[0]


def test_window_layout_is_remembered(qtbot: QtBot) -> None:
    configure_settings()
    first = MainWindow()
    qtbot.addWidget(first)
    first.resize(760, 520)  # within the offscreen platform's 800x600 screen
    first.close()
    assert QSettings().value("main_window/geometry") is not None
    second = MainWindow()
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (760, 520)


def test_every_control_has_an_accessible_name(window: MainWindow) -> None:
    window.open_sample()
    widgets = window.findChildren(QAbstractButton) + window.findChildren(QAbstractItemView)

    # Qt's own internals (the menu bar's overflow button, views' headers, a combo box's
    # popup list, a line edit's clear button) are named by Qt.
    def internal(w: QWidget) -> bool:
        parent = w.parentWidget()
        while parent is not None:
            if isinstance(parent, QComboBox | QLineEdit):
                return True
            parent = parent.parentWidget()
        return w.objectName().startswith("qt_") or isinstance(w, QHeaderView)

    ours = [w for w in widgets if not internal(w)]
    assert len(ours) >= 5
    unnamed = [w for w in ours if not (w.accessibleName() or getattr(w, "text", str)())]
    assert unnamed == []


def test_navigator_is_reachable_by_keyboard(window: MainWindow, qtbot: QtBot) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.open_sample()
    ws = _workspace(window)
    ws.navigator.setFocus()
    start = ws.navigator.currentIndex()
    from PySide6.QtCore import Qt

    qtbot.keyClick(ws.navigator, Qt.Key.Key_Down)
    assert ws.navigator.currentIndex() != start
    assert ws.navigator.currentIndex() != QModelIndex()


def test_deleting_a_record_from_its_editor_moves_to_its_parent(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as s:
        plan = mini_plan(s)
    assert window.open_store(path)
    ws = _workspace(window)
    ws.select_record(plan.action.id)
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    editor = ws.editor
    assert editor is not None
    editor.delete_button.click()  # type: ignore[attr-defined]
    QApplication.processEvents()
    assert ws.navigator.currentIndex().data(ID_ROLE) == plan.area.id
    assert ws.navigator_model.rowCount(ws.navigator_model.index_of(plan.area.id)) == 0
    # And Edit > Undo brings the action back.
    window.undo_action.trigger()
    QApplication.processEvents()
    assert ws.navigator_model.rowCount(ws.navigator_model.index_of(plan.area.id)) == 1


def test_at_start_the_frame_says_loading_then_fills_in_with_the_plan(
    window: MainWindow, qtbot: QtBot
) -> None:
    """What `ssp-desktop --sample` does: the window appears saying "Loading plan…",
    with nothing that needs a store enabled, and the plan fills it in once it loads."""
    window.load_after_paint(window.open_sample)
    window.show()
    assert window.pages.currentWidget() is window.loading_page
    assert window.loading_label.text() == "Loading plan…"
    assert window.store_label.text() == "Loading plan…"
    assert not window.board_pack_action.isEnabled() and not window.close_action.isEnabled()
    assert window.workspace is None
    with qtbot.waitSignal(window.loaded, timeout=60_000):
        pass
    workspace = _workspace(window)
    assert window.pages.currentWidget() is workspace
    assert workspace.plan_combo.count() >= 1
    assert window.board_pack_action.isEnabled()
    assert window.banner.isVisible() and "Sample data" in window.banner.text()


def test_a_store_that_fails_to_load_at_start_leaves_the_start_page(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, warnings: list[str]
) -> None:
    bad = tmp_path / "not-a-store.sqlite"
    bad.write_text("this is not a plan store")
    window.load_after_paint(lambda: window.open_store(bad))
    window.show()
    assert window.pages.currentWidget() is window.loading_page
    with qtbot.waitSignal(window.loaded, timeout=60_000):
        pass
    assert window.pages.currentIndex() == 0
    assert window.store_label.text() == "No store open"
    assert len(warnings) == 1 and "not-a-store.sqlite" in warnings[0]
