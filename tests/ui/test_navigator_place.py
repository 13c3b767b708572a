"""The navigator keeps the user's place through their edits, and a record they add is
opened for them.

Before, every saved edit rebuilt the tree collapsed to two levels with nothing
selected, and "Add action" made the action without showing it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop.app import configure_settings
from ssp_desktop.domain.records import Action
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.navigator import ID_ROLE
from ssp_desktop.ui.workspace import Workspace
from tests.factories import MiniPlan, mini_plan

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def opened(qtbot: QtBot, tmp_path: Path) -> tuple[MainWindow, Workspace, MiniPlan]:
    configure_settings()
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as s:
        plan = mini_plan(s)
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.open_store(path)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    assert w.workspace is not None
    return w, w.workspace, plan


def _expanded_labels(ws: Workspace) -> set[str]:
    model, tree = ws.navigator_model, ws.navigator
    found: set[str] = set()

    def visit(parent: QModelIndex) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            if tree.isExpanded(index):
                found.add(str(index.data()))
            visit(index)

    visit(QModelIndex())
    return found


def test_an_edit_keeps_the_selection_and_what_was_open(
    opened: tuple[MainWindow, Workspace, MiniPlan], qtbot: QtBot
) -> None:
    _w, ws, plan = opened
    ws.select_record(plan.action.id)
    # The user also opens the Measures heading and collapses nothing else.
    measures = next(
        ws.navigator_model.index(r, 0, ws.navigator_model.index(0, 0))
        for r in range(ws.navigator_model.rowCount(ws.navigator_model.index(0, 0)))
        if ws.navigator_model.index(r, 0, ws.navigator_model.index(0, 0)).data() == "Measures"
    )
    ws.navigator.expand(measures)
    before = _expanded_labels(ws)
    editor = ws.editor
    assert editor is not None
    title = editor.findChild(QLineEdit, "titleInput")
    assert title is not None
    title.setFocus()
    title.selectAll()
    qtbot.keyClicks(title, "Fund three IDVAs")
    qtbot.keyClick(title, Qt.Key.Key_Return)
    qtbot.wait(50)  # the tree reloads on the next turn of the event loop

    current = ws.navigator.currentIndex()
    assert current.data(ID_ROLE) == plan.action.id
    assert "Fund three IDVAs" in str(current.data())
    assert ws.navigator.selectionModel().isSelected(current)
    assert _expanded_labels(ws) == before
    assert ws.editor is editor  # the editor was not rebuilt under the user's hands


def test_add_action_opens_the_new_action(
    opened: tuple[MainWindow, Workspace, MiniPlan], qtbot: QtBot
) -> None:
    w, ws, plan = opened
    ws.select_record(plan.area.id)
    editor = ws.editor
    assert editor is not None
    add = editor.findChild(QPushButton, "addActionButton")
    assert add is not None
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    assert w.document is not None
    with w.document.read() as s:
        ids = set(s.scalars(select(Action.id)))
    new = ids - {plan.action.id}
    assert len(new) == 1
    new_id: uuid.UUID = new.pop()
    assert ws.navigator.currentIndex().data(ID_ROLE) == new_id
    assert ws.editor is not None and ws.editor.objectName() == "actionEditor"
    assert getattr(ws.editor, "record_id", None) == new_id
