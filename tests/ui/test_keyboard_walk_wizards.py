"""The keyboard and screen-reader pass over the import wizards, every page of them: the
file page, the column meanings and names pages, the preview (its table, filter and
decisions) and the finished page, at the council laptop's size. Each page is walked by
pressing Tab as a person does; it fails on an unnamed control, a control Tab never
reaches, a Tab order that jumps back up the page and one Alt+letter doing two things
(see ``tests/ui/test_keyboard_walk.py``, whose check this is)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QWizard, QWizardPage
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.spreadsheet import ImportWizard
from ssp_desktop.ui.sync_ui import ImportBundleWizard
from tests.factories import mini_plan
from tests.spreadsheets.sheets import TRACKER_HEADINGS, write_xlsx
from tests.sync.helpers import World, lead_change, master_on_this_install
from tests.ui import keyboard as kb
from tests.ui.test_keyboard_walk import LAPTOP, assert_walkable

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def _window(qtbot: QtBot, path: Path) -> MainWindow:
    configure_settings()
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.open_store(path)
    w.resize(*LAPTOP)
    w.show()
    qtbot.waitExposed(w)
    return w


def _walk_page(qtbot: QtBot, wizard: QWizard, name: str) -> None:
    page = wizard.currentPage()
    assert isinstance(page, QWizardPage)
    QCoreApplication.processEvents()
    stops = kb.focusable(wizard)
    assert stops, name
    start = next((w for w in stops if page.isAncestorOf(w)), stops[0])
    assert_walkable(qtbot, name, wizard, start)


def _press(qtbot: QtBot, wizard: QWizard, button: QWizard.WizardButton, expected: int) -> None:
    wizard.button(button).click()
    qtbot.waitUntil(lambda: wizard.currentId() == expected, timeout=20_000)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = master_on_this_install(tmp_path)
    yield w
    w.close()


def test_every_page_of_the_bundle_import_is_walkable(qtbot: QtBot, world: World) -> None:
    path = world.master.path
    world.master.close()
    window = _window(qtbot, path)
    assert window.store is not None
    world.master = window.store
    try:
        bundle = lead_change(world, "Title from the lead")
        window.import_action.trigger()
        wizard = window.findChild(ImportBundleWizard)
        assert isinstance(wizard, ImportBundleWizard)
        qtbot.waitExposed(wizard)
        _walk_page(qtbot, wizard, "bundle import: file page")
        wizard.file_page.path.setText(str(bundle))
        wizard.next()
        qtbot.waitUntil(wizard.preview_page.isComplete, timeout=20_000)
        _walk_page(qtbot, wizard, "bundle import: preview page")
        wizard.next()  # Import
        qtbot.waitUntil(wizard.summary_page.isComplete, timeout=20_000)
        QCoreApplication.processEvents()
        if wizard.isVisible():
            _walk_page(qtbot, wizard, "bundle import: finished page")
            wizard.button(QWizard.WizardButton.FinishButton).click()
    finally:
        window.close_store()
        world.master = Store.open(path)


def test_every_page_of_the_spreadsheet_import_is_walkable(
    qtbot: QtBot, store_path: Path, tmp_path: Path
) -> None:
    with Store.open(store_path, create=True) as s:
        mini_plan(s)
    window = _window(qtbot, store_path)
    sheet = write_xlsx(
        tmp_path / "tracker.xlsx",
        [
            TRACKER_HEADINGS,
            ["PVP-01", "Fund IDVAs", "PVP", "Domestic abuse", "Polise", None, None, None, None,
             "In progress", "Amber", "Two IDVAs in post"],
            ["PVP-02", "Train GPs", "PVP", "Domestic abuse", "Police", None, None, None, None,
             "Not started", None, None],
        ],
    )  # fmt: skip
    try:
        window.import_sheet_action.trigger()
        wizard = next(w for w in QApplication.topLevelWidgets() if isinstance(w, ImportWizard))
        qtbot.waitExposed(wizard)
        _walk_page(qtbot, wizard, "spreadsheet import: file page")
        wizard.file_page.path.setText(str(sheet))
        _press(qtbot, wizard, QWizard.WizardButton.NextButton, ImportWizard.MAPPING)
        _walk_page(qtbot, wizard, "spreadsheet import: columns page")
        _press(qtbot, wizard, QWizard.WizardButton.NextButton, ImportWizard.NAMES)
        _walk_page(qtbot, wizard, "spreadsheet import: names page")
        _press(qtbot, wizard, QWizard.WizardButton.NextButton, ImportWizard.PREVIEW)
        _walk_page(qtbot, wizard, "spreadsheet import: preview page")
        _press(qtbot, wizard, QWizard.WizardButton.CommitButton, ImportWizard.SUMMARY)
        _walk_page(qtbot, wizard, "spreadsheet import: finished page")
        wizard.button(QWizard.WizardButton.FinishButton).click()
    finally:
        window.close_store()
