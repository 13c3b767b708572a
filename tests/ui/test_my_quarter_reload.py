"""A bundle import rebuilds the window's views: typing not yet saved in My quarter is
carried into the rebuilt view, and the status bar still says it is unsaved.

Before, importing a lead's bundle while a narrative was half-typed in My quarter made a
new workspace and the typing was gone, without a word."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from ssp_desktop import services
from ssp_desktop.app import configure_settings
from ssp_desktop.domain.enums import Rag
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.main_window import UNSAVED_TYPING, MainWindow
from ssp_desktop.ui.my_quarter import KEPT, MyQuarterView
from ssp_desktop.ui.sync_ui import ImportBundleWizard
from tests.sync.helpers import World, lead_change, master_on_this_install

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

QUARTER = Quarter.parse("2022/23 Q4")
TYPED = "IDVA caseloads reviewed with the MARAC chair"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = master_on_this_install(tmp_path)
    yield w
    w.close()


@pytest.fixture
def window(qtbot: QtBot, world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    # No question box may wait for a click that never comes: any asked is answered
    # Discard (each test checks the typing before the window closes).
    monkeypatch.setattr(
        QMessageBox, "exec", lambda _box: int(QMessageBox.StandardButton.Discard.value)
    )
    configure_settings()
    path = world.master.path
    world.master.close()
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.open_store(path)
    assert w.store is not None
    world.master = w.store  # the world's helpers write through the window's store
    w.show()
    qtbot.waitExposed(w)
    yield w
    view = w.workspace.my_quarter if w.workspace is not None else None
    for card in view.unsaved_cards() if view is not None else []:
        card.load(card.item, force=True)  # type: ignore[arg-type]  # leave nothing to ask
    w.close_store()
    world.master = Store.open(path)  # for the world fixture to close


def _my_quarter(window: MainWindow, qtbot: QtBot) -> MyQuarterView:
    ws = window.workspace
    assert ws is not None and ws.my_quarter is not None
    ws.tabs.setCurrentWidget(ws.my_quarter)
    view = ws.my_quarter
    with qtbot.waitSignal(view.refreshed):
        view.person_combo.setCurrentIndex(view.person_combo.findText("Superintendent"))
    if view.quarter() != QUARTER:
        with qtbot.waitSignal(view.refreshed):
            view.set_quarter(QUARTER)
    return view


def test_typing_survives_a_bundle_import_that_rebuilds_the_views(
    qtbot: QtBot, window: MainWindow, world: World
) -> None:
    view = _my_quarter(window, qtbot)
    card = view.action_card("PVP-01")
    card.narrative.setFocus()
    qtbot.keyClicks(card.narrative, TYPED)
    assert window.saved_label.text() == UNSAVED_TYPING
    old_workspace = window.workspace

    bundle = lead_change(world, "Title from the lead")
    window.import_action.trigger()  # File > Import bundle…
    wizard = window.findChild(ImportBundleWizard)
    assert isinstance(wizard, ImportBundleWizard)
    wizard.file_page.path.setText(str(bundle))
    wizard.next()
    qtbot.waitUntil(wizard.preview_page.isComplete, timeout=20000)
    wizard.next()  # Import
    qtbot.waitUntil(wizard.summary_page.isComplete, timeout=20000)

    # The views were made afresh from the store (the import's own rule) ...
    assert window.workspace is not None and window.workspace is not old_workspace
    view = window.workspace.my_quarter
    assert view is not None
    # ... and the typing is in the new My quarter, on the same person and quarter,
    # with a word that it is not saved yet; the status bar still says so.
    assert view.quarter() == QUARTER
    card = view.action_card("PVP-01")
    assert card.typed_narrative() == TYPED
    assert card.title_label.text() == "Title from the lead"
    assert KEPT in card.message.text()
    assert window.saved_label.text() == UNSAVED_TYPING
    wizard.close()


def test_typing_survives_a_change_to_the_update_it_was_typed_over(
    qtbot: QtBot, window: MainWindow, world: World
) -> None:
    view = _my_quarter(window, qtbot)
    card = view.action_card("PVP-01")
    card.narrative.setFocus()
    qtbot.keyClicks(card.narrative, TYPED)
    # Someone else's write (an import, a merge) lands an update for the same quarter.
    store = window.store
    assert store is not None
    with qtbot.waitSignal(view.refreshed), store.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.write_update(
            tx,
            action,
            QUARTER,
            rag=Rag.GREEN,
            narrative="Written by the strategy team.",
            written_on=dt.date(2023, 4, 10),
        )
    card = view.action_card("PVP-01")
    assert card.typed_narrative() == TYPED
    assert "changed" in card.message.text() and "kept" in card.message.text()
    assert window.saved_label.text() == UNSAVED_TYPING
