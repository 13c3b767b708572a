"""The window and a store of two partnerships: it asks which, remembers the answer,
switches from the File menu, and shows the region summary in words and counts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.partnerships import PartnershipDialog

# The offscreen platform's note when a window is shown; harmless.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

A = "Safer Stockport Partnership"
B = "Safer Tameside Partnership"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("two-ui") / "two.sqlite"
    with Store.open(path, create=True) as store:
        write_sample(store)
        write_sample(store, partnership_name=B)
    return path


@pytest.fixture
def two(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "two.sqlite"
    shutil.copy(template, path)
    return path


@pytest.fixture
def window(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    configure_settings()
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: shown.append(text))
    w = MainWindow()
    qtbot.addWidget(w)
    yield w
    w.close_store()
    assert shown == []


def _choose(qtbot: QtBot, presses: list[Qt.Key], seen: list[dict[str, object]]) -> None:
    """When the chooser opens, note what it offers, then press ``presses`` on its list
    (checked by the test afterwards: a failed assert here would leave it open)."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, PartnershipDialog):
            QTimer.singleShot(20, act)
            return
        seen.append(
            {
                "name": dialog.list.accessibleName(),
                "items": [dialog.list.item(i).text() for i in range(dialog.list.count())],
                "focus": dialog.focusWidget() is dialog.list,
            }
        )
        try:
            for key in presses:
                qtbot.keyClick(dialog.list, key)
        finally:
            if dialog.isVisible() and Qt.Key.Key_Escape not in presses and len(presses) < 2:
                dialog.reject()

    QTimer.singleShot(0, act)


def _offered(seen: list[dict[str, object]]) -> None:
    for what in seen:
        assert what == {"name": "Partnerships in this store", "items": [A, B], "focus": True}


def test_the_window_asks_which_partnership_and_remembers(
    qtbot: QtBot, window: MainWindow, two: Path
) -> None:
    seen: list[dict[str, object]] = []
    _choose(qtbot, [Qt.Key.Key_Down, Qt.Key.Key_Return], seen)
    assert window.open_store(two)
    assert len(seen) == 1
    _offered(seen)
    assert window.store is not None and window.store.partnership is not None
    assert window.store.partnership.name == B
    assert B in window.windowTitle() and B in window.store_label.text()
    assert window.region_action.isVisible() and window.partnership_action.isVisible()
    # The next open goes straight to the partnership chosen last time.
    window.close_store()
    assert window.open_store(two)
    assert len(seen) == 1
    assert window.store is not None and window.store.partnership is not None
    assert window.store.partnership.name == B


def test_the_plan_picker_lists_only_the_chosen_partnership_s_plans(
    qtbot: QtBot, window: MainWindow, two: Path
) -> None:
    """Both partnerships hold the sample's plans under the same titles: opened for one,
    the picker offers that one's plans once each, not the other's as well."""
    seen: list[dict[str, object]] = []
    _choose(qtbot, [Qt.Key.Key_Down, Qt.Key.Key_Return], seen)
    assert window.open_store(two)
    _offered(seen)
    workspace = window.workspace
    assert workspace is not None
    offered = [workspace.plan_combo.itemText(i) for i in range(workspace.plan_combo.count())]
    assert offered, "the picker is empty"
    assert len(offered) == len(set(offered)), offered
    assert offered[0].startswith("Safer Stockport Partnership Plan 2022-25")


def test_escape_in_the_chooser_leaves_the_store_closed(
    qtbot: QtBot, window: MainWindow, two: Path
) -> None:
    seen: list[dict[str, object]] = []
    _choose(qtbot, [Qt.Key.Key_Escape], seen)
    assert not window.open_store(two)
    assert len(seen) == 1 and window.store is None
    _offered(seen)
    assert window.store_label.text() == "No store open"


def test_file_menu_opens_the_store_for_another_partnership(
    qtbot: QtBot, window: MainWindow, two: Path
) -> None:
    assert window.open_store(two, partnership=A)
    seen: list[dict[str, object]] = []
    _choose(qtbot, [Qt.Key.Key_Down, Qt.Key.Key_Enter], seen)
    window.partnership_action.trigger()
    assert len(seen) == 1
    _offered(seen)
    assert window.store is not None and window.store.partnership is not None
    assert window.store.partnership.name == B


def test_region_summary_from_the_file_menu(qtbot: QtBot, window: MainWindow, two: Path) -> None:
    assert window.open_store(two, partnership=A)
    window.region_action.trigger()
    dialog = window.region_dialog
    assert dialog is not None
    table = dialog.table
    assert table.accessibleName() == "Region summary table"
    headings = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headings[2:6] == ["▲ Red", "◆ Amber", "● Green", "Not rated"]
    names = {table.item(r, 0).text() for r in range(table.rowCount())}
    assert names == {A, B}
    priorities = [table.item(r, 1).text() for r in range(table.rowCount())]
    assert priorities.count("All priorities") == 2
    qtbot.keyClick(table, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.region_dialog is None)


def test_a_store_of_one_partnership_asks_nothing(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "one.sqlite"
    with Store.open(path, create=True) as store:
        write_sample(store)
    assert window.open_store(path)
    assert window.store is not None and window.store.partnership is not None
    assert window.store.partnership.name == A
    assert not window.region_action.isVisible()
    assert not window.partnership_action.isVisible()
    assert A not in window.windowTitle()
