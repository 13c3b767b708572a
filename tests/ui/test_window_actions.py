"""Every menu and toolbar action, triggered as a person does (the QAction, not its slot).

``triggered`` carries a ``checked`` bool: connected straight to a method with an optional
``path`` parameter it arrived as ``path=False`` (File > Export workbook failed on
``False.expanduser``; File > Import bundle showed "False" in its path box). Calling the
methods directly, as the older tests did, could not see that."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings, ensure_sample_store
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.dialogs import NewPlanDialog
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.sync_ui import ImportBundleWizard
from tests.factories import mini_plan

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    configure_settings()
    w = MainWindow(open_sample=ensure_sample_store)
    qtbot.addWidget(w)
    return w


def menu_and_toolbar_actions(window: MainWindow) -> list[QAction]:
    """What a person can click: each menu's items, then the toolbar's, without repeats."""
    found: list[QAction] = []
    for top in window.menuBar().actions():
        menu = top.menu()
        assert menu is not None
        found.extend(a for a in menu.actions() if not a.isSeparator())
    from PySide6.QtWidgets import QToolBar

    for toolbar in window.findChildren(QToolBar):
        found.extend(a for a in toolbar.actions() if not a.isSeparator())
    unique: list[QAction] = []
    for action in found:
        if action not in unique:
            unique.append(action)
    return unique


def _close_new_windows(before: set[QWidget]) -> None:
    for widget in QApplication.topLevelWidgets():
        if widget not in before and isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    QCoreApplication.processEvents()


def test_every_menu_and_toolbar_action_does_its_job_when_triggered(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as s:
        mini_plan(s)
    other = tmp_path / "other.sqlite"
    with Store.open(other, create=True) as s:
        mini_plan(s)
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: warnings.append(text))
    monkeypatch.setattr(QMessageBox, "about", lambda *_a: warnings.append("about shown"))
    monkeypatch.setattr(NewPlanDialog, "exec", lambda _self: QDialog.DialogCode.Rejected)
    saved_to = {"name": str(tmp_path / "new.sqlite")}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (saved_to["name"], ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(other), ""))
    window.show()
    assert window.open_store(path)

    workbook = tmp_path / "plan.xlsx"

    def export_workbook_written() -> None:
        qtbot.waitUntil(
            lambda: bool(warnings) or "Wrote" in window.statusBar().currentMessage(),
            timeout=20000,
        )
        assert not warnings, warnings
        assert workbook.stat().st_size > 0

    def import_bundle_path_empty() -> None:
        wizards = window.findChildren(ImportBundleWizard)
        assert wizards, "File > Import bundle opened no wizard"
        assert all(w.file_page.path.text() == "" for w in wizards)

    checks: dict[QAction, Callable[[], None]] = {
        window.export_workbook_action: export_workbook_written,
        window.import_action: import_bundle_path_empty,
    }
    actions = menu_and_toolbar_actions(window)
    quit_action = next(a for a in actions if a.text() == "&Quit")
    # Quit last (it closes the window); Close store just before it.
    actions.sort(key=lambda a: (a is quit_action, a is window.close_action))
    assert set(checks) <= set(actions)
    reopen = {window.new_action, window.open_action, window.sample_action}
    triggered: list[QAction] = []
    for action in actions:
        saved_to["name"] = str(
            workbook if action is window.export_workbook_action else tmp_path / "new.sqlite"
        )
        if not action.isEnabled():
            continue
        before = set(QApplication.topLevelWidgets())
        action.trigger()
        QCoreApplication.processEvents()
        if action in checks:
            checks[action]()
        assert not [w for w in warnings if w != "about shown"], (action.text(), warnings)
        triggered.append(action)
        _close_new_windows(before)
        if action in reopen:
            # Each opens another store: go back to ours for the actions that follow.
            assert window.open_store(path)
    # Undo and Redo start disabled; the partnership actions show only for a store of
    # several partnerships (tests/ui/test_partnership_ui.py triggers them there);
    # everything else was triggered.
    missed = set(actions) - set(triggered)
    allowed = {window.undo_action, window.redo_action}
    allowed |= {window.partnership_action, window.region_action}
    assert missed <= allowed, [a.text() for a in missed]
    assert "about shown" in warnings
    assert not window.isVisible()  # Quit closed the window


def test_import_bundle_from_the_menu_starts_with_an_empty_path(
    window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as s:
        mini_plan(s)
    assert window.open_store(path)
    window.import_action.trigger()
    wizards = window.findChildren(ImportBundleWizard)
    assert len(wizards) == 1
    assert wizards[0].file_page.path.text() == ""
    assert not wizards[0].file_page.isComplete()
    wizards[0].reject()


def test_file_menu_mnemonics_are_each_used_once(window: MainWindow) -> None:
    for top in window.menuBar().actions():
        menu = top.menu()
        assert menu is not None
        keys = [
            a.text().split("&", 1)[1][0].lower()
            for a in menu.actions()
            if not a.isSeparator() and "&" in a.text()
        ]
        assert len(keys) == len(set(keys)), (top.text(), keys)
