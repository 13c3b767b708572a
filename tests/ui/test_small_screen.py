"""The app on a council laptop: 1366x768, less a Windows taskbar (about 40 pixels).

Before: the first window opened 800 pixels tall, the board pack's buttons sat under the
taskbar, a measure's name got about 100 pixels, the action list scrolled sideways, and
the organisation filter read "Greater Manchester..." three times."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QComboBox, QWidget
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings, ensure_sample_store
from ssp_desktop.ui import screen
from ssp_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

# 1366x768 with a 40-pixel taskbar along the bottom.
LAPTOP_ROOM = QRect(0, 0, 1366, 728)
TITLE_BAR = 30


@pytest.fixture
def laptop(monkeypatch: pytest.MonkeyPatch) -> QRect:
    monkeypatch.setattr(screen, "screen_room", lambda _w: QRect(LAPTOP_ROOM))
    return LAPTOP_ROOM


@pytest.fixture
def window(qtbot: QtBot, laptop: QRect) -> MainWindow:
    configure_settings()
    w = MainWindow(open_sample=ensure_sample_store)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _on_screen(widget: QWidget, room: QRect) -> bool:
    top_left = widget.mapToGlobal(QPoint(0, 0))
    return room.contains(QRect(top_left, widget.size()))


def test_the_first_window_fits_above_the_taskbar(window: MainWindow, laptop: QRect) -> None:
    # The window manager adds a title bar above the window's own geometry.
    assert window.height() + TITLE_BAR <= laptop.height()
    assert window.width() <= laptop.width()
    assert window.geometry().top() - TITLE_BAR >= laptop.top()
    assert window.geometry().bottom() <= laptop.bottom()


def test_the_board_pack_buttons_are_above_the_taskbar(
    window: MainWindow, laptop: QRect, qtbot: QtBot
) -> None:
    window.sample_action.trigger()
    window.board_pack_action.trigger()
    dialog = window.board_pack_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.height() + TITLE_BAR <= laptop.height()
    assert _on_screen(dialog.export_button, laptop)
    dialog.reject()


def test_lists_fit_a_laptop_without_sideways_scrolling(
    window: MainWindow, laptop: QRect, qtbot: QtBot
) -> None:
    window.sample_action.trigger()
    ws = window.workspace
    assert ws is not None and ws.actions_list is not None and ws.measures_list is not None
    window.showMaximized()
    window.setGeometry(QRect(0, TITLE_BAR, laptop.width(), laptop.height() - TITLE_BAR))
    for listing, least in ((ws.actions_list, 220), (ws.measures_list, 280)):
        ws.tabs.setCurrentWidget(listing)
        qtbot.waitUntil(lambda v=listing.view: v.viewport().width() > 1000)
        view = listing.view
        assert view.horizontalScrollBar().maximum() == 0, listing.noun
        assert view.columnWidth(listing.stretch_column) >= least, listing.noun


def test_the_organisation_filter_tells_greater_manchester_apart(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.sample_action.trigger()
    ws = window.workspace
    assert ws is not None and ws.actions_list is not None
    ws.tabs.setCurrentWidget(ws.actions_list)
    combo: QComboBox = ws.actions_list.organisation_combo
    labels = [combo.itemText(i) for i in range(1, combo.count())]
    # What a narrow combo shows of each: the start of its label.
    metrics = combo.fontMetrics()
    shown = [metrics.elidedText(t, Qt.TextElideMode.ElideRight, 150) for t in labels]
    assert len(set(shown)) == len(shown), shown
    assert any(t.startswith("GMP") for t in labels)


def _rect_in(widget: QWidget, ancestor: QWidget) -> QRect:
    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def test_a_measures_chart_fits_with_its_legend_in_the_editor(
    window: MainWindow, laptop: QRect, qtbot: QtBot
) -> None:
    """Before: pyqtgraph's default height made the chart taller than the laptop's
    editor, so its title or its legend was always scrolled out of view."""
    window.sample_action.trigger()
    ws = window.workspace
    assert ws is not None
    model = ws.navigator_model
    measures = model.index(1, 0, model.index(0, 0))
    ws.navigator.setFocus()
    ws.navigator.setCurrentIndex(model.index(0, 0, measures))  # PVP-M1
    editor = ws.editor
    chart = getattr(editor, "chart", None)
    assert chart is not None
    view = chart.view
    viewport = ws.editor_area.viewport()
    qtbot.waitUntil(lambda: view.plot.height() >= view.plot.minimumHeight() > 0)
    # Scrolled as a person does to read the chart: its title at the top of the editor.
    body = ws.editor_area.widget()
    assert body is not None
    ws.editor_area.verticalScrollBar().setValue(view.title.mapTo(body, QPoint(0, 0)).y())
    qtbot.wait(10)
    # The title, the plot and its legend (drawn inside the plot widget, below the axes)
    # are in view together, and the legend inside the plot widget.
    title, plot = _rect_in(view.title, viewport), _rect_in(view.plot, viewport)
    room = viewport.rect()
    assert room.contains(title) and room.contains(plot), (room, title, plot)
    legend = view.legend.mapRectToScene(view.legend.boundingRect())
    assert legend.height() > 0
    assert view.plot.mapFromScene(legend).boundingRect().bottom() <= view.plot.height()

    # Opening the data table pushes what is below the plot down; it covers neither the
    # legend (in the plot) nor the alt text.
    view.table_button.setFocus()
    qtbot.keyClick(view.table_button, Qt.Key.Key_Space)
    qtbot.waitUntil(view.table.isVisible)
    qtbot.wait(10)
    table = _rect_in(view.table, view)
    assert not table.intersects(_rect_in(view.plot, view))
    assert not table.intersects(_rect_in(view.alt, view))
    assert _rect_in(view.alt, view).top() >= _rect_in(view.plot, view).bottom()
    assert view.plot.height() >= view.plot.minimumHeight()
