"""Ctrl+K (and Ctrl+F away from the lists): search every plan by keyboard, see results
grouped by kind with the matched words, and open one at the quarter it matched in.

Before, search found only refs, titles and leads: "MARAC", which stands in the
narratives, found nothing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings, ensure_sample_store
from ssp_desktop.queries.search import SearchHit
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.search import HIT_ROLE, SearchDialog

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    configure_settings()
    w = MainWindow(open_sample=ensure_sample_store)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.sample_action.trigger()
    w.activateWindow()
    qtbot.waitUntil(lambda: w.isActiveWindow())
    return w


def _open_search(window: MainWindow, qtbot: QtBot) -> SearchDialog:
    assert window.workspace is not None
    window.workspace.navigator.setFocus()
    qtbot.keyClick(window.workspace.navigator, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    dialog = window.search_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(dialog.box.hasFocus)
    return dialog


def _current_hit(dialog: SearchDialog) -> SearchHit | None:
    item = dialog.results.currentItem()
    hit = item.data(0, HIT_ROLE) if item is not None else None
    return hit if isinstance(hit, SearchHit) else None


def test_ctrl_k_finds_marac_in_narratives_grouped_with_the_words_shown(
    window: MainWindow, qtbot: QtBot
) -> None:
    dialog = _open_search(window, qtbot)
    qtbot.keyClicks(dialog.box, "MARAC")
    qtbot.waitUntil(lambda: dialog.results.topLevelItemCount() > 0)
    headings = [
        dialog.results.topLevelItem(i).text(0) for i in range(dialog.results.topLevelItemCount())
    ]
    assert any(h.startswith("Progress updates (") for h in headings), headings
    assert any(h.startswith("Actions (") for h in headings)
    group = dialog.results.topLevelItem(
        headings.index(next(h for h in headings if h.startswith("Progress")))
    )
    first = group.child(0)
    assert "Matched: marac" in first.text(0)  # what a screen reader reads
    assert "MARAC" in dialog.status.text() or "found" in dialog.status.text()
    dialog.reject()


def test_enter_on_an_update_opens_its_action_at_that_quarter(
    window: MainWindow, qtbot: QtBot
) -> None:
    dialog = _open_search(window, qtbot)
    qtbot.keyClicks(dialog.box, "MARAC")
    qtbot.keyClick(dialog.box, Qt.Key.Key_Down)  # into the results
    assert dialog.results.hasFocus()
    # Down through the results to the first progress update.
    for _ in range(30):
        hit = _current_hit(dialog)
        if hit is not None and hit.kind == "update":
            break
        qtbot.keyClick(dialog.results, Qt.Key.Key_Down)
    hit = _current_hit(dialog)
    assert hit is not None and hit.kind == "update" and hit.quarter is not None
    qtbot.keyClick(dialog.results, Qt.Key.Key_Return)
    QCoreApplication.processEvents()
    assert window.search_dialog is None  # closed
    ws = window.workspace
    assert ws is not None and ws.tabs.currentIndex() == 0
    editor = ws.editor
    assert editor is not None and getattr(editor, "record_id", None) == hit.record_id
    updates = editor.updates
    assert updates.selected_quarter() == hit.quarter


def test_nothing_found_says_so(window: MainWindow, qtbot: QtBot) -> None:
    dialog = _open_search(window, qtbot)
    qtbot.keyClicks(dialog.box, "zzqx")
    qtbot.waitUntil(lambda: "Nothing found" in dialog.status.text())
    assert dialog.results.topLevelItemCount() == 0
    qtbot.keyClick(dialog.box, Qt.Key.Key_Return)  # nothing to open: stays
    assert dialog.isVisible()
    dialog.reject()
