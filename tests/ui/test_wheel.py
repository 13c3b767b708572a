"""The mouse wheel over a form scrolls the page; it never changes (and saves) a field.

A person scrolling down an action's editor with the wheel passes the pointer over its
status combo and its dates. Before, each wheel step changed the value under the pointer,
and each change was saved and logged."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QDateEdit, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.main_window import MainWindow
from tests.factories import mini_plan

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def wheel_over(widget: QWidget, steps: int = -3) -> None:
    """One wheel turn of ``steps`` notches (negative: towards the user, scrolling down)
    with the pointer over the middle of ``widget``."""
    centre = widget.rect().center()
    event = QWheelEvent(
        QPointF(centre),
        QPointF(widget.mapToGlobal(centre)),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    configure_settings()
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as s:
        plan = mini_plan(s)
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.open_store(path)
    w.resize(900, 520)  # short enough that the action's editor scrolls
    w.show()
    qtbot.waitExposed(w)
    assert w.workspace is not None
    w.workspace.select_record(plan.action.id)
    return w


def test_wheel_over_an_unfocused_combo_scrolls_the_editor_and_changes_nothing(
    window: MainWindow,
) -> None:
    ws = window.workspace
    assert ws is not None and ws.editor is not None
    status = ws.editor.findChild(QComboBox, "statusInput")
    assert status is not None and not status.hasFocus()
    bar = ws.editor_area.verticalScrollBar()
    assert bar.maximum() > 0, "the editor should need scrolling at this size"
    before_text, before_scroll = status.currentText(), bar.value()
    history_rows = ws.history.model.rowCount()

    wheel_over(status, -1)
    wheel_over(status, -1)

    assert status.currentText() == before_text
    assert ws.history.model.rowCount() == history_rows  # nothing saved, nothing logged
    assert bar.value() > before_scroll  # the page scrolled instead


def test_wheel_over_a_date_the_user_has_left_scrolls_and_changes_nothing(
    window: MainWindow, qtbot: QtBot
) -> None:
    ws = window.workspace
    assert ws is not None and ws.editor is not None
    due = ws.editor.findChild(QDateEdit, "due_dateInput")
    assert due is not None
    # The user was in the due date, then moved to the title: the pointer later passes
    # over the date on its way down the page.
    title = ws.editor.findChild(QLineEdit, "titleInput")
    assert title is not None
    due.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(due.hasFocus)
    title.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(lambda: not due.hasFocus())
    before = due.date()
    history_rows = ws.history.model.rowCount()
    bar = ws.editor_area.verticalScrollBar()
    bar.setValue(0)
    wheel_over(due, -1)
    assert due.date() == before
    assert ws.history.model.rowCount() == history_rows
    assert bar.value() > 0  # the page scrolled


def test_a_focused_combo_still_takes_the_wheel(window: MainWindow, qtbot: QtBot) -> None:
    """Once the user has clicked or tabbed into a field, the wheel is theirs to use there."""
    ws = window.workspace
    assert ws is not None and ws.editor is not None
    status = ws.editor.findChild(QComboBox, "statusInput")
    assert status is not None
    # The wheel alone never gives a combo the focus.
    assert status.focusPolicy() == Qt.FocusPolicy.StrongFocus
    status.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(status.hasFocus)
    before = status.currentIndex()
    wheel_over(status, -1)
    assert status.currentIndex() != before


def test_a_value_widget_made_anywhere_later_is_guarded_under_the_app_s_own_style(
    window: MainWindow, qtbot: QtBot
) -> None:
    """The app's style (the contrast style, as ``ssp-desktop`` starts) guards a combo
    made after the window, outside any form, as Qt polishes it: the wheel scrolls the
    page around it and leaves its value alone."""
    from PySide6.QtWidgets import QScrollArea, QVBoxLayout

    from ssp_desktop.ui.style import install_contrast_style

    install_contrast_style(QApplication.instance())  # type: ignore[arg-type]
    area = QScrollArea()
    qtbot.addWidget(area)
    page = QWidget()
    layout = QVBoxLayout(page)
    combo = QComboBox()
    combo.addItems(["one", "two", "three"])
    layout.addWidget(combo)
    layout.addSpacing(2000)
    area.setWidget(page)
    area.resize(300, 200)
    area.show()
    qtbot.waitExposed(area)
    assert combo.focusPolicy() == Qt.FocusPolicy.StrongFocus
    bar = area.verticalScrollBar()
    wheel_over(combo, -1)
    assert combo.currentIndex() == 0
    assert bar.value() > 0
