"""The foundation's main window: what a user sees on opening a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings, ensure_sample_store
from ssp_desktop.models.store import Store
from ssp_desktop.ui.main_window import MainWindow
from tests.factories import mini_plan


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    configure_settings()
    w = MainWindow(open_sample=ensure_sample_store)
    qtbot.addWidget(w)
    return w


def test_no_store_shows_the_welcome_page(window: MainWindow) -> None:
    assert window.pages.currentIndex() == 0
    assert window.store_label.text() == "No store open"
    assert window.sample_button.isEnabled() and window.open_button.isEnabled()
    assert not window.close_action.isEnabled()


def test_the_sample_plan_opens_with_its_banner(window: MainWindow, qtbot: QtBot) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.sample_button.click()
    assert window.store is not None and window.store.is_sample
    assert window.banner.isVisible()
    assert window.banner.text() == "Sample data - illustrative only"
    titles = [window.plans.topLevelItem(i).text(0) for i in range(window.plans.topLevelItemCount())]
    assert "Safer Stockport Partnership Plan 2022-25" in titles
    assert "master copy" in window.store_label.text()
    # The newest plan is selected and described: priorities with leads, the approval trail.
    details = window.plan_details.toPlainText()
    assert "PVP Protecting Vulnerable People" in details
    assert "decision CAB265" in details and "15 March 2022" in details
    assert "in force from 1 April 2022" in details
    window.plans.setCurrentItem(window.plans.topLevelItem(1))
    assert "Safer Stockport Partnership Plan 2018-21" in window.plan_details.toPlainText()
    window.close_store()
    assert not window.banner.isVisible() and window.pages.currentIndex() == 0


def test_an_ordinary_store_has_no_sample_banner(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as s:
        mini_plan(s)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_store(path)
    assert not window.banner.isVisible()
    row = window.plans.topLevelItem(0)
    assert [row.text(c) for c in range(7)] == [
        "Plan 2022-25",
        "2022-25",
        "Draft",
        "1",
        "1",
        "1",
        "none yet",
    ]


def test_a_bad_file_is_explained_and_the_window_stays_usable(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    path = tmp_path / "minutes.sqlite"
    path.write_text("not a database")
    assert not window.open_store(path)
    assert shown and "not a SQLite database" in shown[0]
    assert window.store is None and window.pages.currentIndex() == 0


def test_a_store_held_by_another_window_names_the_holder(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True):
        assert not window.open_store(path)
    assert "already open for editing by" in shown[0]


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


def test_every_button_and_list_has_an_accessible_name(window: MainWindow) -> None:
    from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QHeaderView

    widgets = window.findChildren(QAbstractButton) + window.findChildren(QAbstractItemView)
    # Qt's own internals (the menu bar's overflow button, a view's header) are named by Qt.
    ours = [
        w
        for w in widgets
        if not w.objectName().startswith("qt_") and not isinstance(w, QHeaderView)
    ]
    assert len(ours) >= 3
    for widget in ours:
        assert widget.accessibleName(), widget
